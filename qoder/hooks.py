"""Hooks: your code around the agent's tool calls, in the official SDK's shapes.

::

    async def check_tool(input, tool_use_id, context):
        if "rm -rf" in input["tool_input"].get("command", ""):
            return {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                    "permissionDecision": "deny", "permissionDecisionReason": "No."}}
        return {}

    hooks = {"PreToolUse": [HookMatcher(matcher="mcp__files__.*|Bash", hooks=[check_tool])]}

Matchers follow the official rules (:mod:`qoder._hooks.matching`): ``None``/``""``/``"*"``
match every tool, a ``|``-list of plain names matches exactly, anything else is a regular
expression searched in the tool's official name. The callbacks of one event run concurrently
within their matcher's ``timeout`` (60 s by default), and their outputs combine in
registration order (:mod:`qoder._hooks.combine`): a deny from any ``PreToolUse`` callback
wins over ask, which wins over allow; the last ``updatedInput`` wins unless the call is
denied; any ``continue_: False`` stops; messages and contexts are all kept. A callback that
raises or times out decides nothing (it is logged, and listed in ``HookOutcome.errors``).
"""

from __future__ import annotations

from ._hooks.combine import HookOutcome, combine_outputs
from ._hooks.inputs import (
    post_tool_use_failure_input,
    post_tool_use_input,
    pre_tool_use_input,
    stop_input,
    user_prompt_submit_input,
)
from ._hooks.matching import (
    DEFAULT_TIMEOUT,
    compile_matcher,
    matcher_applies,
    matching_callbacks,
    official_tool_name,
)
from ._hooks.run import run_hooks, run_hooks_sync
from ._hooks.tools import HookedToolCall, permission_from_hooks, run_tool_with_hooks
from ._hooks.types import (
    AsyncHookJSONOutput,
    BaseHookInput,
    HookCallback,
    HookContext,
    HookEvent,
    HookInput,
    HookJSONOutput,
    HookMatcher,
    PostToolUseFailureHookInput,
    PostToolUseFailureHookSpecificOutput,
    PostToolUseHookInput,
    PostToolUseHookSpecificOutput,
    PreToolUseHookInput,
    PreToolUseHookSpecificOutput,
    StopHookInput,
    SyncHookJSONOutput,
    UserPromptSubmitHookInput,
    UserPromptSubmitHookSpecificOutput,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncHookJSONOutput",
    "BaseHookInput",
    "HookCallback",
    "HookContext",
    "HookEvent",
    "HookInput",
    "HookJSONOutput",
    "HookMatcher",
    "HookOutcome",
    "HookedToolCall",
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
    "combine_outputs",
    "compile_matcher",
    "matcher_applies",
    "matching_callbacks",
    "official_tool_name",
    "permission_from_hooks",
    "post_tool_use_failure_input",
    "post_tool_use_input",
    "pre_tool_use_input",
    "run_hooks",
    "run_hooks_sync",
    "run_tool_with_hooks",
    "stop_input",
    "user_prompt_submit_input",
]
