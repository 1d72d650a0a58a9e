"""The server under hostile requests (issue 18): every one is a 4xx in OpenAI's error shape, fast,
and the server goes on answering; nothing is parsed before the key is checked; slow clients are
cut off. The fuzzing of the whole OpenAPI schema is in test_schema_fuzz.py."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

KEY = {"Authorization": "Bearer sk-test-key"}
HELLO = [{"role": "user", "content": "hi"}]


def _post(live, body: dict | bytes, headers=KEY, timeout=30) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{live.url}/v1/chat/completions",
        content=content,
        headers={**headers, "content-type": "application/json"},
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "body, status, param",
    [
        ('{"model": "culinary", "messages": [{"role": "user", "content": "\\ud800"}]}', 422, "messages.0.content"),
        ({"model": "culinary", "messages": HELLO, "seed": 2**70}, 422, "seed"),
        ({"model": "culinary", "messages": HELLO, "seed": 2**70, "stream": True}, 422, "seed"),
        ({"model": "culinary", "messages": HELLO, "stop": ["x" * 200_000] * 4}, 422, "stop"),
        ({"model": "culinary", "messages": HELLO, "stop": list("abcde")}, 422, "stop"),
        ({"model": "culinary", "messages": HELLO * 600}, 422, "messages"),
        ({"model": "../../etc/passwd", "messages": HELLO}, 404, "model"),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(live, body, status, param):
    response = _post(live, body.encode() if isinstance(body, str) else body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_a_message_too_long_for_the_context_is_refused_before_tokenising(live):
    long = {"model": "culinary", "messages": [{"role": "user", "content": "TEC " * 240_000}]}  # 960 KB
    start = time.perf_counter()
    response = _post(live, long)
    assert response.status_code == 400 and response.json()["error"]["code"] == "context_length_exceeded"
    assert time.perf_counter() - start < 2  # tokenising it takes longer than this on 2 cores


def test_a_body_over_the_limit_is_413_and_the_server_goes_on(live):
    huge = b'{"model": "culinary", "messages": [{"role": "user", "content": "' + b"x" * 5_000_000 + b'"}]}'
    assert _post(live, huge).status_code == 413

    def chunks():  # no content-length: the limit holds as the body arrives
        yield huge[:1000]
        for i in range(1000, len(huge), 500_000):
            yield huge[i : i + 500_000]

    response = httpx.post(
        f"{live.url}/v1/chat/completions", content=chunks(), headers={**KEY, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert _post(live, {"model": "culinary", "messages": HELLO, "max_tokens": 2}).status_code == 200


def test_without_the_key_nothing_is_read_and_nothing_is_revealed(live):
    start = time.perf_counter()
    response = _post(live, b"[" * 900_000, headers={})
    assert response.status_code == 401 and time.perf_counter() - start < 1
    for path in ("/openapi.json", "/v1/models", "/docs"):
        assert httpx.get(f"{live.url}{path}").status_code == 401, path
    assert httpx.get(f"{live.url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{live.url}/openapi.json", headers=KEY).status_code == 200


def test_slow_clients_are_cut_off_and_block_no_one(registry, live_server, monkeypatch):
    from lexitune.serve import create_app, guard

    monkeypatch.setattr(guard, "HEADERS_TIMEOUT_S", 1.0)
    monkeypatch.setattr(guard, "BODY_TIMEOUT_S", 1.0)
    with live_server(create_app(registry)) as server:
        host, port = "127.0.0.1", server.port
        heads = [socket.create_connection((host, port)) for _ in range(20)]  # slowloris: heads never end
        for s in heads:
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        body = socket.create_connection((host, port))  # a body that never comes
        body.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        start = time.perf_counter()
        ok = httpx.post(
            f"{server.url}/v1/chat/completions", json={"model": "culinary", "messages": HELLO, "max_tokens": 2}
        )
        assert ok.status_code == 200 and time.perf_counter() - start < 30
        body.settimeout(10)
        assert b" 408 " in body.recv(4096).split(b"\r\n")[0] + b" "
        time.sleep(1.5)
        for s in heads:
            s.settimeout(5)
            assert s.recv(1) == b""  # closed by the server
            s.close()
        body.close()
