"""SSE decoder (PROTOCOL.md §5): every rule, every chunking, bounded memory, real recorded data."""

from __future__ import annotations

import itertools
import json
import re
import tracemalloc
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qoder._protocol.sse import DEFAULT_MAX_FRAME_BYTES, SSEDecoder, SSEFrame

REAL_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "real"
BOM = b"\xef\xbb\xbf"

Result = tuple[list[SSEFrame], str, int | None]


def decode(
    chunks: Iterable[bytes], *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> list[SSEFrame]:
    """Feed every chunk, then flush; return all frames."""
    decoder = SSEDecoder(max_frame_bytes=max_frame_bytes)
    frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    return frames + decoder.flush()


def decode_all(
    chunks: Iterable[bytes], max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, *, bulk: bool = True
) -> Result:
    """Like `decode`, plus the decoder's last_event_id and retry at the end."""
    decoder = SSEDecoder(max_frame_bytes=max_frame_bytes, bulk=bulk)
    frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    frames += decoder.flush()
    return frames, decoder.last_event_id, decoder.retry


def one_by_one(stream: bytes) -> list[bytes]:
    return [stream[i : i + 1] for i in range(len(stream))]


def frame(
    data: str,
    event: str = "message",
    id: str | None = None,
    last_event_id: str = "",
    retry: int | None = None,
) -> SSEFrame:
    return SSEFrame(event=event, data=data, id=id, last_event_id=last_event_id, retry=retry)


def reference(stream: bytes, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> Result:
    """A plain, whole-input reading of §5 (with the decoder's size rules) to compare against."""
    text = stream.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)[:-1]  # the text after the last line end is dropped
    frames: list[SSEFrame] = []
    values: list[str] = []
    frame_id: str | None = None
    frame_retry: int | None = None
    retry: int | None = None
    event, oversized, id_buffer, last_event_id = "", False, "", ""
    for line in lines:
        if not line:
            if values:
                joined = "\n".join(values)
                size = len(joined.encode())
                oversized = oversized or size > max_frame_bytes
                data = "" if oversized else joined
                frames.append(SSEFrame(event or "message", data, frame_id, id_buffer, frame_retry,
                                       oversized, size))  # fmt: skip
            event, values, oversized, frame_id, frame_retry = "", [], False, None, None
            last_event_id = id_buffer
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        too_long = len(value) > max_frame_bytes
        if name == "data":
            values.append(value)
        elif name in ("event", "id") and too_long:
            oversized = True
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            id_buffer = frame_id = value
        elif name == "retry" and not too_long and value.isascii() and value.isdigit():
            digits = value.lstrip("0")
            if len(digits) <= 18:
                retry = frame_retry = int(digits or "0")
    return frames, last_event_id, retry


# --- dispatch and fields (rules 3-6) ------------------------------------------------------------


def test_usual_frame() -> None:
    stream = b'id: evt_01\nevent: agent.message\ndata: {"type":"agent.message"}\n\n'
    assert decode([stream]) == [
        frame('{"type":"agent.message"}', "agent.message", "evt_01", "evt_01")
    ]


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_each_line_ending(eol: str) -> None:
    text = f": hi{eol}id: 1{eol}event: e{eol}data: a{eol}data: b{eol}{eol}data: c{eol}{eol}"
    expected = [frame("a\nb", "e", "1", "1"), frame("c", last_event_id="1")]
    stream = text.encode()
    assert decode([stream]) == expected
    assert decode(one_by_one(stream)) == expected


def test_mixed_line_endings() -> None:
    # LF CR is two line ends; CR CR LF is two as well.
    stream = b"data: a\n\rdata: b\r\r\ndata: c\r\n\n"
    assert decode([stream]) == [frame("a"), frame("b"), frame("c")]


@pytest.mark.parametrize(
    "chunks",
    [
        [b"data: a\r", b"\ndata: b\r\n\r\n"],
        [b"data: a\r", b"", b"\ndata: b\r\n\r", b"\n"],
        [b"data: a\r", b"\n", b"data: b\r", b"\n\r", b"\n"],
    ],
)
def test_crlf_split_across_chunks_is_one_line_end(chunks: list[bytes]) -> None:
    assert decode(chunks) == [frame("a\nb")]


def test_cr_at_chunk_end_dispatches_without_waiting() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [frame("a")]
    assert decoder.feed(b"\ndata: b\n\n") == [frame("b")]  # that LF pairs with the second CR


def test_cr_then_a_cut_character() -> None:
    # The chunk after the CR decodes to nothing; the "é: x" line that follows is an unknown field.
    assert decode([b"data: a\r", b"\xc3", b"\xa9: x\ndata: b\n\n"]) == [frame("a\nb")]
    assert decode([b"data: a\r\r", b"\xc3", b"\xa9: x\n\n"]) == [frame("a")]


@pytest.mark.parametrize(
    "char", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
)
def test_only_cr_and_lf_end_lines(char: str) -> None:
    assert decode([f"data: a{char}b\n\n".encode()]) == [frame(f"a{char}b")]


def test_blank_line_runs_comments_and_data_less_blocks_dispatch_nothing() -> None:
    stream = b"\n\n\n: ok\n\n:\n\nevent: x\n\nretry: 5\n\nfoo: bar\n\n\r\n\r\r"
    assert decode([stream]) == []


def test_comment_lines_are_ignored_inside_a_frame() -> None:
    assert decode([b": one\ndata: a\n:two\ndata: b\n: three\n\n"]) == [frame("a\nb")]


@pytest.mark.parametrize(
    ("line", "data"),
    [
        ("data: x", "x"),
        ("data:x", "x"),
        ("data:  x", " x"),  # exactly one space removed
        ("data:x ", "x "),
        ("data: ", ""),
        ("data:", ""),
        ("data", ""),  # no colon: the whole line is the field name
        ("data: a: b", "a: b"),  # split at the first colon only
        ("data:\tx", "\tx"),
    ],
)
def test_field_value_split(line: str, data: str) -> None:
    assert decode([f"{line}\n\n".encode()]) == [frame(data)]


def test_empty_data_lines_add_empty_lines() -> None:
    assert decode([b"data\ndata:\ndata: x\ndata: \n\n"]) == [frame("\n\nx\n")]


@pytest.mark.parametrize(
    "line", ["Data: x", "DATA: x", " data: x", "dat: x", "datax: y", "data2:x"]
)
def test_unknown_fields_are_ignored(line: str) -> None:
    assert decode([f"{line}\ndata: y\n\n".encode()]) == [frame("y")]


@pytest.mark.parametrize(
    ("lines", "event"),
    [("", "message"), ("event: a\n", "a"), ("event:\n", "message"), ("event\n", "message"),
     ("event: a\nevent: b\n", "b"), ("event: a\nevent:\n", "message")],
)  # fmt: skip
def test_event_name(lines: str, event: str) -> None:
    assert decode([f"{lines}data: x\n\n".encode()]) == [frame("x", event)]


def test_event_name_is_reset_after_dispatch() -> None:
    assert decode([b"event: a\ndata: 1\n\ndata: 2\n\n"]) == [frame("1", "a"), frame("2")]


@pytest.mark.parametrize("event", ["heartbeat", "ping"])
def test_keep_alive_frames_are_returned(event: str) -> None:
    # Filtering keep-alives is the next layer's job (rule 8).
    assert decode([f"event: {event}\ndata: {{}}\n\n".encode()]) == [frame("{}", event)]


def test_done_marker_is_an_ordinary_frame() -> None:
    assert decode([b"data: [DONE]\n\n"]) == [frame("[DONE]")]


@pytest.mark.parametrize("usual_first", [False, True])
def test_runs_of_frames_of_unusual_shape(usual_first: bool) -> None:
    # Frames the one-regex fast path does not take (no space, several data lines, comments,
    # retry) decode the same, alone or after many others, whole or byte by byte.
    head = "data: u\n\n" if usual_first else ""
    text = head + "data:a\n\ndata:b\n\n: c\n\ndata:d\n\ndata: e\ndata: f\n\nretry: 1\ndata: g\n\n"
    stream = (text + "id: 9\nevent: h\ndata: i\n\n").encode()
    expected = [frame(d) for d in ["a", "b", "d", "e\nf"]] + [
        frame("g", retry=1),
        frame("i", "h", "9", "9"),
    ]
    if usual_first:
        expected.insert(0, frame("u"))
    assert decode([stream]) == expected
    assert decode(one_by_one(stream)) == expected


# --- ids and retry ------------------------------------------------------------------------------


def test_id_is_never_copied_but_last_event_id_persists() -> None:
    stream = b"id: evt_1\ndata: a\n\nevent: event_delta\ndata: b\n\nid: evt_2\ndata: c\n\n"
    assert decode([stream]) == [
        frame("a", id="evt_1", last_event_id="evt_1"),
        frame("b", "event_delta", None, "evt_1"),
        frame("c", id="evt_2", last_event_id="evt_2"),
    ]


def test_id_alone_updates_last_event_id_without_a_frame() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: evt_9\n") == []
    assert decoder.last_event_id == ""  # published at the dispatch, not when parsed
    assert decoder.feed(b"\n") == []
    assert decoder.last_event_id == "evt_9"
    assert decoder.feed(b"data: x\n\n") == [frame("x", last_event_id="evt_9")]


@pytest.mark.parametrize("value", ["a\0b", "\0", "evt\0"])
def test_id_with_nul_is_ignored(value: str) -> None:
    stream = f"id: evt_1\ndata: a\n\nid: {value}\ndata: b\n\n".encode()
    decoder = SSEDecoder()
    assert decoder.feed(stream) == [
        frame("a", id="evt_1", last_event_id="evt_1"),
        frame("b", last_event_id="evt_1"),
    ]
    assert decoder.last_event_id == "evt_1"


def test_empty_id_resets_last_event_id() -> None:
    stream = b"id: evt_1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n"
    assert decode([stream]) == [
        frame("a", id="evt_1", last_event_id="evt_1"),
        frame("b", id="", last_event_id=""),
        frame("c", id="", last_event_id=""),
    ]


def test_last_id_line_of_a_frame_wins() -> None:
    assert decode([b"id: 1\nid: 2\ndata: x\n\n"]) == [frame("x", id="2", last_event_id="2")]


@pytest.mark.parametrize(
    ("value", "retry"),
    [("1500", 1500), ("0", 0), ("007", 7), ("0" * 5000 + "5", 5), ("9" * 18, 10**18 - 1),
     ("9" * 19, None), ("9" * 5000, None), ("", None), ("1.5", None), ("-1", None), ("+1", None),
     (" 1", None), ("1 ", None), ("12a", None), ("١٢", None), ("²", None)],
)  # fmt: skip
def test_retry(value: str, retry: int | None) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(f"retry: {value}\ndata: x\n\n".encode()) == [frame("x", retry=retry)]
    assert decoder.retry == retry


@pytest.mark.parametrize(
    "chunks",
    [[b"retry: 5\ndata: x\n"], [b"retry: 5\n", b"data: x"], one_by_one(b"retry: 5\ndata:\n")],
)
def test_retry_line_of_a_partial_frame_still_counts(chunks: list[bytes]) -> None:
    # The SSE standard applies retry when the line is read; the cut frame itself is dropped.
    assert decode_all(chunks) == ([], "", 5)


def test_retry_is_per_frame_but_the_decoder_keeps_the_last_one() -> None:
    decoder = SSEDecoder()
    frames = decoder.feed(b"retry: 10\ndata: a\n\ndata: b\n\nretry: 20\n\nretry: x\ndata: c\n\n")
    assert frames == [frame("a", retry=10), frame("b"), frame("c")]
    assert decoder.retry == 20


# --- bytes: UTF-8 and BOM (rule 1) --------------------------------------------------------------

UNICODE_STREAM = "id: é1\nevent: ü\ndata: é€😀 \u2028 ok\n\n".encode()


@pytest.mark.parametrize("cut", range(len(UNICODE_STREAM) + 1))
def test_character_split_at_every_byte(cut: int) -> None:
    chunks = [UNICODE_STREAM[:cut], UNICODE_STREAM[cut:]]
    assert decode(chunks) == [frame("é€😀 \u2028 ok", "ü", "é1", "é1")]


def test_invalid_utf8_is_replaced() -> None:
    assert decode([b"data: a\xffb\xe2\x82\n\n"]) == [frame("a\ufffdb\ufffd")]
    assert decode(one_by_one(b"data: \xf0\x9f\n\n")) == [frame("\ufffd")]


@pytest.mark.parametrize("split", [0, 1, 2, 3])
def test_leading_bom_is_dropped_even_when_split(split: int) -> None:
    stream = BOM + b"data: x\n\n"
    assert decode([stream[:split], stream[split:]]) == [frame("x")]
    assert decode(one_by_one(stream)) == [frame("x")]


def test_only_one_bom_is_dropped() -> None:
    # The second BOM becomes part of the first field name: "\ufeffdata" is an unknown field.
    assert decode([BOM + BOM + b"data: x\n\ndata: y\n\n"]) == [frame("y")]


def test_bom_is_dropped_only_at_the_start() -> None:
    assert decode([b"data: a\n\n" + BOM + b"data: b\n\n"]) == [frame("a")]
    assert decode([b"data: " + BOM + b"x\n\n"]) == [frame("\ufeffx")]


# --- end of stream (rule 7) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail", [b"data: x\n", b"data: x", b"id: evt_2\ndata: x\n", b"data: x\r", b"data: x\r\n"]
)
def test_partial_frame_at_eof_is_discarded(tail: bytes) -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: evt_1\ndata: a\n\n" + tail) == [
        frame("a", id="evt_1", last_event_id="evt_1")
    ]
    assert decoder.flush() == []
    assert decoder.last_event_id == "evt_1"


