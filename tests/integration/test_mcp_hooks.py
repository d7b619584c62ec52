"""MCP servers and hooks on a cloud agent, through every facade, against the served emulator's
default agent: an in-process server and a stdio process bridged as custom tools, a remote one
declared to the agent, and PreToolUse/PostToolUse hooks around client and server tools."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from qoder import PermissionResultAllow, PermissionResultDeny, ResultMessage, SystemMessage, tool
from qoder.errors import PromptBlockedError
from qoder.hooks import HookMatcher
from qoder.mcp import create_sdk_mcp_server
from qoder.testing import ServedCloud
from tests.client.driver import Facade
from tests.integration.support import RecordingCloud, options, result_of

pytestmark = pytest.mark.integration

STDIO_SERVER = Path(__file__).resolve().parents[1] / "mcp" / "stdio_server.py"


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"{args['a'] + args['b']:g}"}]}


@tool("multiply", "Multiply two numbers", {"a": float, "b": float})
async def multiply(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"{args['a'] * args['b']:g}"}]}


@tool
def sum_of(numbers: list[float]) -> float:
    """Add up a list of numbers."""
    return sum(numbers)


def calculator() -> Any:
    return create_sdk_mcp_server(name="calc", version="1.0.0", tools=[add, multiply, sum_of])


def the_agent(cloud: RecordingCloud) -> dict[str, Any]:
    """The agent snapshot of the (only) session the test's client made."""
    (session_id,) = {r.path.split("/")[-3] for r in cloud.stream_requests()}
    agent: dict[str, Any] = cloud.session(session_id)["agent"]
    return agent


def declared_tools(cloud: RecordingCloud) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = the_agent(cloud)["tools"]
    return tools


