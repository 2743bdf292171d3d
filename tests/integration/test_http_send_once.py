"""`HttpClient.send_once`, the one attempt a write makes: which side of the wire a failure is on.

Real local servers: a closed port is "not sent" (the caller may try again), a server that reads
the request and then answers too late, or hangs up, is "outcome unknown" (it may have posted)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from collectors.http import HttpClient, NotSent, OutcomeUnknown
from tests.replay import ReplayServer, Reply


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    srv = ReplayServer()
    yield srv
    srv.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_one_attempt_whatever_the_status(server: ReplayServer) -> None:
    server.route("/post", Reply.json({"error": "down"}, status=500))
    client = HttpClient(timeout=2, retries=5)
    response = client.send_once("POST", server.url + "/post", headers={"Authorization": "Bearer s3cret"},
                                json_body={"status": "hello"})
    assert response.status == 500 and response.json() == {"error": "down"}
    assert len(server.hits("/post")) == 1  # request() would have tried six times
    assert server.hits("/post")[0].body == b'{"status":"hello"}'


def test_a_redirect_is_returned_not_followed(server: ReplayServer) -> None:
    server.route("/post", Reply(302, b"", headers={"Location": "/elsewhere"}))
    response = HttpClient(timeout=2).send_once("POST", server.url + "/post", data={"text": "hi"})
    assert response.status == 302 and server.hits("/elsewhere") == []


def test_a_closed_port_is_not_sent() -> None:
    client = HttpClient(timeout=2)
    with pytest.raises(NotSent) as caught:
        client.send_once("POST", f"http://127.0.0.1:{closed_port()}/post?access_token=s3cret", json_body={})
    assert "s3cret" not in caught.value.message and "not sent" in caught.value.message


def test_an_answer_after_the_timeout_is_unknown(server: ReplayServer) -> None:
    client = HttpClient(timeout=0.3)
    with pytest.raises(OutcomeUnknown) as caught:
        client.send_once("POST", server.url + "/slow?token=s3cret", json_body={"status": "x"})
    assert len(server.hits("/slow")) == 1  # it reached the server: it may have been acted on
    assert "s3cret" not in caught.value.message and "ReadTimeout" in caught.value.message


def test_a_hang_up_after_the_request_is_unknown(server: ReplayServer) -> None:
    server.route("/post", Reply(drop=True))
    with pytest.raises(OutcomeUnknown):
        HttpClient(timeout=2).send_once("POST", server.url + "/post", json_body={"status": "x"})
    assert len(server.hits("/post")) == 1


def test_a_truncated_or_oversized_answer_is_unknown(server: ReplayServer) -> None:
    server.route("/cut", Reply.json({"id": "1" * 100}, truncate=True))
    server.route("/huge", Reply.huge(5000))
    client = HttpClient(timeout=2, max_bytes=1000)
    with pytest.raises(OutcomeUnknown):
        client.send_once("POST", server.url + "/cut", json_body={})
    with pytest.raises(OutcomeUnknown) as caught:
        client.send_once("POST", server.url + "/huge", json_body={})
    assert "over the limit" in caught.value.message
