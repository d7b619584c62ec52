"""Handlers of the resource endpoints: agents, environments, sessions (docs/protocol.md
§3.1–3.8, §8.1, §8.2, §8.5).

Records are never changed in place once a session may hold them: an agent update makes a new
version (the old one stays retrievable), and a session's agent is a snapshot of its own, which
``POST /sessions/{id}`` replaces field by field. Every check of a request runs before any change,
so a refused request (400, 404, 409) did nothing.

One handler per endpoint, side by side (over ~400 lines: the checks of each body are what
makes the emulator faithful, and they read best next to one another)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from qoder.testing._log import EventLog
from qoder.testing._pages import Listing, PageQuery, page_envelope
from qoder.testing._resources import AgentRecord, EnvironmentRecord, SessionRecord
from qoder.testing._state import CloudState
from qoder.testing._usage import SessionUsage
from qoder.testing._wire import ApiError, EmulatorRequest, EmulatorResponse, json_response

__all__ = [
    "archive_agent",
    "archive_environment",
    "archive_session",
    "cancel_session",
    "create_agent",
    "create_environment",
    "create_session",
    "delete_environment",
    "delete_session",
    "get_agent",
    "get_environment",
    "get_session",
    "list_agents",
    "list_environments",
    "list_sessions",
    "object_body",
    "update_agent",
    "update_environment",
    "update_session",
]


def object_body(request: EmulatorRequest, *, allow_empty: bool = False) -> dict[str, Any]:
    """The JSON object body of a request; 400 when it is not one."""
    if allow_empty and not request.body.strip():
        return {}
    try:
        body = request.json()
    except ValueError:
        raise ApiError(400, "Request body must be valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    return body


def _optional(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(name, default)
    if value is not None and not isinstance(value, kind):
        raise ApiError(400, f"{name} has the wrong type.", param=name)
    return value


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    metadata = _optional(body, "metadata", dict, {})
    return dict(metadata or {})


def _reject_unknown(body: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        name = prefix + unknown[0]
        raise ApiError(400, f"Unknown field {name!r}.", param=name)


def _patched(current: dict[str, Any], patch: Any, param: str) -> dict[str, Any]:
    """``current`` with ``patch`` applied: each key is set, a key whose value is null removed."""
    if not isinstance(patch, dict):
        raise ApiError(400, f"{param} must be an object.", param=param)
    result = dict(current)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _version(value: Any, param: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ApiError(400, f"{param} must be a positive integer.", param=param)
    return value


# -- agent fields (§3.1) ---------------------------------------------------------------------


def _name(value: Any, param: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 256:
        raise ApiError(400, f"{param} is required (1-256 characters).", param=param)
    return value


def _model(value: Any, param: str) -> Any:
    valid = (isinstance(value, str) and bool(value)) or (
        isinstance(value, dict) and isinstance(value.get("id"), str) and bool(value["id"])
    )
    if not valid:
        raise ApiError(400, f"{param} is required (a string or {{'id': ...}}).", param=param)
    return value


def _text(value: Any, param: str) -> str:
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{param} must be a string.", param=param)
    return value or ""


def _nullable_text(value: Any, param: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{param} must be a string or null.", param=param)
    return value


def _array(value: Any, param: str) -> list[Any]:
    if value is not None and not isinstance(value, list):
        raise ApiError(400, f"{param} must be an array.", param=param)
    return list(value or [])


def _string_map(value: Any, param: str) -> dict[str, Any]:
    if value is not None and not (
        isinstance(value, dict) and all(isinstance(item, str) for item in value.values())
    ):
        raise ApiError(400, f"{param} must be an object of strings.", param=param)
    return dict(value or {})


_AGENT_FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "name": _name,
    "model": _model,
    "description": _text,
    "system": _nullable_text,
    "tools": _array,
    "mcp_servers": _array,
    "skills": _array,
}
_SNAPSHOT_FIELDS = ("model", "system", "tools", "mcp_servers", "skills")
"""The agent fields a session may override (§8.1) or update (§8.2)."""


def _agent_fields(body: dict[str, Any], names: Iterable[str], prefix: str = "") -> dict[str, Any]:
    """The checked values of the agent fields present in ``body``."""
    return {name: _AGENT_FIELDS[name](body[name], prefix + name) for name in names if name in body}


# -- agents (§3.1, §8.5) ---------------------------------------------------------------------


def create_agent(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``POST /agents`` → 201 agent."""
    body = object_body(request)
    fields = _agent_fields(body, _AGENT_FIELDS)
    name = _name(body.get("name"), "name")
    model = _model(body.get("model"), "model")
    now = state.now()
    fields.update(name=name, model=model)
    agent = AgentRecord(
        id=state.ids.new("agent"),
        created_at=now,
        updated_at=now,
        metadata=_string_map(body.get("metadata"), "metadata"),
        seq=state.next_seq(),
        **fields,
    )
    state.agents[agent.id] = agent
    return json_response(201, agent.to_json())


