"""A hand-scripted Cloud Agents API on respx, for unit tests of the facades.

Each stream connection plays the next script: a list of byte chunks, where an exception
instance is raised at that point (a dropped connection). The POST replies echo what was sent
with ids from a counter, so tests can predict them. When the scripts run out the stream
answers 404, which ends the turn visibly instead of hanging.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import respx

BASE = "https://api.test/api/v1/cloud"
TOKEN = "pat-secret-token-123"


def frame(event: dict[str, Any], *, with_id: bool = True) -> bytes:
    """One SSE frame for a wire event (id line from the event's id)."""
    head = f"id: {event['id']}\n" if with_id and "id" in event else ""
    return f"{head}event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def turn_events(turn: str, first: int, text: str, *, turn_id: bool = True) -> list[dict[str, Any]]:
    """The events of a plain one-message turn, ids evt_<first>...; the echo first."""
    ids = [f"evt_{n:02d}" for n in range(first, first + 6)]
    extra = {"turn_id": turn} if turn_id else {}
    return [
        {"id": ids[0], "type": "user.message", **extra, "content": [{"type": "text", "text": "?"}]},
        {"id": ids[1], "type": "session.status_running", **extra},
        {"id": ids[2], "type": "span.model_request_start", **extra, "model": "ultimate"},
        {
            "id": ids[3],
            "type": "agent.message",
            **extra,
            "content": [{"type": "text", "text": text}],
        },
        {
            "id": ids[4],
            "type": "span.model_request_end",
            **extra,
            "model_request_start_id": ids[2],
            "is_error": False,
            "model_usage": {"input_tokens": 10, "output_tokens": 2, "credits": 0.01},
        },
        {"id": ids[5], "type": "session.status_idle", **extra, "stop_reason": {"type": "end_turn"}},
    ]


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body for both httpx.Client and httpx.AsyncClient; raises scripted errors."""

    def __init__(self, chunks: list[bytes | BaseException], on_close: Any = None) -> None:
        self.chunks = chunks
        self.closed = False
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        # A plain iterator, not an async generator: trio warns about unfinished generators.
        return _AsyncChunks(iter(self))

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


BLOCK = b"<block>"
"""A script item for async bodies: wait (cancellably) for bytes that never come."""


class _AsyncChunks:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None
        if chunk is BLOCK:
            await anyio.Event().wait()
        return chunk


class ScriptedAPI:
    """Routes for one session ``sess_01`` on a respx router."""

    def __init__(self, router: respx.MockRouter, base_url: str = BASE) -> None:
        self.router = router
        self.base_url = base_url
        self.streams: list[list[bytes | BaseException]] = []
        self.bodies: list[Body] = []
        self.replies: list[httpx.Response | dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []
        self.turn_ids: list[str | None] = []
        self._reply_counter = 0
        router.post(f"{base_url}/sessions").mock(side_effect=self._create_session)
        router.post(f"{base_url}/environments").mock(
            return_value=httpx.Response(201, json={"id": "env_01", "type": "environment"})
        )
        router.post(f"{base_url}/agents").mock(
            return_value=httpx.Response(201, json={"id": "agent_01", "type": "agent"})
        )
        self.agent: dict[str, Any] = {
            "id": "agent_01",
            "type": "agent",
            "model": "ultimate",
            "system": "You are the agent.",
            "tools": [{"type": "agent_toolset_20260401"}],
        }
        """What ``GET /agents/agent_01`` answers (read when the options change the agent)."""
        self.created: list[dict[str, Any]] = []
        """The bodies of ``POST /sessions``."""
        self.agent_route = router.get(f"{base_url}/agents/agent_01").mock(
            side_effect=lambda request: httpx.Response(200, json=self.agent)
        )
        self.stream_route = router.get(f"{base_url}/sessions/sess_01/events/stream").mock(
            side_effect=self._stream
        )
        self.events_route = router.post(f"{base_url}/sessions/sess_01/events").mock(
            side_effect=self._post_events
        )

    def _create_session(self, request: httpx.Request) -> httpx.Response:
        self.created.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "sess_01", "type": "session", "status": "idle"})

    def _stream(self, request: httpx.Request) -> httpx.Response:
        if not self.streams:
            return httpx.Response(
                404,
                json={
                    "type": "error",
                    "error": {"type": "not_found_error", "message": "no more scripted streams"},
                },
            )
        body = Body(self.streams.pop(0))
        self.bodies.append(body)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    def _post_events(self, request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        self.posted.append(payload)
        if self.replies:
            reply = self.replies.pop(0)
            if isinstance(reply, httpx.Response):
                return reply
            return httpx.Response(202, json=reply)
        data = []
        for event in payload["events"]:
            self._reply_counter += 1
            item = {"id": f"reply_{self._reply_counter}", **event}
            data.append(item)
        return httpx.Response(202, json={"data": data})

    def reply_with(self, event_id: str, turn_id: str | None, type_: str = "user.message") -> None:
        """Queue the reply of the next POST: one item with this id and turn id."""
        item: dict[str, Any] = {"id": event_id, "type": type_}
        if turn_id is not None:
            item["turn_id"] = turn_id
        self.replies.append({"data": [item]})


def stream_of(
    events: list[dict[str, Any]], *, prelude: bytes = b": ok\n\n"
) -> list[bytes | BaseException]:
    """A script that sends the events' frames, one chunk each."""
    return [prelude, *(frame(event) for event in events)]
