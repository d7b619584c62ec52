"""A session's past turns as the messages a live conversation yields.

:func:`replay` runs a session's persisted events (``GET /sessions/{id}/events``, oldest
first) through the same :class:`~.turn.Conversation` a live client uses, so a chat page can
be rebuilt from history with the code that renders a live turn: the same
``AssistantMessage`` / ``UserMessage`` / ``SystemMessage`` values, and one ``ResultMessage``
per completed turn with usage summed as docs/protocol.md §6.5 says.

Each ``user.message`` that arrives while no turn is underway opens a turn, exactly as if this
client had posted it and the reply had named it (§6.3): correlation, dedupe and results are
the live ones. The prompts themselves, which a live conversation does not hand back, are
yielded as :class:`~.messages.UserMessage` (text and other blocks) when ``prompts`` is true.
A turn still running at the end of the history ends without a ``ResultMessage``. A turn that
stopped on ``requires_action`` reads as it did live when answered by hand (``respond()``):
its ``requires_action`` result, then, from the answers on, the rest of the same logical turn
and the result that covers it all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from .errors import ClientStateError
from .events import Event, UserCustomToolResult, UserMessageEvent, UserToolConfirmation
from .messages import Message, UserMessage
from .outputs import Deliver, Output, TurnState
from .turn import Conversation

__all__ = ["replay"]

_ANSWERS = (UserCustomToolResult, UserToolConfirmation)


def _stopped_for_answers(conversation: Conversation) -> bool:
    last = conversation.last_result
    return last is not None and last.stop_reason == "requires_action"


def replay(
    events: Iterable[Event],
    *,
    session_id: str,
    prompts: bool = True,
    clock: Callable[[], float] = lambda: 0.0,
) -> list[Message]:
    """The messages of the turns that ``events`` (a session's, oldest first) hold.

    ``clock`` times ``duration_ms`` (history has no client-side timing: 0 by default;
    ``duration_api_ms`` comes from the events' own timestamps).
    """
    conversation = Conversation(session_id=session_id, clock=clock)
    messages: list[Message] = []

    def deliver(outputs: list[Output]) -> None:
        messages.extend(output.message for output in outputs if isinstance(output, Deliver))

    for event in events:
        idle = conversation.state is TurnState.IDLE
        if idle and isinstance(event, _ANSWERS) and _stopped_for_answers(conversation):
            with contextlib.suppress(ClientStateError):  # no parked turn: answers of nothing
                deliver(conversation.respond_manually())
        elif isinstance(event, UserMessageEvent) and idle:
            conversation.begin_turn()
            deliver(conversation.on_post_reply({"data": [event.raw]}))
            if prompts:
                messages.append(
                    UserMessage(
                        event.content, uuid=event.id, session_id=session_id, turn_id=event.turn_id
                    )
                )
        deliver(conversation.on_event(event, frame_id=event.id))
    return messages
