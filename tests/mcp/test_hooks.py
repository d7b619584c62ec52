"""Hooks: matcher rules, how outputs combine (pure), and running the callbacks."""

from __future__ import annotations

import threading
from typing import Any, cast

import anyio
import pytest
import qoder_agent_sdk

from qoder._hooks.matching import mcp_names_matched
from qoder.hooks import (
    HookMatcher,
    HookOutcome,
    combine_outputs,
    matcher_applies,
    matching_callbacks,
    official_tool_name,
    post_tool_use_input,
    pre_tool_use_input,
    run_hooks,
    run_hooks_sync,
    stop_input,
    user_prompt_submit_input,
)


def deny(reason: str) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }


def decide(decision: str, **more: Any) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            **more,
        }
    }


# --- matchers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "tool", "expected"),
    [
        (None, "Bash", True),
        ("", "anything", True),
        ("*", "mcp__x__y", True),
        ("Bash", "Bash", True),
        ("Bash", "BashOutput", False),  # plain names match exactly
        ("Write|Edit", "Edit", True),
        ("Write|Edit", "MultiEdit", False),
        ("mcp__memory", "mcp__memory__save", False),  # only letters and _: exact
        ("mcp__memory__.*", "mcp__memory__save", True),
        ("^mcp__", "mcp__files__read", True),
        ("mcp__files__.*|Bash", "mcp__files__read", True),
        ("mcp__files__.*|Bash", "Bash", True),
        ("mcp__files__.*|Bash", "mcp__calc__add", False),
        ("Notebook.*", "NotebookEdit", True),
        ("^(Bash)$", "MyBash", False),
        ("Ba.h", "MyBash", True),  # a regular expression is searched, unanchored
        ("Bash", "bash", True),  # the wire's name is matched by its official name
        ("WebFetch", "web_fetch", True),
        ("bash", "bash", True),  # and by the name as given
    ],
)
def test_matcher_rules(matcher: str | None, tool: str, expected: bool) -> None:
    assert matcher_applies(matcher, tool) is expected


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        (None, None),  # every tool
        ("*", None),
        ("^mcp__docs__", None),  # an expression about MCP tools: their names are not known yet
        ("mcp__docs__(search|fetch)", None),
        (".*", None),  # found in any name
        ("mcp__docs__search|Bash", frozenset({"mcp__docs__search"})),  # exact names
        ("Bash", frozenset()),
        ("^(Bash)$", frozenset()),  # an expression that cannot be about MCP tools
        ("Notebook.*", frozenset()),
    ],
)
def test_which_mcp_tools_a_matcher_may_select(
    matcher: str | None, expected: frozenset[str] | None
) -> None:
    assert mcp_names_matched(matcher) == expected


def test_an_invalid_expression_is_refused_when_the_matcher_is_made() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        HookMatcher(matcher="mcp__(")


def test_official_names() -> None:
    assert official_tool_name("web_search") == "WebSearch"
    assert official_tool_name("mcp__calc__add") == "mcp__calc__add"


def test_matching_callbacks_in_registration_order_with_timeouts() -> None:
    def a(*_: Any) -> None: ...
    def b(*_: Any) -> None: ...
    def c(*_: Any) -> None: ...

    hooks = {
        "PreToolUse": [
            HookMatcher(matcher="Bash", hooks=[a, b], timeout=5),
            HookMatcher(hooks=[c]),
            HookMatcher(matcher="Read", hooks=[c]),
        ],
        "Stop": [HookMatcher(matcher="Bash", hooks=[a])],
    }
    assert matching_callbacks(hooks, "PreToolUse", "bash") == [(a, 5.0), (b, 5.0), (c, 60.0)]
    assert matching_callbacks(hooks, "PreToolUse", "mcp__calc__add") == [(c, 60.0)]
    assert matching_callbacks(hooks, "PostToolUse", "bash") == []
    assert matching_callbacks(hooks, "Stop") == [(a, 60.0)]  # no tool: matchers ignored
    assert matching_callbacks(None, "PreToolUse", "bash") == []


