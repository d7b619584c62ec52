"""The typed wire events :meth:`~qoder.AsyncClient.receive_events` yields, one class per type.

::

    from qoder import events

    async for event in client.receive_events():
        if isinstance(event, events.AgentMessageEvent):
            print(event.content)
        elif isinstance(event, events.SessionStatusIdle) and (
            event.stop_reason is None or event.stop_reason.type != "requires_action"
        ):
            break  # the turn is over (see docs/conversations.md for every way it can end)

Every class is frozen and keeps the JSON it was decoded from in ``raw``. :data:`WireEvent` is
the union of the known types and :class:`UnknownEvent`; :data:`Event`, everything the decoder
makes: :data:`WireEvent`, :class:`MalformedEvent` and :class:`StreamErrorFrame`.
``receive_events()`` yields all but the last: an in-band ``error`` frame is a dropped
connection, which the client resumes. The wire names of the types are in docs/protocol.md §4.
"""

from ._protocol.events import (
    AgentCustomToolUse,
    AgentMCPToolResult,
    AgentMCPToolUse,
    AgentMessageEvent,
    AgentThinking,
    AgentToolResult,
    AgentToolUse,
    Event,
    EventDelta,
    EventStart,
    MalformedEvent,
    ModelUsage,
    SessionDeleted,
    SessionError,
    SessionErrorDetail,
    SessionStatusIdle,
    SessionStatusRescheduled,
    SessionStatusRunning,
    SessionStatusTerminated,
    SpanModelRequestEnd,
    SpanModelRequestStart,
    StopReason,
    StreamErrorFrame,
    Terminated,
    UnknownEvent,
    UserCustomToolResult,
    UserInterrupt,
    UserMessageEvent,
    UserToolConfirmation,
    WireEvent,
)

__all__ = [
    "AgentCustomToolUse",
    "AgentMCPToolResult",
    "AgentMCPToolUse",
    "AgentMessageEvent",
    "AgentThinking",
    "AgentToolResult",
    "AgentToolUse",
    "Event",
    "EventDelta",
    "EventStart",
    "MalformedEvent",
    "ModelUsage",
    "SessionDeleted",
    "SessionError",
    "SessionErrorDetail",
    "SessionStatusIdle",
    "SessionStatusRescheduled",
    "SessionStatusRunning",
    "SessionStatusTerminated",
    "SpanModelRequestEnd",
    "SpanModelRequestStart",
    "StopReason",
    "StreamErrorFrame",
    "Terminated",
    "UnknownEvent",
    "UserCustomToolResult",
    "UserInterrupt",
    "UserMessageEvent",
    "UserToolConfirmation",
    "WireEvent",
]
