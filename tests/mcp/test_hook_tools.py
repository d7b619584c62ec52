"""Hooks around one tool call: a client-side tool between PreToolUse and PostToolUse, and a
PreToolUse outcome as a server-side tool's confirmation."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from qoder import PermissionResultAllow, PermissionResultDeny, tool
from qoder._protocol.effects import CallUser, Returned
from qoder._sync.callables import call_user
from qoder.hooks import (
    HookedToolCall,
    HookMatcher,
    HookOutcome,
    permission_from_hooks,
    run_tool_with_hooks,
)
from qoder.mcp import McpBridge, create_sdk_mcp_server

calls: list[dict[str, Any]] = []


@tool
def remove(path: str) -> str:
    """Removes a file (pretends to)."""
    calls.append({"path": path})
    return f"removed {path}"


@tool
def broken() -> str:
    """Fails."""
    raise OSError("disk on fire")


def pre(decision: str, **more: Any) -> dict[str, Any]:
    output = {"hookEventName": "PreToolUse", "permissionDecision": decision, **more}
    return {"hookSpecificOutput": output}


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


pytestmark = pytest.mark.anyio


async def test_a_deny_skips_the_handler() -> None:
    async def check(data: Any, *_: Any) -> dict[str, Any]:
        if data["tool_input"]["path"].startswith("/etc"):
            return pre("deny", permissionDecisionReason="not /etc")
        return {}

    hooks = {"PreToolUse": [HookMatcher(matcher="remove", hooks=[check])]}
    denied = await run_tool_with_hooks(hooks, remove, {"path": "/etc/passwd"}, "evt_1", "sesn")
    assert denied.ran is False
    assert denied.value == {"content": [{"type": "text", "text": "not /etc"}], "is_error": True}
    allowed = await run_tool_with_hooks(hooks, remove, {"path": "/tmp/x"}, "evt_2", "sesn")
    assert allowed.ran is True
    assert allowed.value == "removed /tmp/x"
    assert calls == [{"path": "/tmp/x"}]


async def test_updated_input_is_what_the_handler_gets() -> None:
    def sandbox(data: Any, *_: Any) -> dict[str, Any]:
        return pre("allow", updatedInput={"path": "/sandbox" + data["tool_input"]["path"]})

    hooks = {"PreToolUse": [HookMatcher(hooks=[sandbox])]}
    result = await run_tool_with_hooks(hooks, remove, {"path": "/tmp/x"}, "evt_1", "sesn")
    assert result.value == "removed /sandbox/tmp/x"


async def test_ask_asks_can_use_tool() -> None:
    seen: list[Any] = []

    def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        seen.append((name, tool_input, context.tool_use_id, context.kind))
        return PermissionResultAllow(updated_input={"path": "/approved"})

    hooks = {"PreToolUse": [HookMatcher(hooks=[lambda *_: pre("ask")])]}
    asked = await run_tool_with_hooks(
        hooks, remove, {"path": "/x"}, "evt_1", "sesn", can_use_tool=can_use_tool
    )
    assert seen == [("remove", {"path": "/x"}, "evt_1", "custom")]
    assert asked.value == "removed /approved"
    unasked = await run_tool_with_hooks(hooks, remove, {"path": "/x"}, "evt_2", "sesn")
    assert unasked.ran is False
    assert "no can_use_tool is set" in unasked.value["content"][0]["text"]

    def refuse(*_: Any) -> bool:
        return False

    refused = await run_tool_with_hooks(
        hooks, remove, {"path": "/x"}, "evt_3", "sesn", can_use_tool=refuse
    )
    assert refused.ran is False


async def test_post_tool_use_sees_the_response_and_may_replace_it() -> None:
    seen: list[Any] = []

    def audit(data: Any, tool_use_id: str | None, _: Any) -> dict[str, Any]:
        seen.append((data["hook_event_name"], data["tool_response"], tool_use_id))
        return {
            "hookSpecificOutput": {
                "hookEventName": "PostToolUse",
                "additionalContext": "audited",
                "updatedMCPToolOutput": "[redacted]",
            },
            "continue_": False,
        }

    hooks = {"PostToolUse": [HookMatcher(hooks=[audit])]}
    result = await run_tool_with_hooks(hooks, remove, {"path": "/x"}, "evt_1", "sesn")
    assert seen == [("PostToolUse", "removed /x", "evt_1")]
    assert result.value == {"content": [{"type": "text", "text": "[redacted]"}], "is_error": False}
    assert result.additional_context == "audited"
    assert result.stop is True


async def test_a_failure_runs_post_tool_use_failure() -> None:
    seen: list[Any] = []

    def on_failure(data: Any, *_: Any) -> None:
        seen.append((data["hook_event_name"], data["error"]))

    hooks = {
        "PostToolUse": [HookMatcher(hooks=[lambda *_: seen.append("post")])],
        "PostToolUseFailure": [HookMatcher(hooks=[on_failure])],
    }
    result = await run_tool_with_hooks(hooks, broken, {}, "evt_1", "sesn")
    assert result.value["is_error"] is True
    assert seen == [("PostToolUseFailure", "Tool 'broken' failed: OSError: disk on fire")]


async def test_bridged_mcp_tools_run_with_hooks_by_their_mcp_names() -> None:
    @tool("add", "Add", {"a": int, "b": int})
    async def add(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    seen: list[str] = []

    async def check(data: Any, *_: Any) -> dict[str, Any]:
        seen.append(data["tool_name"])
        return pre("deny") if data["tool_input"]["a"] < 0 else {}

    hooks = {"PreToolUse": [HookMatcher(matcher="mcp__calc__.*", hooks=[check])]}
    async with McpBridge({"calc": create_sdk_mcp_server("calc", tools=[add])}) as bridge:
        [adder] = bridge.tools()
        ok = await run_tool_with_hooks(hooks, adder, {"a": 1, "b": 2}, "evt_1", "sesn")
        no = await run_tool_with_hooks(hooks, adder, {"a": -1, "b": 2}, "evt_2", "sesn")
    assert ok.value == {"content": [{"type": "text", "text": "3"}], "is_error": False}
    assert no.value["content"][0]["text"] == "The call was denied by a PreToolUse hook."
    assert seen == ["mcp__calc__add", "mcp__calc__add"]


def test_the_sync_facade_runs_it_as_a_user_callable() -> None:
    hooks = {
        "PreToolUse": [HookMatcher(hooks=[lambda *_: pre("deny", permissionDecisionReason="no")])]
    }
    func = functools.partial(run_tool_with_hooks, hooks, remove, {"path": "/x"}, "evt_1", "s")
    outcome = call_user(CallUser(func, (), True))
    assert isinstance(outcome, Returned)
    assert isinstance(outcome.value, HookedToolCall)
    assert outcome.value.ran is False


def test_permission_from_hooks() -> None:
    assert permission_from_hooks(HookOutcome()) is None
    assert permission_from_hooks(HookOutcome(permission_decision="ask")) is None
    assert permission_from_hooks(
        HookOutcome(permission_decision="deny", reason="no", continue_=False)
    ) == PermissionResultDeny(message="no", interrupt=True)
    assert permission_from_hooks(
        HookOutcome(permission_decision="allow", updated_input={"a": 1})
    ) == PermissionResultAllow(updated_input={"a": 1})
