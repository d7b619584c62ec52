"""HTTP errors, retries, dropped streams and bad frames, through every facade."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from qoder import (
    APIConnectionError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MalformedEvent,
    QoderAgentOptions,
    ResultMessage,
    SessionBusyError,
    SystemMessage,
    UnknownEvent,
)
from tests.client.driver import Facade
from tests.client.scripted import BASE, ScriptedAPI, frame, stream_of, turn_events
from tests.client.test_conversation import options, texts

BUSY = {
    "type": "error",
    "error": {
        "type": "conflict_error",
        "message": "Session is currently processing a turn. Cancel the current turn or wait "
        "for completion.",
    },
}


def fast(**overrides: object) -> QoderAgentOptions:
    return options(stream_reconnect_delay=0.001, **overrides)


def test_429_is_retried_with_the_same_idempotency_key(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.replies.append(httpx.Response(429, headers={"retry-after-ms": "1"}, json={}))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        messages = client.turn("hello")
    assert texts(messages) == ["hi"]
    first, second = (call.request for call in api.events_route.calls)
    assert first.headers["X-Qoder-Retry-Count"] == "0"
    assert second.headers["X-Qoder-Retry-Count"] == "1"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_busy_409_is_retried_with_a_new_key(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.replies.append(httpx.Response(409, json=BUSY))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        messages = client.turn("hello")
    assert isinstance(messages[-1], ResultMessage)
    first, second = (call.request for call in api.events_route.calls)
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert second.headers["X-Qoder-Retry-Count"] == "1"


def test_other_409_raises_at_once(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    archived = {
        "type": "error",
        "error": {"type": "conflict_error", "message": "Session is archived."},
    }
    api.replies.append(httpx.Response(409, json=archived))
    with facade.client(fast()) as client:
        with pytest.raises(ConflictError) as caught:
            client.query("hello")
        assert not isinstance(caught.value, SessionBusyError)
        assert "archived" in str(caught.value)
        # The failed POST did not leave a turn underway: the next query is allowed.
        api.streams.append(stream_of([]))
        api.reply_with("evt_01", "turn_01")
        client.query("again")
    assert len(api.events_route.calls) == 2


def test_400_raises_a_typed_error_without_retry(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    bad = {"type": "error", "error": {"type": "invalid_request_error", "message": "events: empty"}}
    api.replies.append(httpx.Response(400, json=bad, headers={"x-request-id": "req_9"}))
    with facade.client(fast()) as client, pytest.raises(BadRequestError) as caught:
        client.query("hello")
    assert caught.value.error_type == "invalid_request_error"
    assert caught.value.request_id == "req_9"
    assert "events: empty" in str(caught.value)
    assert len(api.events_route.calls) == 1


def test_500_after_every_retry(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    for _ in range(2):
        api.replies.append(httpx.Response(500, headers={"retry-after-ms": "1"}, text="oops"))
    with facade.client(fast(max_retries=1)) as client, pytest.raises(InternalServerError) as caught:
        client.query("hello")
    assert caught.value.status_code == 500
    assert len(api.events_route.calls) == 2


def test_connection_failure_is_a_typed_error(facade: Facade, api: ScriptedAPI) -> None:
    api.router.post(f"{BASE}/sessions").mock(side_effect=httpx.ConnectError("refused"))
    client = facade.client(fast(max_retries=0))
    with pytest.raises(APIConnectionError) as caught:
        client.connect()
    assert "sessions" in str(caught.value)


def test_auth_refresh_supplies_a_new_token_once(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    denied = {"type": "error", "error": {"type": "authentication_error", "message": "expired"}}
    api.replies.append(httpx.Response(401, json=denied))
    api.reply_with("evt_01", "turn_01")
    refreshed: list[bool] = []

    def refresh() -> str:
        refreshed.append(True)
        return "pat-fresh"

    with facade.client(fast(on_auth_expired=refresh)) as client:
        assert texts(client.turn("hello")) == ["hi"]
    assert refreshed == [True]
    assert api.events_route.calls[1].request.headers["Authorization"] == "Bearer pat-fresh"


def test_stream_lost_after_the_reconnect_budget(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "hi")
    api.streams.append(stream_of(events[:3]))
    for _ in range(4):
        api.streams.append([httpx.ReadError("reset")])
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast(max_stream_reconnects=3)) as client:
        messages = client.turn("hello")
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.is_error is True
    assert result.terminal_reason == "stream_lost"
    assert result.errors
    assert "gave up" in result.errors[0]


ERROR_FRAME = b'event: error\ndata: {"type":"error","error":{"message":"overloaded"}}\n\n'
EVENTS = turn_events("turn_01", 1, "hi")


def _turn_resumed_after(
    facade: Facade, api: ScriptedAPI, first: list[bytes | BaseException]
) -> tuple[list[Any], str]:
    """A turn whose first stream connection is ``first`` and whose second sends the events
    from the fourth on: the turn's texts, and the ``Last-Event-ID`` it resumed from."""
    api.streams.append(first)
    api.streams.append(stream_of(EVENTS[3:]))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        messages = client.turn("hello")
    return texts(messages), api.stream_route.calls[1].request.headers["Last-Event-ID"]


def test_in_band_error_frame_resumes_from_the_cursor(facade: Facade, api: ScriptedAPI) -> None:
    first = [*stream_of(EVENTS[:3]), ERROR_FRAME, frame(EVENTS[3])]
    assert _turn_resumed_after(facade, api, first) == (["hi"], "evt_03")


