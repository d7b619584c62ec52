"""The decoders under test: each takes a list of byte chunks and returns how many events it made.

Every contender starts from the same chunks, decodes UTF-8 incrementally, and builds what its
library hands to a user: plain dicts for the ceiling and httpx-sse, pydantic models for qca-sdk,
our typed attrs events for qoder. Events are dropped as they are made, as a streaming consumer
would; the memory benchmark keeps them.
"""

from __future__ import annotations

import codecs
import io
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder as HttpxSSELineDecoder

from qoder._protocol import convert, jsonio
from qoder._protocol.convert import decode_frame
from qoder._protocol.sse import SSEDecoder

__all__ = [
    "Decoder",
    "agent_sdk",
    "ceiling",
    "ceiling_orjson",
    "ceiling_scanner",
    "collect_ceiling",
    "collect_ours_orjson",
    "collect_ours_stdlib",
    "httpx_sse",
    "ours_generic_stdlib",
    "ours_orjson",
    "ours_sse_json_orjson",
    "ours_sse_json_stdlib",
    "ours_sse_only",
    "ours_stdlib",
    "qca_stream",
]

Decoder = Callable[[list[bytes]], int]


def _ceiling(chunks: list[bytes], loads: Callable[[str], Any], skip: int = 5) -> int:
    """The floor of any SSE + JSON decoder: split on blank lines, parse each ``data:`` line.

    ``skip``: characters cut from the start of the line; json.loads skips the space itself.
    """
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")
    tail = ""
    count = 0
    for chunk in chunks:
        blocks = (tail + utf8.decode(chunk)).split("\n\n")
        tail = blocks.pop()
        for block in blocks:
            for line in block.split("\n"):
                if line.startswith("data:"):
                    loads(line[skip:])
                    count += 1
    return count


def ceiling(chunks: list[bytes]) -> int:
    """Ceiling with the stdlib ``json`` (the baseline of the targets)."""
    return _ceiling(chunks, json.loads)


def ceiling_scanner(chunks: list[bytes]) -> int:
    """Ceiling with the stdlib shortcut our stdlib backend uses (for reference only)."""
    return _ceiling(chunks, jsonio.loads_stdlib, 6)  # the scanner needs the value first


def ceiling_orjson(chunks: list[bytes]) -> int:
    """Ceiling with ``orjson`` (for reference only)."""
    return _ceiling(chunks, orjson.loads)


def httpx_sse(chunks: list[bytes]) -> int:
    """httpx-sse's line splitter and decoder, as ``EventSource.iter_sse`` drives them."""
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")
    lines = HttpxSSELineDecoder()
    decoder = HttpxSSEDecoder()
    loads = json.loads
    count = 0
    for chunk in chunks:
        for line in lines.decode(utf8.decode(chunk)):
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                loads(sse.data)
                count += 1
    return count


def qca_stream(chunks: list[bytes]) -> int:
    """qca-sdk's ``Stream[SessionStreamEvent]``, the object ``sessions.events.stream()`` returns.

    It reads an ``httpx.Response``; here one built over the same chunks, with no network.
    """
    from qca.common._streaming import Stream
    from qca.managed.types.session_stream_event import SessionStreamEvent

    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=iter(chunks),
        request=httpx.Request("GET", "https://api.invalid/sessions/s/events/stream"),
    )
    count = 0
    for _ in Stream(response, SessionStreamEvent):
        count += 1
    return count


class _ChunkedRaw(io.RawIOBase):
    """A socket stand-in: each read returns at most one of the given chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._rest:
            self._rest = next(self._chunks, b"")
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


class _AgentSdkSink:
    """The two attributes ``CloudAgentQuery._read_sse_response_sync`` uses on ``self``."""

    def __init__(self) -> None:
        self._thread_abort = threading.Event()
        self.count = 0

    def _schedule_sse_event(self, event: Any) -> None:
        self.count += 1


def agent_sdk(chunks: list[bytes]) -> int:
    """qoder-agent-sdk's Cloud Agent reader (``readline`` + ``json.loads`` into dicts)."""
    from qoder_agent_sdk._internal.cloud_agent import CloudAgentQuery

    size = max(len(chunk) for chunk in chunks)
    response = io.BufferedReader(_ChunkedRaw(chunks), buffer_size=size)
    sink = _AgentSdkSink()
    CloudAgentQuery._read_sse_response_sync(sink, response)  # type: ignore[arg-type]
    return sink.count


def ours_sse_only(chunks: list[bytes]) -> int:
    """Stage 1: our SSE decoder alone (frames, no JSON)."""
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    decoder.flush()
    return count


def _ours_sse_json(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    loads = jsonio.loads
    count = 0
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            loads(frame.data)
            count += 1
    decoder.flush()
    return count


def _ours(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    decode = decode_frame
    count = 0
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            if decode(frame) is not None:
                count += 1
    decoder.flush()
    return count


def ours_sse_json_stdlib(chunks: list[bytes]) -> int:
    """Stage 2: our SSE decoder plus the stdlib JSON parser ``decode_frame`` uses."""
    convert.use_json_backend("stdlib")
    return _ours_sse_json(chunks)


def ours_sse_json_orjson(chunks: list[bytes]) -> int:
    """Stage 2 with orjson."""
    convert.use_json_backend("orjson")
    return _ours_sse_json(chunks)


def ours_stdlib(chunks: list[bytes]) -> int:
    """The full path: ``SSEDecoder.feed`` + ``decode_frame`` into typed events, stdlib json."""
    convert.use_json_backend("stdlib")
    return _ours(chunks)


def ours_generic_stdlib(chunks: list[bytes]) -> int:
    """The full path with the hand-written fast paths off: every event through cattrs."""
    convert.use_json_backend("stdlib")
    convert.use_fast_paths(False)
    try:
        return _ours(chunks)
    finally:
        convert.use_fast_paths(True)


def ours_orjson(chunks: list[bytes]) -> int:
    """The full path with the orjson extra."""
    convert.use_json_backend("orjson")
    return _ours(chunks)


def _collect_ours(chunks: list[bytes]) -> list[Any]:
    decoder = SSEDecoder()
    events = [decode_frame(frame) for chunk in chunks for frame in decoder.feed(chunk)]
    decoder.flush()
    return events


def collect_ours_stdlib(chunks: list[bytes]) -> list[Any]:
    """Every typed event of the stream, kept (for the retained-memory figure); stdlib json."""
    convert.use_json_backend("stdlib")
    return _collect_ours(chunks)


def collect_ours_orjson(chunks: list[bytes]) -> list[Any]:
    """Every typed event of the stream, kept; orjson (which shares the strings of keys)."""
    convert.use_json_backend("orjson")
    return _collect_ours(chunks)


def collect_ceiling(chunks: list[bytes]) -> list[Any]:
    """Every event of the stream as the ceiling's plain dict, kept."""
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")
    tail = ""
    out = []
    for chunk in chunks:
        blocks = (tail + utf8.decode(chunk)).split("\n\n")
        tail = blocks.pop()
        for block in blocks:
            for line in block.split("\n"):
                if line.startswith("data:"):
                    out.append(json.loads(line[5:]))
    return out