def test_an_in_process_server_is_declared_and_called(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    with facade.client(options(served, mcp_servers={"calc": calculator()})) as client:
        result = result_of(client.turn("use the mcp__calc__add tool to add 15 and 27"))
    assert result.result == "The mcp__calc__add tool returned 42."
    custom = [t for t in declared_tools(cloud) if t.get("type") == "custom"]
    names = [t["name"] for t in custom]
    assert names == ["mcp__calc__add", "mcp__calc__multiply", "mcp__calc__sum_of"]
    assert custom[0]["input_schema"]["properties"].keys() == {"a", "b"}


def test_a_stdio_server_runs_for_the_session_and_stops(facade: Facade, served: ServedCloud) -> None:
    files = {"type": "stdio", "command": sys.executable, "args": [str(STDIO_SERVER)]}
    with facade.client(options(served, mcp_servers={"files": files})) as client:
        result = result_of(client.turn("use the mcp__files__pid tool"))
        assert result.result is not None
        pid = int(result.result.removeprefix("The mcp__files__pid tool returned ").rstrip("."))
        os.kill(pid, 0)  # alive while connected
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped at disconnect()


def test_a_remote_server_is_declared_to_the_agent(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    docs = {
        "type": "http",
        "url": "https://mcp.example.com/docs",
        "tools": [{"name": "delete", "permission_policy": "always_ask"}],
    }
    with facade.client(options(served, mcp_servers={"docs": docs})):
        pass
    agent = the_agent(cloud)
    assert {"type": "url", "name": "docs", "url": "https://mcp.example.com/docs"} in agent[
        "mcp_servers"
    ]
    toolsets = [t for t in agent["tools"] if t.get("type") == "mcp_toolset"]
    assert toolsets[0]["mcp_server_name"] == "docs"


def test_pre_and_post_tool_use_hooks_around_client_and_server_tools(
    facade: Facade, served: ServedCloud
) -> None:
    seen: list[tuple[str, str]] = []

    async def check_tool(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        seen.append(("pre", hook_input["tool_name"]))
        if hook_input["tool_name"] == "Bash":
            return {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": "No shell from hooks.",
                }
            }
        return {}

    async def audit(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        seen.append(("post", hook_input["tool_name"]))
        return {}

    hooks = {
        "PreToolUse": [HookMatcher(matcher="^mcp__calc__|^Bash$", hooks=[check_tool])],
        "PostToolUse": [HookMatcher(hooks=[audit])],
    }
    opts = options(served, mcp_servers={"calc": calculator()}, hooks=hooks)
    with facade.client(opts) as client:
        added = result_of(client.turn("use the mcp__calc__add tool to add 1 and 2"))
        denied = result_of(client.turn("run the command `ls`"))
        read = result_of(client.turn("read the file README.md"))
    assert added.result == "The mcp__calc__add tool returned 3."
    # Bash is always_allow on this agent: the hook's matcher made it ask, and the hook denied
    assert denied.result == 'The bash tool was denied, so I did not use it: "No shell from hooks."'
    assert read.result is not None
    assert read.result.startswith("Here is README.md:")
    assert seen == [
        ("pre", "mcp__calc__add"),
        ("post", "mcp__calc__add"),
        ("pre", "Bash"),  # its error result goes to PostToolUseFailure, which audit is not on
        ("post", "Read"),  # a server-side tool's result, observed
    ]


def test_a_pre_tool_use_hook_decides_a_confirmation(facade: Facade, served: ServedCloud) -> None:
    async def deny_shell(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "No shell from hooks.",
            }
        }

    def never(*args: Any) -> bool:
        raise AssertionError("can_use_tool was asked although a hook decided")

    hooks = {"PreToolUse": [HookMatcher(matcher="Bash", hooks=[deny_shell])]}
    with facade.client(options(served, hooks=hooks, can_use_tool=never)) as client:
        result = result_of(client.turn("run the command `ls`"))
    assert result.result == 'The bash tool was denied, so I did not use it: "No shell from hooks."'


def test_mcp_tools_follow_the_permission_options(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    asked: list[str] = []

    def decide(name: str, tool_input: dict[str, Any], context: Any) -> PermissionResultDeny:
        asked.append(name)
        return PermissionResultDeny(message="Not now.")

    opts = options(
        served,
        mcp_servers={"calc": calculator()},
        can_use_tool=decide,
        disallowed_tools=["mcp__calc__multiply"],
    )
    with facade.client(opts) as client:
        denied = result_of(client.turn("use the mcp__calc__add tool to add 1 and 2"))
    assert asked == ["mcp__calc__add"]
    assert denied.result == "The mcp__calc__add tool failed: Not now."
    assert [d["tool_name"] for d in denied.permission_denials] == ["mcp__calc__add"]
    names = [t["name"] for t in declared_tools(cloud) if t.get("type") == "custom"]
    assert names == ["mcp__calc__add", "mcp__calc__sum_of"]  # multiply is not declared


def test_allowed_mcp_tools_run_without_asking(facade: Facade, served: ServedCloud) -> None:
    def never(*args: Any) -> bool:
        raise AssertionError("can_use_tool was asked about an allowed tool")

    opts = options(
        served,
        mcp_servers={"calc": calculator()},
        can_use_tool=never,
        allowed_tools=["mcp__calc__add"],
    )
    with facade.client(opts) as client:
        result = result_of(client.turn("use the mcp__calc__add tool to add 1 and 2"))
    assert result.result == "The mcp__calc__add tool returned 3."


# --- the agent's own MCP servers: their tools run on the cloud ----------------------------------

DOCS = {"type": "http", "url": "https://mcp.example.com/docs"}
SEARCH = 'use mcp__docs__search {"q": "bug"}'
STAND_IN = "(the emulator's stand-in for search of the docs MCP server: no server ran)"


def docs_toolset(cloud: RecordingCloud) -> dict[str, Any]:
    (toolset,) = [t for t in declared_tools(cloud) if t.get("type") == "mcp_toolset"]
    return toolset


def test_can_use_tool_decides_an_agent_side_mcp_tool(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    asked: list[tuple[str, str, str | None]] = []

    def decide(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        asked.append((name, context.kind, context.server_name))
        if tool_input.get("q") == "secrets":
            return PermissionResultDeny(message="Not that.")
        return PermissionResultAllow()

    with facade.client(options(served, mcp_servers={"docs": DOCS}, can_use_tool=decide)) as c:
        allowed = result_of(c.turn(SEARCH))
        denied = result_of(c.turn('use mcp__docs__search {"q": "secrets"}'))
    # as in the official SDK, the callback is asked about the agent's MCP tools too, by name
    assert asked == [("mcp__docs__search", "mcp", "docs")] * 2
    assert allowed.result == f"The mcp__docs__search tool returned: {STAND_IN}"
    assert (
        denied.result == 'The mcp__docs__search tool was denied, so I did not use it: "Not that."'
    )
    assert [d["tool_name"] for d in denied.permission_denials] == ["mcp__docs__search"]
    assert docs_toolset(cloud)["default_config"] == {"permission_policy": {"type": "always_ask"}}


def test_allowed_agent_side_mcp_tools_run_without_asking(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    def never(*args: Any) -> bool:
        raise AssertionError("can_use_tool was asked about an allowed tool")

    opts = options(
        served, mcp_servers={"docs": DOCS}, can_use_tool=never, allowed_tools=["mcp__docs__search"]
    )
    with facade.client(opts) as client:
        result = result_of(client.turn(SEARCH))
    assert result.result == f"The mcp__docs__search tool returned: {STAND_IN}"
    assert docs_toolset(cloud)["configs"] == [
        {"name": "search", "permission_policy": {"type": "always_allow"}}
    ]


def test_a_disallowed_agent_side_mcp_tool_is_turned_off(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    opts = options(served, mcp_servers={"docs": DOCS}, disallowed_tools=["mcp__docs__search"])
    with facade.client(opts) as client:
        result = result_of(client.turn(SEARCH))
    assert result.result == (
        "I cannot use the search tool of the docs MCP server: it is not enabled for this session."
    )
    assert docs_toolset(cloud)["configs"] == [{"name": "search", "enabled": False}]


@pytest.mark.parametrize("matcher", ["^mcp__docs__", "mcp__docs__search", None])
def test_a_pre_tool_use_hook_sees_an_agent_side_mcp_tool(
    facade: Facade, served: ServedCloud, matcher: str | None
) -> None:
    seen: list[str] = []

    async def gate(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        seen.append(hook_input["tool_name"])
        if hook_input["tool_input"].get("q") != "secrets":
            return {}  # no decision: the call goes on, as the hook was its only reason to ask
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "No secrets.",
            }
        }

    hooks = {"PreToolUse": [HookMatcher(matcher=matcher, hooks=[gate])]}
    with facade.client(options(served, mcp_servers={"docs": DOCS}, hooks=hooks)) as client:
        allowed = result_of(client.turn(SEARCH))
        denied = result_of(client.turn('use mcp__docs__search {"q": "secrets"}'))
    assert seen == ["mcp__docs__search"] * 2
    assert allowed.result == f"The mcp__docs__search tool returned: {STAND_IN}"
    assert (
        denied.result == 'The mcp__docs__search tool was denied, so I did not use it: "No secrets."'
    )


@pytest.mark.parametrize("matcher", ["mcp__docs__fetch", "^(Bash)$"])
def test_a_hook_that_cannot_select_an_mcp_tool_leaves_it_alone(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud, matcher: str
) -> None:
    async def gate(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        raise AssertionError(f"the hook saw {hook_input['tool_name']}")

    hooks = {"PreToolUse": [HookMatcher(matcher=matcher, hooks=[gate])]}
    with facade.client(options(served, mcp_servers={"docs": DOCS}, hooks=hooks)) as client:
        result = result_of(client.turn(SEARCH))
    assert result.result == f"The mcp__docs__search tool returned: {STAND_IN}"
    toolset = docs_toolset(cloud)
    assert "default_config" not in toolset  # search never asked: no round trip for nothing
    assert toolset.get("configs", []) == (
        [{"name": "fetch", "permission_policy": {"type": "always_ask"}}]
        if matcher == "mcp__docs__fetch"
        else []
    )


# --- hooks of events without a tool -------------------------------------------------------------


def test_user_prompt_submit_blocks_or_adds_context(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    async def screen(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        if "password" in hook_input["prompt"]:
            return {"decision": "block", "reason": "No secrets in prompts."}
        return {
            "hookSpecificOutput": {
                "hookEventName": "UserPromptSubmit",
                "additionalContext": "Answer in French.",
            }
        }

    hooks = {"UserPromptSubmit": [HookMatcher(hooks=[screen])]}
    with facade.client(options(served, hooks=hooks)) as client:
        with pytest.raises(PromptBlockedError, match="No secrets in prompts"):
            client.query("my password is hunter2")
        told = result_of(client.turn("What are your instructions?"))
    assert len(cloud.event_posts()) == 1  # the blocked prompt was never posted
    assert told.result is not None
    assert 'For this turn I was also told: "Answer in French."' in told.result


def test_session_start_and_end_fire_at_connect_and_disconnect(
    facade: Facade, served: ServedCloud
) -> None:
    fired: list[tuple[str, str]] = []

    def note(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        detail = hook_input.get("source") or hook_input.get("reason") or ""
        fired.append((hook_input["hook_event_name"], detail))
        return {}

    hooks = {
        "SessionStart": [HookMatcher(hooks=[note])],
        "SessionEnd": [HookMatcher(hooks=[note])],
    }
    with facade.client(options(served, hooks=hooks)) as client:
        assert fired == [("SessionStart", "startup")]
        session_id = client.session_id
    assert fired == [("SessionStart", "startup"), ("SessionEnd", "other")]
    with facade.client(options(served, hooks=hooks, resume=session_id)):
        pass
    assert fired[2] == ("SessionStart", "resume")


def test_a_stop_hook_continues_the_conversation_a_bounded_number_of_times(
    facade: Facade, served: ServedCloud
) -> None:
    calls: list[bool] = []

    def keep_going(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        calls.append(hook_input["stop_hook_active"])
        return {"decision": "block", "reason": "What's the capital of Spain?"}

    hooks = {"Stop": [HookMatcher(hooks=[keep_going])]}
    with facade.client(options(served, hooks=hooks)) as client:
        messages = client.turn("What's the capital of France?")
    continued = [m for m in messages if isinstance(m, SystemMessage)]
    assert [m.subtype for m in continued] == ["stop_hook_continued"] * 3
    assert continued[0].data["result"].result == "The capital of France is Paris."
    final = messages[-1]
    assert isinstance(final, ResultMessage)
    assert final.result == "The capital of Spain is Madrid."
    assert calls == [False, True, True, True]  # the fourth block is not followed: the bound


def test_post_tool_use_context_goes_to_the_agent_with_the_result(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    def note(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        return {
            "hookSpecificOutput": {
                "hookEventName": "PostToolUse",
                "additionalContext": "The user prefers whole numbers.",
            }
        }

    hooks = {"PostToolUse": [HookMatcher(matcher="mcp__calc__add", hooks=[note])]}
    opts = options(served, mcp_servers={"calc": calculator()}, hooks=hooks)
    with facade.client(opts) as client:
        client.turn("use the mcp__calc__add tool to add 1 and 2")
    posted = [event["type"] for body in cloud.event_posts() for event in body.json()["events"]]
    assert posted == ["user.message", "user.custom_tool_result", "system.message"]


def test_a_pre_tool_use_hook_that_raises_fails_closed(facade: Facade, served: ServedCloud) -> None:
    def broken(hook_input: dict[str, Any], tool_use_id: Any, context: Any) -> Any:
        raise RuntimeError("policy service down")

    hooks = {"PreToolUse": [HookMatcher(matcher="mcp__calc__add", hooks=[broken])]}
    opts = options(served, mcp_servers={"calc": calculator()}, hooks=hooks)
    with facade.client(opts) as client:
        result = result_of(client.turn("use the mcp__calc__add tool to add 1 and 2"))
    assert result.result is not None
    assert result.result.startswith("The mcp__calc__add tool failed: A PreToolUse hook failed")


def test_an_allow_may_rewrite_a_bridged_tools_input(facade: Facade, served: ServedCloud) -> None:
    def double_it(name: str, tool_input: dict[str, Any], context: Any) -> PermissionResultAllow:
        return PermissionResultAllow(updated_input={"a": tool_input["a"] * 2, "b": tool_input["b"]})

    opts = options(served, mcp_servers={"calc": calculator()}, can_use_tool=double_it)
    with facade.client(opts) as client:
        result = result_of(client.turn("use the mcp__calc__add tool to add 1 and 2"))
    assert (
        result.result == "The mcp__calc__add tool returned 4."
    )  # ran with a=2: the client's own tool
