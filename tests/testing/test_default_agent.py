"""The default agent (no scripting) demonstrating §8: its model and instructions, the client's
custom tools, the built-in tools under the session's toolset, and thinking for a while."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud
from qoder.testing._default_tools import bash_output, tool_arguments

from .helpers import (
    confirmation,
    custom_result,
    new_session,
    post_events,
    post_message,
    system_message,
    text_of,
    user_message,
    waiting_ids,
)

NUMBERS = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "integer"}}}
ADD = {"type": "custom", "name": "add", "description": "Add a and b.", "input_schema": NUMBERS}
WEATHER = {
    "type": "custom",
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
ASK_BASH = {
    "type": "agent_toolset_20260401",
    "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}}],
}


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def turn(
    http: httpx.Client, cloud: FakeCloud, session_id: str, prompt: str
) -> list[dict[str, Any]]:
    """Send ``prompt``; the events it produced."""
    before = len(cloud.events(session_id))
    post_message(http, session_id, prompt)
    return cloud.events(session_id)[before:]


def answer(
    http: httpx.Client, cloud: FakeCloud, session_id: str, event: dict[str, Any]
) -> list[dict[str, Any]]:
    """Send a tool answer; the events it produced."""
    before = len(cloud.events(session_id))
    assert post_events(http, session_id, event).status_code == 202
    return cloud.events(session_id)[before:]


# -- the model and the instructions ------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt", ["What model are you?", "Which model is this?", "what's your model"]
)
def test_names_its_model(local_http: httpx.Client, cloud: FakeCloud, prompt: str) -> None:
    session_id = new_session(local_http, model="fast-1")
    assert (
        text_of(turn(local_http, cloud, session_id, prompt))
        == 'I am running on the model "fast-1".'
    )


def test_names_the_model_set_by_an_update(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http)
    assert "ultimate" in text_of(turn(local_http, cloud, session_id, "What model are you?"))
    local_http.post(f"/sessions/{session_id}", json={"agent": {"model": "tiny"}})
    events = turn(local_http, cloud, session_id, "What model are you?")
    assert text_of(events) == 'I am running on the model "tiny".'
    assert next(e for e in events if e["type"] == "span.model_request_start")["model"] == "tiny"


@pytest.mark.parametrize("prompt", ["What is your system prompt?", "What are your instructions?"])
def test_quotes_its_system_prompt(local_http: httpx.Client, cloud: FakeCloud, prompt: str) -> None:
    session_id = new_session(local_http, system="Be brief.")
    assert (
        text_of(turn(local_http, cloud, session_id, prompt)) == 'My system prompt is: "Be brief."'
    )


def test_says_when_it_has_no_system_prompt(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http)
    events = turn(local_http, cloud, session_id, "What is your system prompt?")
    assert text_of(events) == "I have no system prompt."


def test_quotes_the_system_message_of_the_turn(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http, system="Be brief")
    prompt = user_message("What are your instructions?")
    post_events(local_http, session_id, prompt, system_message("Answer in French."))
    assert text_of(cloud.events(session_id)) == (
        'My system prompt is: "Be brief". For this turn I was also told: "Answer in French."'
    )
    events = turn(local_http, cloud, session_id, "What are your instructions?")
    assert text_of(events) == 'My system prompt is: "Be brief".'


# -- custom tools ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "arguments"),
    [
        ("use the add tool to add 15 and 27", {"a": 15, "b": 27}),
        ("Use add with 1.5 and 2", {"a": 1.5, "b": 2}),
        ('call add with {"a": 1, "b": 2, "c": 3}', {"a": 1, "b": 2, "c": 3}),
        ("use add", {}),
    ],
)
def test_arguments_from_the_prompt(prompt: str, arguments: dict[str, Any]) -> None:
    assert tool_arguments(NUMBERS, prompt, name="add") == arguments


@pytest.mark.parametrize(
    ("prompt", "arguments"),
    [
        ('use get_weather for "Paris"', {"city": "Paris"}),
        ("use the get_weather tool for 'New York'", {"city": "New York"}),
        ("What does get_weather say for Paris?", {"city": "Paris"}),
        ("use get_weather", {}),
    ],
)
def test_string_arguments(prompt: str, arguments: dict[str, Any]) -> None:
    schema = WEATHER["input_schema"]
    assert tool_arguments(schema, prompt, name="get_weather") == arguments


def test_calls_a_named_custom_tool_and_reports_its_result(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    session_id = new_session(local_http, tools=[ADD, WEATHER])
    events = turn(local_http, cloud, session_id, "use the add tool to add 15 and 27")
    assert types(events) == [
        "user.message",
        "session.status_running",
        "span.model_request_start",
        "agent.custom_tool_use",
        "span.model_request_end",
        "session.status_idle",
    ]
    use = events[3]
    assert (use["name"], use["input"]) == ("add", {"a": 15, "b": 27})
    assert waiting_ids(events) == [use["id"]]
    after = answer(local_http, cloud, session_id, custom_result(use["id"], "42"))
    assert text_of(after) == "The add tool returned 42."
    assert after[-1]["stop_reason"] == {"type": "end_turn"}


def test_reports_a_failing_custom_tool(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http, tools=[WEATHER])
    (use_id,) = waiting_ids(turn(local_http, cloud, session_id, "get_weather for 'Atlantis'"))
    after = answer(
        local_http, cloud, session_id, custom_result(use_id, "No such city.", is_error=True)
    )
    assert text_of(after) == "The get_weather tool failed: No such city."


def test_an_unnamed_custom_tool_is_not_called(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http, tools=[ADD])
    events = turn(local_http, cloud, session_id, "What is 15 + 27?")
    assert "agent.custom_tool_use" not in types(events)
    assert text_of(events) == "15 + 27 = 42."
    assert "agent.custom_tool_use" not in types(turn(local_http, cloud, session_id, "address"))


# -- built-in tools ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "tool", "tool_input"),
    [
        ("run the command `ls -la`", "bash", {"command": "ls -la"}),
        ("run ls", "bash", {"command": "ls"}),
        ("Please run echo hello.", "bash", {"command": "echo hello"}),
        ('use bash to run "pwd"', "bash", {"command": "pwd"}),
        ("read the file README.md", "read", {"file_path": "README.md"}),
        ("Read docs/guide.txt", "read", {"file_path": "docs/guide.txt"}),
        (
            "write hello world to the file notes.txt",
            "write",
            {"file_path": "notes.txt", "content": "hello world"},
        ),
        (
            "Write 'a b' into out/x.md",
            "write",
            {"file_path": "out/x.md", "content": "a b"},
        ),
    ],
)
def test_always_allow_runs_the_builtin_tool(
    local_http: httpx.Client, cloud: FakeCloud, prompt: str, tool: str, tool_input: dict[str, Any]
) -> None:
    session_id = new_session(local_http)  # agent_default: the toolset, nothing said: allow
    events = turn(local_http, cloud, session_id, prompt)
    use = next(e for e in events if e["type"] == "agent.tool_use")
    assert (use["name"], use["input"], use["evaluated_permission"]) == (tool, tool_input, "allow")
    result = next(e for e in events if e["type"] == "agent.tool_result")
    assert result["tool_use_id"] == use["id"]
    assert result["is_error"] is False
    assert result["content"][0]["text"] in text_of(events)
    assert events[-1]["stop_reason"] == {"type": "end_turn"}


def test_fake_bash_outputs() -> None:
    assert bash_output("echo $((4*10))") == "40"
    assert bash_output("echo 'hi there'") == "hi there"
    assert bash_output("pwd") == "/workspace"
    assert bash_output("ls") == "README.md\nnotes.txt\nsrc"
    assert "README.md" in bash_output("ls -la")
    assert "drwx" in bash_output("ls -la")
    assert "exit status 0" in bash_output("make")


def test_always_ask_then_allow(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http, tools=[ASK_BASH])
    events = turn(local_http, cloud, session_id, "run the command `echo $((4*10))`")
    use = next(e for e in events if e["type"] == "agent.tool_use")
    assert use["evaluated_permission"] == "ask"
    assert waiting_ids(events) == [use["id"]]
    after = answer(local_http, cloud, session_id, confirmation(use["id"], "allow"))
    assert types(after)[:3] == [
        "user.tool_confirmation",
        "session.status_running",
        "agent.tool_result",
    ]
    assert text_of(after) == "I ran `echo $((4*10))`. Its output:\n40"


def test_always_ask_then_deny_quotes_the_message(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    session_id = new_session(local_http, tools=[ASK_BASH])
    (use_id,) = waiting_ids(turn(local_http, cloud, session_id, "run rm -rf build"))
    after = answer(local_http, cloud, session_id, confirmation(use_id, "deny", "Not today."))
    result = next(e for e in after if e["type"] == "agent.tool_result")
    assert result["is_error"] is True
    assert text_of(after) == 'The bash tool was denied, so I did not use it: "Not today."'


def test_an_other_tool_keeps_the_default_policy(local_http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = new_session(local_http, tools=[ASK_BASH])
    events = turn(local_http, cloud, session_id, "read the file README.md")
    assert (
        next(e for e in events if e["type"] == "agent.tool_use")["evaluated_permission"] == "allow"
    )


@pytest.mark.parametrize(
    ("tools", "reply"),
    [
        (
            [{"type": "agent_toolset_20260401", "disallowed_tools": ["bash"]}],
            "I cannot use the bash tool: it is not enabled for this session.",
        ),
        (
            [{"type": "agent_toolset_20260401", "enabled_tools": ["read"]}],
            "I cannot use the bash tool: it is not enabled for this session.",
        ),
        ([ADD], "I cannot use the bash tool: this agent has no built-in tools."),
        ([], "I cannot use the bash tool: this agent has no built-in tools."),
    ],
    ids=["disallowed", "not-enabled", "custom-only", "no-tools"],
)
def test_a_tool_that_is_off_is_not_called(
    local_http: httpx.Client, cloud: FakeCloud, tools: list[dict[str, Any]], reply: str
) -> None:
    session_id = new_session(local_http, tools=tools)
    events = turn(local_http, cloud, session_id, "run ls")
    assert "agent.tool_use" not in types(events)
    assert text_of(events) == reply
    assert events[-1]["stop_reason"] == {"type": "end_turn"}


# -- the agent's own MCP servers ---------------------------------------------------------------

DOCS_SERVER = {"type": "url", "name": "docs", "url": "https://mcp.example.com/docs"}
DOCS_TOOLSET = {"type": "mcp_toolset", "mcp_server_name": "docs"}
SEARCH = 'use mcp__docs__search {"q": "bug"}'


def test_calls_a_named_tool_of_its_own_mcp_server(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    session_id = new_session(local_http, mcp_servers=[DOCS_SERVER], tools=[DOCS_TOOLSET])
    events = turn(local_http, cloud, session_id, SEARCH)
    use = next(e for e in events if e["type"] == "agent.mcp_tool_use")
    assert (use["mcp_server_name"], use["name"], use["input"]) == ("docs", "search", {"q": "bug"})
    assert use["evaluated_permission"] == "allow"
    result = next(e for e in events if e["type"] == "agent.mcp_tool_result")
    assert result["mcp_tool_use_id"] == use["id"]
    assert text_of(events) == (
        "The mcp__docs__search tool returned: (the emulator's stand-in for search of the docs "
        "MCP server: no server ran)"
    )


def test_the_longer_server_name_wins(local_http: httpx.Client, cloud: FakeCloud) -> None:
    v2 = {**DOCS_SERVER, "name": "docs__v2"}
    session_id = new_session(
        local_http,
        mcp_servers=[DOCS_SERVER, v2],
        tools=[DOCS_TOOLSET, {**DOCS_TOOLSET, "mcp_server_name": "docs__v2"}],
    )
    events = turn(local_http, cloud, session_id, "use mcp__docs__v2__search")
    use = next(e for e in events if e["type"] == "agent.mcp_tool_use")
    assert (use["mcp_server_name"], use["name"], use["input"]) == ("docs__v2", "search", {})


def test_its_mcp_toolset_can_make_it_ask(local_http: httpx.Client, cloud: FakeCloud) -> None:
    asking = {**DOCS_TOOLSET, "default_config": {"permission_policy": {"type": "always_ask"}}}
    session_id = new_session(local_http, mcp_servers=[DOCS_SERVER], tools=[asking])
    events = turn(local_http, cloud, session_id, SEARCH)
    use = next(e for e in events if e["type"] == "agent.mcp_tool_use")
    assert use["evaluated_permission"] == "ask"
    (use_id,) = waiting_ids(events)
    after = answer(local_http, cloud, session_id, confirmation(use_id, "deny", "Not now."))
    assert (
        text_of(after) == 'The mcp__docs__search tool was denied, so I did not use it: "Not now."'
    )


@pytest.mark.parametrize(
    ("servers", "tools", "reply"),
    [
        (
            [DOCS_SERVER],
            [],
            "I cannot use the search tool of the docs MCP server: this agent has no toolset "
            "for that server.",
        ),
        (
            [DOCS_SERVER],
            [{**DOCS_TOOLSET, "configs": [{"name": "search", "enabled": False}]}],
            "I cannot use the search tool of the docs MCP server: it is not enabled for this "
            "session.",
        ),
    ],
    ids=["no-toolset", "turned-off"],
)
def test_an_mcp_tool_it_may_not_use_is_not_called(
    local_http: httpx.Client,
    cloud: FakeCloud,
    servers: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    reply: str,
) -> None:
    session_id = new_session(local_http, mcp_servers=servers, tools=tools)
    events = turn(local_http, cloud, session_id, SEARCH)
    assert "agent.mcp_tool_use" not in types(events)
    assert text_of(events) == reply


def test_a_server_it_does_not_have_is_not_called(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    session_id = new_session(local_http)
    events = turn(local_http, cloud, session_id, SEARCH)
    assert "agent.mcp_tool_use" not in types(events)


# -- what it did before ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "reply"),
    [
        ("What's the capital of France?", "The capital of France is Paris."),
        ("What is 6 * 7?", "6 * 7 = 42."),
        ("hello", "Hello! I am the scripted agent of the Qoder Cloud emulator. How can I help?"),
        (
            "How long does it run?",
            'You said: "How long does it run?". This is a reproducible reply from the Qoder '
            "Cloud emulator (5 words received).",
        ),
        (
            "write a poem in French",
            'You said: "write a poem in French". This is a reproducible reply from the Qoder '
            "Cloud emulator (5 words received).",
        ),
        (
            "I read a book",
            'You said: "I read a book". This is a reproducible reply from the '
            "Qoder Cloud emulator (4 words received).",
        ),
    ],
)
def test_plain_answers_are_unchanged(
    local_http: httpx.Client, cloud: FakeCloud, prompt: str, reply: str
) -> None:
    session_id = new_session(local_http)
    assert text_of(turn(local_http, cloud, session_id, prompt)) == reply
