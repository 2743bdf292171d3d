from tests.connector_cases import ConnectorCase
from tests.replay import Reply

CASE = ConnectorCase(
    kind="rss",
    options=lambda base: {"url": f"{base}/feed.xml", "network": "news"},
    path="/feed.xml",
    good=lambda: [
        Reply.file("rss/news.xml", content_type="application/rss+xml; charset=utf-8", headers={"ETag": '"v1"'})
    ],
    expected_ids=frozenset(
        {"bw-1001", "https://news.example/2026/11/northwind-fees", "bw-1003", "https://news.example/2026/11/untitled"}
    ),
    malformed=Reply(body=b"<?xml version='1.0'?><rss><channel><item><title>oops", content_type="application/rss+xml"),
    content_type="application/rss+xml",
)
