"""The frame-less batch path: ``SSEDecoder.feed_parts``, ``decode_fields``, ``EventStream.events``.

``EventStream.events`` reads persisted events as ``(id, event, data)`` triples straight from the
bulk readers' matches and decodes them with ``decode_fields``; every other user reads
``SSEFrame``s with ``decode_frame``. Whatever the input and its chunking, the two ways must give
the same events (class, every field with its Python type, ``raw``, ``MalformedEvent`` reasons)
with the same ids, and leave the decoder in the same state. The drafts of ``slots.py``, which
build the frames and events of both, are checked here too.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoder._protocol import blocks as b
from qoder._protocol import convert
from qoder._protocol import events as e
from qoder._protocol.convert import decode_fields, decode_frame
from qoder._protocol.slots import draft_class
from qoder._protocol.sse import DEFAULT_MAX_FRAME_BYTES, Part, SSEDecoder, SSEFrame
from qoder._protocol.stream import EventStream
from tests.protocol.test_sse import bulk_streams, cut, persisted_event
from tests.sameness import same

BACKENDS = ["stdlib", "orjson"]


@pytest.fixture(autouse=True)
def _restore_backend() -> Iterator[None]:
    backend = convert.json_backend()
    yield
    convert.use_json_backend(backend)


# --- slots.draft_class --------------------------------------------------------------------------


def test_a_filled_draft_becomes_the_frozen_class_itself() -> None:
    draft = draft_class(SSEFrame)()
    for name, value in [("event", "e"), ("data", "d"), ("id", "i"), ("last_event_id", "i"),
                        ("retry", None), ("oversized", False), ("data_size", 1)]:  # fmt: skip
        setattr(draft, name, value)
    draft.__class__ = SSEFrame
    expected = SSEFrame("e", "d", "i", "i", None, False, 1)
    assert type(draft) is SSEFrame
    assert same(draft, expected)
    assert draft == expected
    assert hash(draft) == hash(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        draft.data = "changed"  # type: ignore[misc]
    block = draft_class(b.TextBlock)()
    block.text = "hi"
    block.__class__ = b.TextBlock
    assert same(block, b.TextBlock("hi"))


def test_only_slotted_classes_get_a_draft() -> None:
    @attrs.frozen(slots=False)
    class WithDict:
        x: int

    with pytest.raises(TypeError):
        draft_class(WithDict)


# --- SSEDecoder.feed_parts ------------------------------------------------------------------------


def as_frames(parts: list[Part], frames: list[SSEFrame]) -> None:
    """Each part is its frame: the same frame, or the (id, event, data) of a persisted one."""
    assert len(parts) == len(frames)
    for part, frame in zip(parts, frames, strict=True):
        if isinstance(part, tuple):
            assert part == (frame.id, frame.event, frame.data)
            assert all(type(value) is str for value in part)
            assert frame.last_event_id == frame.id
            assert frame.event
            assert frame.retry is None
            assert not frame.oversized
        else:
            assert same(part, frame)


def both_ways(streams: list[list[bytes]], limit: int) -> int:
    """One decoder feeds, the other feeds parts, stream after stream; returns the triples seen."""
    framing = SSEDecoder(max_frame_bytes=limit)
    parting = SSEDecoder(max_frame_bytes=limit)
    triples = 0
    for chunks in streams:
        for chunk in chunks:
            parts = parting.feed_parts(chunk)
            as_frames(parts, framing.feed(chunk))
            triples += sum(isinstance(part, tuple) for part in parts)
            assert (parting.last_event_id, parting.retry) == (framing.last_event_id, framing.retry)
        assert parting.flush() == framing.flush() == []
    return triples


@settings(max_examples=150, deadline=None)
@given(
    streams=st.lists(bulk_streams, min_size=1, max_size=2),
    sizes=st.tuples(
        st.lists(st.one_of(st.integers(1, 80), st.integers(80, 5000)), max_size=8),
        st.sampled_from([4096, 5000, 1 << 16]),
    ).map(lambda drawn: [*drawn[0], drawn[1]]),
    limit=st.sampled_from([0, 30, 600, 5000, DEFAULT_MAX_FRAME_BYTES]),
)
def test_parts_are_the_frames_for_any_stream(
    streams: list[bytes], sizes: list[int], limit: int
) -> None:
    both_ways([cut(stream, sizes) for stream in streams], limit)


@pytest.mark.parametrize("chunk_size", [1, 1024, 4096, 5000, 1 << 16, 1 << 20])
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_parts_of_a_stream_of_persisted_events(chunk_size: int, line_end: bytes) -> None:
    stream = b"".join(persisted_event(n) for n in range(1500)).replace(b"\n", line_end)
    triples = both_ways([cut(stream, [chunk_size])], DEFAULT_MAX_FRAME_BYTES)
    if chunk_size >= 4096:  # large chunks: the bulk readers hand most frames over as triples
        assert triples > 1000


def test_parts_without_the_bulk_readers_are_frames() -> None:
    decoder = SSEDecoder(bulk=False)
    stream = b"".join(persisted_event(n) for n in range(1, 200))
    parts = decoder.feed_parts(stream)
    assert parts
    assert all(isinstance(part, SSEFrame) for part in parts)


# --- decode_fields ------------------------------------------------------------------------------

ENVELOPE = {"id": "evt_1", "session_id": "s", "turn_id": "t", "processed_at": "2025-01-01"}
OBJECTS: list[dict[str, Any]] = [
    {**ENVELOPE, "type": "agent.message", "content": [{"type": "text", "text": "hi"}]},
    {**ENVELOPE, "type": "agent.message", "content": "a string"},
    {**ENVELOPE, "type": "agent.message", "content": [{"type": "text", "text": 3}]},
    {**ENVELOPE, "type": "agent.message", "content": [{"type": "image", "source": {}}]},
    {**ENVELOPE, "type": "agent.message", "id": 12},
    {**ENVELOPE, "type": "agent.thinking", "thinking": "hmm"},
    {**ENVELOPE, "type": "agent.thinking", "content": "older spelling"},
    {**ENVELOPE, "type": "agent.tool_use", "name": "bash", "input": {"c": 1}},
    {**ENVELOPE, "type": "agent.tool_use", "tool_name": "bash", "tool_input": {}},
    {
        **ENVELOPE,
        "type": "agent.tool_result",
        "tool_use_id": "evt_0",
        "content": [],
        "is_error": False,
    },
    {**ENVELOPE, "type": "agent.tool_result", "output": "older spelling"},
    {**ENVELOPE, "type": "session.status_running"},
    {**ENVELOPE, "type": "session.status_idle", "stop_reason": {"type": "end_turn"}},
    {**ENVELOPE, "type": "session.status_idle", "stop_reason": "end_turn"},
    {**ENVELOPE, "type": "session.status_idle", "stop_reason": {"event_ids": [1]}},
    {**ENVELOPE, "type": "span.model_request_start", "model": "m"},
    {
        **ENVELOPE,
        "type": "span.model_request_end",
        "model_usage": {"input_tokens": 1, "output_tokens": 2, "credits": 3},
        "total_cost_usd": 1,
    },
    {**ENVELOPE, "type": "span.model_request_end", "model_usage": {"input_tokens": "1"}},
    {**ENVELOPE, "type": "session.error", "error": {"message": "boom"}},
    {**ENVELOPE, "type": "error", "error": {"message": "stream failed"}},
    {**ENVELOPE, "type": "some.future_type", "x": 1},
    {**ENVELOPE, "type": 5},
    {"id": "evt_2"},
    {},
]
DATA = [json.dumps(obj) for obj in OBJECTS] + [
    json.dumps(OBJECTS[0], ensure_ascii=False).replace("hi", "h\u00e9\U0001f600"),
    "[DONE]", "", " ", "{", "[1, 2]", '"s"', "12", "null", "NaN", '{"a":1} ', "[" * 3000,
]  # fmt: skip
NAMES = ["agent.message", "message", "error", "ping", "heartbeat", "session.status_idle", "x"]
IDS: list[str | None] = ["evt_1", "", None]


@pytest.mark.parametrize("backend", BACKENDS)
def test_decode_fields_is_decode_frame(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    convert.use_json_backend(backend)  # type: ignore[arg-type]
    caplog.set_level(logging.CRITICAL, logger="qoder.protocol")
    for data, name, frame_id in itertools.product(DATA, NAMES, IDS):
        frame = SSEFrame(name, data, frame_id, frame_id or "", None)
        expected = decode_frame(frame)
        got = decode_fields(frame_id, name, data)
        assert same(got, expected), (name, frame_id, data[:80], got, expected)


# --- EventStream.events ---------------------------------------------------------------------------


def frame_path(chunks: list[bytes]) -> tuple[list[tuple[e.Event, str | None]], str | None]:
    """What EventStream.events gave before the batch path: decode_frame on every frame."""
    decoder = SSEDecoder()
    events: list[tuple[e.Event, str | None]] = []
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            event = decode_frame(frame)
            if event is None:
                continue
            if isinstance(event, e.StreamErrorFrame):
                return events, f"the server reported a stream error: {event.message}"
            events.append((event, frame.id))
    return events, None


def stream_path(chunks: list[bytes]) -> tuple[list[tuple[e.Event, str | None]], str | None]:
    stream = EventStream("sess", clock=lambda: 0.0, rand=lambda: 0.5)
    stream.opened()
    events: list[tuple[e.Event, str | None]] = []
    for chunk in chunks:
        events += stream.events(chunk)
        if stream.failure is not None:
            return events, stream.failure
    return events, None


def sse_frames(seed: int) -> Iterator[bytes]:
    """Persisted events of every sample, keep-alives, frames without id or event, and (one seed
    in three) error frames, which end the comparison: nothing after one is decoded."""
    samples = [data for data in DATA if seed % 3 == 0 or '"type": "error"' not in data]
    for n in itertools.count():
        data = samples[(n + seed) % len(samples)]
        name = json.loads(data).get("type") if data.startswith('{"') else "agent.message"
        kind = (n + seed) % 23
        if kind == 0:
            yield b": keep-alive\n\nevent: ping\ndata: {}\n\n"
        elif kind == 1:
            yield f"data: {data}\n\n".encode()  # no id, no event
        elif kind == 2 and seed % 3 == 0:
            yield b'event: error\ndata: {"error":{"message":"late"}}\n\n'
        else:
            yield f"id: evt_{n}\nevent: {name if isinstance(name, str) else 'x'}\n".encode()
            yield f"data: {data}\n\n".encode()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 1000),
    count=st.integers(0, 600),
    sizes=st.lists(st.sampled_from([1, 7, 100, 1024, 4096, 5000, 1 << 16]), min_size=1, max_size=4),
    backend=st.sampled_from(BACKENDS),
)
def test_event_stream_feed_is_the_frame_path(
    seed: int, count: int, sizes: list[int], backend: str
) -> None:
    convert.use_json_backend(backend)  # type: ignore[arg-type]
    logger = logging.getLogger("qoder.protocol")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # malformed inputs are expected here
    try:
        body = b"".join(itertools.islice(sse_frames(seed), count))
        chunks = cut(body, sizes)
        expected = frame_path(chunks)
        got = stream_path(chunks)
    finally:
        logger.setLevel(level)
    assert got[1] == expected[1]
    assert len(got[0]) == len(expected[0])
    for (event, frame_id), (want, want_id) in zip(got[0], expected[0], strict=True):
        assert frame_id == want_id
        assert same(event, want), (event, want)
