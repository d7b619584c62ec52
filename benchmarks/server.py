"""An independent Cloud Agents server for the latency benchmarks: raw asyncio, no qoder code.

``python server.py`` listens on 127.0.0.1 (a free port, printed as ``PORT <n>`` on stdout) and
speaks just enough of docs/protocol.md for a conversation: ``POST …/sessions`` (201, a session),
``GET …/sessions/{id}/events/stream`` (SSE, kept open, a heartbeat after ``--keepalive`` seconds
of silence), ``POST …/sessions/{id}/events`` (202, the persisted ``user.message``; the turn's
events are then written on the session's streams at once), ``GET /_bench/turns`` (its own
timings, JSON) and ``POST /_bench/quit``. HTTP/1.1 with keep-alive, hand-parsed: the server
costs a few tens of microseconds a turn, so a client's turn latency is almost all its own.

A turn is the emulator's default one (``session.status_running``, a model request with two
``agent.message``, ``session.status_idle``); a prompt ``bulk:N`` gets N ``agent.message``
events instead of two (the throughput benchmark), and ``stream:N`` N short ones (``Short message
<i>.``), made and written batch by batch with the socket's back-pressure and kept in no history,
so that a turn of a million events costs the server no memory (the footprint benchmark).
``GET /_bench/streams`` gives the open streams per session. For each turn the server records, on
``time.monotonic()`` (CLOCK_MONOTONIC, the clients' clock too), when the POST's body was in
and when the turn's last event was handed to the socket: the server's own turn time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import time
from typing import Any

_ids = itertools.count(1)
_HEADERS_END = b"\r\n\r\n"
_BATCH = 2000
"""Events per write of a ``stream:N`` turn."""


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):032x}"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".123456789Z"


class Session:
    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.streams: list[asyncio.StreamWriter] = []
        self.turns = 0
        self.history: list[tuple[str, bytes]] = []  # (last event id, frames) per turn


class Server:
    def __init__(self, keepalive: float) -> None:
        self.keepalive = keepalive
        self.sessions: dict[str, Session] = {}
        self.timings: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Future[None]] = set()
        self.done = asyncio.Event()

    # --- events ----------------------------------------------------------------------------

    def _event(self, session: Session, turn_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        stamp = _now()
        return {
            "id": _id("evt"),
            "type": kind,
            **fields,
            "session_id": session.id,
            "turn_id": turn_id,
            "created_at": stamp,
            "processed_at": stamp,
            "schema_version": "1.0",
        }

    def _turn_events(self, session: Session, turn_id: str, prompt: str) -> list[dict[str, Any]]:
        n = int(prompt[5:]) if prompt.startswith("bulk:") else 2
        texts = (
            ["The capital of France is Paris.", "Anything else I can look at for you?"]
            if n == 2
            else [f"Message {i} of the bulk turn, with some words in it." for i in range(n)]
        )
        usage = {"input_tokens": 120, "output_tokens": 40}
        events = [
            self._event(session, turn_id, "session.status_running"),
            self._event(session, turn_id, "span.model_request_start"),
        ]
        events += [
            self._event(session, turn_id, "agent.message", content=[{"type": "text", "text": t}])
            for t in texts
        ]
        events.append(self._event(session, turn_id, "span.model_request_end", model_usage=usage))
        events.append(
            self._event(session, turn_id, "session.status_idle", stop_reason={"type": "end_turn"})
        )
        return events

    @staticmethod
    def _frames(events: list[dict[str, Any]]) -> bytes:
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        return b"".join(
            f"id: {e['id']}\nevent: {e['type']}\ndata: {dumps(e)}\n\n".encode() for e in events
        )

    # --- HTTP -------------------------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(_HEADERS_END)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                received = time.monotonic()
                path = target.split("?", 1)[0]
                if path.endswith("/events/stream") and method == "GET":
                    cursor = headers.get("last-event-id") or _after_id(target)
                    await self._stream(path.split("/")[-3], cursor, writer)
                    return
                status, payload, after = self._route(method, path, body, received)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                if after is not None:
                    after()
                await writer.drain()
                if self.done.is_set():
                    return
        finally:
            writer.close()

    def _route(self, method: str, path: str, body: bytes, received: float) -> tuple[str, Any, Any]:
        parts = path.rstrip("/").split("/")
        if path == "/_bench/turns":
            return "200 OK", self.timings, None
        if path == "/_bench/streams":
            return "200 OK", {s.id: len(s.streams) for s in self.sessions.values()}, None
        if path == "/_bench/quit":
            self.done.set()
            return "200 OK", {}, None
        if method == "POST" and parts[-1] == "sessions":
            created = Session(_id("sess"))
            self.sessions[created.id] = created
            return "201 Created", self._session_object(created), None
        if method == "POST" and parts[-1] == "events" and parts[-3] == "sessions":
            session = self.sessions.get(parts[-2])
            if session is None:
                return (
                    "404 Not Found",
                    {"type": "error", "error": {"type": "not_found_error"}},
                    None,
                )
            return self._post_events(session, json.loads(body), received)
        error = {"type": "error", "error": {"type": "not_found_error", "message": path}}
        return "404 Not Found", error, None

    def _session_object(self, session: Session) -> dict[str, Any]:
        stamp = "2026-05-18T15:26:15Z"
        return {
            "id": session.id,
            "type": "session",
            "status": "idle",
            "title": None,
            "agent_id": "agent_default",
            "environment_id": "env_default",
            "metadata": {},
            "resources": [],
            "vault_ids": [],
            "usage": {"input_tokens": 0, "output_tokens": 0, "total_credits": 0.0},
            "created_at": stamp,
            "updated_at": stamp,
            "archived_at": None,
        }

    def _post_events(
        self, session: Session, body: dict[str, Any], received: float
    ) -> tuple[str, Any, Any]:
        session.turns += 1
        turn_id = _id("turn")
        persisted = []
        prompt = ""
        for item in body.get("events", []):
            fields = {k: v for k, v in item.items() if k != "type"}
            persisted.append(self._event(session, turn_id, item["type"], **fields))
            if item["type"] == "user.message":
                content = item.get("content")
                if isinstance(content, list) and content and isinstance(content[0], dict):
                    prompt = str(content[0].get("text", ""))
                elif isinstance(content, str):
                    prompt = content
        n = session.turns
        if prompt.startswith("stream:"):

            def start() -> None:
                task = asyncio.ensure_future(
                    self._stream_turn(session, turn_id, persisted, int(prompt[7:]), n, received)
                )
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

            return "202 Accepted", {"data": persisted}, start
        events = persisted + self._turn_events(session, turn_id, prompt)
        frames = self._frames(events)

        def play() -> None:
            session.history.append((events[-1]["id"], frames))
            for stream in session.streams:
                stream.write(frames)
            self.timings.append(
                {"session": session.id, "n": n, "received": received, "sent": time.monotonic()}
            )

        return "202 Accepted", {"data": persisted}, play

    async def _stream_turn(
        self,
        session: Session,
        turn_id: str,
        persisted: list[dict[str, Any]],
        count: int,
        n: int,
        received: float,
    ) -> None:
        """A ``stream:N`` turn: N short agent messages, a batch at a time, each batch drained
        before the next is made (nothing of it is kept)."""
        streams = list(session.streams)

        async def write(frames: bytes) -> None:
            for stream in streams:
                stream.write(frames)
            for stream in streams:
                with contextlib.suppress(ConnectionError):
                    await stream.drain()

        await write(
            self._frames(
                [
                    *persisted,
                    self._event(session, turn_id, "session.status_running"),
                    self._event(session, turn_id, "span.model_request_start"),
                ]
            )
        )
        # The frames are formatted from one template (what ``_event`` + ``_frames`` would make,
        # byte for byte in shape): a million events cost the server about a second.
        stamp = _now()
        template = (
            "id: {id}\nevent: agent.message\ndata: "
            '{{"id":"{id}","type":"agent.message","content":[{{"type":"text",'
            '"text":"Short message {i}."}}],"session_id":"'
            + session.id
            + '","turn_id":"'
            + turn_id
            + '","created_at":"'
            + stamp
            + '","processed_at":"'
            + stamp
            + '","schema_version":"1.0"}}\n\n'
        ).format
        for first in range(0, count, _BATCH):
            text = "".join(
                template(id=_id("evt"), i=i) for i in range(first, min(count, first + _BATCH))
            )
            await write(text.encode())
        usage = {"input_tokens": 120, "output_tokens": 40}
        last = self._event(
            session, turn_id, "session.status_idle", stop_reason={"type": "end_turn"}
        )
        end = self._event(session, turn_id, "span.model_request_end", model_usage=usage)
        await write(self._frames([end, last]))
        session.history.append((last["id"], b""))
        self.timings.append(
            {"session": session.id, "n": n, "received": received, "sent": time.monotonic()}
        )

    async def _stream(
        self, session_id: str, cursor: str | None, writer: asyncio.StreamWriter
    ) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"connection: close\r\n\r\n: ok\n\n"
        )
        # Without a cursor the whole history first (§3.11); with one, the turns after it (a
        # cursor inside a turn replays that whole turn: enough for these clients).
        ids = [last for last, _ in session.history]
        start = ids.index(cursor) + 1 if cursor in ids else 0
        for _, frames in session.history[start:]:
            writer.write(frames)
        session.streams.append(writer)
        try:
            while not writer.is_closing() and not self.done.is_set():
                await asyncio.sleep(self.keepalive)
                writer.write(b"event: heartbeat\ndata: {}\n\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went, or the server is stopping
        finally:
            session.streams.remove(writer)


def _after_id(target: str) -> str | None:
    for pair in target.partition("?")[2].split("&"):
        name, _, value = pair.partition("=")
        if name == "after_id":
            return value
    return None


async def _main(keepalive: float) -> None:
    server = Server(keepalive)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=2048)
    print(f"PORT {listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await server.done.wait()
        await asyncio.sleep(0.05)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keepalive", type=float, default=1.0)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.keepalive))


if __name__ == "__main__":
    main(sys.argv[1:])
