"""A session's persisted event log, observable by blocking threads and by async tasks.

Every mutation happens with the cloud's lock held. Appending wakes every waiter at once: sync
readers sleep on a :class:`threading.Condition` sharing that lock, async readers on an
``anyio.Event`` that is set in their own event loop (thread-safely, since the writer may be a test
thread while the reader runs inside a server's loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

import anyio

__all__ = ["AsyncWaiter", "EventLog", "Notifier"]


def _threadsafe_scheduler() -> Callable[[Callable[[], object]], None]:
    """Return a function that runs a callback soon in the current event loop, from any thread."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        import trio  # the only other backend anyio supports

        token = trio.lowlevel.current_trio_token()

        def on_trio(callback: Callable[[], object]) -> None:
            token.run_sync_soon(callback)

        return on_trio

    def on_asyncio(callback: Callable[[], object]) -> None:
        loop.call_soon_threadsafe(callback)

    return on_asyncio


class AsyncWaiter:
    """One async task waiting for the log to change; created inside that task's event loop."""

    __slots__ = ("_event", "_schedule", "_thread")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self._thread = threading.get_ident()
        self._schedule = _threadsafe_scheduler()

    def wake(self) -> None:
        """Wake the task; safe to call from any thread, also after its loop has ended."""
        if threading.get_ident() == self._thread:
            self._event.set()
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to wake
            self._schedule(self._event.set)

    async def wait(self, seconds: float) -> bool:
        """Wait until woken (``True``) or until ``seconds`` pass (``False``)."""
        with anyio.move_on_after(seconds):
            await self._event.wait()
            return True
        return False


class Notifier:
    """Wakes every sync and async waiter of one log. Call its methods with the lock held."""

    def __init__(self, lock: threading.RLock) -> None:
        self.condition = threading.Condition(lock)
        self._async_waiters: set[AsyncWaiter] = set()

    def notify_all(self) -> None:
        """Wake everybody."""
        self.condition.notify_all()
        for waiter in list(self._async_waiters):
            waiter.wake()

    def add_async_waiter(self) -> AsyncWaiter:
        """Register a waiter for the calling task (before releasing the lock: no lost wake-up)."""
        waiter = AsyncWaiter()
        self._async_waiters.add(waiter)
        return waiter

    def discard(self, waiter: AsyncWaiter) -> None:
        """Forget ``waiter``."""
        self._async_waiters.discard(waiter)


class EventLog:
    """The persisted events of one session, in order, plus a "closed" mark.

    A closed log takes no more events: the session was deleted or terminated, and every stream
    ends once it has sent the last event.
    """

    def __init__(self, session_id: str, lock: threading.RLock) -> None:
        self.session_id = session_id
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self.notifier = Notifier(lock)
        self._positions: dict[str, int] = {}

    def append(self, event: dict[str, Any]) -> None:
        """Persist ``event`` and wake the readers."""
        self._positions[event["id"]] = len(self.events)
        self.events.append(event)
        self.notifier.notify_all()

    def position_after(self, event_id: str) -> int | None:
        """Index of the event following ``event_id``, or ``None`` if the id is not in this log."""
        position = self._positions.get(event_id)
        return None if position is None else position + 1

    def close(self) -> None:
        """Mark the log finished and wake the readers so that their streams end."""
        self.closed = True
        self.notifier.notify_all()
