"""The typed wire events of a session stream, one frozen class per event type (docs/protocol.md §4).

Every event keeps the decoded JSON object it came from in ``raw`` (left out of ``repr`` and
equality), so nothing the server sent is lost even when this client does not model a field.
Three classes stand for what is not a well-formed known event:

* :class:`UnknownEvent` — a type this client does not model (new server features, the
  pass-through types of §4.21); never an error.
* :class:`MalformedEvent` — a frame whose data is not a JSON object, whose known fields have the
  wrong JSON type, or that exceeded the frame size limit (§5 rules 9–10). It carries the reason.
* :class:`StreamErrorFrame` — an in-band ``error`` frame: a stream failure, not a
  ``session.error`` (§5 rule 13). The client treats it as a dropped connection and resumes;
  ``receive_events()`` never yields it.

Field types follow the wire; ids and timestamps stay strings. Variants the protocol allows
(older field names, string ``content``) are folded into the canonical fields by the converter.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .blocks import ContentBlock, TextBlock

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


@attrs.frozen(kw_only=True)
class _Envelope:
    """Fields every persisted event may carry (§4.0)."""

    id: str | None = None
    turn_id: str | None = None
    processed_at: str | None = None
    session_thread_id: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


# --- user.* ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UserMessageEvent(_Envelope):
    """``user.message``: a prompt, as echoed on the stream."""

    type: ClassVar[str] = "user.message"
    content: tuple[ContentBlock, ...] = ()


@attrs.frozen(kw_only=True)
class UserInterrupt(_Envelope):
    """``user.interrupt``: a request to stop the running turn."""

    type: ClassVar[str] = "user.interrupt"


@attrs.frozen(kw_only=True)
class UserToolConfirmation(_Envelope):
    """``user.tool_confirmation``: allow or deny a tool call that asked for permission."""

    type: ClassVar[str] = "user.tool_confirmation"
    tool_use_id: str | None = None
    result: str | None = None
    deny_message: str | None = None


@attrs.frozen(kw_only=True)
class UserCustomToolResult(_Envelope):
    """``user.custom_tool_result``: the client's answer to ``agent.custom_tool_use``."""

    type: ClassVar[str] = "user.custom_tool_result"
    custom_tool_use_id: str | None = None
    content: tuple[ContentBlock, ...] = ()
    is_error: bool | None = None


# --- agent.* --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AgentMessageEvent(_Envelope):
    """``agent.message``: one complete message; the only source of a turn's result text."""

    type: ClassVar[str] = "agent.message"
    content: tuple[ContentBlock, ...] = ()


@attrs.frozen(kw_only=True)
class AgentThinking(_Envelope):
    """``agent.thinking``: a progress signal, with text when the server sends it."""

    type: ClassVar[str] = "agent.thinking"
    thinking: str | None = None


@attrs.frozen(kw_only=True)
class AgentToolUse(_Envelope):
    """``agent.tool_use``: a built-in tool call; ``evaluated_permission == "ask"`` waits for
    a ``user.tool_confirmation``."""

    type: ClassVar[str] = "agent.tool_use"
    name: str = ""
    input: dict[str, Any] = attrs.field(factory=dict)
    evaluated_permission: str | None = None


@attrs.frozen(kw_only=True)
class AgentToolResult(_Envelope):
    """``agent.tool_result``: the output of a built-in tool call."""

    type: ClassVar[str] = "agent.tool_result"
    tool_use_id: str | None = None
    content: tuple[ContentBlock, ...] = ()
    is_error: bool | None = None


@attrs.frozen(kw_only=True)
class AgentMCPToolUse(_Envelope):
    """``agent.mcp_tool_use``: a call to a tool of an MCP server."""

    type: ClassVar[str] = "agent.mcp_tool_use"
    name: str = ""
    mcp_server_name: str | None = None
    input: dict[str, Any] = attrs.field(factory=dict)
    evaluated_permission: str | None = None


@attrs.frozen(kw_only=True)
class AgentMCPToolResult(_Envelope):
    """``agent.mcp_tool_result``: the output of an MCP tool call."""

    type: ClassVar[str] = "agent.mcp_tool_result"
    mcp_tool_use_id: str | None = None
    content: tuple[ContentBlock, ...] = ()
    is_error: bool | None = None


@attrs.frozen(kw_only=True)
class AgentCustomToolUse(_Envelope):
    """``agent.custom_tool_use``: the agent calls a tool the client implements."""

    type: ClassVar[str] = "agent.custom_tool_use"
    name: str = ""
    input: dict[str, Any] = attrs.field(factory=dict)


# --- session.* ------------------------------------------------------------------------------


@attrs.frozen
class StopReason:
    """Why a session went idle: ``end_turn``, ``requires_action``, ``retries_exhausted``,
    ``budget_reached`` or a value this client does not know (kept as it is)."""

    type: str | None = None
    event_ids: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class SessionStatusRunning(_Envelope):
    """``session.status_running``: the agent is working."""

    type: ClassVar[str] = "session.status_running"


@attrs.frozen(kw_only=True)
class SessionStatusIdle(_Envelope):
    """``session.status_idle``: the agent stopped; ``stop_reason`` says why."""

    type: ClassVar[str] = "session.status_idle"
    stop_reason: StopReason | None = None


