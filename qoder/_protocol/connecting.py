"""What ``connect()`` asks the server before a conversation can start (§3.1–3.4, §6.2).

:func:`create` makes the agent and environment when only specs were given, then the session;
:func:`resume` reads an existing session and works out where its stream starts: after its
newest event, or, when it is still running a turn, just before that turn's ``user.message``,
so that the whole turn streams and is followed as this client's own (§6.3).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

from . import overrides
from . import requests as rq
from . import resource_requests as rr
from .calls import Caller
from .config import SessionConfig
from .effects import Effect, EffectResult
from .errors import ProtocolError
from .specs import AgentSpec, EnvironmentSpec

__all__ = ["create", "newest_session", "reconfigure", "require_id", "resume", "retool"]

T = TypeVar("T")
Flow = Generator[Effect, EffectResult, T]


def resume(caller: Caller, session_id: str) -> Flow[tuple[Any, str | None, dict[str, Any] | None]]:
    """The session to attach to, the cursor to stream from (§6.2), and the ``user.message``
    of the turn it is still running, if any: then the cursor is the event before that
    prompt, so that the whole running turn streams and is correlated as our own."""
    session = yield from caller.call(rq.retrieve_session(session_id))
    status = session.get("status") if isinstance(session, dict) else None
    if status in _RUNNING:
        prompts = rq.list_events(session_id, order="desc", limit=1, types=("user.message",))
        prompt = _first_item((yield from caller.call(prompts)))
        prompt_id = prompt.get("id") if prompt is not None else None
        if isinstance(prompt_id, str) and prompt_id:
            earlier = rq.list_events(session_id, order="desc", after_id=prompt_id, limit=1)
            before = _first_item((yield from caller.call(earlier)))
            return session, _id_of(before), prompt
    newest = _first_item(
        (yield from caller.call(rq.list_events(session_id, order="desc", limit=1)))
    )
    return session, _id_of(newest), None


def create(caller: Caller, config: SessionConfig) -> Flow[Any]:
    """Create the agent and environment when only specs were given, then the session, with
    the options' changes to the agent (§8.1)."""
    agent = config.agent
    changes: dict[str, Any] = {}
    if isinstance(agent, AgentSpec):
        spec = overrides.apply_to_spec(agent, config)
        agent = require_id((yield from caller.call(rq.create_agent(spec))), "agent")
    else:
        assert agent is not None  # resolve_options guarantees an agent unless resuming
        current = None
        if overrides.needs_agent(config):
            current = yield from caller.call(rr.retrieve_agent(agent, version=config.agent_version))
        changes = overrides.agent_changes(config, current if isinstance(current, dict) else None)
    environment = config.environment
    if not isinstance(environment, str):
        created = yield from caller.call(rq.create_environment(environment or EnvironmentSpec()))
        environment = require_id(created, "environment")
    session = yield from caller.call(
        rq.create_session(
            agent=agent,
            agent_version=config.agent_version,
            agent_overrides=changes,
            environment_id=environment,
            title=config.session_title,
            metadata=config.session_metadata,
            environment_variables=config.environment_variables,
            resources=config.resources,
            vault_ids=config.vault_ids,
            max_credit_cost=config.max_credit_cost,
        )
    )
    return session  # a new session has no history: no cursor (§6.2)


def reconfigure(caller: Caller, config: SessionConfig, session: Any) -> Flow[Any]:
    """Apply the options' changes to a session being resumed (§8.2): its agent snapshot is
    updated from the next model request. Returns the session as it now is."""
    agent = session.get("agent") if isinstance(session, dict) else None
    changes = overrides.agent_changes(config, agent if isinstance(agent, dict) else None)
    if not changes:
        return session
    session_id = require_id(session, "session")
    return (yield from caller.call(rr.update_session(session_id, agent=changes)))


def retool(
    caller: Caller, config: SessionConfig, session_id: str, agent_id: str | None
) -> Flow[Any]:
    """Make the session's tools anew for ``config`` (§8.2), from the agent's own: after
    ``set_permission_mode()`` changed whether the client decides the server-side calls, so
    that their toolsets ask about every call, or follow the agent's own policies again.
    Returns the session as it now is (``None``: nothing was sent)."""
    agent = config.agent
    if isinstance(agent, AgentSpec):  # the agent this client created: its tools as specified
        current: Any = {"tools": [dict(tool) for tool in agent.tools]}
    else:
        agent_id = agent_id or agent
        if agent_id is None:
            raise ProtocolError("the session names no agent whose tools to start from")
        current = yield from caller.call(rr.retrieve_agent(agent_id, version=config.agent_version))
    current = current if isinstance(current, dict) else {}
    tools = overrides.agent_changes(config, current).get("tools", current.get("tools"))
    if not isinstance(tools, list):  # the agent listed no tools: nothing to go back to
        return None
    return (yield from caller.call(rr.update_session(session_id, agent={"tools": tools})))


def newest_session(caller: Caller, agent_id: str) -> Flow[str | None]:
    """The id of the agent's most recently created session (``continue_conversation``)."""
    page = yield from caller.call(rq.list_sessions(agent_id=agent_id, order="desc", limit=1))
    return _id_of(_first_item(page))


_RUNNING = frozenset({"running", "processing", "rescheduling"})


def _first_item(page: Any) -> dict[str, Any] | None:
    data = page.get("data") if isinstance(page, dict) else None
    first = data[0] if isinstance(data, list) and data else None
    return first if isinstance(first, dict) else None


def _id_of(item: dict[str, Any] | None) -> str | None:
    value = item.get("id") if item is not None else None
    return value if isinstance(value, str) and value else None


def require_id(obj: Any, kind: str) -> str:
    value = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"the API created a {kind} but its answer carries no id")
    return value
