"""ScriptedAgent: a deterministic agent driven by rules, and the steps a turn is made of.

A rule matches a user message (case-insensitive substring, regex, or predicate) and lists the
steps the agent performs. The first matching rule wins; unmatched messages go to the fallback
(by default :func:`~qoder.testing._default_agent.default_steps`, which knows capitals,
populations and small sums and otherwise answers generically, always reproducibly).

Example::

    agent = ScriptedAgent()
    agent.on("weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
        "It is {result} in Paris."
    )
    agent.on(re.compile(r"multiply", re.I)).reply("Running it. ").tool_use(
        "bash", {"command": "echo $((4*10))"}, result="40"
    ).reply("The answer is 40.")
    agent.on("slow").reply("Working on it. ").hold().reply("Done.")
    agent.on("flaky", times=1).error("retrying").reply("Recovered.")
    cloud = FakeCloud(agent=agent)

Text may be a template (``{prompt}``: the user's text, ``{result}``: the text of the latest tool
result) or a callable receiving the :class:`TurnContext`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from qoder.testing._snapshot import AgentSnapshot

__all__ = [
    "CustomToolUse",
    "Emit",
    "Exchange",
    "Hold",
    "Matcher",
    "Reply",
    "Rule",
    "ScriptedAgent",
    "SessionError",
    "Step",
    "Stop",
    "TextSource",
    "Think",
    "ToolOutcome",
    "ToolUse",
    "TurnContext",
    "Usage",
    "Wait",
]


@dataclass(frozen=True)
class Exchange:
    """One finished turn of a session: the user's text and the agent's reply text."""

    prompt: str
    reply: str


@dataclass(frozen=True)
class ToolOutcome:
    """The result of a tool call during the current turn (built-in or custom)."""

    tool_use_id: str
    name: str
    input: Mapping[str, Any]
    text: str
    is_error: bool = False
    denied: bool = False
    """The client refused the call (``user.tool_confirmation`` with ``deny``)."""


@dataclass
class TurnContext:
    """What a rule or a text callable knows about the turn being played.

    ``agent`` is the session's resolved agent (model, system prompt, tools; §8.1), refreshed
    at every model request, so an update of the session (§8.2) shows from the next one.
    ``system_messages`` holds the texts of the ``system.message`` events sent with this turn
    (§8.4). ``think_seconds`` is the cloud's default think time (``FakeCloud(think_seconds=)``).
    """

    session_id: str
    agent_id: str
    prompt: str
    content: Any
    history: tuple[Exchange, ...] = ()
    outcomes: list[ToolOutcome] = field(default_factory=list)
    agent: AgentSnapshot = field(default_factory=AgentSnapshot)
    system_messages: list[str] = field(default_factory=list)
    think_seconds: float = 0.0

    @property
    def result(self) -> str:
        """Text of the latest tool result of this turn (``""`` if none)."""
        return self.outcomes[-1].text if self.outcomes else ""

    def render(self, source: TextSource) -> str:
        """Resolve a template (``{prompt}``, ``{result}``) or a callable into text."""
        if callable(source):
            return source(self)
        return source.replace("{prompt}", self.prompt).replace("{result}", self.result)


TextSource = str | Callable[[TurnContext], str]
"""Literal text with optional ``{prompt}``/``{result}`` placeholders, or a callable."""


@dataclass(frozen=True, init=False)
class Reply:
    """Reply with text; each part becomes one ``agent.message`` (the client joins them as is,
    so keep the spaces: ``Reply("Running it. ", "The answer is 40.")``)."""

    parts: tuple[TextSource, ...]

    def __init__(self, *parts: TextSource) -> None:
        object.__setattr__(self, "parts", parts or ("",))


@dataclass(frozen=True)
class Think:
    """Emit ``agent.thinking`` (bare progress signal, or with a ``thinking`` text)."""

    text: str | None = None


@dataclass(frozen=True)
class ToolUse:
    """A built-in tool (``bash``, ``read``, …) run by the service: ``agent.tool_use`` then
    ``agent.tool_result``. ``permission="ask"`` idles with ``requires_action`` until the client
    sends ``user.tool_confirmation``; ``"deny"`` (or a denied confirmation) yields an error
    result.

    ``permission=None`` (the default) follows the session's toolset (§8.3): ``always_ask`` →
    ``"ask"``, ``always_allow`` → ``"allow"``; a toolset that leaves the tool off makes the agent
    say it cannot use it instead; with no toolset entry at all the call is allowed.
    ``mcp_server_name`` makes it a tool of that MCP server (``agent.mcp_tool_use`` and
    ``agent.mcp_tool_result``, policies from its ``mcp_toolset`` entry)."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    result: TextSource = ""
    permission: Literal["allow", "ask", "deny"] | None = None
    is_error: bool = False
    mcp_server_name: str | None = None


