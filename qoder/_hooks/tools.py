"""Hooks around one tool call, as a session runs them: building blocks for the core.

- :func:`permission_from_hooks`: a ``PreToolUse`` outcome as the decision for a server-side
  tool's confirmation (``None``: the hooks leave it to ``can_use_tool`` or a manual answer).
- :func:`run_tool_with_hooks`: a client-side tool (a ``@tool`` or a bridged ``mcp__...``
  tool) with its hooks: ``PreToolUse`` (a deny skips the handler; ``ask`` asks
  ``can_use_tool``; ``updatedInput`` is what the handler gets, a client-side tool can take
  it), then the handler, then ``PostToolUse`` (or ``PostToolUseFailure`` when the handler
  raised or returned an error result), whose ``updatedMCPToolOutput`` / ``updatedToolOutput``
  replaces the result's content. Nothing raises: every failure is an error result.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import anyio.to_thread
import attrs

from .._protocol.answers import (
    PermissionDecision,
    PermissionResultAllow,
    PermissionResultDeny,
    ToolPermissionContext,
    describe_failure,
    result_content,
)
from .combine import HookOutcome
from .inputs import post_tool_use_failure_input, post_tool_use_input, pre_tool_use_input
from .run import run_hooks

__all__ = ["HookedToolCall", "failed_closed", "permission_from_hooks", "run_tool_with_hooks"]

Hooks = Mapping[str, Sequence[Any]]
DENIED = "The call was denied by a PreToolUse hook."


def permission_from_hooks(outcome: HookOutcome) -> PermissionDecision | None:
    """The decision the hooks made for a confirmation: a deny (with the hooks' reason;
    ``interrupt`` when a hook said ``continue_: False``), an allow (with ``updatedInput``,
    which a server-side tool cannot take: the core's usual rule then denies it), or ``None``
    for ``ask`` and no decision."""
    if outcome.permission_decision == "deny":
        return PermissionResultDeny(
            message=outcome.reason or DENIED, interrupt=not outcome.continue_
        )
    if outcome.permission_decision == "allow":
        return PermissionResultAllow(updated_input=outcome.updated_input)
    return None


def failed_closed(outcome: HookOutcome) -> PermissionResultDeny:
    """The denial a ``PreToolUse`` hook that raised or timed out stands for: a permission
    decision fails closed."""
    message = f"A PreToolUse hook failed, so the call is denied: {outcome.errors[0]}"
    return PermissionResultDeny(message=message)


@attrs.frozen
class HookedToolCall:
    """A client-side tool call with its hooks: ``value`` is what to post (the handler's
    return value, or an error result); ``ran`` whether the handler ran."""

    value: Any
    ran: bool
    pre: HookOutcome
    post: HookOutcome = attrs.field(factory=HookOutcome)

    @property
    def additional_context(self) -> str | None:
        """The hooks' ``additionalContext`` for the model (a ``system.message`` placed right
        after the tool result, §8.4)."""
        texts = [t for t in (self.pre.additional_context, self.post.additional_context) if t]
        return "\n".join(texts) if texts else None

    @property
    def stop(self) -> bool:
        """Whether a hook said ``continue_: False`` (the turn is to be interrupted)."""
        return not (self.pre.continue_ and self.post.continue_)


def _error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "is_error": True}


async def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A coroutine function awaited; a sync callable in a worker thread (it may block)."""
    if inspect.iscoroutinefunction(func):
        return await func(*args, **kwargs)
    value = await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
    if inspect.isawaitable(value):
        value = await value
    return value


async def _ask(
    can_use_tool: Callable[..., Any] | None,
    tool: Any,
    tool_input: Mapping[str, Any],
    tool_use_id: str,
    session_id: str,
) -> PermissionDecision:
    if can_use_tool is None:
        return PermissionResultDeny(
            message="A PreToolUse hook asked for permission, and no can_use_tool is set."
        )
    server = getattr(tool, "server", None)
    context = ToolPermissionContext(
        tool_use_id=tool_use_id,
        session_id=session_id,
        kind="mcp" if server else "custom",
        server_name=server,
    )
    try:
        decision = await _call(can_use_tool, tool.name, dict(tool_input), context)
    except Exception as error:
        return PermissionResultDeny(message=f"The permission check failed: {error}")
    if decision is True or isinstance(decision, PermissionResultAllow):
        return decision if isinstance(decision, PermissionResultAllow) else PermissionResultAllow()
    if isinstance(decision, PermissionResultDeny):
        return decision
    return PermissionResultDeny(message="The permission check did not allow the call.")


def _failure_text(value: Any) -> str | None:
    """The text of an error result (``None`` if the value is not one)."""
    try:
        content, is_error = result_content(value)
    except (TypeError, ValueError, AttributeError):
        return None
    if not is_error:
        return None
    texts = [
        b.get("text", "") if isinstance(b, Mapping) else getattr(b, "text", "") for b in content
    ]
    return "\n".join(str(text) for text in texts if text) or "the tool reported an error"


async def run_tool_with_hooks(
    hooks: Hooks | None,
    tool: Any,
    tool_input: Mapping[str, Any],
    tool_use_id: str,
    session_id: str,
    *,
    can_use_tool: Callable[..., Any] | None = None,
    permission_mode: str | None = None,
) -> HookedToolCall:
    """Run a client-side tool (a ``LocalTool``) between its ``PreToolUse`` and
    ``PostToolUse`` / ``PostToolUseFailure`` hooks (see the module's docstring)."""
    name, given = tool.name, dict(tool_input)
    pre_input = pre_tool_use_input(
        session_id, name, given, tool_use_id, permission_mode=permission_mode
    )
    pre = await run_hooks(hooks, pre_input, tool_use_id)
    decision = permission_from_hooks(pre)
    if decision is None and pre.errors:  # a permission decision fails closed
        decision = failed_closed(pre)
    if pre.permission_decision == "ask":
        decision = await _ask(can_use_tool, tool, given, tool_use_id, session_id)
    if isinstance(decision, PermissionResultDeny):
        return HookedToolCall(_error(decision.message or DENIED), ran=False, pre=pre)
    args = dict(pre.updated_input) if pre.updated_input is not None else given
    if isinstance(decision, PermissionResultAllow) and decision.updated_input is not None:
        args = dict(decision.updated_input)
    started = anyio.current_time()
    try:
        if tool.takes_args:
            value = await _call(tool.handler, args)
        else:
            value = await _call(tool.handler, **args)
        failure = _failure_text(value)
    except Exception as error:
        value = _error(describe_failure(name, error))
        failure = describe_failure(name, error)
    elapsed = int((anyio.current_time() - started) * 1000)
    if failure is not None:
        post_input: Any = post_tool_use_failure_input(
            session_id, name, args, tool_use_id, failure, duration_ms=elapsed
        )
    else:
        post_input = post_tool_use_input(
            session_id, name, args, tool_use_id, value, duration_ms=elapsed
        )
    post = await run_hooks(hooks, post_input, tool_use_id)
    if post.updated_tool_output is not None:
        value = {
            "content": [{"type": "text", "text": str(post.updated_tool_output)}],
            "is_error": failure is not None,
        }
    return HookedToolCall(value, ran=True, pre=pre, post=post)
