"""Before timing anything: the fast paths must give exactly what the generic path gives.

``decode_frame`` is run twice on every input, with the hand-written builders on and off
(``convert.use_fast_paths``), and the two events must match field by field, recursively, with
the same Python types (``1.0`` is not ``1``), ``raw`` included and ``MalformedEvent.reason``
word for word. Inputs: every frame of the benchmark stream, then mutations of one event of each
fast-path type where each known field (and nested usage, content and stop-reason field) takes
each of a palette of JSON values or goes missing. The stdlib JSON shortcut is compared with
``json.loads`` on edge cases (whitespace, BOM, trailing data, errors) the same way. The SSE
decoder's fast paths are checked too: the same frames whatever the chunking (64 KiB, 4093,
1024, 13 bytes, one piece) or the line ends (CRLF), the same as httpx-sse reads, and, on random
streams of persisted events mixed with every odd line (comments, retry, keep-alives, previews,
CRLF, NUL ids, invalid UTF-8), the same as a plain reference reading of docs/protocol.md §5. Those
streams are larger than the unit tests' (the bulk paths engage from 4 KiB).
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import re
from collections.abc import Iterator
from typing import Any

from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder as HttpxSSELineDecoder

from qoder._protocol import convert, jsonio
from qoder._protocol.sse import SSEDecoder, SSEFrame
from tests.sameness import MISSING, decode_both_ways, mutations, same  # the test suite's own check

__all__ = ["check"]

_PALETTE: tuple[Any, ...] = (
    MISSING,
    None,
    0,
    7,
    True,
    False,
    1.5,
    "",
    "text",
    [],
    {},
    ["a", "b"],
    [{"type": "text", "text": "x"}],
    [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}],
    [{"type": "redacted"}],
    [{"type": "text", "text": 5}],
    [{"type": "text"}],
    [{"type": "image", "source": {"type": "url", "url": "u"}}],
    [{"type": "mystery", "a": 1}],
    ["text"],
    {"type": "end_turn"},
    {"type": "requires_action", "event_ids": ["evt_1"]},
    {"type": 5},
    {"event_ids": [1]},
    {"input_tokens": 3, "credits": 2},
    {"input_tokens": True},
    {"credits": "1"},
    {"speed": 3},
    {"command": "ls"},
)
_JSON_EDGES = (
    '{"a":1}',
    ' {"a":1}',
    '{"a":1} ',
    '{"a":1}\n',
    '{"a":1}x',
    '{"a":1}{}',
    "\ufeff{}",
    "",
    " ",
    "[1, 2]",
    '"s"',
    "12",
    "NaN",
    "1e400",
    '{"a":"\\ud800"}',
    '{"a":"\\x"}',
    '{"a":}',
    '{"a":1,}',
    "[" * 50 + "]" * 50,
    '{"a":1',
)


def _mutations(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return mutations(
        event,
        _PALETTE,
        extra_keys=("session_thread_id", "input", "content", "output", "thinking", "tool_name"),
        skip=("type", "session_id", "created_at", "schema_version"),
    )


def _json_outcome(fn: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", fn(text)
    except Exception as error:
        return type(error).__name__, str(error)


def _frames(chunks: list[bytes]) -> list[SSEFrame]:
    decoder = SSEDecoder()
    frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    return frames + decoder.flush()


def _check_framing(body: bytes) -> tuple[list[SSEFrame], int]:
    """The same frames however the bytes are cut, with CRLF line ends, and as httpx-sse reads."""
    expected = _frames([body])
    chunkings = {
        size: [body[i : i + size] for i in range(0, len(body), size)]
        for size in (65536, 4093, 1024)
    }
    small = body[: body.index(b"\n\n", 300_000) + 2]
    checked = 0
    for size, chunks in chunkings.items():
        if _frames(chunks) != expected:
            raise AssertionError(f"SSEDecoder gives other frames with {size}-byte chunks")
        checked += len(expected)
    if _frames([small[i : i + 13] for i in range(0, len(small), 13)]) != _frames([small]):
        raise AssertionError("SSEDecoder gives other frames with 13-byte chunks")
    crlf = body.replace(b"\n", b"\r\n")
    if _frames([crlf[i : i + 65536] for i in range(0, len(crlf), 65536)]) != expected:
        raise AssertionError("SSEDecoder gives other frames with CRLF line ends")
    lines = HttpxSSELineDecoder()
    decoder = HttpxSSEDecoder()
    theirs = [
        (sse.event or "message", sse.data, sse.id)
        for line in lines.decode(body.decode())
        if (sse := decoder.decode(line)) is not None
    ]
    if theirs != [(f.event, f.data, f.last_event_id) for f in expected]:
        raise AssertionError("SSEDecoder and httpx-sse disagree")
    return expected, checked + len(small) // 500 + 2 * len(expected)


def _reference_frames(stream: bytes) -> list[tuple[str, str, str | None, str, int | None]]:
    """A plain, whole-input reading of docs/protocol.md §5 (no size limit is reached here)."""
    text = stream.decode("utf-8", errors="replace").removeprefix("\ufeff")
    frames: list[tuple[str, str, str | None, str, int | None]] = []
    values: list[str] = []
    event, id_buffer = "", ""
    frame_id: str | None = None
    retry: int | None = None
    for line in re.split(r"\r\n|\r|\n", text)[:-1]:
        if not line:
            if values:
                frames.append((event or "message", "\n".join(values), frame_id, id_buffer, retry))
            values, event, frame_id, retry = [], "", None, None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            values.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            id_buffer = frame_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    return frames


def _check_mixed_streams(seed: int = 7, streams: int = 40) -> int:
    """Random streams, mostly persisted events plus every odd line, against the reference."""
    rng = random.Random(seed)
    odd = [
        b": comment\n",
        b"retry: 250\n",
        b"event: heartbeat\ndata: {}\n\n",
        b'event: event_delta\ndata: {"type":"event_delta"}\n\n',
        b"id: a\x00b\nevent: e\ndata: d\n\n",
        b"id: \nevent: \ndata: \n\n",
        b"data: one\ndata: two\n\n",
        b"id: 5\r\nevent: e\r\ndata: crlf\r\n\r\n",
        b"data: \xff\xfe bad utf-8\n\n",
        b"\n",
        b"event: x\n",
    ]
    checked = 0
    for _ in range(streams):
        parts = []
        usual = rng.choice((0.9, 0.98, 0.995))  # the share of persisted events
        for i in range(rng.randint(50, 400)):
            if rng.random() < usual:
                text = rng.choice(("x" * rng.randint(0, 900), "é€😀 " * rng.randint(0, 90)))
                parts.append(
                    f'id: evt_{i}\nevent: agent.message\ndata: {{"t":"{text}"}}\n\n'.encode()
                )
            else:
                parts.append(rng.choice(odd))
        stream = b"".join(parts)
        expected = _reference_frames(stream)
        cuts = sorted(rng.randint(0, len(stream)) for _ in range(rng.randint(0, 20)))
        size = rng.choice((65536, 8192, 5000, 1024))
        for chunks in (
            [stream],
            [stream[i : i + size] for i in range(0, len(stream), size)],
            [stream[a:b] for a, b in itertools.pairwise([0, *cuts, len(stream)])],
        ):
            got = [(f.event, f.data, f.id, f.last_event_id, f.retry) for f in _frames(chunks)]
            if got != expected:
                raise AssertionError(f"SSEDecoder differs from the reference (seed {seed})")
            checked += len(expected)
    return checked


def check(body: bytes, events: int = 20_000) -> int:
    """Compare the paths on the first ``events`` frames of ``body`` and on mutations of them.

    Raises AssertionError on any difference; returns the number of inputs compared.
    """
    end = 0
    for _ in range(events):
        end = body.index(b"\n\n", end) + 2
    logger = logging.getLogger("qoder.protocol")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # malformed inputs are expected here; keep the log quiet
    backend = convert.json_backend()
    try:
        frames, checked = _check_framing(body[:end])
        checked += _check_mixed_streams()
        for name in ("stdlib", "orjson"):
            convert.use_json_backend(name)
            samples: dict[str, dict[str, Any]] = {}
            for frame in frames:
                fast, generic = decode_both_ways(frame)
                if not same(fast, generic):
                    raise AssertionError(f"fast path differs on {frame.data[:200]}")
                samples.setdefault(frame.event, json.loads(frame.data))
                checked += 1
            for event in samples.values():
                for mutated in _mutations(event):
                    data = json.dumps(mutated)
                    frame = SSEFrame(mutated["type"], data, mutated.get("id"), "", None)
                    fast, generic = decode_both_ways(frame)
                    if not same(fast, generic):
                        raise AssertionError(f"fast path differs on {data}: {fast!r} / {generic!r}")
                    checked += 1
        for text in _JSON_EDGES:
            if _json_outcome(jsonio.loads_stdlib, text) != _json_outcome(json.loads, text):
                raise AssertionError(f"stdlib JSON shortcut differs on {text!r}")
            checked += 1
    finally:
        convert.use_json_backend(backend)
        logger.setLevel(level)
    return checked
