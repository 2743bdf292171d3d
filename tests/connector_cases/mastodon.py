from tests.connector_cases import ConnectorCase
from tests.replay import Reply

# A hashtag timeline page in the documented Status format (docs.joinmastodon.org/entities/Status/);
# the boost and its original are one item, so six entries hold five ids.
CASE = ConnectorCase(
    kind="mastodon",
    options=lambda base: {"instance": base, "hashtags": ["Aurelia"]},
    path="/api/v1/timelines/tag/Aurelia",
    good=lambda: [Reply.file("mastodon/tag_aurelia.json", content_type="application/json; charset=utf-8")],
    expected_ids=frozenset(
        {"113555000000000006", "113554000000000100", "113555000000000004", "113555000000000003", "113555000000000002"}
    ),
    malformed=Reply(body=b'[{"id": "1", "content": "<p>cut', content_type="application/json"),
    secrets={"access_token": "mastodon-test-token"},
)