@dataclass(frozen=True)
class CustomToolUse:
    """A client-side tool: ``agent.custom_tool_use``, then idle ``requires_action`` until the
    client posts ``user.custom_tool_result``; its text is ``{result}`` afterwards. Consecutive
    blocking tool steps form one model request and one ``requires_action`` listing them all."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionError:
    """Emit ``session.error``. ``retrying``: the turn recovers and goes on with the next steps;
    ``exhausted``: idle ``retries_exhausted``; ``terminal``: the session terminates."""

    retry_status: Literal["retrying", "exhausted", "terminal"] = "retrying"
    error_type: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Hold:
    """Keep the session ``running`` here until ``cloud.release(session_id)``, an interrupt or a
    cancel. A ``user.message`` meanwhile gets the 409 "processing a turn" answer."""


@dataclass(frozen=True)
class Wait:
    """Stay ``running`` for up to ``seconds`` (the agent "thinks"), then go on. An interrupt or
    a cancel ends the turn at once (the open span closes with ``is_error: true``);
    ``cloud.release(session_id)`` ends the wait early. The wait is a timer, not a sleep: the
    request that started the turn has already been answered."""

    seconds: float


@dataclass(frozen=True)
class Usage:
    """Usage of the current (or next) model request; unset fields keep their defaults.

    With ``only_given=True`` the ``model_usage`` object holds only the fields given here (e.g.
    credits only, as some real servers send)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    speed: str | None = None
    credits: float | None = None
    only_given: bool = False


@dataclass(frozen=True)
class Stop:
    """End the turn now with the given ``stop_reason`` type (e.g. ``"budget_reached"``)."""

    reason: str = "end_turn"


@dataclass(frozen=True)
class Emit:
    """Persist an arbitrary event (``Emit("session.usage", {"total_credits": 1.0})``)."""

    type: str
    fields: Mapping[str, Any] = field(default_factory=dict)


Step = Reply | Think | ToolUse | CustomToolUse | SessionError | Hold | Wait | Usage | Stop | Emit
"""One thing the agent does during a turn."""

Matcher = str | re.Pattern[str] | Callable[[TurnContext], bool]
"""Selects user messages: case-insensitive substring, regex (``search``), or predicate."""


