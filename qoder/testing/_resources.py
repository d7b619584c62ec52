"""The emulator's stored resources (agents, environments, sessions) and their JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qoder.testing._log import EventLog
from qoder.testing._script import Exchange
from qoder.testing._usage import SessionUsage

if TYPE_CHECKING:
    from qoder.testing._turns import Turn

__all__ = ["AgentRecord", "EnvironmentRecord", "SessionRecord"]


@dataclass
class AgentRecord:
    """An agent created with ``POST /agents`` (docs/protocol.md §3.1)."""

    id: str
    name: str
    model: Any
    created_at: str
    description: str = ""
    system: str | None = None
    tools: list[Any] = field(default_factory=list)
    mcp_servers: list[Any] = field(default_factory=list)
    skills: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    updated_at: str = ""
    archived_at: str | None = None
    seq: int = 0
    """Creation order in the cloud (list position; kept by every version)."""

    @property
    def model_name(self) -> str | None:
        """The model id, whether given as a string or as ``{"id": …}``."""
        if isinstance(self.model, str):
            return self.model
        if isinstance(self.model, dict) and isinstance(self.model.get("id"), str):
            return str(self.model["id"])
        return None

    def to_json(self) -> dict[str, Any]:
        """The agent object."""
        return {
            "id": self.id,
            "type": "agent",
            "name": self.name,
            "description": self.description,
            "model": self.model,
            "system": self.system,
            "tools": self.tools,
            "mcp_servers": self.mcp_servers,
            "skills": self.skills,
            "metadata": self.metadata,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
            "archived_at": self.archived_at,
        }

    def summary(self) -> dict[str, Any]:
        """The agent as embedded in a session: the snapshot the session runs with (§8.1)."""
        return {
            "id": self.id,
            "type": "agent",
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "model": self.model,
            "system": self.system,
            "tools": self.tools,
            "mcp_servers": self.mcp_servers,
            "skills": self.skills,
        }


@dataclass
class EnvironmentRecord:
    """An environment created with ``POST /environments`` (docs/protocol.md §3.2)."""

    id: str
    name: str
    created_at: str
    description: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    updated_at: str = ""
    archived_at: str | None = None
    seq: int = 0
    """Creation order in the cloud (list position)."""

    def to_json(self) -> dict[str, Any]:
        """The environment object."""
        return {
            "id": self.id,
            "type": "environment",
            "name": self.name,
            "description": self.description,
            "status": "ready",
            "config": self.config,
            "metadata": self.metadata,
            "archived_at": self.archived_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
        }


@dataclass
class SessionRecord:
    """A session: its state, its event log, its running turn and its finished exchanges."""

    id: str
    agent: AgentRecord
    environment_id: str
    created_at: str
    log: EventLog
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    resources: list[Any] = field(default_factory=list)
    vault_ids: list[Any] = field(default_factory=list)
    environment_variables: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] | None = None
    seq: int = 0
    """Creation order in the cloud (list position)."""
    status: str = "idle"
    updated_at: str = ""
    archived_at: str | None = None
    usage: SessionUsage = field(default_factory=SessionUsage)
    turn: Turn | None = None
    history: list[Exchange] = field(default_factory=list)

    def add_usage(self, model_usage: dict[str, Any]) -> None:
        """Fold one model request's usage into the running totals (fields present only)."""
        self.usage.add(model_usage)

    @property
    def budget_spent(self) -> bool:
        """Whether the session's ``budget`` is used up (no more model requests)."""
        return self.usage.budget_spent(self.budget)

    def to_json(self) -> dict[str, Any]:
        """The Session object (docs/protocol.md §3.3)."""
        return {
            "id": self.id,
            "type": "session",
            "status": self.status,
            "title": self.title,
            "agent_id": self.agent.id,
            "agent": self.agent.summary(),
            "environment_id": self.environment_id,
            "metadata": self.metadata,
            "environment_variables": self.environment_variables,
            "resources": self.resources,
            "vault_ids": self.vault_ids,
            "budget": self.budget,
            "usage": self.usage.to_json(),
            "created_at": self.created_at,
            "updated_at": self.updated_at or self.created_at,
            "archived_at": self.archived_at,
        }
