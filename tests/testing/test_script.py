"""ScriptedAgent rules and the default agent's replies (no HTTP)."""

from __future__ import annotations

import re

import pytest

from qoder.testing import (
    CustomToolUse,
    Exchange,
    Reply,
    Rule,
    ScriptedAgent,
    Think,
    ToolOutcome,
    TurnContext,
)
from qoder.testing._default_agent import default_reply


def context(prompt: str, *history: tuple[str, str]) -> TurnContext:
    return TurnContext(
        session_id="sess_1",
        agent_id="agent_1",
        prompt=prompt,
        content=prompt,
        history=tuple(Exchange(p, r) for p, r in history),
    )


def test_rules_match_in_order_substring_regex_predicate_and_times() -> None:
    agent = ScriptedAgent()
    agent.on("Hello", times=1).reply("first hello")
    agent.on(re.compile(r"\bhel+o\b", re.IGNORECASE)).reply("regex hello")
    agent.on(lambda ctx: ctx.prompt.endswith("!")).think().reply("excited")
    assert agent.plan(context("why hello there")) == [Reply("first hello")]
    assert agent.plan(context("why HELLO there")) == [Reply("regex hello")]
    assert agent.plan(context("wow!")) == [Think(), Reply("excited")]
    assert agent.rules[0].fired == 1
    assert agent.plan(context("nothing"))  # the default fallback answers anything


def test_fallback_and_declarative_rules() -> None:
    agent = ScriptedAgent(
        [Rule("tool", [CustomToolUse("lookup", {"q": 1})])],
        fallback=lambda ctx: [Reply(f"echo: {ctx.prompt}")],
    )
    assert agent.plan(context("use the tool")) == [CustomToolUse("lookup", {"q": 1})]
    assert agent.plan(context("anything")) == [Reply("echo: anything")]


def test_templates_and_callables() -> None:
    ctx = context("Weather in Paris?")
    assert ctx.render("You asked: {prompt}") == "You asked: Weather in Paris?"
    assert ctx.render("{result}") == ""
    ctx.outcomes.append(ToolOutcome("evt_1", "get_weather", {}, "18°C"))
    assert ctx.render("It is {result}.") == "It is 18°C."
    assert ctx.render(lambda c: c.result.upper()) == "18°C"


@pytest.mark.parametrize(
    ("prompt", "history", "expected"),
    [
        ("What's the capital of France?", [], "The capital of France is Paris."),
        ("capital of japan", [], "The capital of Japan is Tokyo."),
        (
            "What's the population of that city?",
            [("What's the capital of France?", "The capital of France is Paris.")],
            "Paris has about 2.1 million inhabitants in the city proper "
            "and over 12 million in its metropolitan area.",
        ),
        ("How many people live in Berlin?", [], "Berlin has about 3.9 million inhabitants."),
        ("What's the population of that city?", [], "I don't know which city you mean."),
        ("What is 2+2?", [], "2 + 2 = 4."),
        ("compute 7 / 2", [], "7 / 2 = 3.5."),
        ("and 1/0", [], "Division by zero is undefined."),
        ("hello", [], "Hello! I am the scripted agent"),
    ],
)
def test_default_replies(prompt: str, history: list[tuple[str, str]], expected: str) -> None:
    assert default_reply(context(prompt, *history)).startswith(expected)


def test_default_reply_is_reproducible_and_split_in_sentences() -> None:
    agent = ScriptedAgent()
    steps = agent.plan(context("Tell me a story"))
    assert steps == agent.plan(context("Tell me a story"))
    assert len(steps) == 1
    reply = steps[0]
    assert isinstance(reply, Reply)
    assert len(reply.parts) == 2
    assert "".join(str(part) for part in reply.parts) == default_reply(context("Tell me a story"))
