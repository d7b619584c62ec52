"""The framework-independent core: wire values, ids, clock, and EventStream used directly."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import anyio
import httpx
import pytest

from qoder.testing import (
    EmulatorRequest,
    EventStream,
    FakeCloud,
    Headers,
    StreamFault,
    TickingClock,
)
from qoder.testing._ids import IdFactory, format_timestamp
from qoder.testing._wire import ApiError

AUTH = {"Authorization": "Bearer t"}


def test_request_parsing() -> None:
    request = EmulatorRequest(
        "get", "/x?types[]=a&types[]=b&limit=2", headers=[("Last-Event-ID", "evt_1")]
    )
    assert request.method == "GET"
    assert request.path == "/x"
    assert request.query_all("types[]") == ["a", "b"]
    assert request.query_get("limit") == "2"
    assert request.header("last-event-id") == "evt_1"
    mapped = EmulatorRequest("POST", "/y", query={"a": ["1", "2"], "b": "3"}, json={"k": 1})
    assert mapped.query == (("a", "1"), ("a", "2"), ("b", "3"))
    assert mapped.json() == {"k": 1}


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    headers = Headers([("X-A", "1"), ("x-a", "2"), ("B", "3")])
    assert headers["x-A"] == "1"
    assert headers.get_all("X-A") == ["1", "2"]
    assert list(headers) == ["x-a", "b"]
    assert len(headers) == 2
    assert "b" in headers
    assert headers.raw()[0] == ("X-A", "1")


def test_ids_and_clock() -> None:
    ids = IdFactory()
    assert ids.new("evt") == "evt_" + "0" * 31 + "1"
    assert ids.new("evt") == "evt_" + "0" * 31 + "2"
    assert ids.new("turn") == "turn_" + "0" * 31 + "1"
    start = datetime(2026, 5, 18, 3, 40, 48, 888851, tzinfo=timezone.utc)
    clock = TickingClock(start, timedelta(seconds=1))
    assert format_timestamp(clock()) == "2026-05-18T03:40:48.888851Z"
    assert format_timestamp(clock()) == "2026-05-18T03:40:49.888851Z"
    assert format_timestamp(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000000Z"


def test_handle_directly_with_a_fixed_clock() -> None:
    cloud = FakeCloud(clock=TickingClock(), default_resources=False)
    response = cloud.handle(
        EmulatorRequest(
            "POST",
            "/api/v1/cloud/sessions",
            headers=AUTH,
            json={"agent": "agent_default", "environment_id": "env_default"},
        )
    )
    assert response.status == 404
    for value in ("", "Bearer", "Bearer   ", "Token abc"):
        answer = cloud.handle(
            EmulatorRequest("GET", "/api/v1/cloud/sessions", headers={"Authorization": value})
        )
        assert answer.status == 401
        assert answer.json()["error"]["type"] == "authentication_error"
    agent = cloud.handle(
        EmulatorRequest(
            "POST",
            "/api/v1/cloud/agents",
            headers=AUTH,
            json={"name": "a", "model": {"id": "ultimate"}},
        )
    )
    assert agent.json()["created_at"] == "2026-01-01T00:00:00.000000Z"
    assert agent.header("X-Request-ID") is not None
    assert cloud.handle(EmulatorRequest("GET", "/elsewhere", headers=AUTH)).status == 404


def test_api_error_envelope() -> None:
    response = ApiError(400, "bad", param="limit").to_response()
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad", "param": "limit"},
    }


def stream_of(cloud: FakeCloud, session_id: str, **headers: str) -> EventStream:
    response = cloud.handle(
        EmulatorRequest(
            "GET",
            f"/api/v1/cloud/sessions/{session_id}/events/stream",
            headers={**AUTH, **headers},
        )
    )
    assert response.stream is not None
    return response.stream


def test_sync_iteration_is_woken_by_close_from_another_thread() -> None:
    cloud = FakeCloud(keepalive_interval=30.0)
    session_id = cloud.create_session()
    stream = stream_of(cloud, session_id)
    chunks = iter(stream)
    assert next(chunks) == b": ok\n\n"
    closer = threading.Timer(0.01, stream.close)
    closer.start()
    assert list(chunks) == []  # returns as soon as it is closed, long before the keep-alive
    closer.join()
    assert stream.closed
    assert cloud.open_streams == 0


@pytest.mark.anyio
async def test_async_wait_is_cancellable() -> None:
    cloud = FakeCloud(keepalive_interval=30.0)
    session_id = cloud.create_session()
    stream = stream_of(cloud, session_id)
    reader = stream.__aiter__()
    assert await reader.__anext__() == b": ok\n\n"
    with anyio.move_on_after(0.01) as scope:
        await reader.__anext__()
    assert scope.cancelled_caught
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):
        await reader.__anext__()
    assert cloud.open_streams == 0


@pytest.mark.anyio
async def test_async_reader_wakes_on_append_from_a_thread() -> None:
    cloud = FakeCloud(keepalive_interval=30.0)
    cloud.agent.on("slow").hold().reply("done")
    session_id = cloud.create_session()
    post = EmulatorRequest(
        "POST",
        f"/api/v1/cloud/sessions/{session_id}/events",
        headers=AUTH,
        json={"events": [{"type": "user.message", "content": "slow"}]},
    )
    assert cloud.handle(post).status == 202
    stream = stream_of(cloud, session_id)
    received = b""
    releaser = threading.Timer(0.05, cloud.release, args=(session_id,))
    with anyio.fail_after(5):
        async for chunk in stream:
            received += chunk
            if b"session.status_running" in received and releaser.ident is None:
                releaser.start()  # appends from another thread while this task waits
            if b"session.status_idle" in received:
                break
    await stream.aclose()
    releaser.join()
    assert b'"text":"done"' in received


def test_drop_after_waits_for_the_next_event() -> None:
    cloud = FakeCloud(keepalive_interval=0.01)
    session_id = cloud.create_session()
    cloud.inject(StreamFault(drop_after=0))
    stream = stream_of(cloud, session_id)
    chunks = iter(stream)
    assert next(chunks) == b": ok\n\n"
    assert next(chunks) == b"event: heartbeat\ndata: {}\n\n"  # nothing to cut yet
    post = EmulatorRequest(
        "POST",
        f"/api/v1/cloud/sessions/{session_id}/events",
        headers=AUTH,
        json={"events": [{"type": "user.message", "content": "hi"}]},
    )
    cloud.handle(post)
    rest = b"".join(chunks)
    assert rest.startswith(b"id: evt_")
    assert not rest.endswith(b"\n\n")


@pytest.mark.anyio
async def test_event_stream_is_an_httpx_byte_stream() -> None:
    cloud = FakeCloud(keepalive_interval=30.0)
    session_id = cloud.create_session()
    post = EmulatorRequest(
        "POST",
        f"/api/v1/cloud/sessions/{session_id}/events",
        headers=AUTH,
        json={"events": [{"type": "user.message", "content": "hi"}]},
    )
    cloud.handle(post)
    sync_stream, async_stream = stream_of(cloud, session_id), stream_of(cloud, session_id)
    cloud.handle(EmulatorRequest("DELETE", f"/api/v1/cloud/sessions/{session_id}", headers=AUTH))
    sync_body = httpx.Response(200, stream=sync_stream).read()  # ends after session.deleted
    async_body = await httpx.Response(200, stream=async_stream).aread()
    assert sync_body == async_body
    assert b"event: user.message\n" in sync_body
    assert sync_body.split(b"\n\n")[-2].startswith(b"id: evt_")
    assert b"event: session.deleted\n" in sync_body.split(b"\n\n")[-2]
    assert cloud.open_streams == 0