def test_flush_starts_a_new_stream_and_keeps_the_cursor() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 7\nid: evt_1\ndata: a\n\nid: evt_2\ndata: partial\n\xe2") == [
        frame("a", id="evt_1", last_event_id="evt_1", retry=7)
    ]
    assert decoder.flush() == []
    assert (decoder.last_event_id, decoder.retry) == ("evt_1", 7)
    # The partial line and frame are gone, and the new stream may start with a BOM again.
    assert decoder.feed(BOM + b"data: b\n\n") == [frame("b", last_event_id="evt_1")]


def test_negative_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_frame_bytes"):
        SSEDecoder(max_frame_bytes=-1)


def test_frame_data_size_defaults_to_the_utf8_size_of_data() -> None:
    assert frame("é\nx").data_size == 4


# --- oversize (rule 9) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "size", "oversized"),
    [
        (["0123456789"], 10, False),
        (["0123456789a"], 11, True),
        (["01234", "5678"], 10, False),  # the joining LF counts
        (["01234", "56789"], 11, True),
        (["éééé", "é"], 11, True),  # UTF-8 bytes, not characters
        (["ééééé"], 10, False),
    ],
)
def test_frame_over_the_limit(lines: list[str], size: int, oversized: bool) -> None:
    body = "".join(f"data: {line}\n" for line in lines)
    stream = f"id: evt_1\nevent: big\n{body}\ndata: next\n\n".encode()
    expected_data = "" if oversized else "\n".join(lines)
    expected = [
        SSEFrame("big", expected_data, "evt_1", "evt_1", None, oversized, size),
        frame("next", last_event_id="evt_1"),
    ]
    assert decode([stream], max_frame_bytes=10) == expected
    assert decode(one_by_one(stream), max_frame_bytes=10) == expected


