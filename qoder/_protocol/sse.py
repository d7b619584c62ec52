"""Incremental server-sent events decoder: bytes in, frames out (PROTOCOL.md §5).

``SSEDecoder.feed(chunk)`` takes whatever bytes the transport delivered and returns the frames
completed by them; ``flush()`` marks the end of one stream. There is no I/O, clock or global
state, so the same decoder serves the sync and the async client and is tested with plain calls.

This module is the rules, applied line by line; :mod:`.sse_bulk` is the speed. The rules of §5,
by number, and where they are applied:

1. UTF-8 with replacement, a character split across chunks kept; one leading BOM dropped, at
   the start of each stream (``_decode``).
2. CR LF, LF or a lone CR end a line; a CR ending one chunk and an LF starting the next are one
   line end: the CR ends its line at once, so a frame closed by CR CR is not held back, and
   the LF is dropped (``_decode``, ``_take_lines``).
3. An empty line dispatches; a line starting with ``:`` is a comment (``_process``).
4. Split at the first ``:`` (no colon: empty value); one leading space removed (``_process``).
5. ``data`` appends a line (joined with LF); ``event`` names the frame; ``id`` sets the frame's
   id and the last-event-id buffer unless it holds NUL; ``retry`` (ASCII digits) sets the
   reconnect delay; other fields are ignored (``_field``, ``_add_data``).
6. No frame without a ``data`` line; the name defaults to ``message``; then name, data, id and
   retry are reset and the buffer is published as ``last_event_id``, at every empty line as
   the SSE standard says (``_dispatch``).
7. A partial frame at the end of a stream is discarded; ``last_event_id`` stays (``flush``).
8. Keep-alives (``heartbeat``, ``ping``) and ``data: [DONE]`` are returned as frames;
   :func:`.convert.decode_frame` drops them, as it applies rules 10 to 13.
9. Data above ``max_frame_bytes`` (UTF-8, counting the joining LFs) stops buffering: the kept
   data is dropped, the size still counted, and the frame dispatched once as
   ``SSEFrame(oversized=True, data="")``; an ``id`` or ``event`` value above the limit is
   ignored and marks the frame oversized; a line growing past the limit is not held, only its
   field name read and the rest counted or dropped (``_field``, ``_add_data``, ``_hold``).
14. The cursor is the turn logic's; each frame carries its own ``id``, never inherited
    (PROTOCOL.md §7, defect 10), and the standard's ``last_event_id``.

Time is linear in the input, however it is chunked: no ``str`` is grown by concatenation and
scanned again; an unfinished line is kept as pieces and data lines as a list, each joined once.
``str.splitlines`` is not used: it also breaks on U+000B, U+000C, U+001C-U+001E, U+0085,
U+2028 and U+2029, ordinary characters in SSE. By default :class:`.sse_bulk.BulkReader` reads
runs of persisted-event frames at once and hands everything else to the line loop; with
``SSEDecoder(bulk=False)`` the line loop reads all. The frames are the same: the hypothesis
tests compare the two, and both with a plain reference decoder. ``SSEDecoder.feed_parts`` is
``feed`` for a reader that needs only a frame's id, event and data (the client's event stream):
the persisted events the bulk readers match come as ``(id, event, data)``, with no
:class:`SSEFrame` made for them (tests/protocol/test_fields.py compares it with ``feed``).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import Final, TypeAlias, cast

import attrs

from .slots import draft_class, plain
from .sse_bulk import BulkReader

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "Part", "SSEDecoder", "SSEFrame"]

DEFAULT_MAX_FRAME_BYTES: Final = 16 * 1024 * 1024
"""Default bound on the data of one frame, in UTF-8 bytes (PROTOCOL.md §5.9)."""

_BOM: Final = "\ufeff"
# A line longer than max_frame_bytes + _LINE_SLACK characters is not kept: for every field we
# act on its value is then longer than max_frame_bytes ("retry: " is the longest prefix, 7
# characters), so dropping it early gives what processing it whole would give.
_LINE_SLACK: Final = 8
# Longest retry value (significant digits) accepted; int() never sees an unbounded digit string.
_MAX_RETRY_DIGITS: Final = 18

# What to do with the rest of an over-long line (see _hold).
_NOT_OVERLONG: Final = 0
_OVERLONG_DATA: Final = 1  # a data line: count its UTF-8 bytes towards data_size
_OVERLONG_SKIP: Final = 2  # any other line: ignore the rest


def _utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (``str.isascii`` is O(1) in CPython)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _retry_value(value: str) -> int | None:
    """The delay a ``retry`` value sets (rule 5: ASCII digits only), or ``None``."""
    if not (value.isascii() and value.isdigit()):
        return None
    digits = value.lstrip("0")
    if len(digits) > _MAX_RETRY_DIGITS:
        return None
    return int(digits) if digits else 0


@attrs.frozen(slots=True)
class SSEFrame:
    """One dispatched server-sent event.

    Attributes:
        event: the ``event:`` name; ``"message"`` when the frame named none (or an empty one).
        data: the frame's data lines joined with ``"\\n"``; ``""`` when ``oversized``.
        id: the value of this frame's own ``id:`` line (the last one, if several; may be ``""``),
            or ``None`` if the frame carried no usable ``id:`` line. Never copied from an
            earlier frame.
        last_event_id: the last-event-id buffer as this frame was dispatched (SSE standard
            semantics: it persists across frames until an ``id:`` line changes it).
        retry: the ``retry:`` value (milliseconds) seen in this frame, else ``None``.
        oversized: the frame exceeded ``max_frame_bytes`` (its data, or an ``id``/``event`` value);
            buffering stopped and ``data`` is ``""``. The frame is still reported, once.
        data_size: size of the data in UTF-8 bytes, including the LFs that join data lines; for
            an oversized frame, the size of all the data that was seen and dropped. Defaults to
            the size of ``data``.
    """

    event: str
    data: str
    id: str | None
    last_event_id: str
    retry: int | None
    oversized: bool = False
    data_size: int = attrs.field()

    @data_size.default
    def _data_size_default(self) -> int:
        return len(self.data.encode("utf-8"))


Part: TypeAlias = "SSEFrame | tuple[str, str, str]"
"""What :meth:`SSEDecoder.feed_parts` returns for one frame: a persisted event's frame (an
``id:``, a non-empty ``event:`` and one ``data:`` line) as its ``(id, event, data)``, any other
frame as its :class:`SSEFrame`."""


# Frames are built as drafts (slots.py): every field of _FRAME_FIELDS assigned, then retyped to
# SSEFrame, the object SSEFrame(event, data, id, last_event_id, retry, oversized, data_size)
# would be; the bulk readers get the draft class too.
_FRAME_FIELDS: Final = ("event", "data", "id", "last_event_id", "retry", "oversized", "data_size")
if not plain(SSEFrame, *_FRAME_FIELDS):  # pragma: no cover - a guard for whoever edits SSEFrame
    raise AssertionError("SSEFrame changed: update _FRAME_FIELDS and the bulk readers")
_FrameDraft: Final = draft_class(SSEFrame)


class SSEDecoder:
    """Incremental decoder of a ``text/event-stream`` body (PROTOCOL.md §5).

    Feed it the body's chunks as they arrive; each call returns the frames completed so far, in
    order. Every frame that has at least one ``data`` line is returned, keep-alives included:
    filtering ``heartbeat``/``ping`` frames is the caller's job. Blocks without data (blank-line
    runs, comments, a lone ``id:``) produce no frame. Never raises on malformed input.

    >>> decoder = SSEDecoder()
    >>> [frame] = decoder.feed(b"id: evt_01\\nevent: agent.message\\ndata: {}\\n\\n")
    >>> frame.event, frame.data, frame.id, frame.last_event_id
    ('agent.message', '{}', 'evt_01', 'evt_01')

    The bulk readers use ``_decode``, ``_take_lines``, ``_end_line``, ``_process``,
    ``_in_frame``, ``_between_frames``, ``_publish``, ``_at_start`` and ``_id_buffer``.
    """

    __slots__ = (
        "_at_start",
        "_bulk",
        "_data",
        "_data_size",
        "_event",
        "_frame_id",
        "_frame_retry",
        "_id_buffer",
        "_last_event_id",
        "_line_limit",
        "_max",
        "_overlong",
        "_oversized",
        "_pending",
        "_pending_len",
        "_retry",
        "_skip_lf",
        "_utf8",
    )

    def __init__(
        self, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES, bulk: bool = True
    ) -> None:
        """Create a decoder; ``max_frame_bytes`` bounds the data kept for one frame.

        ``bulk=False`` turns the bulk readers off: every byte goes through the line loop. The
        frames are the same, only slower; it is meant for tests and benchmarks.
        """
        if max_frame_bytes < 0:
            raise ValueError(f"max_frame_bytes must be >= 0, got {max_frame_bytes}")
        self._max = max_frame_bytes
        self._line_limit = max_frame_bytes + _LINE_SLACK
        self._bulk = (
            BulkReader(SSEFrame, _FrameDraft, max_frame_bytes, self._line_limit) if bulk else None
        )
        self._last_event_id = ""
        self._retry: int | None = None
        self._start_stream()

    def _start_stream(self) -> None:
        """Reset everything that belongs to one stream; keep last-event-id and retry."""
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._at_start = True  # no text decoded yet: a BOM may still come
        self._skip_lf = False  # the previous chunk ended with CR: drop one LF starting the next
        self._pending: list[str] = []  # pieces of the unfinished line
        self._pending_len = 0
        self._overlong = _NOT_OVERLONG
        self._id_buffer = self._last_event_id
        # The frame being read. _data_size is -1 until a data line arrives, then the data's
        # UTF-8 size: each data line adds its size plus one (the LF joining it to the previous).
        self._event = ""
        self._data: list[str] = []
        self._data_size = -1
        self._oversized = False
        self._frame_id: str | None = None
        self._frame_retry: int | None = None

    @property
    def last_event_id(self) -> str:
        """The last event id published by a dispatch (``""`` until one is); use it to resume."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry:`` value read (milliseconds), kept across streams.

        A frame cut by the end of a chunk may be read only once it completes (or at ``flush``),
        so its ``retry:`` line counts from then; ``SSEFrame.retry`` is always exact.
        """
        return self._retry

    def feed(self, chunk: bytes) -> list[SSEFrame]:
        """Decode ``chunk`` and return the frames it completes (often none, or several)."""
        frames: list[Part] = []
        if self._bulk is not None:
            self._bulk.feed(self, chunk, frames)  # which leaves what it cannot read to the rules
        else:
            self._take_lines(self._decode(chunk), frames)
        return cast("list[SSEFrame]", frames)  # only frames: the bulk reader's parts are off

    def feed_parts(self, chunk: bytes) -> list[Part]:
        """:meth:`feed`, but a persisted event's frame comes as its ``(id, event, data)``.

        For a reader that needs only those three fields (:meth:`.stream.EventStream.events`):
        the bulk readers hand over the triples they match, without making an :class:`SSEFrame`
        for each. Such a frame's ``last_event_id`` is its ``id``, ``retry`` is ``None``,
        ``oversized`` is false; every other frame is returned as an :class:`SSEFrame`, in
        stream order. The decoder's state moves exactly as with :meth:`feed`.
        """
        frames: list[Part] = []
        bulk = self._bulk
        if bulk is not None:
            bulk.parts = True
            try:
                bulk.feed(self, chunk, frames)
            finally:
                bulk.parts = False
        else:
            self._take_lines(self._decode(chunk), frames)
        return frames

    def flush(self) -> list[SSEFrame]:
        """End the stream (EOF or a broken connection): drop a partial frame (rule 7), reset.

        Returns the frames completed by bytes still pending in the decoder. That is always
        ``[]``: only a line end can complete a frame, and a line end is never held back. The
        list is returned so that callers treat ``feed`` and ``flush`` alike. ``last_event_id``
        and ``retry`` survive, as the SSE standard keeps them across reconnections; the next
        ``feed`` starts a new stream (a leading BOM is dropped again).
        """
        self._utf8.decode(b"", True)  # completes nothing: a cut character ends a discarded line
        if self._bulk is not None:
            self._bulk.flush(self)  # the lines it still holds may carry a retry value
        self._start_stream()
        return []

    # --- rules 1 and 2: bytes to lines ----------------------------------------------------------

    def _decode(self, chunk: bytes) -> str:
        """The text of ``chunk``, every line end an LF (rules 1 and 2)."""
        text = self._utf8.decode(chunk)  # rule 1: incremental, invalid bytes become U+FFFD
        if text and self._at_start:
            self._at_start = False
            if text[0] == _BOM:  # rule 1: one leading BOM is dropped
                text = text[1:]
        if text and self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":  # rule 2: the LF of a CR LF cut by the chunk end
                text = text[1:]
        if "\r" in text:  # rule 2: CR LF and a lone CR end a line, as LF does
            self._skip_lf = text[-1] == "\r"  # that line ended now; an LF next is its partner
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    def _take_lines(self, text: str, frames: list[Part]) -> None:
        """Apply the complete lines of ``text`` (rule 2); hold its unfinished last line."""
        pos = self._end_line(text, frames)
        if pos < 0:
            return
        lines = (text[pos:] if pos else text).split("\n")
        tail = lines.pop()
        self._process(lines, frames)
        if tail:
            self._hold(tail)

    def _end_line(self, text: str, frames: list[Part]) -> int:
        """Finish the held line with ``text`` up to its first LF and apply it.

        Returns where the next line starts in ``text``: 0 when no line is held, -1 when ``text``
        has no LF (it is all held, or counted, as part of the line).
        """
        if not (self._pending or self._overlong):
            return 0
        end = text.find("\n")
        if end < 0:
            self._hold(text)
            return -1
        if self._overlong:
            self._hold(text[:end])
            self._overlong = _NOT_OVERLONG
        else:
            self._pending.append(text[:end])
            line = "".join(self._pending)
            self._pending = []
            self._pending_len = 0
            self._process((line,), frames)
        return end + 1

    def _hold(self, piece: str) -> None:
        """Hold a piece of the unfinished line; past the limit, count or drop it (rule 9)."""
        if self._overlong:
            if self._overlong == _OVERLONG_DATA:
                self._data_size += _utf8_len(piece)
            return
        self._pending.append(piece)
        self._pending_len += len(piece)
        if self._pending_len <= self._line_limit:
            return
        head = "".join(self._pending)
        self._pending = []
        self._pending_len = 0
        self._overlong = _OVERLONG_SKIP
        if head[0] == ":":
            return
        name, _, value = head.partition(":")
        if name == "data":
            # The value is longer than the limit: same outcome as a whole over-long data line.
            self._overlong = _OVERLONG_DATA
            if value[:1] == " ":
                value = value[1:]
            self._data_size += _utf8_len(value) + 1
            self._oversized = True
            self._data = []
        elif name in ("id", "event"):
            self._oversized = True

    # --- rules 3 to 6 and 9: lines to frames --------------------------------------------------

    def _process(self, lines: Iterable[str], frames: list[Part]) -> None:
        """Apply complete lines (line ends removed) to the frame, appending its dispatches."""
        for line in lines:
            if not line:  # rule 3: an empty line dispatches
                self._dispatch(frames)
            elif line[0] != ":":  # rule 3: a line starting with a colon is a comment
                name, _, value = line.partition(":")  # rule 4: split at the first colon
                if value[:1] == " ":  # rule 4: remove exactly one leading space
                    value = value[1:]
                if name == "data":  # rule 5, the commonest field
                    self._add_data(value)
                else:
                    self._field(name, value)

    def _field(self, name: str, value: str) -> None:
        """Apply a field other than ``data`` (rule 5), within the size bound (rule 9)."""
        if len(value) > self._max:  # rule 9: an id or event above the limit is ignored
            if name in ("id", "event"):
                self._oversized = True
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:  # rule 5: an id holding NUL is ignored
                self._id_buffer = self._frame_id = value
        elif name == "retry":
            retry = _retry_value(value)
            if retry is not None:
                self._frame_retry = self._retry = retry
        # rule 5: other fields are ignored

    def _add_data(self, value: str) -> None:
        """Append a data line (rule 5); past the limit, only count its size (rule 9)."""
        self._data_size += _utf8_len(value) + 1
        if self._data_size <= self._max:
            self._data.append(value)
        elif not self._oversized:
            self._oversized = True
            self._data = []

    def _dispatch(self, frames: list[Part]) -> None:
        """End the frame at an empty line (rule 6): return it if it had data, then reset."""
        if self._data_size >= 0:
            frame = _FrameDraft()  # SSEFrame(...) without attrs' overhead (slots.py)
            frame.event = self._event or "message"
            frame.data = "" if self._oversized else "\n".join(self._data)
            frame.id = self._frame_id
            frame.last_event_id = self._id_buffer
            frame.retry = self._frame_retry
            frame.oversized = self._oversized
            frame.data_size = self._data_size
            frame.__class__ = SSEFrame
            frames.append(frame)
            self._data = []
            self._data_size = -1
        self._event = ""
        self._frame_id = None
        self._frame_retry = None
        self._oversized = False
        self._last_event_id = self._id_buffer

    # --- the state, for the bulk readers ------------------------------------------------------

    def _in_frame(self) -> bool:
        """The frame being read has a field already: an empty line now would end it."""
        return (
            self._data_size >= 0
            or self._frame_id is not None
            or bool(self._event)
            or self._frame_retry is not None
            or self._oversized
        )

    def _between_frames(self) -> bool:
        """Nothing is held: the next byte starts a line of a new frame."""
        return not (
            self._in_frame()
            or self._pending
            or self._overlong
            or self._skip_lf
            or self._utf8.getstate()[0]
        )

    def _publish(self, last_id: str) -> None:
        """Record that frames up to ``last_id`` were dispatched (rule 6, by a bulk reader)."""
        self._id_buffer = self._last_event_id = last_id
