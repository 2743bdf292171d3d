from collectors.sources.bluesky import CREATE_SESSION, SEARCH, forget_sessions
from tests.connector_cases import ConnectorCase
from tests.replay import ReplayServer, Reply


def _setup(server: ReplayServer) -> None:
    forget_sessions()  # a session kept from an earlier test (same port reused) would skip the login
    server.route(CREATE_SESSION, Reply.file("bluesky/create_session.json"))


# Two searchPosts pages in the documented format (docs.bsky.app/docs/api/app-bsky-feed-search-posts):
# the first with a cursor, the last without.
CASE = ConnectorCase(
    kind="bluesky",
    options=lambda base: {"service": base, "query": "aurelia", "identifier": "listener.bsky.social"},
    path=SEARCH,
    good=lambda: [Reply.file("bluesky/search_page1.json"), Reply.file("bluesky/search_page2.json")],
    expected_ids=frozenset(
        {
            "at://did:plc:alice3x7kq2m5n6p7r8s9t0u/app.bsky.feed.post/3lbxq7aurel1",
            "at://did:plc:karim4y8lr3n6o7q8s9t0u1v/app.bsky.feed.post/3lbxq6aurel2",
            "at://did:plc:noa5z9ms4o7p8r9t0u1v2w3x/app.bsky.feed.post/3lbxq5aurel3",
            "at://did:plc:luc6a0nt5p8q9s0u1v2w3x4y/app.bsky.feed.post/3lbxq4aurel4",
            "at://did:plc:luc6a0nt5p8q9s0u1v2w3x4y/app.bsky.feed.post/3lbxq3aurel5",
            "at://did:plc:alice3x7kq2m5n6p7r8s9t0u/app.bsky.feed.post/3lbxq2aurel6",
        }
    ),
    malformed=Reply(body=b'{"cursor": "1", "posts": [{"uri": "at://', content_type="application/json"),
    setup=_setup,
    secrets={"app_password": "abcd-efgh-ijkl-mnop"},
)