@pytest.mark.parametrize("field", ["id", "event"])
def test_id_or_event_over_the_limit_marks_the_frame_oversized(field: str) -> None:
    stream = f"{field}: {'v' * 11}\ndata: x\n\ndata: y\n\n".encode()
    expected = [SSEFrame("message", "", None, "", None, True, 1), frame("y")]
    assert decode([stream], max_frame_bytes=10) == expected
    assert decode(one_by_one(stream), max_frame_bytes=10) == expected


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 16])
def test_long_lines_without_line_end_are_not_kept(chunk_size: int) -> None:
    limit = 100
    stream = (
        b"event: big\nid: evt_1\ndata: " + b"x" * 10_000 + b"\ndata: " + b"y" * 200
        + b"\n: " + b"c" * 5000 + b"\nid: " + b"i" * 5000 + b"\nretry: " + b"1" * 500
        + b"\n\ndata: after\n\n"
    )  # fmt: skip
    chunks = [stream[i : i + chunk_size] for i in range(0, len(stream), chunk_size)]
    expected = [
        SSEFrame("big", "", "evt_1", "evt_1", None, True, 10_000 + 1 + 200),
        frame("after", last_event_id="evt_1"),
    ]
    assert decode(chunks, max_frame_bytes=limit) == expected
    assert decode_all(chunks, limit) == reference(stream, limit)


