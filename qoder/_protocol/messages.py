"""The conversation messages users read, as the official SDK names them.

A turn yields :class:`AssistantMessage` for what the agent says or calls, :class:`UserMessage`
for tool results fed back to it, :class:`SystemMessage` for session notices (status changes,
errors the server is retrying), :class:`StreamEvent` for partial previews when
``include_partial_messages`` is on, and ends with one :class:`ResultMessage`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .blocks import ContentBlock, ToolUseBlock

__all__ = [
    "AssistantMessage",
    "Message",
    "ResultMessage",
    "StreamEvent",
    "SystemMessage",
    "Usage",
    "UserMessage",
]


@attrs.frozen
class UserMessage:
    """Content fed to the agent: tool results, as the official SDK reports them."""

    content: tuple[ContentBlock, ...] | str
    uuid: str | None = None
    parent_tool_use_id: str | None = None
    session_id: str | None = None
    turn_id: str | None = None


@attrs.frozen
class AssistantMessage:
    """What the agent said, thought or called: text, thinking or tool-use blocks.

    ``uuid`` is the id of the wire event it came from; ``model`` is the model of the request
    that produced it when the stream named one, else ``""``.
    """

    content: tuple[ContentBlock, ...]
    model: str = ""
    uuid: str | None = None
    parent_tool_use_id: str | None = None
    session_id: str | None = None
    turn_id: str | None = None
    error: str | None = None


@attrs.frozen
class SystemMessage:
    """A session notice: ``subtype`` names it, ``data`` is the wire event's JSON object.

    Subtypes: ``session_error`` (every ``session.error``, including those the server is still
    retrying), ``status_rescheduled``, and ``stop_hook_continued`` (a ``Stop`` hook blocked
    the end of the turn: ``data`` holds its ``reason`` and the turn's earlier ``result``, and
    the reason was posted as the next prompt).
    """

    subtype: str
    data: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class StreamEvent:
    """A partial preview of a message still being written (``include_partial_messages``).

    ``event`` is shaped as the official SDK's partial events are: ``message_start``,
    ``content_block_start``, ``content_block_delta`` (``text_delta`` / ``thinking_delta``),
    ``content_block_stop``, ``message_stop`` (see :mod:`qoder._protocol.partials`).
    ``preview`` is the wire frame it came from (``event_start`` or ``event_delta``, §4.20),
    ``None`` for the events no frame marks (the stops, a block's start). ``uuid`` is the id
    of the event the preview stands for.
    """

    uuid: str
    session_id: str
    event: dict[str, Any]
    parent_tool_use_id: str | None = None
    preview: dict[str, Any] | None = None


_TOKEN_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


@attrs.frozen
class Usage(Mapping[str, Any]):
    """Token counts summed over the model requests of a turn; ``None`` where no request
    reported that count (a missing count stays absent, not zero).

    It is also a read-only mapping, as the official SDK's ``usage`` dict is read
    (``usage["input_tokens"]``, ``usage.get("output_tokens", 0)``): there the four token
    counts are always present (0 when unreported, as the official ``NonNullableUsage``),
    with the :attr:`extra` counters beside them.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    extra: dict[str, float] = attrs.field(factory=dict)
    """Sums of nested legacy counters, keyed by dotted name
    (``server_tool_use.web_search_requests``)."""

    def to_dict(self) -> dict[str, Any]:
        """The counts present, as a plain dict (the shape the official SDK's ``usage`` has)."""
        out: dict[str, Any] = {
            name: value for name in _TOKEN_COUNTS if (value := getattr(self, name)) is not None
        }
        out.update(self.extra)
        return out

    def __getitem__(self, key: str) -> Any:
        if key in _TOKEN_COUNTS:
            return getattr(self, key) or 0
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        yield from _TOKEN_COUNTS
        yield from self.extra

    def __len__(self) -> int:
        return len(_TOKEN_COUNTS) + len(self.extra)


@attrs.frozen
class ResultMessage:
    """The end of a turn, always the last message :meth:`receive_response` yields.

    ``subtype`` is ``"success"``, ``"error_max_budget"`` (the session's credit budget),
    ``"error_max_turns"`` or ``"error_max_budget_usd"`` (a limit of the options, enforced by the
    client) or ``"error_during_execution"``; ``terminal_reason`` says exactly what ended the
    turn (``end_turn``, ``requires_action``, ``retries_exhausted``, ``budget_reached``,
    ``interrupted``, ``session_error``, ``terminated``, ``deleted``, ``stream_lost``,
    ``buffer_overflow``, ``protocol_error``, ``client_error``). ``result`` joins the text of
    every agent message of the turn. ``usage`` sums every model request of the turn;
    ``total_credits`` and ``total_cost_usd`` are ``None`` when the server reported none.
    """

    subtype: str
    duration_ms: int
    duration_api_ms: int
    is_error: bool
    num_turns: int
    session_id: str
    stop_reason: str | None = None
    total_cost_usd: float | None = None
    usage: Usage = attrs.field(factory=Usage)
    result: str | None = None
    model_usage: dict[str, Usage] = attrs.field(factory=dict)
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    terminal_reason: str | None = None
    total_credits: float | None = None
    num_model_requests: int = 0
    turn_ids: tuple[str, ...] = ()
    pending_tool_uses: tuple[ToolUseBlock, ...] = ()
    """Tool calls still waiting for an answer when the turn ended on ``requires_action``."""
    permission_denials: tuple[dict[str, str], ...] = ()
    """The confirmations the client denied in this turn (by its rules or ``can_use_tool``):
    ``tool_name``, ``tool_use_id``, ``message``, ``session_id``, as the official SDK lists
    them."""
    structured_output: Any = None
    """Always ``None``: Cloud Agents has no structured output (kept for ported code)."""


Message = UserMessage | AssistantMessage | SystemMessage | ResultMessage | StreamEvent
"""Any message :meth:`receive_response` and :meth:`receive_messages` yield."""
