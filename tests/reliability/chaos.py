"""The served emulator with faults chosen by a seeded generator (docs/reliability.md).

:class:`ChaosCloud` is a :class:`~qoder.testing.FakeCloud` whose ASGI app is wrapped: every
event-stream connection gets its own fault, drawn from a seeded :class:`random.Random` at the
moment it connects, and armed through the emulator's fault API just before the emulator sees the
request (:class:`~qoder.testing.StreamFault`: cuts at an event position, mid-frame; in-band error
frames; malformed and unknown frames; slow frames; one-byte and small chunks; CRLF; or an
:class:`~qoder.testing.HttpFault` refusing the connection with 429/503 and ``retry-after-ms``).
A cut at a random *byte* position, which the emulator does not offer, is done by the wrapper:
it ends the body after that many bytes. The wrapper also watches the bytes that go out, so the
figures count the faults that fired, not the ones that were armed.

The agent answers prompts of the form ``turn <n> kind=<kind> <padding>``: the kinds pick a
script (a plain reply, several messages, thinking, a custom tool, a built-in tool, a
``session.error`` that the server retries); the padding gives frames random lengths.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from qoder.testing import FakeCloud, HttpFault, ScriptedAgent, StreamFault

__all__ = [
    "FAULT_RATE",
    "KINDS",
    "ChaosCloud",
    "StreamChaos",
    "agent",
]

FAULT_RATE = 0.1
"""The share of opportunities (event frames of a stream, POSTs of a turn) that get a fault."""

KINDS: dict[str, int] = {
    "plain": 40,
    "multi": 20,
    "think": 10,
    "tool": 15,
    "bash": 5,
    "flaky": 10,
}
"""Turn scripts and their weights; ``flaky`` is the ``session.error`` that retries."""

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_STREAM_PATH = re.compile(r".*/sessions/([^/]+)/events/stream$")
_MALFORMED = b'data: {"type":"agent.message","content":[{"type":"te\n'
_UNKNOWN = b"event: agent.hologram\n"
_ERROR = b"event: error\n"


def agent() -> ScriptedAgent:
    """The scripted agent of the soak: one rule per turn kind (see :data:`KINDS`)."""
    scripted = ScriptedAgent()
    scripted.on("kind=multi").reply("{prompt}", " And a second part.", " The end.")
    scripted.on("kind=think").think("Let me see.").reply("{prompt}")
    scripted.on("kind=tool").custom_tool_use("echo", {"text": "ping"}).reply("Got {result}.")
    scripted.on("kind=bash").tool_use("bash", {"command": "ls"}, result="a.txt").reply("{prompt}")
    scripted.on("kind=flaky").error("retrying").reply("Recovered: {prompt}")
    scripted.on("kind=plain").reply("{prompt}")
    scripted.on("kind=slow").reply("Working. ").hold().reply("Done.")
    return scripted


class _Cut(OSError):
    """Raised into the emulator's stream loop after the wrapper ended the body itself."""


@dataclass
class _Connection:
    """What was armed for one stream connection, and the bytes it sent."""

    extras: tuple[str, ...] = ()
    end: str = "none"
    byte_cut: int | None = None
    body: bytearray = field(default_factory=bytearray)
    cut_done: bool = False