def test_unterminated_line_memory_is_bounded() -> None:
    limit = 1 << 20
    piece = b"x" * (1 << 16)
    decoder = SSEDecoder(max_frame_bytes=limit)
    tracemalloc.start()
    try:
        assert decoder.feed(b"data: ") == []
        for _ in range(320):  # 20 MiB in one line, no line end yet
            assert decoder.feed(piece) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * limit
    assert decoder.feed(b"\n\ndata: ok\n\n") == [
        SSEFrame("message", "", None, "", None, True, 320 * len(piece)),
        frame("ok"),
    ]


def test_ten_megabyte_frame_in_64_byte_chunks_is_linear() -> None:
    # Finishing within the normal run is the check: a quadratic buffer would take minutes.
    stream = b"id: big\ndata: " + b"0123456789" * 1_000_000 + b"\ndata: end\n\n"
    decoder = SSEDecoder()
    frames = [f for i in range(0, len(stream), 64) for f in decoder.feed(stream[i : i + 64])]
    assert frames == [frame("0123456789" * 1_000_000 + "\nend", id="big", last_event_id="big")]


# --- any chunking, any bytes --------------------------------------------------------------------

PIECES = [
    "data", "data:", "data: ", "id", "id:", "id: ", "event", "event:", "event: ", "retry:",
    "retry: ", ":", " ", "x", "ab", "7", "007", "[DONE]", "é", "€", "😀", "\x00", "\ufeff",
    "\u2028", "\x85", "\x0b", "\r", "\n", "\r\n", "\n\n", "\r\r", "heartbeat",
    "id: evt_1\nevent: agent.message\ndata: {}\n\n", "data: x\n\n", "event: ping\ndata: {}\n\n",
    "data:y\n\n", ": c\n\n", "data: a\ndata: b\n\n", "retry: 5\ndata: r\n\n", "id: 2\ndata: z\n\n",
]  # fmt: skip
streams = st.tuples(
    st.sampled_from([b"", BOM]),
    st.lists(
        st.one_of(st.sampled_from(PIECES).map(str.encode), st.binary(max_size=3)), max_size=60
    ),
).map(lambda parts: parts[0] + b"".join(parts[1]))
limits = st.sampled_from([0, 1, 3, 8, 20, DEFAULT_MAX_FRAME_BYTES])


