"""The body of ``GET /sessions/{id}/events/stream``: an SSE byte stream, sync and async.

:class:`EventStream` is iterable both ways (``for chunk in stream`` blocks the thread,
``async for chunk in stream`` waits on anyio primitives, under asyncio or trio). Readers sleep
until an event is appended, the stream is closed, or ``keepalive_interval`` seconds of silence
pass (then a heartbeat frame goes out). There is no polling loop.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from threading import RLock

import anyio
import httpx

from qoder.testing import _sse
from qoder.testing._faults import StreamFault
from qoder.testing._log import EventLog

__all__ = ["CLOSING_EVENT_TYPES", "EventStream", "StreamDropped"]

CLOSING_EVENT_TYPES = frozenset({"session.deleted", "session.status_terminated", "terminated"})
"""After sending one of these the emulator closes the stream (docs/protocol.md §3.11)."""


class StreamDropped(Exception):
    """Raised while iterating a stream whose :class:`StreamFault` has ``raise_error=True``.

    The respx adapter turns it into ``httpx.ReadError``; the ASGI app ends the body instead.
    """


@dataclass
class _Step:
    """What to send next: bytes, an optional delay before them, and whether to stop after."""

    chunks: list[bytes] = field(default_factory=list)
    delay: float = 0.0
    end: bool = False
    drop: bool = False


class EventStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One SSE connection to a session's event log. Iterate it once, then close it.

    Created by the cloud for a stream request. It is an httpx byte stream, sync and async, so
    ``httpx.Response(200, headers=…, stream=event_stream)`` works with ``httpx.Client`` and
    ``httpx.AsyncClient`` alike (the respx adapter wraps it to turn a :class:`StreamDropped`
    into ``httpx.ReadError``); the ASGI app sends its chunks. ``close()`` / ``aclose()`` end it
    from any thread.
    """

    def __init__(
        self,
        log: EventLog,
        lock: RLock,
        *,
        start: int,
        deltas: frozenset[str] = frozenset(),
        types: frozenset[str] | None = None,
        keepalive_interval: float = 15.0,
        fault: StreamFault | None = None,
        on_close: Callable[[EventStream], None] | None = None,
    ) -> None:
        self._log = log
        self._lock = lock
        self._position = start
        self._live_from = len(log.events)  # events appended later are "live" (get previews)
        self._deltas = deltas
        self._types = types
        self._keepalive = keepalive_interval
        self._fault = fault
        self._on_close = on_close
        self._opened = False
        self._closed = False
        self._sent = 0
        self._fired: set[str] = set()

    @property
    def session_id(self) -> str:
        """The session this stream follows."""
        return self._log.session_id

    @property
    def closed(self) -> bool:
        """Whether the stream has ended or was closed."""
        return self._closed

    @property
    def fault(self) -> StreamFault | None:
        """The fault applied to this connection, if any."""
        return self._fault

    # -- the state machine (always called with the lock held) -------------------------------

    def _advance(self) -> _Step | None:
        """The next step, or ``None`` when the reader must wait for the log to change."""
        if self._closed:
            return _Step(end=True)
        if not self._opened:
            self._opened = True
            return _Step([_sse.OPENING_COMMENT])
        injected = self._injected_frame()
        if injected is not None:
            return injected
        events = self._log.events
        while self._position < len(events) and not self._wanted(events[self._position]):
            self._position += 1
        if self._position < len(events):
            return self._event_step(events[self._position])
        if self._log.closed:
            return _Step(end=True)
        return None

    def _wanted(self, event: dict[str, object]) -> bool:
        return self._types is None or event["type"] in self._types

    def _once(self, name: str, at: int | None) -> bool:
        if at is None or at != self._sent or name in self._fired:
            return False
        self._fired.add(name)
        return True

    def _injected_frame(self) -> _Step | None:
        """A fault frame due after ``_sent`` event frames (sent without waiting for the next)."""
        fault = self._fault
        if fault is None:
            return None
        if self._once("error", fault.error_frame_at):
            return _Step([_sse.error_frame()], end=True)
        if self._once("malformed", fault.malformed_at):
            return _Step([_sse.malformed_frame()])
        if self._once("unknown", fault.unknown_event_at):
            return _Step([_sse.unknown_event_frame()])
        return None

    def _event_step(self, event: dict[str, object]) -> _Step:
        fault = self._fault
        if fault is not None and fault.drop_after is not None and fault.drop_after == self._sent:
            cut = _sse.partial_frame(_sse.event_frame(event))
            return _Step([cut], end=True, drop=fault.raise_error)
        self._position += 1
        frames: list[bytes] = []
        if self._position > self._live_from and event["type"] in self._deltas:
            frames.extend(_sse.preview_frames(event))
        frames.append(_sse.event_frame(event))
        self._sent += 1
        return _Step(
            frames,
            delay=fault.delay if fault is not None else 0.0,
            end=event["type"] in CLOSING_EVENT_TYPES,
        )

    def _shape(self, chunks: list[bytes]) -> list[bytes]:
        fault = self._fault
        if fault is None:
            return chunks
        return _sse.reshape(chunks, crlf=fault.crlf, chunk_size=fault.chunk_size)

    # -- sync ------------------------------------------------------------------------------

    def _next_step_blocking(self) -> _Step:
        with self._lock:
            while True:
                step = self._advance()
                if step is not None:
                    return step
                if not self._log.notifier.condition.wait(self._keepalive):
                    step = self._advance()
                    return step if step is not None else _Step([_sse.HEARTBEAT])

    def __iter__(self) -> Iterator[bytes]:
        """Yield the stream's bytes, blocking the thread between events."""
        try:
            while True:
                step = self._next_step_blocking()
                if step.delay > 0:
                    time.sleep(step.delay)
                yield from self._shape(step.chunks)
                if step.drop:
                    raise StreamDropped("connection cut by a StreamFault")
                if step.end:
                    return
        finally:
            self.close()

    def close(self) -> None:
        """End the stream (from any thread); a blocked reader wakes and stops."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._log.notifier.notify_all()
        if self._on_close is not None:
            self._on_close(self)

    # -- async -----------------------------------------------------------------------------

    async def _next_step_async(self) -> _Step:
        while True:
            with self._lock:
                step = self._advance()
                if step is not None:
                    return step
                waiter = self._log.notifier.add_async_waiter()
            try:
                woken = await waiter.wait(self._keepalive)
            finally:
                with self._lock:
                    self._log.notifier.discard(waiter)
            if not woken:
                with self._lock:
                    step = self._advance()
                return step if step is not None else _Step([_sse.HEARTBEAT])

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the stream's bytes, waiting (cancellably) between events."""
        return _AsyncReader(self)

    async def aclose(self) -> None:
        """End the stream; same as :meth:`close`."""
        self.close()


class _AsyncReader:
    """The async iterator of an :class:`EventStream` (a class, not an async generator, so that an
    abandoned iteration needs no finalizer under asyncio or trio)."""

    def __init__(self, stream: EventStream) -> None:
        self._stream = stream
        self._buffer: deque[bytes] = deque()
        self._drop = False
        self._end = False

    def __aiter__(self) -> _AsyncReader:
        return self

    async def __anext__(self) -> bytes:
        stream = self._stream
        while not self._buffer:
            if self._drop:
                self._drop = False
                self._end = True
                stream.close()
                raise StreamDropped("connection cut by a StreamFault")
            if self._end:
                stream.close()
                raise StopAsyncIteration
            step = await stream._next_step_async()
            if step.delay > 0:
                await anyio.sleep(step.delay)
            self._buffer.extend(stream._shape(step.chunks))
            self._drop = step.drop
            self._end = step.end
        return self._buffer.popleft()
