"""The answers a client posts to a turn's tool calls, built from what the user's code gave.

A handler's return value or exception becomes a ``user.custom_tool_result`` (§4.4); a
``can_use_tool`` decision, or its failure, a ``user.tool_confirmation`` (§4.3); the answers a
caller gives ``respond()`` by hand become the same events. A failure is never raised into the
conversation: the agent sees it as an error result or a denial with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import requests as rq
from .answers import (
    PermissionDecision,
    PermissionResultDeny,
    ToolPermissionContext,
    decide,
    describe_failure,
    interrupts,
    result_content,
    rewrites_input,
)
from .effects import EffectResult, Raised, Returned
from .events import AgentMCPToolUse
from .outputs import AskPermission, RunCustomTool
from .permissions import mcp_tool_name

__all__ = ["confirmation", "manual_answers", "permission_args", "tool_result"]

logger = logging.getLogger("qoder")


def tool_result(answer: RunCustomTool, outcome: EffectResult) -> dict[str, Any]:
    """The ``user.custom_tool_result`` for a handler's outcome; a failure, or a value that
    cannot be sent, becomes an error result the agent sees."""
    name = answer.event.name
    error: BaseException | None = outcome.error if isinstance(outcome, Raised) else None
    if error is None:
        value = outcome.value if isinstance(outcome, Returned) else None
        try:
            content, is_error = result_content(value)
            return rq.custom_tool_result(answer.tool_use_id, content, is_error=is_error or None)
        except (TypeError, ValueError, AttributeError) as bad_value:
            error = TypeError(f"its return value cannot be sent: {bad_value}")
    logger.warning("custom tool %r failed: %s", name, type(error).__name__)
    content, _ = result_content(describe_failure(name, error))
    return rq.custom_tool_result(answer.tool_use_id, content, is_error=True)


def permission_args(answer: AskPermission, session_id: str) -> tuple[str, dict[str, Any], Any]:
    """The ``can_use_tool(tool_name, input, context)`` arguments for a permission request. An
    agent-side MCP tool is named ``mcp__<server>__<tool>``, as the official SDK and the
    permission rules name it (``context.server_name`` is its server)."""
    event = answer.event
    server = event.mcp_server_name if isinstance(event, AgentMCPToolUse) else None
    context = ToolPermissionContext(
        tool_use_id=answer.tool_use_id,
        session_id=session_id,
        kind="mcp" if isinstance(event, AgentMCPToolUse) else "builtin",
        server_name=server,
    )
    name = mcp_tool_name(server, event.name) if server else event.name
    return name, dict(event.input), context


def confirmation(answer: AskPermission, outcome: EffectResult) -> tuple[dict[str, Any], bool]:
    """The ``user.tool_confirmation`` for what ``can_use_tool`` returned, and whether the
    turn is to be interrupted after it (a denial with ``interrupt=True``). If the callback
    raised, the call is denied and the model told why."""
    if isinstance(outcome, Returned):
        decision = outcome.value
    else:
        error = outcome.error if isinstance(outcome, Raised) else None
        logger.warning("can_use_tool raised %s; the tool call is denied", type(error).__name__)
        decision = PermissionResultDeny(message=f"The permission check failed: {error}")
    return _confirm(answer.tool_use_id, decision, answer.event.input), interrupts(decision)


def _confirm(
    tool_use_id: str, decision: Any, tool_input: Mapping[str, Any] | None
) -> dict[str, Any]:
    if rewrites_input(decision, tool_input):
        logger.warning(
            "can_use_tool allowed %s with an updated_input, which a server-side tool cannot "
            "take (docs/protocol.md §4.3); the call is denied",
            tool_use_id,
        )
    allow, message = decide(decision, tool_input)
    return rq.tool_confirmation(tool_use_id, allow=allow, deny_message=message)


def manual_answers(
    tool_results: Mapping[str, Any] | None,
    confirmations: Mapping[str, PermissionDecision | bool] | None,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The events ``respond()`` posts: tool results by call id, then decisions by call id
    (``inputs``: each pending call's input, to refuse an allow that rewrites it), then a
    ``user.interrupt`` if a denial asks for one."""
    events: list[dict[str, Any]] = []
    for tool_use_id, value in (tool_results or {}).items():
        content, is_error = result_content(value)
        events.append(rq.custom_tool_result(tool_use_id, content, is_error=is_error or None))
    interrupt = False
    for tool_use_id, decision in (confirmations or {}).items():
        events.append(_confirm(tool_use_id, decision, (inputs or {}).get(tool_use_id)))
        interrupt = interrupt or interrupts(decision)
    if not events:
        raise ValueError("respond() needs at least one tool result or confirmation")
    if interrupt:
        events.append(rq.interrupt())
    return events
