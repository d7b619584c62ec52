"""Code written for the official SDK, against the served emulator's default agent, over a
real loopback socket, through every facade, with no scripting: the options change what the
agent does, tools and permissions run, the limits stop turns, and the methods work."""

from __future__ import annotations

from typing import Any

import pytest

from qoder import (
    AssistantMessage,
    Message,
    PermissionResultAllow,
    PermissionResultDeny,
    ResultMessage,
    StreamEvent,
    ToolPermissionContext,
    ToolUseBlock,
    tool,
)
from qoder.testing import ServedCloud
from tests.client.driver import Facade
from tests.integration.support import options, result_of

pytestmark = pytest.mark.integration


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"{args['a'] + args['b']:g}"}]}


def test_system_prompt_and_model_reach_the_agent(facade: Facade, served: ServedCloud) -> None:
    with facade.client(options(served, system_prompt="Be brief.", model="fast-1")) as client:
        told = result_of(client.turn("What is your system prompt?"))
        model = result_of(client.turn("What model are you?"))
        client._do("set_model", "turbo-2")
        changed = result_of(client.turn("What model are you?"))
        info = client._do("get_server_info")
    assert told.result == 'My system prompt is: "Be brief."'
    assert model.result == 'I am running on the model "fast-1".'
    assert changed.result == 'I am running on the model "turbo-2".'
    assert info["model"] == "turbo-2"


LS_RAN = "I ran `ls`. Its output:\nREADME.md\nnotes.txt\nsrc"


def test_set_permission_mode_changes_who_decides_from_the_next_turn(
    facade: Facade, served: ServedCloud
) -> None:
    asked: list[str] = []

    def decide(name: str, tool_input: dict[str, Any], context: Any) -> PermissionResultDeny:
        asked.append(name)
        return PermissionResultDeny(message="Not now.")

    opts = options(served, can_use_tool=decide, permission_mode="bypassPermissions")
    with facade.client(opts) as client:
        bypassed = result_of(client.turn("run ls"))
        client._do("set_permission_mode", "default")
        decided = result_of(client.turn("run ls"))
    assert bypassed.result == LS_RAN  # the agent's policy: bash runs, nobody asked
    assert asked == ["bash"]  # the toolset was made to ask, and the callback decided
    assert decided.result == 'The bash tool was denied, so I did not use it: "Not now."'


def test_dont_ask_set_later_denies_and_default_gives_the_agents_policies_back(
    facade: Facade, served: ServedCloud
) -> None:
    with facade.client(options(served)) as client:
        ran = result_of(client.turn("run ls"))
        client._do("set_permission_mode", "dontAsk")
        denied = result_of(client.turn("run ls"))
        client._do("set_permission_mode", "default")
        again = result_of(client.turn("run ls"))
    assert ran.result == again.result == LS_RAN
    assert denied.result is not None
    assert denied.result.startswith("The bash tool was denied, so I did not use it:")
    assert [d["tool_name"] for d in denied.permission_denials] == ["bash"]


def test_an_appended_system_prompt_keeps_the_agents_own(
    facade: Facade, served: ServedCloud
) -> None:
    preset = {"type": "preset", "preset": "qodercli", "append": "Answer briefly."}
    with facade.client(options(served, system_prompt=preset)) as client:
        told = result_of(client.turn("What is your system prompt?"))
    assert told.result is not None
    assert "Answer briefly." in told.result


def test_an_official_tool_is_called_and_its_result_answers(
    facade: Facade, served: ServedCloud
) -> None:
    with facade.client(options(served, tools=[add])) as client:
        messages = client.turn("use the add tool to add 15 and 27")
    uses = [
        block
        for message in messages
        if isinstance(message, AssistantMessage)
        for block in message.content
        if isinstance(block, ToolUseBlock) and block.name == "add"
    ]
    assert [use.input for use in uses] == [{"a": 15, "b": 27}]
    assert result_of(messages).result == "The add tool returned 42."


def test_can_use_tool_is_asked_about_a_builtin_tool(facade: Facade, served: ServedCloud) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    def decide(
        name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        asked.append((name, tool_input))
        if name == "bash":
            return PermissionResultDeny(message="No shell today.")
        return PermissionResultAllow()

    with facade.client(options(served, can_use_tool=decide, allowed_tools=["Read"])) as client:
        denied = result_of(client.turn("run the command `ls -la`"))
        read = result_of(client.turn("read the file README.md"))
    assert asked == [("bash", {"command": "ls -la"})]  # Read was allowed without asking
    assert denied.result == 'The bash tool was denied, so I did not use it: "No shell today."'
    assert [d["tool_name"] for d in denied.permission_denials] == ["bash"]
    assert read.result is not None
    assert read.result.startswith("Here is README.md:")


def test_builtin_tools_by_name_enable_only_those(facade: Facade, served: ServedCloud) -> None:
    with facade.client(options(served, tools=["Read"])) as client:
        refused = result_of(client.turn("run the command `ls`"))
    assert refused.result == "I cannot use the bash tool: it is not enabled for this session."


def test_disallowed_tools_are_off_on_the_server(facade: Facade, served: ServedCloud) -> None:
    with facade.client(options(served, disallowed_tools=["Bash"])) as client:
        refused = result_of(client.turn("run the command `ls`"))
        allowed = result_of(client.turn("read the file README.md"))
    assert refused.result == "I cannot use the bash tool: it is not enabled for this session."
    assert allowed.subtype == "success"


def test_dont_ask_denies_without_asking(facade: Facade, served: ServedCloud) -> None:
    with facade.client(options(served, permission_mode="dontAsk")) as client:
        denied = result_of(client.turn("run the command `ls`"))
    assert denied.result is not None
    assert denied.result.startswith("The bash tool was denied")
    assert "dontAsk" in denied.result


def test_max_turns_stops_a_tool_turn_at_its_first_request(
    facade: Facade, served: ServedCloud
) -> None:
    with facade.client(options(served, max_turns=1)) as client:
        result = result_of(client.turn("run the command `ls`"))  # a tool turn: two requests
    assert (result.subtype, result.is_error) == ("error_max_turns", True)


def test_max_budget_usd_stops_the_turn_and_reports_the_cost(
    facade: Facade, served: ServedCloud
) -> None:
    with facade.client(options(served, max_budget_usd=0.000001)) as client:
        result = result_of(client.turn("run the command `ls`"))
    assert (result.subtype, result.is_error) == ("error_max_budget_usd", True)
    assert result.total_cost_usd is not None
    assert result.total_cost_usd > 0.000001


def test_interrupt_lands_while_the_agent_thinks(facade: Facade, served: ServedCloud) -> None:
    with facade.client(options(served, include_partial_messages=True)) as client:
        client.query("Think for 30 seconds, then what is 2+2?")
        messages: list[Message] = []
        for message in client.receive_response():
            messages.append(message)
            if isinstance(message, StreamEvent) and message.event["type"] == "message_start":
                client.interrupt()  # the agent is thinking: its preview has started
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "interrupted"
    assert not any(isinstance(m, AssistantMessage) and "4" in str(m.content) for m in messages)


def test_continue_conversation_picks_up_the_newest_session(
    facade: Facade, served: ServedCloud
) -> None:
    with facade.client(options(served)) as first:
        first.turn("What's the capital of France?")
        session_id = first.session_id
    with facade.client(options(served, continue_conversation=True)) as again:
        assert again.session_id == session_id
        answer = result_of(again.turn("What's the population of that city?"))
    assert answer.result is not None
    assert answer.result.startswith("Paris has about")