def test_the_official_hook_matcher_is_accepted() -> None:
    async def check(*_: Any) -> dict[str, Any]:
        return {}

    official = qoder_agent_sdk.HookMatcher(matcher="Bash", hooks=[cast(Any, check)])
    hooks = {"PreToolUse": [official]}
    assert matching_callbacks(hooks, "PreToolUse", "bash") == [(check, 60.0)]


# --- combining -----------------------------------------------------------------------------


def test_nothing_decides_nothing() -> None:
    assert combine_outputs("PreToolUse", [None, {}, {"async_": True}, "text"]) == HookOutcome()


def test_a_deny_from_any_hook_wins() -> None:
    outcome = combine_outputs(
        "PreToolUse",
        [decide("allow"), deny("no rm"), decide("ask"), deny("no sudo")],
    )
    assert outcome.permission_decision == "deny"
    assert outcome.denied
    assert outcome.reason == "no rm\nno sudo"


def test_ask_wins_over_allow_and_defer_decides_nothing() -> None:
    outcome = combine_outputs(
        "PreToolUse",
        [decide("allow", permissionDecisionReason="fine"), decide("ask"), decide("defer")],
    )
    assert outcome.permission_decision == "ask"
    assert outcome.reason is None
    assert combine_outputs("PreToolUse", [decide("defer")]).permission_decision is None


def test_legacy_decisions() -> None:
    blocked = combine_outputs("PreToolUse", [{"decision": "block", "reason": "old style"}])
    assert blocked.denied
    assert blocked.reason == "old style"
    approved = combine_outputs("PreToolUse", [{"decision": "approve"}])
    assert approved.permission_decision == "allow"


def test_the_last_updated_input_wins_unless_denied() -> None:
    outputs = [
        decide("allow", updatedInput={"command": "ls"}),
        decide("allow", updatedInput={"command": "ls -l"}),
    ]
    assert combine_outputs("PreToolUse", outputs).updated_input == {"command": "ls -l"}
    assert combine_outputs("PreToolUse", [*outputs, deny("no")]).updated_input is None


def test_stopping_messages_and_context() -> None:
    outcome = combine_outputs(
        "PostToolUse",
        [
            {"systemMessage": "one", "continue_": False, "stopReason": "enough"},
            {"systemMessage": "two", "continue": False},
            {
                "hookSpecificOutput": {
                    "hookEventName": "PostToolUse",
                    "additionalContext": "ctx",
                    "updatedMCPToolOutput": "rewritten",
                }
            },
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "additionalContext": "no"}},
            {"suppressOutput": True},
        ],
        errors=["a hook failed"],
    )
    assert outcome.continue_ is False
    assert outcome.stop_reason == "enough"
    assert outcome.system_message == "one\ntwo"
    assert outcome.additional_context == "ctx"  # another event's output is ignored
    assert outcome.updated_tool_output == "rewritten"
    assert outcome.suppress_output is True
    assert outcome.permission_decision is None  # only PreToolUse decides permissions
    assert outcome.errors == ("a hook failed",)


def test_block_on_other_events() -> None:
    outcome = combine_outputs("UserPromptSubmit", [{"decision": "block", "reason": "secret"}])
    assert outcome.blocked
    assert outcome.reason == "secret"
    assert not outcome.denied


# --- inputs --------------------------------------------------------------------------------


def test_inputs_are_shaped_as_the_official_ones() -> None:
    pre = pre_tool_use_input(
        "sesn_1", "bash", {"command": "ls"}, "evt_2", permission_mode="default"
    )
    assert pre == {
        "session_id": "sesn_1",
        "transcript_path": "",
        "cwd": "",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_use_id": "evt_2",
    }
    post = post_tool_use_input(
        "sesn_1", "mcp__calc__add", {"a": 1}, "evt_3", {"x": 1}, duration_ms=4
    )
    assert post["tool_response"] == {"x": 1}
    assert post.get("duration_ms") == 4
    assert post["hook_event_name"] == "PostToolUse"
    assert user_prompt_submit_input("s", "hi")["prompt"] == "hi"
    assert stop_input("s", last_assistant_message="bye")["stop_hook_active"] is False


