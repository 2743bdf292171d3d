"""X API v2 recent search: two pages joined by `next_token`."""

from tests.connector_cases import ConnectorCase
from tests.replay import Reply

CASE = ConnectorCase(
    kind="x",
    options=lambda base: {"query": "@AureliaBank OR \"Aurelia Bank\"", "api_url": base, "max_results": 10},
    path="/2/tweets/search/recent",
    good=lambda: [Reply.file("x/search_page1.json"), Reply.file("x/search_page2.json")],
    expected_ids=frozenset({"1861100000000000003", "1861100000000000002", "1861100000000000001",
                            "1861099000000000002", "1861099000000000001"}),
    malformed=Reply(body=b'{"data": [{"id": "1861100000000000003", "text": "trunc'),
    secrets={"bearer_token": "test-bearer-token"},
)