class Rule:
    """A matcher and the steps to play; built fluently (every method returns the rule).

    ``times`` limits how often the rule may fire (``None``: always).
    """

    def __init__(
        self, match: Matcher, steps: Sequence[Step] = (), *, times: int | None = None
    ) -> None:
        self.match = match
        self.steps: list[Step] = list(steps)
        self.times = times
        self.fired = 0

    def matches(self, context: TurnContext) -> bool:
        """Whether this rule applies to the turn (and has uses left)."""
        if self.times is not None and self.fired >= self.times:
            return False
        if isinstance(self.match, str):
            return self.match.lower() in context.prompt.lower()
        if isinstance(self.match, re.Pattern):
            return self.match.search(context.prompt) is not None
        return bool(self.match(context))

    def then(self, *steps: Step) -> Rule:
        """Append raw steps."""
        self.steps.extend(steps)
        return self

    def reply(self, *parts: TextSource) -> Rule:
        """Append a :class:`Reply` (one ``agent.message`` per part)."""
        return self.then(Reply(*parts))

    def think(self, text: str | None = None) -> Rule:
        """Append a :class:`Think`."""
        return self.then(Think(text))

    def tool_use(
        self,
        name: str,
        input: Mapping[str, Any] | None = None,
        *,
        result: TextSource = "",
        permission: Literal["allow", "ask", "deny"] | None = None,
        is_error: bool = False,
    ) -> Rule:
        """Append a built-in :class:`ToolUse` (``permission=None``: the session's policy)."""
        return self.then(ToolUse(name, dict(input or {}), result, permission, is_error))

    def mcp_tool_use(
        self,
        server: str,
        name: str,
        input: Mapping[str, Any] | None = None,
        *,
        result: TextSource = "",
        permission: Literal["allow", "ask", "deny"] | None = None,
    ) -> Rule:
        """Append a :class:`ToolUse` of tool ``name`` of MCP server ``server``."""
        step = ToolUse(name, dict(input or {}), result, permission, mcp_server_name=server)
        return self.then(step)

    def custom_tool_use(self, name: str, input: Mapping[str, Any] | None = None) -> Rule:
        """Append a :class:`CustomToolUse` the client must answer."""
        return self.then(CustomToolUse(name, dict(input or {})))

    def error(
        self,
        retry_status: Literal["retrying", "exhausted", "terminal"] = "retrying",
        *,
        error_type: str | None = None,
        message: str | None = None,
    ) -> Rule:
        """Append a :class:`SessionError`."""
        return self.then(SessionError(retry_status, error_type, message))

    def hold(self) -> Rule:
        """Append a :class:`Hold`."""
        return self.then(Hold())

    def wait(self, seconds: float) -> Rule:
        """Append a :class:`Wait` of up to ``seconds``."""
        return self.then(Wait(seconds))

    def usage(self, **fields: Any) -> Rule:
        """Append a :class:`Usage` for the current or next model request."""
        return self.then(Usage(**fields))

    def stop(self, reason: str = "end_turn") -> Rule:
        """Append a :class:`Stop`."""
        return self.then(Stop(reason))

    def emit(self, type: str, **fields: Any) -> Rule:
        """Append an :class:`Emit` of a raw event."""
        return self.then(Emit(type, fields))

    def __repr__(self) -> str:
        return f"Rule({self.match!r}, steps={self.steps!r}, times={self.times!r})"


Planner = Callable[[TurnContext], Sequence[Step]]
"""Turns a context into steps (the fallback of a :class:`ScriptedAgent`)."""


class ScriptedAgent:
    """A deterministic agent: the first matching :class:`Rule` decides a turn's steps.

    ``fallback`` plays unmatched messages (default: reproducible canned answers); ``model`` is
    the model name reported on ``span.model_request_start`` when the session's agent has none.

    Example::

        agent = ScriptedAgent()
        agent.on("weather").think().custom_tool_use("get_weather", {"city": "Paris"}).reply(
            "It is {result} in Paris."
        )
        agent.on("delete", times=1).tool_use("bash", {"command": "rm x"}, permission="ask")
        agent.on(lambda ctx: len(ctx.history) > 10).error("exhausted")
        agent.add(Rule(re.compile(r"\bsum\b"), [Reply("Adding. ", "It is 3."), Usage(credits=0.5)]))
        cloud = FakeCloud(agent=agent)  # or cloud.agent = agent / cloud.script_agent(id, agent)
    """

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        *,
        fallback: Planner | None = None,
        model: str = "ultimate",
    ) -> None:
        self.rules: list[Rule] = list(rules)
        self.fallback = fallback
        self.model = model

    def on(self, match: Matcher, *, times: int | None = None) -> Rule:
        """Add and return a new rule for messages matching ``match``."""
        return self.add(Rule(match, times=times))

    def add(self, rule: Rule) -> Rule:
        """Add an existing rule (checked after the earlier ones)."""
        self.rules.append(rule)
        return rule

    def plan(self, context: TurnContext) -> list[Step]:
        """The steps of a new turn (consumes one use of the matching rule)."""
        for rule in self.rules:
            if rule.matches(context):
                rule.fired += 1
                return list(rule.steps)
        if self.fallback is not None:
            return list(self.fallback(context))
        from qoder.testing._default_agent import default_steps

        return default_steps(context)