def split_at(stream: bytes, cuts: list[int]) -> list[bytes]:
    return [stream[a:b] for a, b in itertools.pairwise([0, *sorted(cuts), len(stream)])]


@settings(max_examples=400)
@given(stream=streams, limit=limits, data=st.data())
def test_any_chunking_matches_the_reference(stream: bytes, limit: int, data: st.DataObject) -> None:
    expected = reference(stream, limit)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    assert decode_all([stream], limit) == expected
    assert decode_all(one_by_one(stream), limit) == expected
    assert decode_all(split_at(stream, cuts), limit) == expected


@given(stream=st.binary(), cuts=st.lists(st.integers(0, 10_000), max_size=8), limit=limits)
def test_random_bytes_never_raise(stream: bytes, cuts: list[int], limit: int) -> None:
    chunks = split_at(stream, [c for c in cuts if c <= len(stream)])
    frames, _, _ = decode_all(chunks, limit)
    assert all(isinstance(f, SSEFrame) and f.data_size >= 0 for f in frames)
    assert decode_all(chunks, limit) == decode_all([stream], limit)


USUAL_FRAMES = [
    'id: evt_{n}\nevent: agent.message\ndata: {{"id":"evt_{n}","text":"w\u00e9rd {n}"}}\n\n',
    "event: session.status_running\ndata: {{}}\n\n",
    'id: evt_{n}\ndata: {{"n":{n}}}\n\n',
]
UNUSUAL_PIECES = [": keep-alive\n\n", "retry: 10\n", "event: heartbeat\ndata: {}\n\n",
                  "data: a\ndata: b\n\n", "id: bad\0id\ndata: x\n\n", "data:no-space\n\n",
                  "\r\n", "\r", "\xff"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    plan=st.lists(
        st.one_of(st.integers(0, len(USUAL_FRAMES) - 1), st.sampled_from(UNUSUAL_PIECES)),
        min_size=50,
        max_size=400,
    ),
    chunk=st.sampled_from([4096, 5000, 8192, 1 << 16]),
)
def test_large_chunks_of_many_frames_match_the_reference(plan: list[int | str], chunk: int) -> None:
    """Chunks of 4 KiB and more, mostly usual frames with unusual pieces among them: the
    decoder's whole-chunk fast path must read exactly what a plain reading reads."""
    text = "".join(
        USUAL_FRAMES[step].format(n=n) if isinstance(step, int) else step
        for n, step in enumerate(plan)
    )
    stream = text.encode("utf-8", errors="surrogateescape").replace(b"\xc3\xbf", b"\xff")
    expected = reference(stream)
    assert decode_all([stream[i : i + chunk] for i in range(0, len(stream), chunk)]) == expected
    usual_only = "".join(USUAL_FRAMES[i % 3].format(n=i) for i in range(400)).encode()
    assert decode_all([usual_only[i : i + chunk] for i in range(0, len(usual_only), chunk)]) == (
        reference(usual_only)
    )


