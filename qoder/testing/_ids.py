"""Ids and timestamps of the emulator: increasing ids per kind, an injectable clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "IdFactory", "TickingClock", "format_timestamp", "utc_now"]

Clock = Callable[[], datetime]
"""A callable returning the current time (timezone-aware; naive values are taken as UTC)."""


def utc_now() -> datetime:
    """The wall clock, in UTC: the default :data:`Clock`."""
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """Format ``moment`` as RFC 3339 in UTC with microseconds: ``2026-05-18T03:40:48.888851Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}Z"


class TickingClock:
    """A deterministic clock: returns ``start``, then advances by ``step`` at every call.

    >>> clock = TickingClock(datetime(2026, 5, 18, tzinfo=timezone.utc))
    >>> format_timestamp(clock()), format_timestamp(clock())
    ('2026-05-18T00:00:00.000000Z', '2026-05-18T00:00:00.001000Z')
    """

    def __init__(
        self,
        start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc),
        step: timedelta = timedelta(milliseconds=1),
    ) -> None:
        self._now = start
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self._now
            self._now = now + self._step
            return now


class IdFactory:
    """Mints ids ``<prefix>_<32 lowercase hex digits>``, increasing per prefix (``evt_…01``, …)."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """Return the next id for ``prefix`` (``"evt"`` → ``evt_000…001``)."""
        with self._lock:
            number = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = number
        return f"{prefix}_{number:032x}"