def get_agent(state: CloudState, request: EmulatorRequest, agent_id: str) -> EmulatorResponse:
    """``GET /agents/{id}`` (query ``version``: any version the agent had; 404 for others)."""
    raw = request.query_get("version")
    version = None
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ApiError(400, "version must be a positive integer.", param="version")
        version = int(raw)
    return json_response(200, state.find_agent(agent_id, version).to_json())


def _agent_listing(state: CloudState) -> Listing:
    def locate(agent_id: str) -> int | None:
        agent = state.agents.get(agent_id)
        return None if agent is None else agent.seq

    return Listing(position=lambda agent: agent.seq, locate=locate, ident=lambda agent: agent.id)


def list_agents(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``GET /agents``: the latest version of each, newest first; archived ones on request."""
    query = PageQuery(request, state.page_tokens, "agents")
    include_archived = query.flag("include_archived")
    page = page_envelope(
        list(state.agents.values()),
        listing=_agent_listing(state),
        query=query,
        keep=lambda agent: include_archived or agent.archived_at is None,
        serialize=lambda agent: agent.to_json(),
        order=query.order("desc"),
    )
    return json_response(200, page)


def update_agent(state: CloudState, request: EmulatorRequest, agent_id: str) -> EmulatorResponse:
    """``POST /agents/{id}``: a new version; ``version`` (optional) must be the current one."""
    agent = state.find_agent(agent_id)
    body = object_body(request)
    _reject_unknown(body, [*_AGENT_FIELDS, "metadata", "version"])
    fields = _agent_fields(body, _AGENT_FIELDS)
    expected = _version(body.get("version"), "version")
    if "metadata" in body:
        fields["metadata"] = _string_map(
            _patched(agent.metadata, body["metadata"], "metadata"), "metadata"
        )
    if agent.archived_at is not None:
        raise ApiError(409, f"Agent {agent_id} is archived.")
    if expected is not None and expected != agent.version:
        raise ApiError(
            409,
            f"Agent {agent_id} is at version {agent.version}, not {expected}: it was updated "
            "since you read it. Retrieve it again and retry.",
            param="version",
        )
    state.agent_versions.setdefault(agent_id, {})[agent.version] = agent
    updated = replace(agent, **fields, version=agent.version + 1, updated_at=state.now())
    state.agents[agent_id] = updated
    return json_response(200, updated.to_json())


def archive_agent(state: CloudState, request: EmulatorRequest, agent_id: str) -> EmulatorResponse:
    """``POST /agents/{id}/archive``: sets ``archived_at`` (again: unchanged); not a new version."""
    agent = state.find_agent(agent_id)
    object_body(request, allow_empty=True)
    if agent.archived_at is None:
        now = state.now()
        agent = replace(agent, archived_at=now, updated_at=now)
        state.agents[agent_id] = agent
    return json_response(200, agent.to_json())


# -- environments (§3.2, §8.5) ---------------------------------------------------------------


def _config(value: Any) -> dict[str, Any]:
    if value is not None and not isinstance(value, dict):
        raise ApiError(400, "config must be an object.", param="config")
    config = dict(value or {})
    networking = config.get("networking")
    if networking is not None and not isinstance(networking, dict):
        raise ApiError(400, "config.networking must be an object.", param="config.networking")
    return config


def create_environment(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``POST /environments`` → 201 environment (``networking`` must be an object)."""
    body = object_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "name is required.", param="name")
    now = state.now()
    environment = EnvironmentRecord(
        id=state.ids.new("env"),
        name=name,
        created_at=now,
        updated_at=now,
        description=_text(body.get("description"), "description"),
        config=_config(body.get("config")),
        metadata=_string_map(body.get("metadata"), "metadata"),
        seq=state.next_seq(),
    )
    state.environments[environment.id] = environment
    return json_response(201, environment.to_json())


