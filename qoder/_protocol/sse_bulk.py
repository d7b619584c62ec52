"""The SSE decoder's bulk readers: many whole frames of the usual shapes read at once.

Most of a stream is persisted events, framed ``id:``, ``event:``, ``data:``, blank line
(PROTOCOL.md §3.11). :class:`BulkReader` reads runs of such frames with a few calls into C and
leaves everything else to the line loop of :class:`.sse.SSEDecoder`, which applies the rules of
§5 literally; whatever it reads, the line loop would have read the same.

* **Bytes.** When a chunk of at least 4 KiB has no CR, the whole frames it holds after the one
  already begun are read at once from its bytes: one ``findall``, accepted only if its matches
  cover those bytes exactly (so the line rules would read the same frames), then each value
  decoded strictly on its own (invalid UTF-8 takes the general way, where it becomes U+FFFD).
  Decoding only the values spares decoding the whole chunk, which the first non-ASCII
  character of 64 KiB makes a 2-byte-per-character string, slow to scan and to slice.
* **Text.** Otherwise the decoder decodes the chunk (rules 1 and 2) and, between frames, the
  same kind of ``findall`` (for 4 KiB or more), or one precompiled regular expression per frame,
  reads frames of the usual shape (optional ``id: ``, optional ``event: ``, one ``data: `` line,
  blank line). Anything else (comments, ``retry:``, several data lines, no space after the
  colon) goes block by block to the line loop; after a few such blocks in a row, the rest of
  the text goes there directly. A chunk found not to be all persisted events makes the next
  16 skip the ``findall`` (a mixed stream, with previews or keep-alives, would waste it).
* **Carry.** A frame cut by the end of a chunk is kept as text (up to 16 KiB) and read once
  complete, so network-sized chunks keep the fast path.
* **Frames** are built as drafts filled field by field and then retyped, the objects
  ``SSEFrame(...)`` would build, without attrs' per-field overhead (see :mod:`.slots`), with
  the draft class the decoder hands over. For :meth:`.sse.SSEDecoder.feed_parts`
  (``parts`` set), the runs of persisted events read at once are handed over as the
  ``(id, event, data)`` triples of their matches instead: no frame at all.

A frame near or over ``max_frame_bytes`` is always left to the line loop, which applies the
size rules. The hypothesis tests of ``tests/protocol/test_sse.py`` compare the decoder with and
without the bulk readers (``SSEDecoder(bulk=False)``), and with a reference decoder, however
the input is chunked; ``benchmarks/equivalence.py`` compares it with a reference reading on
larger random streams.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .sse import Part, SSEDecoder, SSEFrame

__all__ = ["BulkReader"]

# Most text of an unfinished frame kept whole between chunks; past it, the frame's lines go to
# the line loop as usual.
_MAX_CARRY: Final = 16 * 1024
# After this many blocks in a row that the per-frame expression could not read, the rest of the
# text goes straight to the line loop.
_MAX_MISSES: Final = 2
# After a text was found not to be all persisted events, the next few chunks skip that attempt
# (its scan would likely be wasted) and go frame by frame.
_BULK_SKIPS: Final = 16
# Reading frames at once pays off from a few frames up; smaller texts go frame by frame. Bytes
# (a chunk read straight, _read_bytes) from 4 KiB: 1 KiB chunks of mostly cut frames lose by it.
# Text (_persisted_text) from 1 KiB: a short turn's few events, about 3 kB, come in one pass.
_BULK_MIN: Final = 4096
_TEXT_BULK_MIN: Final = 1024

# One whole frame of the usual shape, read from a clean state. Each part is exactly what the
# line rules would do with it: field name, colon and space removed, value to the line end. An id
# holding NUL does not match, so the line loop ignores it as rule 5 says. The space is not
# optional: a pattern with only one way to match each line fails fast, without backtracking
# over long values again and again; lines without it are rare and take the line loop.
_USUAL_FRAME: Final = re.compile(r"(?:id: ([^\n\x00]*)\n)?(?:event: ([^\n]*)\n)?data: ([^\n]*)\n\n")
_BLANK_LINES: Final = re.compile(r"\n+")
# A persisted event's frame, every line present and the event named (an empty name, which
# stands for "message", takes the per-frame expression); a match is _PERSISTED_OVERHEAD
# characters (or bytes) longer than its three groups, which are the frame's id, event and data.
_PERSISTED_FRAMES: Final = re.compile(r"id: ([^\n\x00]*)\nevent: ([^\n]+)\ndata: ([^\n]*)\n\n")
_PERSISTED_BYTES: Final = re.compile(rb"id: ([^\n\x00]*)\nevent: ([^\n]+)\ndata: ([^\n]*)\n\n")
_PERSISTED_OVERHEAD: Final = len("id: \nevent: \ndata: \n\n")


def _covers(found: list[tuple[Any, Any, Any]], size: int) -> bool:
    """The persisted-event matches ``found`` fill exactly ``size`` characters (or bytes).

    findall's matches never overlap; they fill the text they were searched in, with no gap,
    only if their lengths add up to its length.
    """
    return _PERSISTED_OVERHEAD * len(found) + sum(map(len, chain.from_iterable(found))) == size


class BulkReader:
    """The bulk readers of one :class:`.sse.SSEDecoder`, and what they keep between chunks.

    ``frame_type`` and ``draft`` are ``SSEFrame`` and its draft class (:func:`.slots.draft_class`);
    frames are built with them. Every method takes the decoder it reads for. While ``parts`` is
    set, persisted events read at once are appended as ``(id, event, data)`` (see
    :data:`.sse.Part`), every other frame as an ``SSEFrame``.
    """

    __slots__ = (
        "_carry",
        "_carry_len",
        "_carry_limit",
        "_draft",
        "_frame_type",
        "_max",
        "_skips",
        "parts",
    )

    def __init__(
        self,
        frame_type: type[SSEFrame],
        draft: type[Any],
        max_frame_bytes: int,
        line_limit: int,
    ) -> None:
        self._frame_type = frame_type
        self._draft = draft
        self._max = max_frame_bytes
        self._carry_limit = min(_MAX_CARRY, line_limit)  # a carried line is no longer than that
        self._carry: list[str] = []  # text of an unfinished frame that began between frames
        self._carry_len = 0
        self._skips = 0  # chunks left that skip the attempt to read all their frames at once
        self.parts = False  # hand persisted events over as (id, event, data), not as frames

    def feed(self, decoder: SSEDecoder, chunk: bytes, frames: list[Part]) -> None:
        """Read ``chunk`` for ``decoder``; append the frames it completes to ``frames``."""
        done = 0
        if self._skips:
            self._skips -= 1
        elif len(chunk) >= _BULK_MIN and not decoder._at_start and b"\r" not in chunk:
            done = self._read_bytes(decoder, chunk, frames)
        text = decoder._decode(chunk[done:] if done else chunk)
        if text:
            self._read_text(decoder, text, frames)

    def flush(self, decoder: SSEDecoder) -> None:
        """End of the stream: the decoder applies the complete lines of the carried text."""
        if self._carry:
            text = "".join(self._carry)
            self._carry = []
            self._carry_len = 0
            decoder._take_lines(text, [])

    # --- bytes --------------------------------------------------------------------------------

    def _read_bytes(self, decoder: SSEDecoder, chunk: bytes, frames: list[Part]) -> int:
        """Read the persisted-event frames of ``chunk`` straight from its bytes, if it can.

        The common case: a chunk holding the end of a frame already begun, then whole frames of
        persisted events, then the start of another. The first frame end goes through the
        usual way; the whole frames that follow are read at once. Returns the number of bytes
        consumed; the caller feeds the rest on as usual.
        """
        end = chunk.rfind(b"\n\n") + 2
        if end < 2:
            return 0
        start = 0
        if not self._clean(decoder):
            start = chunk.find(b"\n\n") + 2
            if start == end:
                return 0
            text = decoder._decode(chunk[:start])
            if text:
                self._read_text(decoder, text, frames)
            if not self._clean(decoder):
                return start
        if end - start > self._max or not chunk.startswith(b"id: ", start):
            return start
        found = _PERSISTED_BYTES.findall(chunk, start, end)
        if not _covers(found, end - start):
            self._skips = _BULK_SKIPS  # a mixed stream (previews, keep-alives): back off
            return start
        return end if self._persisted_bytes(decoder, found, frames) else start

    def _clean(self, decoder: SSEDecoder) -> bool:
        """Between frames, with nothing held back: the next byte starts a line of a new frame."""
        return not self._carry and decoder._between_frames()

    def _persisted_bytes(
        self, decoder: SSEDecoder, found: list[tuple[bytes, bytes, bytes]], frames: list[Part]
    ) -> bool:
        """Append the frames of ``found``, unless a value is not valid UTF-8 (then ``False``)."""
        decoded: list[Part] = []
        append_frame = decoded.append
        draft, frame_type = self._draft, self._frame_type
        try:
            if self.parts:
                decoded = [(i.decode(), event.decode(), data.decode()) for i, event, data in found]
            else:
                for id_bytes, event_bytes, data_bytes in found:
                    frame = draft()
                    frame.event = event_bytes.decode()
                    frame.data = data_bytes.decode()
                    frame.id = frame.last_event_id = id_bytes.decode()
                    frame.retry = None
                    frame.oversized = False
                    frame.data_size = len(data_bytes)
                    frame.__class__ = frame_type
                    append_frame(frame)
        except UnicodeDecodeError:
            return False
        frames += decoded
        decoder._publish(found[-1][0].decode())  # the ids of found decode: all of them did
        return True

    # --- text ---------------------------------------------------------------------------------

    def _read_text(self, decoder: SSEDecoder, text: str, frames: list[Part]) -> None:
        """Apply ``text`` (LF line ends only): usual frames here, every other block by the rules.

        A frame left unfinished at the end of ``text`` is carried if it began between frames,
        else the line loop holds its lines.
        """
        carry = self._carry
        if carry:  # the carried text starts a frame: nothing else is held
            carry.append(text)
            if "\n\n" not in text and not (text[0] == "\n" and carry[-2][-1] == "\n"):
                self._carry_len += len(text)
                if self._carry_len > self._carry_limit:
                    self._carry = []
                    self._carry_len = 0
                    decoder._take_lines("".join(carry), frames)
                return  # the frame is still unfinished
            text = "".join(carry)
            self._carry = []
            self._carry_len = 0
            pos, clean = 0, True
        else:
            pos = decoder._end_line(text, frames)
            if pos < 0:
                return
            clean = not decoder._in_frame()
        last = text.rfind("\n\n", pos)
        if last >= 0:
            pos = self._blocks(decoder, text, pos, last + 2, clean, frames)
            clean = True  # every block ends with a dispatch
        if pos < len(text):
            rest = text[pos:]
            if clean and len(rest) <= self._carry_limit:
                # A frame cut by the chunk end: keep its text whole, so that it can still take
                # the fast path once the rest arrives.
                self._carry = [rest]
                self._carry_len = len(rest)
            else:
                decoder._take_lines(rest, frames)

    def _blocks(
        self,
        decoder: SSEDecoder,
        text: str,
        pos: int,
        end: int,
        clean: bool,
        frames: list[Part],
    ) -> int:
        """Apply the blocks of ``text[pos:end]``, each ended by a blank line; ``end`` ends one.

        Frames of the usual shape are read here, the other blocks by the line loop; after a few
        of those in a row, the line loop takes the rest of ``text``. ``clean``: the decoder is
        between frames. Returns where the unread text starts.
        """
        misses = 0  # attempts in a row that read no frame
        while pos < end:
            if clean:
                if text[pos] == "\n":  # blank lines between frames do nothing
                    blank = _BLANK_LINES.match(text, pos)
                    pos = blank.end() if blank is not None else pos + 1
                start = pos
                pos = self._usual_frames(decoder, text, pos, end, frames)
                if pos >= end:
                    return pos
                if pos > start:
                    misses = 0
                elif misses == _MAX_MISSES:
                    # This text is not of the usual shape: the line loop is cheaper for the rest.
                    decoder._take_lines(text[pos:], frames)
                    return len(text)
                else:
                    misses += 1
            if text[pos] == "\n":
                decoder._process(("",), frames)
                pos += 1
            else:  # a block that is not a usual frame, or one that follows an unfinished frame
                block_end = text.find("\n\n", pos)
                lines = text[pos:block_end].split("\n")
                lines.append("")
                decoder._process(lines, frames)
                pos = block_end + 2
            clean = True
        return pos

    def _usual_frames(
        self, decoder: SSEDecoder, text: str, pos: int, frames_end: int, frames: list[Part]
    ) -> int:
        """Read whole frames of the usual shape from ``pos``, the decoder being between frames.

        ``frames_end``: no whole frame ends later. Returns the position of the first thing that
        is not such a frame. A text of several frames that are all persisted events is read at
        once (_persisted_text).
        """
        if frames_end - pos >= _TEXT_BULK_MIN and text.startswith("id: ", pos):
            done = self._persisted_text(decoder, text, pos, frames_end, frames)
            if done > pos:
                return done
        match = _USUAL_FRAME.match
        append_frame = frames.append
        max_size = self._max
        draft, frame_type = self._draft, self._frame_type
        id_buffer = decoder._id_buffer
        parts = self.parts
        while (m := match(text, pos, frames_end)) is not None:
            end = m.end()
            frame_id, event, data = m.groups()
            size = len(data) if data.isascii() else len(data.encode("utf-8"))
            if size > max_size or end - pos > max_size:
                break  # near or over the limit: the line loop applies the size rules
            if frame_id is not None:
                id_buffer = frame_id
                if parts and event:  # a persisted event's frame, for feed_parts
                    append_frame((frame_id, event, data))
                    pos = end
                    continue
            frame = draft()
            frame.event = event or "message"
            frame.data = data
            frame.id = frame_id
            frame.last_event_id = id_buffer
            frame.retry = None
            frame.oversized = False
            frame.data_size = size
            frame.__class__ = frame_type
            append_frame(frame)
            pos = end
        decoder._publish(id_buffer)
        return pos

    def _persisted_text(
        self, decoder: SSEDecoder, text: str, pos: int, end: int, frames: list[Part]
    ) -> int:
        """Read at once all the complete frames from ``pos`` if all are persisted events.

        One ``findall`` reads them all; its matches, whose lengths are known, cover the text up
        to the last blank line exactly when every frame there has that shape (and the line loop
        would read the same). Returns the end of what was read: ``pos`` when the text is not all
        such frames, could hold an oversized one, or recently was not.
        """
        if self._skips:
            self._skips -= 1
            return pos
        if (end - pos) * 4 > self._max:  # 4: the most UTF-8 bytes a character takes
            return pos
        found = _PERSISTED_FRAMES.findall(text, pos, end)
        if not _covers(found, end - pos):
            self._skips = _BULK_SKIPS  # a mixed stream (previews, keep-alives): back off
            return pos
        decoder._publish(found[-1][0])
        if self.parts:
            frames += found
            return end
        append_frame = frames.append
        draft, frame_type = self._draft, self._frame_type
        for frame_id, event, data in found:
            frame = draft()
            frame.event = event
            frame.data = data
            frame.id = frame.last_event_id = frame_id
            frame.retry = None
            frame.oversized = False
            frame.data_size = len(data) if data.isascii() else len(data.encode("utf-8"))
            frame.__class__ = frame_type
            append_frame(frame)
        return end
