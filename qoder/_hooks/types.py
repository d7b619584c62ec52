"""The hook inputs, outputs and matcher, shaped as the official SDK's (``qoder-agent-sdk``).

Inputs are TypedDicts keyed by ``hook_event_name``; a callback is called as
``callback(input, tool_use_id, context)`` and returns a :class:`SyncHookJSONOutput` (or the
official ``{"async_": True}``, which decides nothing). Sync callbacks are accepted too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict

import attrs

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover
    from typing_extensions import NotRequired

__all__ = [
    "AsyncHookJSONOutput",
    "BaseHookInput",
    "HookCallback",
    "HookContext",
    "HookEvent",
    "HookInput",
    "HookJSONOutput",
    "HookMatcher",
    "PermissionDecisionValue",
    "PostToolUseFailureHookInput",
    "PostToolUseFailureHookSpecificOutput",
    "PostToolUseHookInput",
    "PostToolUseHookSpecificOutput",
    "PreToolUseHookInput",
    "PreToolUseHookSpecificOutput",
    "StopHookInput",
    "SyncHookJSONOutput",
    "UserPromptSubmitHookInput",
    "UserPromptSubmitHookSpecificOutput",
]

HookEvent = Literal["PreToolUse", "PostToolUse", "PostToolUseFailure", "UserPromptSubmit", "Stop"]
"""The events a cloud session can run on the client (the official SDK has more)."""

PermissionDecisionValue = Literal["allow", "deny", "ask", "defer"]


class BaseHookInput(TypedDict):
    """What every hook input holds (``transcript_path`` and ``cwd`` are ``""`` for a cloud
    session: the transcript and the working directory are on the server)."""

    session_id: str
    transcript_path: str
    cwd: str
    model: NotRequired[str]
    permission_mode: NotRequired[str]


class PreToolUseHookInput(BaseHookInput):
    hook_event_name: Literal["PreToolUse"]
    tool_name: str
    tool_input: dict[str, Any]
    tool_use_id: str


class PostToolUseHookInput(BaseHookInput):
    hook_event_name: Literal["PostToolUse"]
    tool_name: str
    tool_input: dict[str, Any]
    tool_response: Any
    tool_use_id: str
    duration_ms: NotRequired[int]


class PostToolUseFailureHookInput(BaseHookInput):
    hook_event_name: Literal["PostToolUseFailure"]
    tool_name: str
    tool_input: dict[str, Any]
    tool_use_id: str
    error: str
    is_interrupt: NotRequired[bool]
    duration_ms: NotRequired[int]


class UserPromptSubmitHookInput(BaseHookInput):
    hook_event_name: Literal["UserPromptSubmit"]
    prompt: str


class StopHookInput(BaseHookInput):
    hook_event_name: Literal["Stop"]
    stop_hook_active: bool
    last_assistant_message: NotRequired[str]


HookInput = (
    PreToolUseHookInput
    | PostToolUseHookInput
    | PostToolUseFailureHookInput
    | UserPromptSubmitHookInput
    | StopHookInput
)


class HookContext(TypedDict, total=False):
    """Reserved, as in the official SDK (empty)."""


class PreToolUseHookSpecificOutput(TypedDict):
    hookEventName: Literal["PreToolUse"]
    permissionDecision: NotRequired[PermissionDecisionValue]
    permissionDecisionReason: NotRequired[str]
    updatedInput: NotRequired[dict[str, Any]]
    additionalContext: NotRequired[str]


class PostToolUseHookSpecificOutput(TypedDict):
    hookEventName: Literal["PostToolUse"]
    additionalContext: NotRequired[str]
    updatedToolOutput: NotRequired[str]
    updatedMCPToolOutput: NotRequired[str]


class PostToolUseFailureHookSpecificOutput(TypedDict):
    hookEventName: Literal["PostToolUseFailure"]
    additionalContext: NotRequired[str]


class UserPromptSubmitHookSpecificOutput(TypedDict):
    hookEventName: Literal["UserPromptSubmit"]
    additionalContext: NotRequired[str]


HookSpecificOutput = (
    PreToolUseHookSpecificOutput
    | PostToolUseHookSpecificOutput
    | PostToolUseFailureHookSpecificOutput
    | UserPromptSubmitHookSpecificOutput
)


class SyncHookJSONOutput(TypedDict, total=False):
    """A callback's answer; ``continue_`` stands for the wire's ``continue`` (``continue``
    is accepted as well)."""

    continue_: bool
    suppressOutput: bool
    stopReason: str
    decision: Literal["block"]
    systemMessage: str
    reason: str
    hookSpecificOutput: HookSpecificOutput


class AsyncHookJSONOutput(TypedDict):
    async_: Literal[True]
    asyncTimeout: NotRequired[int]


HookJSONOutput = AsyncHookJSONOutput | SyncHookJSONOutput

HookCallback = Callable[[Any, str | None, HookContext], Any]
"""``callback(input, tool_use_id, context)``, async as the official SDK has it, or sync,
returning a :data:`HookJSONOutput` (or an awaitable of one; ``None`` decides nothing)."""


def _check_matcher(_: Any, __: Any, value: str | None) -> None:
    from .matching import compile_matcher

    if value is not None:
        compile_matcher(value)


@attrs.define
class HookMatcher:
    """Which callbacks run for which tool: ``matcher`` is ``None`` (every tool), a name or
    names joined by ``|`` (exact), or a regular expression (see :mod:`qoder.hooks`);
    ``timeout`` is in seconds for each callback (default 60)."""

    matcher: str | None = attrs.field(default=None, validator=_check_matcher)
    hooks: Sequence[HookCallback] = attrs.field(factory=list)
    timeout: float | None = None
