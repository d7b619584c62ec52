"""What waits to be handed out: messages, raw events, and tool calls to answer.

Reading is pulled: bytes are read only while someone iterates, so these queues hold what one
chunk produced beyond what its reader took, or what a ``query()`` reply released. They are
bounded by ``max_buffered_messages``; the overflow rule is that the oldest message that is
not a :class:`~.messages.ResultMessage` goes (so that every turn still ends for its reader),
and every drop is counted and logged. Raw events (for ``receive_events()``) are kept only
while such a reader exists, bounded the same way.

The end of a turn is marked here from the state machine's :class:`~.turn.TurnComplete`
output, and nowhere else: :meth:`Inbox.pop_message` says which turn a message ends.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from .events import Event
from .messages import Message, ResultMessage
from .outputs import (
    AskPermission,
    Deliver,
    EnforceLimit,
    ObserveToolResult,
    Output,
    RunCustomTool,
    TurnComplete,
)

__all__ = ["Answer", "Inbox"]

logger = logging.getLogger("qoder")

Answer = RunCustomTool | AskPermission | EnforceLimit | ObserveToolResult
"""A tool call the client answers itself."""


class Inbox:
    """Bounded queues of deliverable messages, raw events and answers to give."""

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._messages: deque[Message] = deque()
        self._ends: dict[int, int] = {}  # id(result) -> the turn number it ends
        # Made when first needed: an empty deque costs about 600 bytes, and most clients never
        # keep raw events; tool calls to answer are few, so a list holds them.
        self._events: deque[Event] | None = None
        self._answers: list[Answer] = []
        self.collecting_events = False
        """A ``receive_events()`` reader exists: keep raw events for it."""
        self.dropped_messages = 0
        self.dropped_events = 0

    # --- messages ------------------------------------------------------------------------

    def absorb(self, outputs: Iterable[Output]) -> None:
        """Queue what the state machine output: messages, turn ends, tool calls to answer."""
        messages = self._messages
        for output in outputs:
            if isinstance(output, Deliver):
                messages.append(output.message)
            elif isinstance(output, TurnComplete):
                self._ends[id(output.result)] = output.result.num_turns
            else:
                self._answers.append(output)
        while len(messages) > self.max_messages and self._drop_oldest():
            pass

    def pop_message(self) -> Message | None:
        """The oldest unread message, if any; for a result, ask :meth:`turn_ended_by` next."""
        messages = self._messages
        return messages.popleft() if messages else None

    def turn_ended_by(self, message: Message) -> int | None:
        """The number of the turn ``message``, just popped, ends (``None``: it ends none)."""
        if isinstance(message, ResultMessage):
            return self._ends.pop(id(message), None)
        return None

    @property
    def has_messages(self) -> bool:
        """Whether a message waits to be read."""
        return bool(self._messages)

    def _drop_oldest(self) -> bool:
        for index, message in enumerate(self._messages):
            if not isinstance(message, ResultMessage):
                del self._messages[index]
                self.dropped_messages += 1
                if self.dropped_messages == 1 or self.dropped_messages % 1000 == 0:
                    logger.warning(
                        "dropped %d unread message(s): more than max_buffered_messages=%d "
                        "were waiting to be read",
                        self.dropped_messages,
                        self.max_messages,
                    )
                return True
        return False  # only results are waiting: they are never dropped

    # --- raw events ------------------------------------------------------------------------

    def keep_event(self, event: Event) -> None:
        """Queue a decoded event for a ``receive_events()`` reader, if one exists."""
        if not self.collecting_events:
            return
        events = self._events
        if events is None:
            events = self._events = deque()
        events.append(event)
        if len(events) > self.max_messages:
            events.popleft()
            self.dropped_events += 1
            if self.dropped_events == 1:
                logger.warning("dropped unread events: more than max_buffered_messages waited")

    def pop_event(self) -> Event | None:
        """The oldest unread event, if any."""
        events = self._events
        return events.popleft() if events else None

    def stop_events(self) -> None:
        """The ``receive_events()`` reader is gone: stop keeping events (those unread stay
        for the next one)."""
        self.collecting_events = False

    # --- answers ---------------------------------------------------------------------------

    def next_answer(self) -> Answer | None:
        """The oldest tool call not answered yet. It stays queued until :meth:`answered` (or
        :meth:`clear_answers`), so that an answer a cancellation interrupted is given again at
        the next read instead of leaving the turn waiting."""
        return self._answers[0] if self._answers else None

    def answered(self) -> None:
        """The oldest tool call was answered."""
        if self._answers:
            del self._answers[0]

    def clear_answers(self) -> None:
        """Forget every tool call still to answer (a new turn, or a failed answer)."""
        self._answers.clear()
