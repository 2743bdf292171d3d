"""Reddit search over OAuth: the token route is set up, the listing is served in two pages (`after`)."""

from tests.connector_cases import ConnectorCase
from tests.replay import ReplayServer, Reply


def _setup(server: ReplayServer) -> None:
    server.route("/api/v1/access_token", Reply.file("reddit/token.json"))


CASE = ConnectorCase(
    kind="reddit",
    options=lambda base: {"query": "Aurelia Bank", "auth_url": f"{base}/api/v1/access_token", "api_url": base},
    path="/search",
    good=lambda: [Reply.file("reddit/search_page1.json"), Reply.file("reddit/search_page2.json")],
    # the fifth post of page 2 was deleted by its author: nothing left to store, it is rejected
    expected_ids=frozenset({"t3_1h2k9zq", "t3_1h2k7xw", "t3_1h2k5ab", "t3_1h2k3cd"}),
    malformed=Reply(body=b'{"kind": "Listing", "data": {"after": null, "children": [{"kind": "t3", "da'),
    setup=_setup,
    secrets={"client_id": "test-client-id", "client_secret": "test-client-secret"},
)
