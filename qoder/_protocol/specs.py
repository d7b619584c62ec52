"""What ``connect()`` creates when no id is given: an agent and an environment (§3.1, §3.2).

Plain values, re-exported by :mod:`qoder.options`; :mod:`.requests` turns them into bodies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["AgentSpec", "EnvironmentSpec"]


@attrs.frozen(kw_only=True)
class AgentSpec:
    """An agent for ``connect()`` to create (``POST /agents``) when no agent id is given."""

    name: str
    model: str | dict[str, Any] = "ultimate"
    system: str | None = None
    description: str | None = None
    tools: Sequence[dict[str, Any]] = ({"type": "agent_toolset_20260401"},)
    mcp_servers: Sequence[dict[str, Any]] = ()
    skills: Sequence[dict[str, Any]] = ()
    metadata: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class EnvironmentSpec:
    """An environment for ``connect()`` to create (``POST /environments``)."""

    name: str = "qoder-python"
    networking: str = "unrestricted"
    metadata: Mapping[str, str] = attrs.field(factory=dict)