def test_events_before_an_error_frame_in_the_same_chunk_count_and_those_after_are_read_again(
    facade: Facade, api: ScriptedAPI
) -> None:
    before = b"".join(frame(event) for event in EVENTS[:3])
    chunk = b": ok\n\n" + before + ERROR_FRAME + frame(EVENTS[3])  # all in one read
    assert _turn_resumed_after(facade, api, [chunk]) == (["hi"], "evt_03")


def test_malformed_and_unknown_frames_do_not_stop_the_turn(
    facade: Facade, api: ScriptedAPI
) -> None:
    events = turn_events("turn_01", 1, "hi")
    bad_json = b"id: evt_90\nevent: agent.message\ndata: {not json\n\n"
    wrong_type = frame(
        {"id": "evt_91", "type": "agent.message", "turn_id": "turn_01", "content": 5}
    )
    unknown = frame({"id": "evt_92", "type": "agent.telepathy", "turn_id": "turn_01", "x": 1})
    api.streams.append(
        [*stream_of(events[:3]), bad_json, wrong_type, unknown, *map(frame, events[3:])]
    )
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        client.query("hello")
        events_seen = []
        for event in client.receive_events():
            events_seen.append(event)
            if getattr(event, "id", None) == "evt_06":
                break
        messages = list(client.receive_response())
    malformed = [e for e in events_seen if isinstance(e, MalformedEvent)]
    assert [m.id for m in malformed] == ["evt_90", "evt_91"]
    assert "JSON" in malformed[0].reason
    assert "content" in malformed[1].reason
    assert [e.type for e in events_seen if isinstance(e, UnknownEvent)] == ["agent.telepathy"]
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.result == "hi"
    assert result.subtype == "success"


def test_retrying_session_error_does_not_end_the_turn(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "recovered")
    retrying = {
        "id": "evt_40",
        "type": "session.error",
        "turn_id": "turn_01",
        "error": {
            "type": "model_overloaded_error",
            "message": "Model overloaded",
            "retry_status": {"type": "retrying"},
        },
    }
    api.streams.append(stream_of([*events[:3], retrying, *events[3:]]))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        messages = client.turn("hello")
    assert any(isinstance(m, SystemMessage) and m.subtype == "session_error" for m in messages)
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.is_error is False
    assert result.result == "recovered"


def test_terminated_session_ends_the_turn(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "partial")
    terminated = {"id": "evt_50", "type": "session.status_terminated"}
    api.streams.append(stream_of([*events[:4], terminated]))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        messages = client.turn("hello")
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.is_error is True
    assert result.terminal_reason == "terminated"
    assert result.result == "partial"


def test_interrupt_posts_user_interrupt(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "stopped early")
    api.streams.append(stream_of(events))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        client.query("long task")
        client.interrupt()
        messages = list(client.receive_response())
    assert api.posted[1] == {"events": [{"type": "user.interrupt"}]}
    assert isinstance(messages[-1], ResultMessage)


def test_unread_messages_are_bounded(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "x")
    many = [
        {
            "id": f"evt_m{n}",
            "type": "agent.message",
            "turn_id": "turn_01",
            "content": [{"type": "text", "text": str(n)}],
        }
        for n in range(10)
    ]
    # Every frame in one chunk: the whole turn is decoded before the reader takes anything.
    api.streams.append([b"".join(frame(e) for e in [*events[:3], *many, *events[3:]])])
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast(max_buffered_messages=4)) as client:
        messages = client.turn("hello")
    # The oldest messages went; the ResultMessage never does, and its result text is whole.
    assert len(messages) == 4
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.result == "".join(str(n) for n in range(10)) + "x"
    assert texts(messages) == ["8", "9", "x"]
    assert client.raw._core.inbox.dropped_messages == 8


def test_post_body_shapes(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        client.turn(
            [
                {"type": "text", "text": "look"},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
            ]
        )
    body = json.loads(api.events_route.calls[0].request.content)
    assert body == {
        "events": [
            {
                "type": "user.message",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                ],
            }
        ]
    }


def test_stream_idle_timeout_is_the_read_timeout_and_resumes(
    facade: Facade, api: ScriptedAPI
) -> None:
    events = turn_events("turn_01", 1, "hi")
    api.streams.append([*stream_of(events[:4]), httpx.ReadTimeout("silence")])
    api.streams.append(stream_of(events[4:]))
    api.reply_with("evt_01", "turn_01")
    opts = fast(stream_idle_timeout=7.5, timeout=httpx.Timeout(30.0, connect=2.0))
    with facade.client(opts) as client:
        messages = client.turn("hello")
    assert texts(messages) == ["hi"]
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].subtype == "success"
    stream_timeout = api.stream_route.calls[0].request.extensions["timeout"]
    assert stream_timeout == {"connect": 2.0, "read": 7.5, "write": 30.0, "pool": 30.0}
    post_timeout = api.events_route.calls[0].request.extensions["timeout"]
    assert post_timeout["read"] == 30.0
    assert api.stream_route.calls[1].request.headers["Last-Event-ID"] == "evt_04"


def test_404_on_reconnect_ends_the_turn_as_deleted(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "partial")
    api.streams.append([*stream_of(events[:4]), httpx.ReadError("reset")])
    # No second script: the reconnect gets 404, as for a session deleted meanwhile (§6.6).
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        messages = client.turn("hello")
        assert list(client.receive_response()) == []
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert (result.is_error, result.terminal_reason) == (True, "deleted")
    assert result.result == "partial"
