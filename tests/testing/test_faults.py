"""Fault injection: HTTP errors with Retry-After, and every stream fault, on every transport."""

from __future__ import annotations

import re

import httpx
import pytest

from qoder.testing import PROCESSING_MESSAGE, FakeCloud, HttpFault, StreamFault

from .conftest import AUTH, BASE_URL
from .helpers import error_of, message, post_message, text_of
from .sse import AsyncFrames, SyncFrames


def test_rate_limit_for_the_next_two_posts(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = cloud.create_session()
    fault = cloud.inject(
        HttpFault(
            429,
            method="POST",
            path="/sessions/*/events",
            times=2,
            retry_after=0.5,
            retry_after_ms=500,
        )
    )
    path = f"/sessions/{session_id}/events"
    for _ in range(2):
        response = http.post(path, json=message("hello"))
        assert error_of(response)[:2] == (429, "rate_limit_error")
        assert response.headers["retry-after"] == "0.5"
        assert response.headers["retry-after-ms"] == "500"
    assert cloud.events(session_id) == []  # nothing ran
    assert http.get(f"/sessions/{session_id}").status_code == 200  # GETs are not matched
    assert http.post(path, json=message("hello")).status_code == 202
    assert fault.used == 2
    assert cloud.faults == []
    assert (
        len([r for r in cloud.requests if r.method == "POST" and r.path.endswith("/events")]) == 3
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [(409, "conflict_error"), (500, "api_error"), (503, "api_error"), (529, "overloaded_error")],
)
def test_error_statuses(http: httpx.Client, cloud: FakeCloud, status: int, kind: str) -> None:
    cloud.inject(HttpFault(status, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))
    response = http.get("/agents/agent_default")
    code, error_type, text = error_of(response)
    assert (code, error_type) == (status, kind)
    assert response.headers["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    if status == 409:
        assert text == PROCESSING_MESSAGE
    assert http.get("/agents/agent_default").status_code == 200


def test_raw_body_regex_path_and_clear(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.inject(HttpFault(502, path=re.compile(r"/agents/.*"), body=b"<html>Bad gateway</html>"))
    cloud.inject(HttpFault(500, path="/environments/**", headers={"x-should-retry": "false"}))
    response = http.get("/agents/agent_default")
    assert response.status_code == 502
    assert response.text == "<html>Bad gateway</html>"
    response = http.get("/environments/env_default")
    assert response.headers["x-should-retry"] == "false"
    cloud.inject(HttpFault(500, times=5))
    cloud.clear_faults()
    assert http.get("/agents/agent_default").status_code == 200


def test_lost_response_then_idempotent_retry(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = cloud.create_session()
    cloud.inject(HttpFault(503, method="POST", path="/sessions/*/events", after_processing=True))
    headers = {"Idempotency-Key": "retry-me"}
    path = f"/sessions/{session_id}/events"
    assert http.post(path, json=message("hello"), headers=headers).status_code == 503
    persisted = cloud.events(session_id)
    assert persisted[0]["type"] == "user.message"  # it ran
    retried = http.post(path, json=message("hello"), headers=headers)
    assert retried.status_code == 202
    assert retried.json()["data"][0]["id"] == persisted[0]["id"]
    assert cloud.events(session_id) == persisted  # and did not run twice


def test_stream_connect_error(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    cloud.inject(HttpFault(503, method="GET", path="/sessions/*/events/stream", retry_after=1))
    response = http.get(f"/sessions/{session_id}/events/stream")
    assert error_of(response)[:2] == (503, "api_error")
    assert response.headers["content-type"] == "application/json"


def test_drop_mid_frame_then_resume(http: httpx.Client, cloud: FakeCloud) -> None:
    """Appendix A, turn 2: the connection is cut inside a frame; resuming repeats nothing."""
    cloud.agent.on("Multiply").reply("Running it. ").tool_use(
        "bash", {"command": "echo $((4*10))"}, result="40"
    ).reply("The answer is 40.")
    session_id = cloud.create_session()
    fault = cloud.inject(StreamFault(drop_after=5, session_id=session_id))
    path = f"/sessions/{session_id}/events/stream"
    with http.stream("GET", path) as stream:
        frames = SyncFrames(stream.iter_bytes())
        post_message(http, session_id, "Multiply it by 10 with bash.")
        frames.to_end()
    assert fault.used == 1
    received = [str(frame.id) for frame in frames.events]
    assert len(received) == 5
    assert frames.tail.startswith(b"id: ")  # a partial frame, discarded
    assert b"\n\n" not in frames.tail
    with http.stream("GET", path, headers={"Last-Event-ID": received[-1]}) as stream:
        rest = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    resumed = [frame.id for frame in rest if frame.persisted]
    everything = cloud.events(session_id)
    assert received + resumed == [event["id"] for event in everything]
    assert text_of(everything) == "Running it. The answer is 40."


def test_drop_raises_read_error_with_respx(cloud: FakeCloud, session_id: str) -> None:
    cloud.inject(StreamFault(drop_after=2, raise_error=True))
    with (
        cloud.mock(),
        httpx.Client(base_url=BASE_URL, headers=AUTH) as http,
        http.stream("GET", f"/sessions/{session_id}/events/stream") as stream,
    ):
        frames = SyncFrames(stream.iter_bytes())
        post_message(http, session_id, "hello")
        with pytest.raises(httpx.ReadError):
            frames.to_end()
    assert len(frames.events) == 2


@pytest.mark.anyio
async def test_drop_raises_read_error_async(cloud: FakeCloud, session_id: str) -> None:
    cloud.inject(StreamFault(drop_after=1, raise_error=True))
    path = f"/sessions/{session_id}/events/stream"
    with cloud.mock():
        async with (
            httpx.AsyncClient(base_url=BASE_URL, headers=AUTH) as http,
            http.stream("GET", path) as stream,
            AsyncFrames(stream, cloud) as frames,
        ):
            await http.post(f"/sessions/{session_id}/events", json=message("hello"))
            with pytest.raises(httpx.ReadError):
                await frames.to_end()
    assert len(frames.events) == 1


@pytest.mark.anyio
async def test_drop_and_resume_async(
    ahttp: httpx.AsyncClient, cloud: FakeCloud, session_id: str
) -> None:
    cloud.inject(StreamFault(drop_after=3))
    path = f"/sessions/{session_id}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        await ahttp.post(f"/sessions/{session_id}/events", json=message("hello"))
        await frames.to_end()
    cursor = frames.events[-1].id
    assert cursor is not None
    headers = {"Last-Event-ID": cursor}
    async with (
        ahttp.stream("GET", path, headers=headers) as stream,
        AsyncFrames(stream, cloud) as resumed,
    ):
        await resumed.until("session.status_idle")
    ids = [frame.id for frame in frames.events + resumed.events]
    assert ids == [event["id"] for event in cloud.events(session_id)]


def test_malformed_unknown_and_error_frames(
    http: httpx.Client, cloud: FakeCloud, session_id: str
) -> None:
    post_message(http, session_id, "hello")
    cloud.inject(StreamFault(unknown_event_at=0, malformed_at=2, error_frame_at=4))
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        got = frames.to_end()
    names = [(frame.event, frame.persisted) for frame in got]
    assert names == [
        ("agent.hologram", False),
        ("user.message", True),
        ("session.status_running", True),
        ("agent.message", False),
        ("span.model_request_start", True),
        ("agent.message", True),
        ("error", False),
    ]
    assert got[0].json()["type"] == "agent.hologram"
    with pytest.raises(ValueError):  # noqa: PT011 - json.JSONDecodeError
        got[3].json()
    assert got[-1].json()["error"]["type"] == "overloaded_error"


def test_tiny_chunks_and_crlf(cloud: FakeCloud, session_id: str) -> None:
    with cloud.mock(), httpx.Client(base_url=BASE_URL, headers=AUTH) as http:
        post_message(http, session_id, "hello")
        last = cloud.events(session_id)[-1]["id"]
        path = f"/sessions/{session_id}/events/stream"
        with http.stream("GET", path) as stream:
            plain = SyncFrames(stream.iter_raw())
            plain.until(lambda frame: frame.id == last)
        cloud.inject(StreamFault(chunk_size=3, crlf=True))
        with http.stream("GET", path) as stream:
            chunks = stream.iter_raw()
            shaped = SyncFrames(chunks)
            shaped.until(lambda frame: frame.id == last)
    assert shaped.frames == plain.frames
    assert b"\r\n" in shaped.raw
    assert b"\n" not in shaped.raw.replace(b"\r\n", b"")


def test_tiny_chunks_over_a_socket(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    post_message(http, session_id, "What's the capital of France?")
    cloud.inject(StreamFault(chunk_size=1, crlf=True, delay=0.001))
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        got = SyncFrames(stream.iter_bytes()).until("session.status_idle")
    assert text_of([frame.json() for frame in got if frame.persisted]) == (
        "The capital of France is Paris."
    )


@pytest.mark.anyio
async def test_delayed_frames_async(
    ahttp: httpx.AsyncClient, cloud: FakeCloud, session_id: str
) -> None:
    cloud.inject(StreamFault(delay=0.001, chunk_size=5))
    path = f"/sessions/{session_id}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        await ahttp.post(f"/sessions/{session_id}/events", json=message("hello"))
        got = await frames.until("session.status_idle")
    assert [f.id for f in got if f.persisted] == [e["id"] for e in cloud.events(session_id)]


def test_stream_fault_targets_a_session_and_counts(http: httpx.Client, cloud: FakeCloud) -> None:
    quiet, faulty = cloud.create_session(), cloud.create_session()
    fault = cloud.inject(StreamFault(error_frame_at=0, session_id=faulty, times=2))
    with http.stream("GET", f"/sessions/{quiet}/events/stream") as stream:
        assert SyncFrames(stream.iter_bytes()).until("heartbeat")
    for _ in range(2):
        with http.stream("GET", f"/sessions/{faulty}/events/stream") as stream:
            assert [frame.event for frame in SyncFrames(stream.iter_bytes()).to_end()] == ["error"]
    assert fault.used == 2
    assert fault.remaining == 0


def test_heartbeat_on_a_quiet_stream(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.keepalive_interval = 0.01
    session_id = cloud.create_session()
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        beat = frames.until("heartbeat")[-1]
    assert beat.id is None
    assert beat.data == "{}"
    assert frames.raw.startswith(b": ok\n\n")


@pytest.mark.anyio
async def test_heartbeat_async(ahttp: httpx.AsyncClient, cloud: FakeCloud) -> None:
    cloud.keepalive_interval = 0.01
    session_id = cloud.create_session()
    path = f"/sessions/{session_id}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        beats = await frames.until("heartbeat")
    assert beats[-1].id is None
