"""Incremental server-sent events decoder: bytes in, frames out (PROTOCOL.md §5, rules 1-7, 9).

``SSEDecoder.feed(chunk)`` takes whatever bytes the transport delivered and returns the frames
completed by them; ``flush()`` marks the end of one stream. There is no I/O, clock or global
state, so the same decoder serves the sync and the async client and is tested with plain calls.

Design, and why:

* **Linear time.** A frame may be megabytes long and arrive in tiny chunks. Nothing here grows a
  ``str`` by concatenation and re-scans it: each chunk is decoded and scanned a bounded number of
  times, an unfinished line is kept as a list of pieces joined once when its line end arrives,
  and data lines are kept in a list joined once at dispatch.
* **Fast common case.** Most of a stream is persisted events, framed ``id:``, ``event:``,
  ``data:``, blank line. When a chunk of at least 4 KiB has no CR, the whole frames it holds
  after the one already begun are read at once from its bytes: one ``findall``, accepted only
  if its matches cover those bytes exactly (so the general rules would read the same frames),
  then each value decoded strictly on its own (invalid UTF-8 takes the general way). Otherwise
  bytes are decoded a whole chunk at a time by the C UTF-8 decoder (an incremental one, so a
  character split across chunks survives), and between frames the same kind of ``findall``,
  or one precompiled regular expression per frame, reads frames of the usual shape (optional
  ``id: ``, optional ``event: ``, one ``data: `` line, blank line) in C. Frames are built slot
  by slot, as attrs' ``__init__`` would, without its per-field overhead. Anything else
  (comments, ``retry:``, several data lines, no space after the colon) goes block by block
  through the general line loop, which applies rules 2-6 literally; after a few such blocks in
  a row the rest of the chunk goes there directly. A frame cut by the end of a chunk is kept as
  text (up to 16 KiB) and read once complete, so network-sized chunks keep the fast path. The
  hypothesis tests check that every path agrees with a plain reference decoder, however the
  input is chunked; the whole-text reads start at 4 KiB, beyond their inputs, and
  ``benchmarks/equivalence.py`` checks them the same way on larger random streams.
  ``str.splitlines`` is not usable for lines: it also breaks on U+000B, U+000C,
  U+001C-U+001E, U+0085, U+2028 and U+2029, which are ordinary characters in SSE.
* **CR split across chunks.** Bare CRs are rare, so a chunk is normalised to LF only when it
  holds one. A chunk ending in CR ends its line at once (a frame closed by CR CR is delivered
  without waiting for more bytes); the decoder then drops one LF if the next chunk starts with
  it, so CR LF split over two chunks is one line end, not a line end plus an empty line (which
  would dispatch early).
* **Bounded memory.** A frame whose data exceeds ``max_frame_bytes`` (UTF-8 bytes, counting the
  LFs that join its data lines) stops buffering: what was kept is dropped, the size is still
  counted, and the frame is dispatched once as ``SSEFrame(oversized=True, data="")``. A single
  line that grows past the limit without a line end is not held either: its field name is read
  from its start, the rest is counted and discarded. An ``id`` or ``event`` value above the
  limit is ignored and marks the frame oversized. The outcome never depends on the chunking.
* **What this layer does not do.** Keep-alive frames (``event: heartbeat`` / ``ping``) and
  ``data: [DONE]`` are returned like any other frame; recognising them, parsing JSON and moving
  the resume cursor belong to the next layer (rules 8 and 10-14). Comment lines never reach it.

Last-event-id follows the SSE standard: an ``id`` line sets the *buffer* when parsed; each empty
line (a dispatch, with or without data) publishes the buffer as ``last_event_id``. A partial
frame cut off by the end of the stream is discarded (rule 7) and does not change
``last_event_id``. ``SSEFrame.id`` is the frame's own ``id`` line and is never inherited from
an earlier frame (PROTOCOL.md §5.11 and §7, defect 10).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any, Final

import attrs

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "SSEDecoder", "SSEFrame"]

DEFAULT_MAX_FRAME_BYTES: Final = 16 * 1024 * 1024
"""Default bound on the data of one frame, in UTF-8 bytes (PROTOCOL.md §5.9)."""

_BOM: Final = "\ufeff"
# A line longer than max_frame_bytes + _LINE_SLACK characters is not kept: for every field we
# act on its value is then longer than max_frame_bytes ("retry: " is the longest prefix, 7
# characters), so dropping it early gives what processing it whole would give.
_LINE_SLACK: Final = 8
# Most text of an unfinished frame kept whole between chunks (see SSEDecoder.feed); past it,
# the frame's lines are applied one by one as usual.
_MAX_CARRY: Final = 16 * 1024
# After this many blocks in a row that the fast path could not read, the rest of the chunk goes
# straight to the line loop.
_MAX_MISSES: Final = 2
# Longest retry value (significant digits) accepted; int() never sees an unbounded digit string.
_MAX_RETRY_DIGITS: Final = 18

# What to do with the rest of an over-long line (see _hold).
_NOT_OVERLONG: Final = 0
_OVERLONG_DATA: Final = 1  # a data line: count its UTF-8 bytes towards data_size
_OVERLONG_SKIP: Final = 2  # any other line: ignore the rest

# One whole frame of the usual shape, read from a clean state. Each part is exactly what the
# line rules would do with it: field name, colon and space removed, value to the line end. An id
# holding NUL does not match, so the general loop ignores it as rule 5 says. The space is not
# optional: a pattern with only one way to match each line fails fast, without backtracking
# over long values again and again; lines without it are rare and take the general loop.
_USUAL_FRAME: Final = re.compile(r"(?:id: ([^\n\x00]*)\n)?(?:event: ([^\n]*)\n)?data: ([^\n]*)\n\n")
_BLANK_LINES: Final = re.compile(r"\n+")
# A persisted event's frame, every line present (see SSEDecoder._persisted_frames); a match is
# _PERSISTED_OVERHEAD characters longer than its three groups.
_PERSISTED_FRAMES: Final = re.compile(r"id: ([^\n\x00]*)\nevent: ([^\n]*)\ndata: ([^\n]*)\n\n")
_PERSISTED_OVERHEAD: Final = len("id: \nevent: \ndata: \n\n")
_PERSISTED_BYTES: Final = re.compile(rb"id: ([^\n\x00]*)\nevent: ([^\n]*)\ndata: ([^\n]*)\n\n")


def _covers(found: list[tuple[Any, Any, Any]], size: int) -> bool:
    """The persisted-event matches ``found`` fill exactly ``size`` characters (or bytes).

    findall's matches never overlap; they fill the text they were searched in, with no gap,
    only if their lengths add up to its length.
    """
    return _PERSISTED_OVERHEAD * len(found) + sum(map(len, chain.from_iterable(found))) == size


# After the text of a chunk was found not to be all persisted events, the next few chunks skip
# that attempt (its scan would likely be wasted) and go frame by frame.
_BULK_SKIPS: Final = 16
# Reading frames at once pays off from a few frames up; smaller texts go frame by frame.
_BULK_MIN: Final = 4096


def _utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (``str.isascii`` is O(1) in CPython)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _member_setter(cls: type[Any], name: str) -> Callable[[Any, Any], None]:
    """The setter of slot ``name`` of ``cls``: it stores a value even on a frozen instance."""
    setter: Callable[[Any, Any], None] = getattr(cls, name).__set__
    return setter


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


# The fast path builds frames with object.__new__ and the slots' own setters, as attrs'
# __init__ would (the class has no validators, converters or init hooks), skipping the frozen
# class's per-field object.__setattr__ calls. This check keeps the two in step.
_FRAME_SLOTS: Final = ("event", "data", "id", "last_event_id", "retry", "oversized", "data_size")
if tuple(field.name for field in attrs.fields(SSEFrame)) != _FRAME_SLOTS or any(
    field.validator is not None or field.converter is not None for field in attrs.fields(SSEFrame)
):  # pragma: no cover - a guard for whoever edits SSEFrame
    raise AssertionError("SSEFrame changed: update _FRAME_SLOTS and SSEDecoder._usual_frames")
_new_object: Final[Any] = object.__new__
(
    _set_event,
    _set_data,
    _set_id,
    _set_last_event_id,
    _set_retry,
    _set_oversized,
    _set_data_size,
) = (_member_setter(SSEFrame, name) for name in _FRAME_SLOTS)


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
    """

    __slots__ = (
        "_at_start",
        "_bulk_skips",
        "_carry",
        "_carry_len",
        "_carry_limit",
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

    def __init__(self, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        """Create a decoder; ``max_frame_bytes`` bounds the data kept for one frame."""
        if max_frame_bytes < 0:
            raise ValueError(f"max_frame_bytes must be >= 0, got {max_frame_bytes}")
        self._max = max_frame_bytes
        self._line_limit = max_frame_bytes + _LINE_SLACK
        self._carry_limit = min(_MAX_CARRY, self._line_limit)
        self._last_event_id = ""
        self._retry: int | None = None
        self._bulk_skips = 0
        self._start_stream()

    def _start_stream(self) -> None:
        """Reset everything that belongs to one stream; keep last-event-id and retry."""
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._at_start = True  # no text decoded yet: a BOM may still come
        self._skip_lf = False  # the previous chunk ended with CR: drop one LF starting the next
        self._pending: list[str] = []  # pieces of the unfinished line
        self._pending_len = 0
        self._overlong = _NOT_OVERLONG
        self._carry: list[str] = []  # text of an unfinished frame that began between frames
        self._carry_len = 0
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
        frames: list[SSEFrame] = []
        done = 0
        if self._bulk_skips:
            self._bulk_skips -= 1
        elif len(chunk) >= _BULK_MIN and not self._at_start and b"\r" not in chunk:
            done = self._persisted_bytes(chunk, frames)
        self._feed_text(chunk[done:] if done else chunk, frames)
        return frames

    def _feed_text(self, chunk: bytes, frames: list[SSEFrame]) -> None:
        """Decode ``chunk`` to text and apply it; append the frames it completes to ``frames``."""
        text = self._utf8.decode(chunk)
        if not text:
            return
        if self._at_start:
            self._at_start = False
            if text[0] == _BOM:
                text = text[1:]
                if not text:
                    return
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return
        if "\r" in text:
            # A trailing CR ends its line now; an LF opening the next chunk is its partner.
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")

        if self._carry:
            carry = self._carry
            carry.append(text)
            if text.find("\n\n") < 0 and not (text[0] == "\n" and carry[-2][-1] == "\n"):
                self._carry_len += len(text)
                if self._carry_len > self._carry_limit:
                    self._carry = []
                    self._carry_len = 0
                    self._take_lines("".join(carry), frames)
                return  # the frame is still unfinished
            text = "".join(carry)
            self._carry = []
            self._carry_len = 0
        pos = 0
        if self._overlong or self._pending:
            end = text.find("\n")
            if end < 0:
                self._hold(text)
                return
            if self._overlong:
                self._hold(text[:end])
                self._overlong = _NOT_OVERLONG
            else:
                self._pending.append(text[:end])
                line = "".join(self._pending)
                self._pending = []
                self._pending_len = 0
                self._process((line,), frames)
            pos = end + 1
        size = len(text)
        misses = 0  # fast-path attempts in a row that decoded nothing
        while pos < size:
            clean = (
                self._data_size < 0
                and self._frame_id is None
                and not self._event
                and self._frame_retry is None
                and not self._oversized
            )
            if clean:
                # Between frames: blank lines do nothing, usual frames take the fast path.
                if text[pos] == "\n":
                    blank = _BLANK_LINES.match(text, pos)
                    pos = blank.end() if blank is not None else pos + 1
                start = pos
                pos = self._usual_frames(text, pos, frames)
                if pos >= size:
                    break
                if pos > start:
                    misses = 0
                elif misses == _MAX_MISSES:
                    # This text is not of the usual shape: the line loop is cheaper for the rest.
                    self._take_lines(text[pos:], frames)
                    break
                else:
                    misses += 1
            # One block, up to and including the blank line that ends it, line by line.
            if text[pos] == "\n":
                self._process(("",), frames)
                pos += 1
                continue
            end = text.find("\n\n", pos)
            if end < 0:
                rest = text[pos:]
                if clean and len(rest) <= self._carry_limit:
                    # A frame cut by the chunk end: keep its text whole, so that it can still
                    # take the fast path once the rest arrives.
                    self._carry = [rest]
                    self._carry_len = len(rest)
                else:
                    self._take_lines(rest, frames)
                break
            lines = text[pos:end].split("\n")
            lines.append("")
            self._process(lines, frames)
            pos = end + 2

    def flush(self) -> list[SSEFrame]:
        """End the stream (EOF or a broken connection): drop a partial frame (rule 7), reset.

        Returns the frames completed by bytes still pending in the decoder. That is always
        ``[]``: only a line end can complete a frame, and a line end is never held back. The
        list is returned so that callers treat ``feed`` and ``flush`` alike. ``last_event_id``
        and ``retry`` survive, as the SSE standard keeps them across reconnections; the next
        ``feed`` starts a new stream (a leading BOM is dropped again).
        """
        self._utf8.decode(b"", True)  # completes nothing: a cut character ends a discarded line
        if self._carry:  # its complete lines may still hold a retry value
            self._take_lines("".join(self._carry), [])
        self._start_stream()
        return []

    def _take_lines(self, text: str, frames: list[SSEFrame]) -> None:
        """Apply the complete lines of ``text``; keep its unfinished last line."""
        lines = text.split("\n")
        tail = lines.pop()
        self._process(lines, frames)
        if tail:
            self._hold(tail)

    def _hold(self, piece: str) -> None:
        """Keep (or count) a piece of the unfinished line; stop keeping it once too long."""
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

    def _usual_frames(self, text: str, pos: int, frames: list[SSEFrame]) -> int:
        """Decode whole frames of the usual shape from ``pos`` (state must be clean).

        Returns the position of the first thing that is not such a frame. A text of several
        frames that are all persisted events is read at once (_persisted_frames).
        """
        frames_end = text.rfind("\n\n") + 2  # no whole frame ends later: the search stops here
        if frames_end - pos >= _BULK_MIN and text.startswith("id: ", pos):
            done = self._persisted_frames(text, pos, frames_end, frames)
            if done > pos:
                return done
        match = _USUAL_FRAME.match
        append_frame = frames.append
        max_size = self._max
        id_buffer = self._id_buffer
        while (m := match(text, pos, frames_end)) is not None:
            end = m.end()
            frame_id, event, data = m.groups()
            size = len(data) if data.isascii() else len(data.encode("utf-8"))
            if size > max_size or end - pos > max_size:
                break  # near or over the limit: the general loop applies the oversize rules
            if frame_id is not None:
                id_buffer = frame_id
            # SSEFrame(event or "message", data, frame_id, id_buffer, None, False, size), built
            # slot by slot: the same object at two thirds of the cost (see _FRAME_SLOTS).
            frame = _new_object(SSEFrame)
            _set_event(frame, event or "message")
            _set_data(frame, data)
            _set_id(frame, frame_id)
            _set_last_event_id(frame, id_buffer)
            _set_retry(frame, None)
            _set_oversized(frame, False)
            _set_data_size(frame, size)
            append_frame(frame)
            pos = end
        self._id_buffer = self._last_event_id = id_buffer
        return pos

    def _clean(self) -> bool:
        """Between frames, with nothing held back: the next byte starts a line of a new frame."""
        return (
            self._data_size < 0
            and self._frame_id is None
            and not self._event
            and self._frame_retry is None
            and not self._oversized
            and not self._carry
            and not self._pending
            and not self._overlong
            and not self._skip_lf
            and not self._utf8.getstate()[0]
        )

    def _persisted_bytes(self, chunk: bytes, frames: list[SSEFrame]) -> int:
        """Decode the persisted-event frames of ``chunk`` straight from its bytes, if it can.

        The common case: a chunk with no CR, holding the end of a frame already begun, then
        whole frames of persisted events, then the start of another. The first frame end goes
        through the general path; the whole frames that follow are read at once from the bytes
        (see _persisted_frames), and each value decoded on its own, strictly: text that is not
        valid UTF-8 goes the general way (where bad bytes become U+FFFD). Decoding only the
        values spares decoding the whole chunk, which the first non-ASCII character of 64 KiB
        makes a 2-byte-per-character string, slow to scan and to slice. Returns the number of
        bytes consumed, which the caller feeds on as usual.
        """
        end = chunk.rfind(b"\n\n") + 2
        if end < 2:
            return 0
        start = 0
        if not self._clean():
            start = chunk.find(b"\n\n") + 2
            if start == end:
                return 0
            self._feed_text(chunk[:start], frames)
            if not self._clean():
                return start
        if end - start > self._max or not chunk.startswith(b"id: ", start):
            return start
        found = _PERSISTED_BYTES.findall(chunk, start, end)
        if not _covers(found, end - start):
            self._bulk_skips = _BULK_SKIPS  # a mixed stream (previews, keep-alives): back off
            return start
        decoded: list[SSEFrame] = []
        append_frame = decoded.append
        frame_id = ""
        try:
            for id_bytes, event_bytes, data_bytes in found:
                frame_id = id_bytes.decode()
                frame = _new_object(SSEFrame)
                _set_event(frame, event_bytes.decode() or "message")
                _set_data(frame, data_bytes.decode())
                _set_id(frame, frame_id)
                _set_last_event_id(frame, frame_id)
                _set_retry(frame, None)
                _set_oversized(frame, False)
                _set_data_size(frame, len(data_bytes))
                append_frame(frame)
        except UnicodeDecodeError:
            return start
        frames += decoded
        self._id_buffer = self._last_event_id = frame_id
        return end

    def _persisted_frames(self, text: str, pos: int, end: int, frames: list[SSEFrame]) -> int:
        """Decode at once all the complete frames from ``pos`` if all are persisted events.

        A persisted event is one ``id:``, ``event:``, ``data:`` frame (PROTOCOL.md §3.11): most
        of a stream. One ``findall`` reads them all; its matches, whose lengths are known,
        cover the text up to the last blank line exactly when every frame there has that shape
        (and the general loop would read the same). Returns the end of what was decoded: ``pos``
        when the text is not all such frames, could hold an oversized one, or recently was not.
        """
        if self._bulk_skips:
            self._bulk_skips -= 1
            return pos
        if (end - pos) * 4 > self._max:  # 4: the most UTF-8 bytes a character takes
            return pos
        found = _PERSISTED_FRAMES.findall(text, pos, end)
        if not _covers(found, end - pos):
            self._bulk_skips = _BULK_SKIPS  # a mixed stream (previews, keep-alives): back off
            return pos
        append_frame = frames.append
        for frame_id, event, data in found:
            frame = _new_object(SSEFrame)
            _set_event(frame, event or "message")
            _set_data(frame, data)
            _set_id(frame, frame_id)
            _set_last_event_id(frame, frame_id)
            _set_retry(frame, None)
            _set_oversized(frame, False)
            _set_data_size(frame, len(data) if data.isascii() else len(data.encode("utf-8")))
            append_frame(frame)
        self._id_buffer = self._last_event_id = found[-1][0]
        return end

    def _process(self, lines: Iterable[str], frames: list[SSEFrame]) -> None:
        """Apply complete lines (line ends removed) to the frame state, appending dispatches.

        The general loop: rules 3-6 line by line, with the state in locals for speed.
        """
        append_frame = frames.append
        max_size = self._max
        event = self._event
        data = self._data
        size = self._data_size
        oversized = self._oversized
        frame_id = self._frame_id
        frame_retry = self._frame_retry
        id_buffer = self._id_buffer
        last_event_id = self._last_event_id
        for line in lines:
            if not line:  # empty line: dispatch
                if size >= 0:
                    append_frame(
                        SSEFrame(
                            event or "message",
                            "" if oversized else "\n".join(data),
                            frame_id,
                            id_buffer,
                            frame_retry,
                            oversized,
                            size,
                        )
                    )
                    data = []
                    size = -1
                oversized = False
                event = ""
                frame_id = None
                frame_retry = None
                last_event_id = id_buffer
                continue
            if line.startswith("data:"):
                value = line[6:] if line[5:6] == " " else line[5:]
            else:
                if line[0] == ":":  # comment
                    continue
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
                if name != "data":  # "data" alone is a data line with an empty value
                    if name == "event":
                        if len(value) > max_size:
                            oversized = True
                        else:
                            event = value
                    elif name == "id":
                        if len(value) > max_size:
                            oversized = True
                        elif "\0" not in value:
                            id_buffer = frame_id = value
                    elif (
                        name == "retry"
                        and len(value) <= max_size
                        and value.isascii()
                        and value.isdigit()
                    ):
                        digits = value.lstrip("0")
                        if len(digits) <= _MAX_RETRY_DIGITS:
                            frame_retry = self._retry = int(digits) if digits else 0
                    continue  # other fields are ignored
            size += (len(value) if value.isascii() else len(value.encode("utf-8"))) + 1
            if size <= max_size:
                data.append(value)
            elif not oversized:
                oversized = True
                data = []
        self._event = event
        self._data = data
        self._data_size = size
        self._oversized = oversized
        self._frame_id = frame_id
        self._frame_retry = frame_retry
        self._id_buffer = id_buffer
        self._last_event_id = last_event_id