# --- the bulk readers read what the line loop reads ----------------------------------------------
#
# SSEDecoder(bulk=False) applies the line rules to every byte; by default the bulk readers
# (sse_bulk.py) read runs of usual frames at once, from bytes (chunks of 4 KiB and more, no CR)
# or from text, and carry a frame cut by a chunk end. Whatever the input and its chunking, both
# must give the same frames, last_event_id and retry.

BULK_PIECES = [
    *(piece.encode() for piece in PIECES),
    *(piece.encode() for piece in UNUSUAL_PIECES if piece != "\xff"),
    b"\xff",  # invalid UTF-8
    b"data: " + b"x" * 20_000 + b"\n\n",  # longer than what a chunk end may carry
    ('id: evt_long\nevent: agent.message\ndata: {"t":"' + "\u00e9" * 3000 + '"}\n\n').encode(),
    b'id: evt_bad\nevent: agent.message\ndata: {"t":"\xff"}\n\n',  # invalid UTF-8 in a value
    b"id: evt_cr\r\nevent: agent.message\r\ndata: {}\r\n\r\n",
    b"id: evt_cut\nevent: agent.message\ndata: {}\n",  # no blank line yet
    b"retry: 250\n",
]


def cut(stream: bytes, sizes: list[int]) -> list[bytes]:
    """``stream`` in consecutive chunks of ``sizes``, the sizes repeated until it is all cut."""
    chunks: list[bytes] = []
    pos = 0
    for size in itertools.cycle(sizes):
        if pos >= len(stream):
            break
        chunks.append(stream[pos : pos + size])
        pos += size
    return chunks


def decode_streams(streams: list[list[bytes]], max_frame_bytes: int, *, bulk: bool) -> list[Result]:
    """One decoder reads several streams in turn (flush between them): each one's result."""
    decoder = SSEDecoder(max_frame_bytes=max_frame_bytes, bulk=bulk)
    results: list[Result] = []
    for chunks in streams:
        frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
        frames += decoder.flush()
        results.append((frames, decoder.last_event_id, decoder.retry))
    return results