@attrs.frozen(kw_only=True)
class SessionStatusRescheduled(_Envelope):
    """``session.status_rescheduled``: a transient failure the server recovers from."""

    type: ClassVar[str] = "session.status_rescheduled"


@attrs.frozen(kw_only=True)
class SessionStatusTerminated(_Envelope):
    """``session.status_terminated``: final; the session takes no more input."""

    type: ClassVar[str] = "session.status_terminated"
    reason: str | None = None


@attrs.frozen(kw_only=True)
class Terminated(_Envelope):
    """``terminated``: the legacy spelling of :class:`SessionStatusTerminated`."""

    type: ClassVar[str] = "terminated"
    reason: str | None = None


@attrs.frozen
class SessionErrorDetail:
    """The ``error`` object of a ``session.error``.

    ``retry_status`` is ``retrying`` (the server retries; not terminal), ``exhausted``,
    ``terminal``, or ``None`` when absent.
    """

    type: str | None = None
    message: str = ""
    retry_status: str | None = None
    qoder_error_code: str | None = None
    mcp_server_name: str | None = None


@attrs.frozen(kw_only=True)
class SessionError(_Envelope):
    """``session.error``; the legacy string form becomes a detail with only ``message``."""

    type: ClassVar[str] = "session.error"
    error: SessionErrorDetail = attrs.field(factory=SessionErrorDetail)
    code: str | None = None


@attrs.frozen(kw_only=True)
class SessionDeleted(_Envelope):
    """``session.deleted``: the session is gone; the stream closes."""

    type: ClassVar[str] = "session.deleted"


# --- span.* ---------------------------------------------------------------------------------


@attrs.frozen
class ModelUsage:
    """Token counts and credits of one model request; a count the server left out is ``None``.

    Nested legacy objects (``cache_creation``, ``server_tool_use``) stay in ``raw``.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    speed: str | None = None
    credits: float | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class SpanModelRequestStart(_Envelope):
    """``span.model_request_start``: a model request began."""

    type: ClassVar[str] = "span.model_request_start"
    model: str | None = None
    span_id: str | None = None


@attrs.frozen(kw_only=True)
class SpanModelRequestEnd(_Envelope):
    """``span.model_request_end``: a model request ended, with its usage.

    Canonical servers send ``model_usage``; older ones ``usage`` plus a USD cost. When both are
    present only ``model_usage`` counts (§4.18).
    """

    type: ClassVar[str] = "span.model_request_end"
    model_request_start_id: str | None = None
    is_error: bool | None = None
    model_usage: ModelUsage | None = None
    usage: ModelUsage | None = None
    model: str | None = None
    span_id: str | None = None
    total_cost_usd: float | None = None
    cost_usd: float | None = None

    @property
    def effective_usage(self) -> ModelUsage | None:
        """The usage that counts: ``model_usage`` if present, else legacy ``usage``."""
        return self.model_usage if self.model_usage is not None else self.usage


# --- preview frames (§4.20) -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class EventStart(_Envelope):
    """``event_start``: a preview of an event still being produced (never persisted).

    ``event_type`` and ``event_id`` name the final event that will replace the preview.
    """

    type: ClassVar[str] = "event_start"
    event_type: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class EventDelta(_Envelope):
    """``event_delta``: a fragment of a preview; append ``text`` to block ``index``."""

    type: ClassVar[str] = "event_delta"
    event_id: str | None = None
    delta_type: str | None = None
    index: int = 0
    content: TextBlock | None = None


# --- what is not a well-formed known event --------------------------------------------------


@attrs.frozen(kw_only=True)
class UnknownEvent(_Envelope):
    """An event type this client does not model; ``raw`` holds all of it."""

    type: str


@attrs.frozen(kw_only=True)
class MalformedEvent(_Envelope):
    """A frame that could not be decoded into its event class.

    ``type`` is the event type if it could be read, else the SSE event name; ``data`` is the
    frame's data text (empty for an oversized frame); ``reason`` says what was wrong, naming
    the field where there is one. The conversation goes on past it.
    """

    type: str
    data: str = ""
    reason: str = ""
    oversized: bool = False


@attrs.frozen(kw_only=True)
class StreamErrorFrame(_Envelope):
    """An in-band SSE ``error`` frame: the server reports a stream failure (§5 rule 13).

    The client closes the stream and resumes from its cursor.
    """

    type: ClassVar[str] = "error"
    message: str = ""


WireEvent = (
    UserMessageEvent
    | UserInterrupt
    | UserToolConfirmation
    | UserCustomToolResult
    | AgentMessageEvent
    | AgentThinking
    | AgentToolUse
    | AgentToolResult
    | AgentMCPToolUse
    | AgentMCPToolResult
    | AgentCustomToolUse
    | SessionStatusRunning
    | SessionStatusIdle
    | SessionStatusRescheduled
    | SessionStatusTerminated
    | Terminated
    | SessionError
    | SessionDeleted
    | SpanModelRequestStart
    | SpanModelRequestEnd
    | EventStart
    | EventDelta
    | UnknownEvent
)
"""The tagged union the converter structures a wire object into (tag: ``type``)."""

Event = WireEvent | MalformedEvent | StreamErrorFrame
"""Anything the stream decoder can hand out."""