def get_environment(state: CloudState, request: EmulatorRequest, env_id: str) -> EmulatorResponse:
    """``GET /environments/{id}``."""
    return json_response(200, state.find_environment(env_id).to_json())


def _environment_listing(state: CloudState) -> Listing:
    def locate(env_id: str) -> int | None:
        environment = state.environments.get(env_id)
        return state.removed.get(env_id) if environment is None else environment.seq

    return Listing(position=lambda env: env.seq, locate=locate, ident=lambda env: env.id)


def list_environments(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``GET /environments``: newest first; archived ones on request."""
    query = PageQuery(request, state.page_tokens, "environments")
    include_archived = query.flag("include_archived")
    page = page_envelope(
        list(state.environments.values()),
        listing=_environment_listing(state),
        query=query,
        keep=lambda env: include_archived or env.archived_at is None,
        serialize=lambda env: env.to_json(),
        order=query.order("desc"),
    )
    return json_response(200, page)


def update_environment(
    state: CloudState, request: EmulatorRequest, env_id: str
) -> EmulatorResponse:
    """``POST /environments/{id}``: ``name``, ``description``, ``config`` replace, ``metadata``
    is a patch."""
    environment = state.find_environment(env_id)
    body = object_body(request)
    _reject_unknown(body, ("name", "description", "config", "metadata"))
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = _name(body["name"], "name")
    if "description" in body:
        changes["description"] = _text(body["description"], "description")
    if "config" in body:
        changes["config"] = _config(body["config"])
    if "metadata" in body:
        patched = _patched(environment.metadata, body["metadata"], "metadata")
        changes["metadata"] = _string_map(patched, "metadata")
    if environment.archived_at is not None:
        raise ApiError(409, f"Environment {env_id} is archived.")
    updated = replace(environment, **changes, updated_at=state.now())
    state.environments[env_id] = updated
    return json_response(200, updated.to_json())


def delete_environment(
    state: CloudState, request: EmulatorRequest, env_id: str
) -> EmulatorResponse:
    """``DELETE /environments/{id}`` → ``{"id", "type": "environment_deleted"}``; then 404.
    Sessions made in it keep their ``environment_id``."""
    environment = state.find_environment(env_id)
    object_body(request, allow_empty=True)
    del state.environments[env_id]
    state.removed[env_id] = environment.seq
    return json_response(200, {"id": env_id, "type": "environment_deleted"})


def archive_environment(
    state: CloudState, request: EmulatorRequest, env_id: str
) -> EmulatorResponse:
    """``POST /environments/{id}/archive``: sets ``archived_at`` (again: unchanged)."""
    environment = state.find_environment(env_id)
    object_body(request, allow_empty=True)
    if environment.archived_at is None:
        now = state.now()
        environment = replace(environment, archived_at=now, updated_at=now)
        state.environments[env_id] = environment
    return json_response(200, environment.to_json())


# -- sessions (§3.3–3.8, §8.1, §8.2) ---------------------------------------------------------


def _agent_of(state: CloudState, reference: Any) -> AgentRecord:
    """The agent snapshot a new session runs with: an id (latest version), ``{"type": "agent",
    "id", "version"?}`` or ``{"type": "agent_with_overrides", "id", "version"?, …}`` (§8.1)."""
    if isinstance(reference, str) and reference:
        reference = {"type": "agent", "id": reference}
    if not isinstance(reference, dict) or not isinstance(reference.get("id"), str):
        raise ApiError(400, "agent is required (an id or {'type':'agent','id':…}).", param="agent")
    kind = reference.get("type", "agent")
    if kind not in ("agent", "agent_with_overrides"):
        message = "agent.type must be 'agent' or 'agent_with_overrides'."
        raise ApiError(400, message, param="agent.type")
    overridable = _SNAPSHOT_FIELDS if kind == "agent_with_overrides" else ()
    _reject_unknown(reference, ("type", "id", "version", *overridable), prefix="agent.")
    overrides = _agent_fields(reference, overridable, prefix="agent.")
    version = _version(reference.get("version"), "agent.version")
    agent = state.find_agent(reference["id"], version)
    if state.agents[agent.id].archived_at is not None:
        raise ApiError(409, f"Agent {agent.id} is archived.")
    return replace(agent, **overrides) if overrides else agent


def _budget(value: Any, param: str = "budget") -> dict[str, Any] | None:
    """``None`` or ``{"type": "limit", "max_credit_cost": "<decimal string>"}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") != "limit":
        raise ApiError(400, f"{param} must be {{'type': 'limit', ...}}.", param=param)
    cost = value.get("max_credit_cost")
    try:
        valid = isinstance(cost, str) and Decimal(cost).is_finite() and Decimal(cost) >= 0
    except InvalidOperation:
        valid = False
    if not valid:
        message = f"{param}.max_credit_cost must be a decimal string such as '10.00'."
        raise ApiError(400, message, param=f"{param}.max_credit_cost")
    return dict(value)


def create_session(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``POST /sessions`` → 201 Session."""
    body = object_body(request)
    agent = _agent_of(state, body.get("agent"))
    environment_id = body.get("environment_id")
    if not isinstance(environment_id, str) or not environment_id:
        raise ApiError(400, "environment_id is required.", param="environment_id")
    fields: dict[str, Any] = {
        "title": _nullable_text(body.get("title"), "title"),
        "metadata": _metadata(body),
        "resources": _array(body.get("resources"), "resources"),
        "vault_ids": _array(body.get("vault_ids"), "vault_ids"),
        "environment_variables": _string_map(
            body.get("environment_variables"), "environment_variables"
        ),
        "budget": _budget(body.get("budget")),
    }
    if state.find_environment(environment_id).archived_at is not None:
        raise ApiError(409, f"Environment {environment_id} is archived.")
    session_id = state.ids.new("sess")
    session = SessionRecord(
        id=session_id,
        agent=agent,
        environment_id=environment_id,
        created_at=state.now(),
        log=EventLog(session_id, state.lock),
        seq=state.next_seq(),
        usage=SessionUsage(report_usd_cost=state.report_usd_cost),
        **fields,
    )
    state.sessions[session_id] = session
    return json_response(201, session.to_json())


def get_session(state: CloudState, request: EmulatorRequest, session_id: str) -> EmulatorResponse:
    """``GET /sessions/{id}``."""
    return json_response(200, state.session(session_id).to_json())


def _session_listing(state: CloudState) -> Listing:
    def locate(session_id: str) -> int | None:
        session = state.sessions.get(session_id)
        return state.removed.get(session_id) if session is None else session.seq

    return Listing(position=lambda session: session.seq, locate=locate, ident=lambda s: s.id)


def list_sessions(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``GET /sessions``: newest first by default; archived ones only on request."""
    query = PageQuery(request, state.page_tokens, "sessions")
    include_archived = query.flag("include_archived")
    agent_id = query.get("agent_id")
    statuses = set(query.all("statuses[]") + query.all("statuses"))

    def keep(session: SessionRecord) -> bool:
        return (
            (include_archived or session.archived_at is None)
            and (not agent_id or session.agent.id == agent_id)
            and (not statuses or session.status in statuses)
        )

    page = page_envelope(
        list(state.sessions.values()),
        listing=_session_listing(state),
        query=query,
        keep=keep,
        serialize=lambda session: session.to_json(),
        order=query.order("desc"),
    )
    return json_response(200, page)


_SESSION_UPDATE_KEYS = ("title", "metadata", "environment_variables", "agent", "budget")


def _session_changes(session: SessionRecord, body: dict[str, Any]) -> dict[str, Any]:
    """The checked new values of the session's attributes named in an update body (§8.2)."""
    _reject_unknown(body, _SESSION_UPDATE_KEYS)
    changes: dict[str, Any] = {}
    if "title" in body:
        changes["title"] = _nullable_text(body["title"], "title")
    if "metadata" in body:
        changes["metadata"] = _patched(session.metadata, body["metadata"], "metadata")
    if "environment_variables" in body:
        value = _string_map(body["environment_variables"], "environment_variables")
        changes["environment_variables"] = value
    if "budget" in body:
        changes["budget"] = _budget(body["budget"])
    if "agent" in body:
        patch = body["agent"]
        if not isinstance(patch, dict):
            raise ApiError(400, "agent must be an object.", param="agent")
        _reject_unknown(patch, _SNAPSHOT_FIELDS, prefix="agent.")
        fields = _agent_fields(patch, _SNAPSHOT_FIELDS, prefix="agent.")
        changes["agent"] = replace(session.agent, **fields)
    return changes


def update_session(
    state: CloudState, request: EmulatorRequest, session_id: str
) -> EmulatorResponse:
    """``POST /sessions/{id}``: ``title``, ``metadata`` (a patch), ``environment_variables``,
    ``agent`` (fields of the snapshot), ``budget``; from the next model request on."""
    session = state.session(session_id)
    changes = _session_changes(session, object_body(request))
    if session.archived_at is not None:
        raise ApiError(409, "Session is archived.")
    for name, value in changes.items():
        setattr(session, name, value)
    # a turn in progress goes on: its next model request sees the new agent (§8.2)
    session.updated_at = state.now()
    return json_response(200, session.to_json())


def delete_session(
    state: CloudState, request: EmulatorRequest, session_id: str
) -> EmulatorResponse:
    """``DELETE /sessions/{id}``: open streams get ``session.deleted`` and close; then 404."""
    session = state.session(session_id)
    object_body(request, allow_empty=True)
    if session.turn is not None:
        session.turn.discard()
        session.turn = None
    state.emit(session, "session.deleted", {}, None)
    session.log.close()
    del state.sessions[session_id]
    state.removed[session_id] = session.seq
    return json_response(200, {"id": session_id, "type": "session", "deleted": True})


def archive_session(
    state: CloudState, request: EmulatorRequest, session_id: str
) -> EmulatorResponse:
    """``POST /sessions/{id}/archive``: sets ``archived_at``; the status is unchanged."""
    session = state.session(session_id)
    object_body(request, allow_empty=True)
    if session.archived_at is None:
        session.archived_at = state.now()
        session.updated_at = session.archived_at
    return json_response(200, session.to_json())


def cancel_session(
    state: CloudState, request: EmulatorRequest, session_id: str
) -> EmulatorResponse:
    """``POST /sessions/{id}/cancel``: 202 and the turn stops when running, 200 no-op when idle."""
    session = state.session(session_id)
    object_body(request, allow_empty=True)
    status = 200
    turn = session.turn
    if turn is not None and session.status in ("running", "rescheduling"):
        turn.abort()
        status = 202
    return json_response(status, {"id": session_id, "type": "session", "status": "canceling"})
