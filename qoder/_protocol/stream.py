"""The event stream's own life: one connection at a time, resumed from the cursor (§6.6).

:class:`EventStream` is a small state machine; every state is listed in :class:`StreamState`
and every transition is one method::

    CLOSED --opened()--> OPEN --dropped()--> BACKING_OFF --backed_off()--> CLOSED
      ^                   |  \\--dropped(), budget spent--> LOST --retry()--> CLOSED
      |                   |
      +----closed()-------+        (a wake-up, a cancelled read, a new turn after a loss)
    any state --gone()--> GONE      (the session was deleted, or the client disconnected)

It decodes what a connection delivers (:meth:`EventStream.events`: SSE frames to typed events)
and decides what a drop or a refusal means: wait and reconnect, reconnect once without the
cursor (a 400 on it), or give up. It performs no I/O: the session's flows ask the facade to
open, read and close, and report here what happened.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterator
from typing import Final

from . import requests as rq
from .convert import decode_fields, decode_frame
from .events import Event, StreamErrorFrame
from .retry import ReconnectBackoff
from .sse import SSEDecoder

__all__ = ["EventStream", "Refusal", "StreamState"]

logger = logging.getLogger("qoder")

_PREVIEW_DELTAS: Final = ("agent.message", "agent.thinking")


class StreamState(enum.Enum):
    """Where the stream stands."""

    CLOSED = "closed"
    """No connection; the next read opens one from the cursor."""
    OPEN = "open"
    """A connection is open; reads decode its bytes."""
    BACKING_OFF = "backing_off"
    """A connection dropped: wait :attr:`EventStream.delay` seconds, then reconnect."""
    LOST = "lost"
    """Reconnects made no progress ``max_stream_reconnects`` times: the turn underway ends
    ``stream_lost``; the next ``query()`` tries again (:meth:`EventStream.retry`)."""
    GONE = "gone"
    """Never again: the session was deleted or ended, or the client disconnected."""


class Refusal(enum.Enum):
    """What a non-200 answer to the stream request means (:meth:`EventStream.refused`)."""

    RETRY = "retry"
    """Reconnect (now, or after :attr:`EventStream.delay`); the state says which."""
    DELETED = "deleted"
    """404: the session is gone (§6.6); the turn ends ``deleted``."""
    LOST = "lost"
    """The refusals used up the reconnect budget."""
    RAISE = "raise"
    """Any other status (401, 403, ...): an error for the caller."""


class EventStream:
    """One session's event stream, described without I/O.

    ``reconnect_delay`` and ``max_reconnects`` pace reconnects (:class:`.ReconnectBackoff`);
    ``partial`` opts into preview frames; ``clock`` gives seconds (monotonic) and ``rand``
    a float in [0, 1) for the jitter, so tests are exact.
    """

    def __init__(
        self,
        session_id: str,
        *,
        reconnect_delay: float = 0.5,
        max_reconnects: int = 6,
        partial: bool = False,
        clock: Callable[[], float],
        rand: Callable[[], float],
    ) -> None:
        self.session_id = session_id
        self.state = StreamState.CLOSED
        self.delay = 0.0
        """Seconds to wait while BACKING_OFF."""
        self.reason = ""
        """Why the stream was LOST or is GONE."""
        self.failure: str | None = None
        """Set by :meth:`events`: why the connection must be dropped (an error frame)."""
        self._deltas = _PREVIEW_DELTAS if partial else ()
        self._clock = clock
        self._rand = rand
        self._backoff = ReconnectBackoff(initial=reconnect_delay, max_attempts=max_reconnects)
        self._decoder = SSEDecoder()
        self._started = 0.0
        self._advanced = False
        self._skip_cursor = False

    # --- opening ---------------------------------------------------------------------------

    def request(self, cursor: str | None) -> rq.APIRequest:
        """The stream request, from ``cursor`` so that nothing is replayed or lost (§6.2);
        without it once after the server refused the cursor."""
        return rq.stream_events(
            self.session_id,
            cursor=None if self._skip_cursor else cursor,
            event_deltas=self._deltas,
        )

    def opened(self) -> None:
        """A connection answered 200: decode it from a clean state. CLOSED -> OPEN."""
        if self.state is StreamState.GONE:
            return
        self.state = StreamState.OPEN
        self._decoder = SSEDecoder()
        self._started = self._clock()
        self._advanced = False
        self._skip_cursor = False

    def refused(self, status: int, *, has_cursor: bool) -> Refusal:
        """A non-200 answer to the stream request (§6.6)."""
        if status == 404:
            self.gone("the session was not found (it was deleted)")
            return Refusal.DELETED
        if status == 400 and has_cursor and not self._skip_cursor:
            self._skip_cursor = True  # reconnect once without it; dedupe drops the replay
            self.state = StreamState.CLOSED
            return Refusal.RETRY
        if status in (408, 429) or status >= 500:
            self.dropped(f"the event stream answered {status}", connected=False)
            return Refusal.LOST if self.lost else Refusal.RETRY
        return Refusal.RAISE

    # --- reading ---------------------------------------------------------------------------

    def events(self, chunk: bytes) -> Iterator[tuple[Event, str | None]]:
        """Decode ``chunk``: the events it completes, each with its frame's own ``id:``.

        Lazily: each event is decoded as it is asked for, so that a chunk's events need not
        all be alive at once (their dicts and drafts die one by one, and the cyclic collector,
        triggered by objects alive, stays away; 120 events of a chunk held at once cost it
        about 15% of a long turn). Once it is exhausted, :attr:`failure` is the reason to drop
        the connection if an in-band ``error`` frame arrived (§5 rule 13: what follows it on
        this connection is not trusted, so decoding stops there), or ``None``."""
        self.failure = None
        # Persisted events come as (id, event, data), without an SSEFrame each (feed_parts);
        # decode_fields gives for them what decode_frame gives for their frames.
        for part in self._decoder.feed_parts(chunk):
            frame_id: str | None
            if isinstance(part, tuple):
                frame_id, name, data = part
                event = decode_fields(frame_id, name, data)
            else:
                frame_id = part.id
                event = decode_frame(part)
            if event is None:
                continue
            if isinstance(event, StreamErrorFrame):
                self.failure = f"the server reported a stream error: {event.message}"
                return
            yield event, frame_id

    def advanced(self) -> None:
        """The connection moved the cursor: it made progress (the backoff starts over)."""
        self._advanced = True

    # --- losing it ---------------------------------------------------------------------------

    def dropped(self, reason: str, *, connected: bool = True) -> None:
        """A connection ended, or an attempt got none (``connected=False``: it counts as an
        attempt without progress however long ago the last one opened): BACKING_OFF, or LOST
        once the budget is spent. Each reconnect is logged at WARNING on the ``qoder`` logger
        (attempt n of N, the wait, the reason, which the caller has redacted), and so is the
        loss."""
        if self.state is StreamState.GONE:
            return  # terminal: a drop after the end (a disconnect racing a read) changes nothing
        duration = self._clock() - self._started if connected else 0.0
        self._backoff.record_connection(advanced=self._advanced and connected, duration=duration)
        self._advanced = False
        backoff = self._backoff
        if backoff.exhausted:
            self.state = StreamState.LOST
            self.reason = f"{reason}; gave up after {backoff.max_attempts} reconnects"
            logger.warning(
                "event stream of %s lost (%s): the turn underway ends with stream_lost",
                self.session_id,
                self.reason,
            )
            return
        self.state = StreamState.BACKING_OFF
        self.delay = backoff.next_delay(self._rand)
        logger.warning(
            "event stream of %s dropped (%s); reconnect attempt %d of %d in %.2f s",
            self.session_id,
            reason,
            backoff.attempts_without_progress + 1,
            backoff.max_attempts,
            self.delay,
        )

    def backed_off(self) -> None:
        """The wait is over: BACKING_OFF -> CLOSED (the next read reconnects)."""
        if self.state is StreamState.BACKING_OFF:
            self.state = StreamState.CLOSED

    def closed(self) -> None:
        """The connection was closed on purpose (a wake-up, a cancelled read): OPEN -> CLOSED,
        without counting against the reconnect budget."""
        if self.state is StreamState.OPEN:
            self.state = StreamState.CLOSED

    def retry(self) -> None:
        """A new turn tries a LOST stream again, with a fresh budget: LOST -> CLOSED."""
        if self.state is StreamState.LOST:
            self.state = StreamState.CLOSED
            self._backoff.record_progress()

    def gone(self, reason: str) -> None:
        """Nothing more can be read: any state -> GONE."""
        self.state = StreamState.GONE
        self.reason = reason

    @property
    def lost(self) -> bool:
        """Whether the reconnect budget is spent (LOST)."""
        return self.state is StreamState.LOST

    @property
    def readable(self) -> bool:
        """Whether reading may still produce anything (not LOST, not GONE)."""
        return self.state is not StreamState.LOST and self.state is not StreamState.GONE
