"""The REST resources as frozen attrs values: sessions, agents, environments, and a page.

Built by the one converter (:data:`.convert.converter`), with its strict primitives: a known
field with the wrong JSON type is a :class:`~.errors.ProtocolError` naming the field, never a
silently coerced value; unknown fields are kept in ``raw`` (the whole JSON object), so a
server that adds a field breaks nothing. Every field but ``id`` is optional, because servers
of several revisions answer (docs/protocol.md §3, §8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import attrs
import cattrs

from .convert import converter, keep_raw
from .errors import ProtocolError

__all__ = [
    "Agent",
    "Deleted",
    "Environment",
    "ListCost",
    "Page",
    "Session",
    "SessionUsage",
    "structure_page",
    "structure_resource",
]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class ListCost:
    """A cost in money, as the server reports it (§8.6): a decimal string and its currency."""

    amount: str | None = None
    currency: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class SessionUsage:
    """A session's running totals (a snapshot, not a per-turn increment, §1.1)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    total_credits: float | None = None
    list_cost: ListCost | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Session:
    """A session (§3.3): ``status`` is ``idle``, ``running``, ``rescheduling``,
    ``terminated`` or a value a newer server sends; archived when ``archived_at`` is set.
    ``agent`` is the agent snapshot the session runs (overrides applied, §8.1), as JSON."""

    id: str
    type: str = "session"
    status: str | None = None
    title: str | None = None
    agent_id: str | None = None
    agent: dict[str, Any] | None = None
    environment_id: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)
    usage: SessionUsage | None = None
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def archived(self) -> bool:
        """Whether the session is archived (hidden from lists by default)."""
        return self.archived_at is not None


@attrs.frozen(kw_only=True)
class Agent:
    """An agent (§3.1, §8.5). ``model`` is a string such as ``"ultimate"`` or an object;
    ``tools``, ``mcp_servers`` and ``skills`` are kept as the JSON the server sent."""

    id: str
    type: str = "agent"
    name: str | None = None
    description: str | None = None
    model: Any = None
    system: str | None = None
    tools: tuple[dict[str, Any], ...] = ()
    mcp_servers: tuple[dict[str, Any], ...] = ()
    skills: tuple[dict[str, Any], ...] = ()
    metadata: dict[str, Any] = attrs.field(factory=dict)
    version: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Environment:
    """An environment (§3.2, §8.5): where sessions run; ``config`` as the server sent it."""

    id: str
    type: str = "environment"
    name: str | None = None
    description: str | None = None
    status: str | None = None
    config: dict[str, Any] = attrs.field(factory=dict)
    metadata: dict[str, Any] = attrs.field(factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Deleted:
    """The answer to a delete: the id and type of what is gone."""

    id: str
    type: str | None = None
    deleted: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Page(Generic[T]):
    """One page of a list (§3's envelope). Iterating it gives its items; ``has_more`` says
    whether another page follows (the pagers of the resource client fetch it for you)."""

    data: tuple[T, ...]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    next_page: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


for _cls in (ListCost, SessionUsage, Session, Agent, Environment, Deleted):
    converter.register_structure_hook(_cls, keep_raw(_cls))


def structure_resource(value: Any, cls: type[T], what: str) -> T:
    """``value`` (the JSON of an answer) as a ``cls``; a :class:`ProtocolError` naming
    ``what`` and the field when the server sent something else."""
    try:
        return converter.structure(value, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError) as error:
        raise ProtocolError(f"the API answered {what} with {_describe(error)}") from error


def structure_page(value: Any, item: Callable[[Any], T], what: str) -> Page[T]:
    """A page envelope whose items ``item`` builds (each checked as
    :func:`structure_resource` does); a body that is no envelope is a
    :class:`ProtocolError`."""
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise ProtocolError(f"the API answered {what} with no page (a 'data' list)")
    items = tuple(item(entry) for entry in value["data"])
    has_more = value.get("has_more")
    first_id, last_id, next_page = (value.get(k) for k in ("first_id", "last_id", "next_page"))
    return Page(
        items,
        has_more=has_more is True,
        first_id=first_id if isinstance(first_id, str) else None,
        last_id=last_id if isinstance(last_id, str) else None,
        next_page=next_page if isinstance(next_page, str) and next_page else None,
        raw=value,
    )


def _describe(error: Exception) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error, path="the object"))
    return f"a value that is not an object ({error})"


def server_info(session: Session | None) -> dict[str, Any] | None:
    """What ``get_server_info()`` tells: the session, agent and environment a client is
    attached to, from the session as last read (no request); ``None`` before ``connect()``."""
    if session is None:
        return None
    agent = session.agent or {}
    return {
        "session_id": session.id,
        "status": session.status,
        "title": session.title,
        "agent_id": session.agent_id or agent.get("id"),
        "agent": agent,
        "model": agent.get("model"),
        "environment_id": session.environment_id,
    }
