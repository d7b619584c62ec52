"""The ASGI app and the uvicorn server: disconnects, shutdown, the blocking CLI entry point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import MutableMapping
from typing import Any

import anyio
import httpx
import pytest

from qoder.testing import FakeCloud, serve_in_thread

from .conftest import AUTH
from .helpers import post_message
from .sse import SyncFrames

Message = MutableMapping[str, Any]


def test_served_base_url_and_default_cloud() -> None:
    with serve_in_thread() as served:
        assert served.base_url == f"http://127.0.0.1:{served.port}/api/v1/cloud"
        assert served.url == f"http://127.0.0.1:{served.port}"
        with httpx.Client(base_url=served.base_url, headers=AUTH, timeout=5) as http:
            assert http.get("/agents/agent_default").json()["id"] == "agent_default"
            assert http.get("/environments/env_default").status_code == 200
    with pytest.raises(httpx.ConnectError), httpx.Client(timeout=5) as http:
        http.get(served.base_url + "/agents/agent_default")


def test_client_disconnect_releases_the_stream(cloud: FakeCloud) -> None:
    with (
        serve_in_thread(cloud) as served,
        httpx.Client(base_url=served.base_url, headers=AUTH, timeout=5) as http,
    ):
        session_id = cloud.create_session()
        with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
            frames = SyncFrames(stream.iter_bytes())  # keep it: a dropped iterator disconnects
            frames.until("heartbeat")
            assert cloud.open_streams == 1
        http.close()  # drop the pooled connection: the server sees the disconnect
        assert cloud.wait_for_streams(0, timeout=5)


def test_shutdown_ends_open_streams(cloud: FakeCloud) -> None:
    cloud.keepalive_interval = 30.0  # nothing but the shutdown can end this stream
    session_id = cloud.create_session()
    with httpx.Client(headers=AUTH, timeout=5) as http:
        with serve_in_thread(cloud) as served:
            url = f"{served.base_url}/sessions/{session_id}/events/stream"
            stream_cm = http.stream("GET", url)
            stream = stream_cm.__enter__()
        try:
            assert SyncFrames(stream.iter_bytes()).to_end() == []
        finally:
            stream_cm.__exit__(None, None, None)
    assert cloud.open_streams == 0


def test_custom_base_path_and_token(cloud: FakeCloud) -> None:
    custom = FakeCloud(base_path="/v2/", token="secret")
    with (
        serve_in_thread(custom) as served,
        httpx.Client(base_url=served.base_url, timeout=5) as http,
    ):
        assert served.base_url.endswith("/v2")
        assert http.get("/agents/agent_default").status_code == 401
        good = {"Authorization": "Bearer secret"}
        assert http.get("/agents/agent_default", headers=good).status_code == 200
        assert http.get(served.url + "/api/v1/cloud/agents/agent_default").status_code == 404


@pytest.mark.anyio
async def test_asgi_disconnect_stops_the_stream_task(cloud: FakeCloud) -> None:
    """Driven by hand: no server, just the ASGI protocol."""
    app = cloud.asgi_app()
    session_id = cloud.create_session()
    sent: list[Message] = []
    disconnect = anyio.Event()
    first_chunk = anyio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            first_chunk.set()

    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/api/v1/cloud/sessions/{session_id}/events/stream",
        "raw_path": f"/api/v1/cloud/sessions/{session_id}/events/stream".encode(),
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer t")],
    }
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(app, scope, receive, send)
            await first_chunk.wait()
            assert cloud.open_streams == 1
            disconnect.set()
    assert cloud.open_streams == 0
    assert sent[0]["status"] == 200
    assert (b"content-type", b"text/event-stream") in sent[0]["headers"]
    assert sent[1]["body"] == b": ok\n\n"


@pytest.mark.anyio
async def test_asgi_lifespan_and_plain_request(cloud: FakeCloud) -> None:
    app = cloud.asgi_app()
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    sent.clear()
    body = iter(
        [
            {"type": "http.request", "body": b'{"name":"a",', "more_body": True},
            {"type": "http.request", "body": b'"model":"ultimate"}', "more_body": False},
        ]
    )

    async def receive_body() -> Message:
        return next(body)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/cloud/agents",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer t")],
    }
    with anyio.fail_after(5):
        await app(scope, receive_body, send)
    assert sent[0]["status"] == 201
    assert b'"type":"agent"' in sent[1]["body"]


def test_run_server_from_the_command_line() -> None:
    code = "from qoder.testing import run_server; run_server(port=0, token='tok')"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Qoder Cloud emulator listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[-1].strip()
        assert base_url.endswith("/api/v1/cloud")
        with httpx.Client(base_url=base_url, timeout=5) as http:
            headers = {"Authorization": "Bearer tok"}
            session = http.post(
                "/sessions",
                json={"agent": "agent_default", "environment_id": "env_default"},
                headers=headers,
            ).json()
            http.headers.update(headers)
            assert post_message(http, session["id"], "What is 2+2?")["type"] == "user.message"
            assert (
                http.get("/agents/agent_default", headers={"Authorization": "Bearer x"}).status_code
                == 401
            )
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_run_server_passes_think_seconds_and_report_usd_cost() -> None:
    code = (
        "from qoder.testing import run_server; "
        "run_server(port=0, think_seconds=600, report_usd_cost=False)"
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().rsplit(" ", 1)[-1].strip()
        with httpx.Client(base_url=base_url, headers=AUTH, timeout=5) as http:
            body = {"agent": "agent_default", "environment_id": "env_default"}
            session_id = http.post("/sessions", json=body).json()["id"]
            post_message(http, session_id, "hello")
            events = http.get(f"/sessions/{session_id}/events").json()["data"]
            assert events[-1]["type"] == "agent.thinking"  # thinking for 600 s
            http.post(
                f"/sessions/{session_id}/events", json={"events": [{"type": "user.interrupt"}]}
            )
            session = http.get(f"/sessions/{session_id}").json()
            assert session["status"] == "idle"
            assert "list_cost" not in session["usage"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
