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
from .specs import AgentSpec, EnvironmentSpec

__all__ = ["LocalTool", "SessionConfig"]


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

    @property
    def stream_timeouts(self) -> Timeouts:
        """The stream's timeouts: its read timeout is the idle timeout (keep-alives reset it)."""
        return attrs.evolve(self.timeouts, read=self.stream_idle_timeout)