@dataclass
class StreamChaos:
    """The seeded choice of each stream connection's fault, and the count of those that fired.

    ``fired`` counts by kind; ``frames`` counts event frames sent (the opportunities).
    """

    rng: random.Random
    rate: float = FAULT_RATE
    fired: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    connections: int = 0
    enabled: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _frames_before_fault(self) -> int:
        """Event frames before the next fault: geometric, so each frame has ``rate`` odds."""
        count = 0
        while self.rng.random() >= self.rate and count < 1000:
            count += 1
        return count

    def arm(self, cloud: FakeCloud, session_id: str) -> _Connection:
        """Choose and arm the fault of the connection the emulator is about to open."""
        rng = self.rng
        if not self.enabled:
            return _Connection()
        if rng.random() < 0.05:
            status = rng.choice((429, 503))
            path = "/sessions/*/events/stream"
            cloud.inject(HttpFault(status, method="GET", path=path, retry_after_ms=1))
            return _Connection(end=f"stream_refused_{status}")
        frames = self._frames_before_fault()
        fault = StreamFault(session_id=session_id)
        extras: list[str] = []
        if rng.random() < 0.1:  # a byte per read costs ~0.1 ms a byte: kept to short connections
            fault.chunk_size, frames = 1, min(frames, 1)
            extras.append("one_byte_chunks")
        extras.extend(self._extras(fault, frames))
        connection = _Connection(extras=tuple(extras))
        roll = rng.random()
        if roll < 0.4:
            fault.drop_after, connection.end = frames, "cut_mid_frame"
        elif roll < 0.8:
            connection.byte_cut, connection.end = rng.randint(1, 400 * (frames + 1)), "cut_at_byte"
        else:
            fault.error_frame_at, connection.end = frames, "error_frame"
        cloud.inject(fault)
        return connection

    def _extras(self, fault: StreamFault, frames: int) -> tuple[str, ...]:
        """Arm the faults that do not end the connection; their names."""
        rng = self.rng
        extras: list[str] = []
        if fault.chunk_size is None and rng.random() < 0.15:
            fault.chunk_size = rng.randint(2, 97)
            extras.append("small_chunks")
        if rng.random() < 0.1:
            fault.delay = 0.002
            extras.append("slow_frames")
        if rng.random() < 0.1:
            fault.crlf = True
            extras.append("crlf")
        if rng.random() < 0.15:
            fault.malformed_at = rng.randint(0, frames)
        if rng.random() < 0.15:
            fault.unknown_event_at = rng.randint(0, frames)
        return tuple(extras)

    def observe(self, connection: _Connection, status: int | None) -> None:
        """Count what one finished connection really did."""
        body = bytes(connection.body).replace(b"\r\n", b"\n")
        frames = body.count(b"\nid: ") + body.startswith(b"id: ")
        with self.lock:
            self.connections += 1
            self.frames += frames
            if connection.end == "none":
                return
            if connection.end.startswith("stream_refused"):
                if status is not None and status != 200:
                    self.fired[connection.end] += 1
                return
            if frames:
                self.fired.update(connection.extras)
            self.fired["malformed_frame"] += body.count(_MALFORMED)
            self.fired["unknown_frame"] += body.count(_UNKNOWN)
            if _ERROR in body:
                self.fired["error_frame"] += 1
            if connection.cut_done:
                self.fired["cut_at_byte"] += 1
            elif connection.end == "cut_mid_frame" and body and not body.endswith(b"\n\n"):
                self.fired["cut_mid_frame"] += 1


class ChaosCloud(FakeCloud):
    """A FakeCloud whose served app gives every stream connection a fault from ``chaos``."""

    def __init__(self, chaos: StreamChaos, **kwargs: Any) -> None:
        kwargs.setdefault("agent", agent())
        super().__init__(**kwargs)
        self.chaos = chaos
        self._app: ASGIApp | None = None

    def asgi_app(self) -> Any:
        """The emulator's ASGI app behind the fault wrapper (one per cloud)."""
        if self._app is None:
            self._app = self._chaos_app(super().asgi_app())
        return self._app

    def _chaos_app(self, inner: ASGIApp) -> ASGIApp:
        cloud = self

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            match = _STREAM_PATH.fullmatch(scope.get("path", ""))
            if scope["type"] != "http" or scope["method"] != "GET" or match is None:
                await inner(scope, receive, send)
                return
            connection = cloud.chaos.arm(cloud, match.group(1))
            status: list[int] = []
            try:
                await inner(scope, receive, _watching(connection, status, send))
            finally:
                cloud.chaos.observe(connection, status[0] if status else None)

        return app


def _watching(connection: _Connection, status: list[int], send: Send) -> Send:
    """``send`` recording the body of a stream, and ending it at ``connection.byte_cut``."""

    async def watching_send(message: ASGIMessage) -> None:
        if connection.cut_done:
            raise _Cut("the body was already ended by the byte cut")
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))
            await send(message)
            return
        body = bytes(message.get("body", b""))
        cut = connection.byte_cut
        streaming = bool(status) and status[0] == 200 and message.get("more_body", False)
        if cut is not None and streaming and len(connection.body) + len(body) >= cut:
            part = body[: cut - len(connection.body)]
            connection.body.extend(part)
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            connection.cut_done = True
            raise _Cut("stream cut at a byte position by the soak")
        connection.body.extend(body)
        await send(message)

    return watching_send
