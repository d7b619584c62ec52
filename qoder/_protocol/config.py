"""A session's configuration once resolved: what the core runs with.

:func:`qoder.options.resolve_options` builds it from ``QoderAgentOptions`` and the environment
(explicit values win); the core never sees the options object itself, so it imports nothing
above it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from .effects import Timeouts
from .permissions import canonical_tool_name
from .specs import AgentSpec, EnvironmentSpec

__all__ = ["HookVerdict", "HookedCall", "LocalTool", "SessionConfig", "ToolHooks"]


class LocalTool(Protocol):
    """A client-side tool as the core needs it (:class:`qoder.CustomTool` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def handler(self) -> Callable[..., Any]: ...

    @property
    def takes_args(self) -> bool:
        """Whether the handler takes the input as one dict (the official SDK's
        ``handler(args)``) rather than as keyword arguments."""
        ...

    def to_agent_tool(self) -> dict[str, Any]: ...


@attrs.frozen
class HookVerdict:
    """What the hooks of one event said, as the core acts on it: ``blocked`` (the reason a
    hook blocked, e.g. a prompt), ``context`` (text for the agent, sent as a
    ``system.message``, §8.4), ``stop`` (a hook said ``continue_: False``)."""

    blocked: str | None = None
    context: str | None = None
    stop: bool = False


class HookedCall(Protocol):
    """A client-side tool call run between its hooks: what to post, and whether a hook
    asked to stop the turn."""

    @property
    def value(self) -> Any: ...

    @property
    def stop(self) -> bool: ...

    @property
    def additional_context(self) -> str | None: ...


class ToolHooks(Protocol):
    """The user's hooks (``PreToolUse``, ``PostToolUse``) as the core calls them; built
    above the core (:mod:`qoder._hooks.session`) from ``QoderAgentOptions.hooks``. The
    coroutine methods run as ``CallUser`` effects."""

    def handles(self, event: str, tool_name: str) -> bool:
        """Whether any callback of ``event`` matches ``tool_name``."""
        ...

    def run_tool(
        self, tool: LocalTool, tool_input: dict[str, Any], tool_use_id: str, session_id: str
    ) -> Any:
        """A coroutine giving the :class:`HookedCall` of running ``tool`` between its hooks."""
        ...

    def decide(
        self, tool_name: str, tool_input: dict[str, Any], tool_use_id: str, session_id: str
    ) -> Any:
        """A coroutine giving the ``PreToolUse`` hooks' decision about a confirmation (a
        permission result), or ``None`` when they leave it to the rules and ``can_use_tool``."""
        ...

    def handles_event(self, event: str) -> bool:
        """Whether any callback is registered for ``event`` (an event without a tool)."""
        ...

    def run_event(self, event: str, session_id: str, fields: Mapping[str, Any]) -> Any:
        """A coroutine running the hooks of ``event`` (``UserPromptSubmit``, ``Stop``,
        ``SessionStart``, ``SessionEnd``) with ``fields`` in their input: a
        :class:`HookVerdict`."""
        ...

    def observe(
        self,
        tool_name: str,
        tool_input: dict[str, Any],
        tool_use_id: str,
        session_id: str,
        response: Any,
        is_error: bool,
    ) -> Any:
        """A coroutine running the ``PostToolUse`` (or ``PostToolUseFailure``) hooks on a
        server-side tool's result: a :class:`HookVerdict` (``stop``, ``context``)."""
        ...


@attrs.frozen(kw_only=True)
class SessionConfig:
    """Every setting a session uses, resolved; see ``QoderAgentOptions`` for each one."""

    token: str = attrs.field(repr=False)
    base_url: str
    version: str
    timeouts: Timeouts
    stream_idle_timeout: float = 90.0
    agent: str | AgentSpec | None = None
    agent_version: int | None = None
    environment: str | EnvironmentSpec | None = None
    resume: str | None = None
    session_title: str | None = None
    session_metadata: Mapping[str, str] | None = None
    environment_variables: Mapping[str, str] | None = None
    resources: Sequence[Mapping[str, Any]] | None = None
    vault_ids: Sequence[str] | None = None
    max_credit_cost: str | None = None
    include_partial_messages: bool = False
    tools: Sequence[LocalTool] = ()
    can_use_tool: Callable[..., Any] | None = None
    on_auth_expired: Callable[[], Any] | None = None
    max_retries: int = 2
    max_stream_reconnects: int = 6
    stream_reconnect_delay: float = 0.5
    max_buffered_messages: int = 10_000
    workspace_id: str | None = None
    betas: Sequence[str] = ()
    default_headers: Mapping[str, str] = attrs.field(factory=dict)
    # --- the official SDK's per-conversation options, mapped onto Cloud Agents (§8) -------
    system_prompt: str | None = None
    """Replaces the agent's system prompt for this session (§8.1); ``None``: the agent's own."""
    append_system_prompt: str | None = None
    """Appended to the agent's own system prompt (the official preset with ``append``)."""
    model: str | None = None
    """Overrides the agent's model for this session (§8.1); ``None``: the agent's own."""
    builtin_tools: tuple[str, ...] | None = None
    """Wire names of the built-in tools to enable (§8.3), ``()`` for none; ``None``: the
    agent's own toolset, unchanged."""
    allowed_tools: frozenset[str] = frozenset()
    """Tool names whose confirmations the client approves without asking ``can_use_tool``;
    as given (official capitalised names, wire names and ``mcp__server__tool`` names alike)."""
    disallowed_tools: frozenset[str] = frozenset()
    """Tool names turned off on the server (§8.3) and denied if a confirmation still comes."""
    permission_mode: str = "default"
    """``default``, ``acceptEdits``, ``bypassPermissions``, ``yolo`` or ``dontAsk``."""
    max_turns: int | None = None
    """Model requests allowed per turn; at the limit the client interrupts (§6.5)."""
    max_budget_usd: float | None = None
    """USD the session may cost (§8.6); the client interrupts once it is exceeded."""
    continue_conversation: bool = False
    """Attach to the agent's newest session instead of creating one."""
    hooks: ToolHooks | None = None
    """The user's tool hooks, if any matcher was given."""
    hook_asked_tools: frozenset[str] = frozenset()
    """Built-in tools made to ask (§8.3) only so that a ``PreToolUse`` hook sees them: a
    confirmation no hook, rule or callback decides is then allowed."""
    hook_asked_mcp_tools: frozenset[str] | None = frozenset()
    """The same for the agent-side MCP tools (``mcp__<server>__<tool>``); ``None``: all of
    them, a matcher may select any (their names are not known before the agent calls them)."""
    agent_mcp_servers: tuple[Mapping[str, Any], ...] = ()
    """MCP servers the agent itself connects to (``{"type": "url", ...}``, §8.3), added to
    the agent's own for this session, with :attr:`agent_mcp_toolsets`."""
    agent_mcp_toolsets: tuple[Mapping[str, Any], ...] = ()
    """The ``mcp_toolset`` entries of :attr:`agent_mcp_servers` (their tool policies)."""

    def asked_for_hooks(self, tool_name: str) -> bool:
        """Whether the session's toolsets were made to ask about ``tool_name`` (its
        permission name: a built-in's, or ``mcp__<server>__<tool>``) only so that a
        ``PreToolUse`` hook sees it."""
        if tool_name.startswith("mcp__"):
            asked = self.hook_asked_mcp_tools
            return asked is None or tool_name in asked
        return canonical_tool_name(tool_name) in self.hook_asked_tools

    @property
    def stream_timeouts(self) -> Timeouts:
        """The stream's timeouts: its read timeout is the idle timeout (keep-alives reset it)."""
        return attrs.evolve(self.timeouts, read=self.stream_idle_timeout)
