"""The default agent through the real client (``SyncClient``): a client-side ``@tool``, a
permission asked of ``can_use_tool``, and an interrupt while the agent thinks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qoder import (
    AgentSpec,
    PermissionResultAllow,
    PermissionResultDeny,
    QoderAgentOptions,
    ResultMessage,
    SyncClient,
    ToolPermissionContext,
    ToolResult,
    tool,
)
from qoder.testing import FakeCloud

from .conftest import BASE_URL

ASK_BASH = {
    "type": "agent_toolset_20260401",
    "configs": [{"name": "bash", "permission_policy": {"type": "always_ask"}}],
}


@pytest.fixture
def mocked(cloud: FakeCloud) -> Iterator[FakeCloud]:
    with cloud.mock():
        yield cloud


def options(**overrides: Any) -> QoderAgentOptions:
    settings: dict[str, Any] = {
        "auth": "test-token",
        "base_url": BASE_URL,
        "agent": "agent_default",
    }
    settings.update(overrides)
    return QoderAgentOptions(**settings)


def ask(client: SyncClient, prompt: str) -> ResultMessage:
    client.query(prompt)
    *_, result = client.receive_response()
    assert isinstance(result, ResultMessage)
    return result


@tool
def add(a: int, b: int) -> ToolResult:
    """Add two integers."""
    return ToolResult(str(a + b))


def test_a_client_side_tool_is_called_with_the_numbers_of_the_prompt(mocked: FakeCloud) -> None:
    with SyncClient(options(tools=[add])) as client:
        result = ask(client, "use the add tool to add 15 and 27")
    assert result.result == "The add tool returned 42."
    assert result.is_error is False


@pytest.mark.parametrize("allow", [True, False], ids=["allow", "deny"])
def test_always_ask_goes_to_can_use_tool(mocked: FakeCloud, allow: bool) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def can_use_tool(
        name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        calls.append((name, tool_input))
        return PermissionResultAllow() if allow else PermissionResultDeny(message="Not today.")

    agent = AgentSpec(name="asker", tools=[ASK_BASH])
    with SyncClient(options(agent=agent, can_use_tool=can_use_tool)) as client:
        result = ask(client, "run the command `ls`")
    assert calls == [("bash", {"command": "ls"})]
    if allow:
        assert result.result == "I ran `ls`. Its output:\nREADME.md\nnotes.txt\nsrc"
    else:
        assert result.result == 'The bash tool was denied, so I did not use it: "Not today."'


def test_interrupt_while_the_agent_thinks(mocked: FakeCloud) -> None:
    with SyncClient(options()) as client:
        client.query("think for 600 seconds")
        assert mocked.is_held(str(client.session_id))  # the agent is thinking now
        client.interrupt()
        *_, result = client.receive_response()
        assert isinstance(result, ResultMessage)
        assert result.terminal_reason == "interrupted"
        assert result.is_error is False
        assert ask(client, "What's the capital of France?").result == (
            "The capital of France is Paris."
        )


def test_the_model_and_the_system_prompt_of_the_agent(mocked: FakeCloud) -> None:
    agent = AgentSpec(name="pirate", model="tiny", system="Talk like a pirate.")
    with SyncClient(options(agent=agent)) as client:
        assert ask(client, "What model are you?").result == 'I am running on the model "tiny".'
        assert ask(client, "What is your system prompt?").result == (
            'My system prompt is: "Talk like a pirate."'
        )