# --- running -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_run_hooks_calls_sync_and_async_callbacks_with_the_official_arguments() -> None:
    calls: list[tuple[str, Any, Any, Any]] = []

    async def check_tool(data: Any, tool_use_id: str | None, context: Any) -> dict[str, Any]:
        calls.append(("async", data["tool_name"], tool_use_id, context))
        if "rm" in data["tool_input"].get("command", ""):
            return deny("no rm")
        return decide("allow")

    def audit(data: Any, tool_use_id: str | None, context: Any) -> None:
        calls.append(("sync", data["tool_name"], tool_use_id, threading.current_thread().name))
        data["tool_input"]["command"] = "mutated"  # each callback has its own copy

    hooks = {
        "PreToolUse": [
            HookMatcher(matcher="mcp__files__.*|Bash", hooks=[check_tool]),
            HookMatcher(hooks=[audit]),
        ]
    }
    data = pre_tool_use_input("s", "bash", {"command": "rm -rf /"}, "evt_1")
    outcome = await run_hooks(hooks, data, "evt_1")
    assert outcome.denied
    assert outcome.reason == "no rm"
    assert data["tool_input"] == {"command": "rm -rf /"}
    assert sorted(call[0] for call in calls) == ["async", "sync"]
    assert ("async", "Bash", "evt_1", {}) in calls
    [sync_call] = [call for call in calls if call[0] == "sync"]
    assert sync_call[3] != threading.current_thread().name  # a worker thread
    other = pre_tool_use_input("s", "mcp__calc__add", {"a": 1}, "evt_2")
    assert (await run_hooks(hooks, other, "evt_2")).permission_decision is None


@pytest.mark.anyio
async def test_a_callback_that_raises_or_times_out_decides_nothing() -> None:
    never = anyio.Event()

    async def hangs(*_: Any) -> dict[str, Any]:
        await never.wait()
        return deny("too late")

    async def raises(*_: Any) -> dict[str, Any]:
        raise RuntimeError("broken hook")

    async def allows(*_: Any) -> dict[str, Any]:
        return decide("allow")

    hooks = {
        "PreToolUse": [
            HookMatcher(hooks=[hangs], timeout=0.05),
            HookMatcher(hooks=[raises, allows]),
        ]
    }
    outcome = await run_hooks(hooks, pre_tool_use_input("s", "read", {}, "evt_1"), "evt_1")
    assert outcome.permission_decision == "allow"
    assert len(outcome.errors) == 2
    assert "timed out after 0.05s" in outcome.errors[0]
    assert "RuntimeError('broken hook')" in outcome.errors[1]


@pytest.mark.anyio
async def test_outputs_combine_in_registration_order_not_finishing_order() -> None:
    first_may_finish = anyio.Event()

    async def slow(*_: Any) -> dict[str, Any]:
        await first_may_finish.wait()
        return decide("allow", updatedInput={"v": "slow"})

    async def fast(*_: Any) -> dict[str, Any]:
        first_may_finish.set()
        return decide("allow", updatedInput={"v": "fast"})

    hooks = {"PreToolUse": [HookMatcher(hooks=[slow, fast])]}
    outcome = await run_hooks(hooks, pre_tool_use_input("s", "x", {}, "e"), "e")
    assert outcome.updated_input == {"v": "fast"}  # the last registered, though it finished first


def test_run_hooks_sync() -> None:
    async def check(data: Any, *_: Any) -> dict[str, Any]:
        return {"systemMessage": data["prompt"].upper()}

    hooks = {"UserPromptSubmit": [HookMatcher(matcher="ignored", hooks=[check])]}
    outcome = run_hooks_sync(hooks, user_prompt_submit_input("s", "hello"))
    assert outcome.system_message == "HELLO"
    assert run_hooks_sync({}, user_prompt_submit_input("s", "hello")) == HookOutcome()


@pytest.mark.anyio
async def test_run_hooks_sync_inside_a_running_loop_uses_a_worker_thread() -> None:
    def check(*_: Any) -> dict[str, Any]:
        return deny("no")

    hooks = {"PreToolUse": [HookMatcher(hooks=[check])]}
    outcome = run_hooks_sync(hooks, pre_tool_use_input("s", "bash", {}, "e"))
    assert outcome.denied