# A stream: runs of usual frames (numbered, so that ids differ) and of odd pieces.
bulk_streams = st.tuples(
    st.booleans(),  # a leading BOM
    st.lists(
        st.tuples(
            st.one_of(
                st.integers(0, len(USUAL_FRAMES) - 1),
                st.sampled_from(BULK_PIECES),
                st.binary(max_size=3),
            ),
            st.integers(1, 40),  # how many in a row
        ),
        max_size=60,
    ),
).map(
    lambda drawn: (
        (BOM if drawn[0] else b"")
        + b"".join(
            USUAL_FRAMES[step].format(n=n * 100 + i).encode() if isinstance(step, int) else step
            for n, (step, times) in enumerate(drawn[1])
            for i in range(times)
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(
    streams=st.lists(bulk_streams, min_size=1, max_size=2),
    sizes=st.tuples(
        st.lists(st.one_of(st.integers(1, 80), st.integers(80, 5000)), max_size=8),
        st.sampled_from([4096, 5000, 1 << 16]),  # at least one large chunk in each round
    ).map(lambda drawn: [*drawn[0], drawn[1]]),
    limit=st.sampled_from([0, 30, 600, 5000, DEFAULT_MAX_FRAME_BYTES]),
)
def test_bulk_readers_match_the_line_loop(
    streams: list[bytes], sizes: list[int], limit: int
) -> None:
    """Any stream, any chunking, any limit, one stream or two (flush between): the bulk
    readers and the line loop give the same frames, last_event_id and retry."""
    line_loop = decode_streams([[stream] for stream in streams], limit, bulk=False)
    chunked = [cut(stream, sizes) for stream in streams]
    assert decode_streams(chunked, limit, bulk=False) == line_loop
    assert decode_streams(chunked, limit, bulk=True) == line_loop
    assert decode_streams([[stream] for stream in streams], limit, bulk=True) == line_loop


def persisted_event(n: int) -> bytes:
    """The frame of a persisted event; every 97th has invalid UTF-8, every 50th is a ping."""
    if n % 50 == 0:
        return b"event: ping\ndata: {}\n\n"
    text = ("caf\u00e9 " if n % 7 == 0 else "word ") * (n % 60)
    data = f'{{"id":"evt_{n}","text":"{text}"}}'.encode()
    if n % 97 == 0:
        data = data.replace(b"}", b"\xff}")  # U+FFFD once decoded
    return f"id: evt_{n}\nevent: agent.message\ndata: ".encode() + data + b"\n\n"


@pytest.mark.parametrize("chunk_size", [1, 13, 1024, 4096, 5000, 1 << 16, 1 << 20])
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_a_stream_of_persisted_events_reads_the_same_both_ways(
    chunk_size: int, line_end: bytes
) -> None:
    # Mostly what the bulk readers are for: id, event, data, blank line.
    stream = b"".join(persisted_event(n) for n in range(1500)).replace(b"\n", line_end)
    chunks = [stream[i : i + chunk_size] for i in range(0, len(stream), chunk_size)]
    expected = decode_all([stream], bulk=False)
    assert len(expected[0]) == 1500
    assert decode_all(chunks) == expected
    assert decode_all(chunks, bulk=False) == expected


# --- real recorded data -------------------------------------------------------------------------


def real_vector(name: str) -> bytes:
    if not REAL_VECTORS.is_dir():
        pytest.fail(
            f"recorded vectors not found at {REAL_VECTORS} (tests/vectors/real, in the repo)"
        )
    return (REAL_VECTORS / name).read_bytes()


def test_cookbook_quickstart_stream() -> None:
    stream = real_vector("cookbook-quickstart-stream.sse")
    decoder = SSEDecoder()
    frames = decoder.feed(stream) + decoder.flush()
    # The recording ends without the blank line closing session.status_idle: a partial frame.
    assert [f.event for f in frames] == ["agent.message", "span.model_request_end"]
    assert all(f.id == f.last_event_id == "<EVENT_ID>" and not f.oversized for f in frames)
    assert [json.loads(f.data)["type"] for f in frames] == [f.event for f in frames]
    assert "Hello World Agent" in json.loads(frames[0].data)["content"][0]["text"]
    assert json.loads(frames[1].data)["model_usage"] == {"credits": 4.05}
    assert decode(one_by_one(stream)) == frames
    assert decode([stream.replace(b"\n", b"\r\n")]) == frames
    assert decode([stream + b"\n"])[-1].event == "session.status_idle"
