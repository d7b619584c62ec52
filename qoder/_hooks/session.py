"""The user's hooks as one session's core calls them (:class:`qoder._protocol.config.ToolHooks`).

Built by :func:`qoder.options.resolve_options` from ``QoderAgentOptions.hooks``:
``PreToolUse`` and ``PostToolUse`` (``PostToolUseFailure``) run around every client-side tool
(the ``@tool`` functions and the bridged ``mcp__<server>__<tool>`` tools), and ``PreToolUse``
decides a server-side tool's confirmation before the permission rules and ``can_use_tool``
do. Tool names reach the hooks as the official SDK spells them (``Bash``, ``WebFetch``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._protocol.answers import PermissionDecision
from .._protocol.config import HookVerdict, LocalTool
from .combine import HookOutcome
from .inputs import base_input, post_tool_use_failure_input, post_tool_use_input, pre_tool_use_input
from .matching import matching_callbacks, mcp_names_matched, official_tool_name
from .run import run_hooks
from .tools import HookedToolCall, failed_closed, permission_from_hooks, run_tool_with_hooks

__all__ = ["SessionHooks"]


class SessionHooks:
    """``hooks`` (event name → matchers) with what they need from the options."""

    def __init__(
        self,
        hooks: Mapping[str, Sequence[Any]],
        *,
        can_use_tool: Callable[..., Any] | None = None,
        permission_mode: str | None = None,
    ) -> None:
        self._hooks = hooks
        self._can_use_tool = can_use_tool
        self._permission_mode = permission_mode

    def handles(self, event: str, tool_name: str) -> bool:
        """Whether a callback of ``event`` matches ``tool_name``."""
        if event == "PostToolUse" and matching_callbacks(
            self._hooks, "PostToolUseFailure", official_tool_name(tool_name)
        ):
            return True
        return bool(matching_callbacks(self._hooks, event, official_tool_name(tool_name)))

    async def run_tool(
        self, tool: LocalTool, tool_input: dict[str, Any], tool_use_id: str, session_id: str
    ) -> HookedToolCall:
        """Run a client-side tool between its hooks; never raises (failures are results)."""
        return await run_tool_with_hooks(
            self._hooks,
            tool,
            tool_input,
            tool_use_id,
            session_id,
            can_use_tool=self._can_use_tool,
            permission_mode=self._permission_mode,
        )

    def asked_builtins(self, builtins: Sequence[str]) -> frozenset[str]:
        """The built-in tools (wire names) a ``PreToolUse`` matcher matches."""
        return frozenset(name for name in builtins if self.handles("PreToolUse", name))

    def asked_mcp_tools(self) -> frozenset[str] | None:
        """The agent-side MCP tools (``mcp__<server>__<tool>``) a ``PreToolUse`` matcher
        selects: ``None`` when one may select any (see ``matching.mcp_names_matched``)."""
        names: set[str] = set()
        for entry in self._hooks.get("PreToolUse") or ():
            if not getattr(entry, "hooks", None):
                continue
            matched = mcp_names_matched(getattr(entry, "matcher", None))
            if matched is None:
                return None
            names |= matched
        return frozenset(names)

    async def observe(
        self,
        tool_name: str,
        tool_input: dict[str, Any],
        tool_use_id: str,
        session_id: str,
        response: Any,
        is_error: bool,
    ) -> HookVerdict:
        """Run the ``PostToolUse`` (``PostToolUseFailure``) hooks on a server-side tool's
        result: whether one asked to stop the turn, and context for the agent."""
        name = official_tool_name(tool_name)
        if is_error:
            failure = " ".join(str(b.get("text", "")) for b in response if isinstance(b, dict))
            hook_input: Any = post_tool_use_failure_input(
                session_id,
                name,
                tool_input,
                tool_use_id,
                failure or "the tool failed",
                permission_mode=self._permission_mode,
            )
        else:
            hook_input = post_tool_use_input(
                session_id,
                name,
                tool_input,
                tool_use_id,
                response,
                permission_mode=self._permission_mode,
            )
        return _verdict(await run_hooks(self._hooks, hook_input, tool_use_id))

    def handles_event(self, event: str) -> bool:
        """Whether a callback is registered for ``event`` (an event without a tool)."""
        return bool(matching_callbacks(self._hooks, event, None))

    async def run_event(
        self, event: str, session_id: str, fields: Mapping[str, Any]
    ) -> HookVerdict:
        """Run the hooks of ``UserPromptSubmit``, ``Stop``, ``SessionStart`` or
        ``SessionEnd`` with ``fields`` in their input."""
        hook_input = {
            **base_input(session_id, self._permission_mode, None),
            "hook_event_name": event,
            **fields,
        }
        return _verdict(await run_hooks(self._hooks, hook_input))

    async def decide(
        self, tool_name: str, tool_input: dict[str, Any], tool_use_id: str, session_id: str
    ) -> PermissionDecision | None:
        """The ``PreToolUse`` hooks' decision about a server-side tool's confirmation."""
        hook_input = pre_tool_use_input(
            session_id,
            official_tool_name(tool_name),
            tool_input,
            tool_use_id,
            permission_mode=self._permission_mode,
        )
        outcome = await run_hooks(self._hooks, hook_input, tool_use_id)
        decision = permission_from_hooks(outcome)
        if decision is None and outcome.errors:
            return failed_closed(outcome)
        return decision


def _verdict(outcome: HookOutcome) -> HookVerdict:
    blocked = (outcome.reason or "a hook blocked it") if outcome.blocked else None
    return HookVerdict(
        blocked=blocked, context=outcome.additional_context, stop=not outcome.continue_
    )
