"""The naive baseline: the least a hand-written httpx client does to hold a conversation.

What a user would write in an afternoon instead of using a client library: create a session,
keep one ``GET …/events/stream`` open, and per turn ``POST`` the ``user.message`` and read the
stream (``iter_bytes``, split on blank lines, ``json.loads`` each ``data:`` line) from the echo
of its own message to ``session.status_idle``. No types, no retries, no reconnection, no cursor,
no tool calls, no checks: a floor for the per-turn overhead, not a client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

__all__ = ["AsyncNaiveClient", "NaiveClient", "parse_frames"]


def _user_message(prompt: str) -> dict[str, Any]:
    return {"events": [{"type": "user.message", "content": [{"type": "text", "text": prompt}]}]}


def parse_frames(buffer: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """The JSON of every complete frame in ``buffer``, and the incomplete rest."""
    *frames, rest = buffer.split(b"\n\n")
    events = []
    for frame in frames:
        for line in frame.split(b"\n"):
            if line.startswith(b"data:"):
                data = json.loads(line[5:])
                if data:
                    events.append(data)
    return events, rest


class _Turn:
    """What a turn collects: the texts after our echo, until the idle."""

    def __init__(self, echo: str) -> None:
        self.echo, self.started = echo, False
        self.texts: list[str] = []
        self.idle: dict[str, Any] | None = None

    def take(self, events: list[dict[str, Any]]) -> bool:
        for event in events:
            if not self.started:
                self.started = event.get("id") == self.echo
            elif event["type"] == "agent.message":
                self.texts.extend(b["text"] for b in event["content"] if b["type"] == "text")
            elif event["type"] == "session.status_idle":
                self.idle = event
                return True
        return False


class NaiveClient:
    def __init__(self, base_url: str, token: str, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.session_id = ""
        self._stream: Any = None
        self._chunks: Iterator[bytes] | None = None
        self._rest = b""

    def connect(self, agent: str, environment: str) -> None:
        body = {"agent": agent, "environment_id": environment}
        self.session_id = self.http.post("/sessions", json=body).json()["id"]
        request = self.http.build_request("GET", f"/sessions/{self.session_id}/events/stream")
        self._stream = self.http.send(request, stream=True)
        self._chunks = self._stream.iter_bytes()

    def turn(self, prompt: str) -> str:
        return self.read_turn(self.post(prompt))

    def post(self, prompt: str) -> str:
        """Send the prompt; the id of its echo."""
        reply = self.http.post(f"/sessions/{self.session_id}/events", json=_user_message(prompt))
        return str(reply.json()["data"][0]["id"])

    def read_turn(self, echo: str) -> str:
        """Read the stream from the echo to the idle; the turn's text."""
        turn = _Turn(echo)
        assert self._chunks is not None
        for chunk in self._chunks:
            events, self._rest = parse_frames(self._rest + chunk)
            if turn.take(events):
                return "".join(turn.texts)
        raise RuntimeError("the stream ended")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self.http.close()


class AsyncNaiveClient:
    def __init__(self, base_url: str, token: str, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.owns_http = http is None
        self.session_id = ""
        self._stream: Any = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._rest = b""

    async def connect(self, agent: str, environment: str) -> None:
        body = {"agent": agent, "environment_id": environment}
        self.session_id = (await self.http.post("/sessions", json=body)).json()["id"]
        request = self.http.build_request("GET", f"/sessions/{self.session_id}/events/stream")
        self._stream = await self.http.send(request, stream=True)
        self._chunks = self._stream.aiter_bytes()

    async def turn(self, prompt: str) -> str:
        return await self.read_turn(await self.post(prompt))

    async def post(self, prompt: str) -> str:
        path = f"/sessions/{self.session_id}/events"
        reply = await self.http.post(path, json=_user_message(prompt))
        return str(reply.json()["data"][0]["id"])

    async def read_turn(self, echo: str) -> str:
        turn = _Turn(echo)
        assert self._chunks is not None
        async for chunk in self._chunks:
            events, self._rest = parse_frames(self._rest + chunk)
            if turn.take(events):
                return "".join(turn.texts)
        raise RuntimeError("the stream ended")

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.aclose()
        if self.owns_http:
            await self.http.aclose()
