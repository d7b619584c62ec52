"""§8.3: the built-in toolset and the MCP toolsets, their permission policies, and how a
scripted tool use follows them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud, ScriptedAgent
from qoder.testing._snapshot import AgentSnapshot

from .helpers import confirmation, new_session, post_events, post_message, text_of, waiting_ids

ASK = {"type": "always_ask"}
ALLOW = {"type": "always_allow"}


def snapshot(*tools: dict[str, Any]) -> AgentSnapshot:
    return AgentSnapshot(tools=tools)


def toolset(**keys: Any) -> dict[str, Any]:
    return {"type": "agent_toolset_20260401", **keys}


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


# -- evaluating the policies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "tool", "expected"),
    [
        (toolset(), "bash", "allow"),  # nothing said: always_allow
        (toolset(), "web_search", "allow"),
        (toolset(), "Bash", "allow"),  # the official SDK's names map to the wire's
        (toolset(), "WebFetch", "allow"),
        (toolset(), "teleport", None),  # not a built-in tool
        (toolset(enabled_tools=["read"]), "read", "allow"),
        (toolset(enabled_tools=["read"]), "bash", None),
        (toolset(enabled_tools=["Read"]), "read", "allow"),
        (toolset(disallowed_tools=["bash"]), "bash", None),
        (toolset(disallowed_tools=["Bash"]), "bash", None),
        (toolset(disallowed_tools=["bash"]), "read", "allow"),
        (toolset(configs=[{"name": "bash", "permission_policy": ASK}]), "bash", "ask"),
        (toolset(configs=[{"name": "bash", "permission_policy": ASK}]), "read", "allow"),
        (toolset(configs=[{"name": "bash", "enabled": False}]), "bash", None),
        (toolset(default_config={"permission_policy": ASK}), "grep", "ask"),
        (toolset(default_config={"enabled": False}), "grep", None),
        (
            toolset(
                default_config={"enabled": False},
                configs=[{"name": "grep", "enabled": True}],
            ),
            "grep",
            "allow",
        ),
        (
            toolset(
                default_config={"permission_policy": ASK},
                configs=[{"name": "read", "permission_policy": ALLOW}],
            ),
            "read",
            "allow",
        ),
        (
            toolset(
                default_config={"permission_policy": ALLOW},
                configs=[{"name": "read", "permission_policy": {"type": "something_new"}}],
            ),
            "read",
            "ask",  # an unknown policy is read cautiously
        ),
    ],
)
def test_builtin_permission(entry: dict[str, Any], tool: str, expected: str | None) -> None:
    assert snapshot(entry).builtin_permission(tool) == expected


def test_no_toolset_means_no_builtin_tools() -> None:
    agent = snapshot({"type": "custom", "name": "add"})
    assert not agent.has_builtin_toolset
    assert agent.builtin_permission("bash") is None
    assert [tool["name"] for tool in agent.custom_tools] == ["add"]


def test_mcp_permission() -> None:
    agent = snapshot(
        {
            "type": "mcp_toolset",
            "mcp_server_name": "docs",
            "configs": [{"name": "delete", "permission_policy": ASK}],
            "default_config": {"permission_policy": ALLOW},
        },
        {"type": "mcp_toolset", "mcp_server_name": "off", "default_config": {"enabled": False}},
    )
    assert agent.mcp_permission("docs", "search") == "allow"
    assert agent.mcp_permission("docs", "delete") == "ask"
    assert agent.mcp_permission("off", "search") is None
    assert agent.mcp_permission("github", "search") is None
    assert agent.has_mcp_toolset("docs")
    assert not agent.has_mcp_toolset("github")


# -- scripted tool uses follow the session's toolset -------------------------------------------


@pytest.fixture
def lister(cloud: FakeCloud) -> FakeCloud:
    """An agent that lists files with bash (no permission of its own) and reports."""
    cloud.agent = ScriptedAgent()
    cloud.agent.on("list").tool_use("bash", {"command": "ls"}, result="a.txt").reply(
        "Files: {result}"
    )
    cloud.agent.on("search").mcp_tool_use("docs", "search", {"q": "bug"}, result="3 hits").reply(
        "Found {result}."
    )
    return cloud


def test_always_allow_runs_the_tool_at_once(local_http: httpx.Client, lister: FakeCloud) -> None:
    session_id = new_session(
        local_http, tools=[toolset(default_config={"permission_policy": ALLOW})]
    )
    post_message(local_http, session_id, "list")
    events = lister.events(session_id)
    use = next(e for e in events if e["type"] == "agent.tool_use")
    assert use["evaluated_permission"] == "allow"
    assert events[-1]["stop_reason"] == {"type": "end_turn"}
    assert text_of(events) == "Files: a.txt"


def test_always_ask_waits_for_a_confirmation(local_http: httpx.Client, lister: FakeCloud) -> None:
    configs = [{"name": "bash", "permission_policy": ASK}]
    session_id = new_session(local_http, tools=[toolset(configs=configs)])
    post_message(local_http, session_id, "list")
    events = lister.events(session_id)
    use = next(e for e in events if e["type"] == "agent.tool_use")
    assert use["evaluated_permission"] == "ask"
    assert waiting_ids(events) == [use["id"]]
    assert "agent.tool_result" not in types(events)

    assert post_events(local_http, session_id, confirmation(use["id"], "allow")).status_code == 202
    after = lister.events(session_id)[len(events) :]
    assert types(after)[:3] == [
        "user.tool_confirmation",
        "session.status_running",
        "agent.tool_result",
    ]
    assert text_of(after) == "Files: a.txt"


def test_a_tool_the_toolset_leaves_off_is_not_called(
    local_http: httpx.Client, lister: FakeCloud
) -> None:
    session_id = new_session(local_http, tools=[toolset(disallowed_tools=["bash"])])
    post_message(local_http, session_id, "list")
    events = lister.events(session_id)
    assert "agent.tool_use" not in types(events)
    assert text_of(events) == (
        "I cannot use the bash tool: it is not enabled for this session.Files: "
    )


def test_an_explicit_permission_wins_over_the_toolset(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    cloud.agent = ScriptedAgent()
    cloud.agent.on("rm").tool_use("bash", {"command": "rm x"}, permission="ask")
    session_id = new_session(local_http)  # the default toolset would allow it
    post_message(local_http, session_id, "rm")
    use = next(e for e in cloud.events(session_id) if e["type"] == "agent.tool_use")
    assert use["evaluated_permission"] == "ask"


def test_without_any_toolset_a_scripted_call_is_allowed(
    local_http: httpx.Client, lister: FakeCloud
) -> None:
    session_id = new_session(local_http, tools=[])
    post_message(local_http, session_id, "list")
    assert text_of(lister.events(session_id)) == "Files: a.txt"


def test_mcp_tool_use_asks_under_its_toolset(local_http: httpx.Client, lister: FakeCloud) -> None:
    mcp = {
        "type": "mcp_toolset",
        "mcp_server_name": "docs",
        "default_config": {"permission_policy": ASK},
    }
    servers = [{"type": "url", "name": "docs", "url": "https://docs.example/mcp"}]
    session_id = new_session(local_http, tools=[mcp], mcp_servers=servers)
    post_message(local_http, session_id, "search the docs")
    events = lister.events(session_id)
    use = next(e for e in events if e["type"] == "agent.mcp_tool_use")
    assert (use["name"], use["mcp_server_name"], use["input"]) == ("search", "docs", {"q": "bug"})
    assert use["evaluated_permission"] == "ask"
    assert waiting_ids(events) == [use["id"]]

    post_events(local_http, session_id, confirmation(use["id"], "deny", "No MCP today."))
    after = lister.events(session_id)[len(events) :]
    result = next(e for e in after if e["type"] == "agent.mcp_tool_result")
    assert result["mcp_tool_use_id"] == use["id"]
    assert result["is_error"] is True
    assert result["content"] == [{"type": "text", "text": "No MCP today."}]


def test_mcp_tool_off_in_its_toolset_is_refused(
    local_http: httpx.Client, lister: FakeCloud
) -> None:
    mcp = {
        "type": "mcp_toolset",
        "mcp_server_name": "docs",
        "configs": [{"name": "search", "enabled": False}],
    }
    session_id = new_session(local_http, tools=[mcp])
    post_message(local_http, session_id, "search")
    assert text_of(lister.events(session_id)).startswith(
        "I cannot use the search tool of the docs MCP server: it is not enabled"
    )


def test_policy_change_mid_session_applies_to_the_next_turn(
    local_http: httpx.Client, lister: FakeCloud
) -> None:
    session_id = new_session(local_http)
    post_message(local_http, session_id, "list")
    tools = [toolset(configs=[{"name": "bash", "permission_policy": ASK}])]
    local_http.post(f"/sessions/{session_id}", json={"agent": {"tools": tools}})
    post_message(local_http, session_id, "list")
    uses = [e for e in lister.events(session_id) if e["type"] == "agent.tool_use"]
    assert [use["evaluated_permission"] for use in uses] == ["allow", "ask"]


def test_mcp_tool_use_runs_at_once_by_default(local_http: httpx.Client, lister: FakeCloud) -> None:
    mcp = {"type": "mcp_toolset", "mcp_server_name": "docs"}
    session_id = new_session(local_http, tools=[mcp])
    post_message(local_http, session_id, "search")
    events = lister.events(session_id)
    use = next(e for e in events if e["type"] == "agent.mcp_tool_use")
    assert use["evaluated_permission"] == "allow"
    result = next(e for e in events if e["type"] == "agent.mcp_tool_result")
    assert result["mcp_tool_use_id"] == use["id"]
    assert result["is_error"] is False
    assert text_of(events) == "Found 3 hits."
