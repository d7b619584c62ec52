"""A tiny SSE frame reader for the emulator's tests (independent of the client library)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from qoder.testing import FakeCloud


@dataclass
class Frame:
    """One decoded frame."""

    event: str | None
    id: str | None
    data: str | None

    def json(self) -> Any:
        assert self.data is not None
        return json.loads(self.data)

    @property
    def persisted(self) -> bool:
        return self.id is not None


def parse(raw: bytes) -> Frame | None:
    """Decode one frame's bytes (without its blank line); ``None`` for a comment-only block."""
    event = event_id = data = None
    for line in raw.decode().split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "id":
            event_id = value
        elif name == "data":
            data = value if data is None else data + "\n" + value
    if event is None and data is None and event_id is None:
        return None
    return Frame(event, event_id, data)


class FrameBuffer:
    """Accumulates bytes; decodes complete frames; keeps the tail (a partial frame)."""

    def __init__(self) -> None:
        self.raw = b""
        self.tail = b""
        self.frames: list[Frame] = []
        self._consumed = 0
        self._cr = b""  # a CR ending the last chunk may pair with an LF starting the next

    def feed(self, chunk: bytes) -> None:
        self.raw += chunk
        data, self._cr = self.tail + self._cr + chunk, b""
        if data.endswith(b"\r"):
            data, self._cr = data[:-1], b"\r"
        self.tail = data.replace(b"\r\n", b"\n")
        while b"\n\n" in self.tail:
            block, self.tail = self.tail.split(b"\n\n", 1)
            frame = parse(block)
            if frame is not None:
                self.frames.append(frame)

    def take(self, check: Callable[[Frame], bool]) -> list[Frame] | None:
        """The unread frames up to the first one satisfying ``check``, or ``None``."""
        for index in range(self._consumed, len(self.frames)):
            if check(self.frames[index]):
                taken = self.frames[self._consumed : index + 1]
                self._consumed = index + 1
                return taken
        return None

    def take_all(self) -> list[Frame]:
        taken = self.frames[self._consumed :]
        self._consumed = len(self.frames)
        return taken

    @property
    def events(self) -> list[Frame]:
        return [frame for frame in self.frames if frame.persisted]

    def types(self) -> list[str | None]:
        return [frame.event for frame in self.events]


def _check(done: Callable[[Frame], bool] | str) -> Callable[[Frame], bool]:
    if isinstance(done, str):
        return lambda frame: frame.event == done
    return done


class SyncFrames(FrameBuffer):
    """Reads frames from a sync byte iterator, with a deadline (the cloud's heartbeats keep
    chunks coming, so the deadline is checked even when no event arrives)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks

    def until(self, done: Callable[[Frame], bool] | str, deadline: float = 5.0) -> list[Frame]:
        """Read until a frame satisfies ``done`` (a predicate or an event type)."""
        check, start = _check(done), time.monotonic()
        while (taken := self.take(check)) is None:
            chunk = next(self._chunks, None)
            if chunk is None:
                raise AssertionError(f"stream ended before a matching frame: {self.types()}")
            self.feed(chunk)
            assert time.monotonic() - start < deadline, "no matching frame in time"
        return taken

    def to_end(self, deadline: float = 5.0) -> list[Frame]:
        """Read until the body ends."""
        start = time.monotonic()
        for chunk in self._chunks:
            self.feed(chunk)
            assert time.monotonic() - start < deadline, "the stream did not end in time"
        return self.take_all()


class AsyncFrames(FrameBuffer):
    """Reads frames from an httpx async response, each call bounded by ``anyio.fail_after``.

    Use it as an async context manager: on exit it ends the emulator's streams and drains the
    body, because under trio an httpx body iterator abandoned before its end (they are nested
    async generators, which ``aclose`` does not fully close) raises a ResourceWarning."""

    def __init__(self, response: httpx.Response, cloud: FakeCloud) -> None:
        super().__init__()
        self._chunks = response.aiter_bytes()
        self._cloud = cloud

    async def __aenter__(self) -> AsyncFrames:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cloud.close_streams()
        with anyio.fail_after(5):
            while await self._next_chunk() is not None:
                pass

    async def _next_chunk(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None

    async def until(self, done: Callable[[Frame], bool] | str, seconds: float = 5.0) -> list[Frame]:
        check = _check(done)
        with anyio.fail_after(seconds):
            while (taken := self.take(check)) is None:
                chunk = await self._next_chunk()
                if chunk is None:
                    raise AssertionError(f"stream ended before a matching frame: {self.types()}")
                self.feed(chunk)
        return taken

    async def to_end(self, seconds: float = 5.0) -> list[Frame]:
        with anyio.fail_after(seconds):
            while (chunk := await self._next_chunk()) is not None:
                self.feed(chunk)
        return self.take_all()
