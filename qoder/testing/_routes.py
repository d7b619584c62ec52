"""Handlers of the resource endpoints: agents, environments, sessions (docs/protocol.md
§3.1–3.8)."""

from __future__ import annotations

from typing import Any

from qoder.testing._log import EventLog
from qoder.testing._pages import PageQuery, page_envelope, parse_bool
from qoder.testing._resources import AgentRecord, EnvironmentRecord, SessionRecord
from qoder.testing._state import CloudState
from qoder.testing._wire import ApiError, EmulatorRequest, EmulatorResponse, json_response

__all__ = [
    "archive_session",
    "cancel_session",
    "create_agent",
    "create_environment",
    "create_session",
    "delete_session",
    "get_agent",
    "get_environment",
    "get_session",
    "list_sessions",
    "object_body",
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


def create_agent(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``POST /agents`` → 201 agent."""
    body = object_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 256:
        raise ApiError(400, "name is required (1-256 characters).", param="name")
    model = body.get("model")
    valid_model = (isinstance(model, str) and bool(model)) or (
        isinstance(model, dict) and isinstance(model.get("id"), str)
    )
    if not valid_model:
        raise ApiError(400, "model is required (a string or {'id': ...}).", param="model")
    agent = AgentRecord(
        id=state.ids.new("agent"),
        name=name,
        model=model,
        created_at=state.now(),
        description=_optional(body, "description", str, "") or "",
        system=_optional(body, "system", str, None),
        tools=list(_optional(body, "tools", list, []) or []),
        mcp_servers=list(_optional(body, "mcp_servers", list, []) or []),
        skills=list(_optional(body, "skills", list, []) or []),
        metadata=_metadata(body),
    )
    state.agents[agent.id] = agent
    return json_response(201, agent.to_json())


def get_agent(state: CloudState, request: EmulatorRequest, agent_id: str) -> EmulatorResponse:
    """``GET /agents/{id}``."""
    agent = state.agents.get(agent_id)
    if agent is None:
        raise ApiError(404, f"Agent {agent_id} not found.")
    return json_response(200, agent.to_json())


def create_environment(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``POST /environments`` → 201 environment (``networking`` must be an object)."""
    body = object_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "name is required.", param="name")
    config = _optional(body, "config", dict, {}) or {}
    networking = config.get("networking")
    if networking is not None and not isinstance(networking, dict):
        raise ApiError(400, "config.networking must be an object.", param="config.networking")
    environment = EnvironmentRecord(
        id=state.ids.new("env"),
        name=name,
        created_at=state.now(),
        description=_optional(body, "description", str, "") or "",
        config=dict(config),
        metadata=_metadata(body),
    )
    state.environments[environment.id] = environment
    return json_response(201, environment.to_json())


def get_environment(state: CloudState, request: EmulatorRequest, env_id: str) -> EmulatorResponse:
    """``GET /environments/{id}``."""
    environment = state.environments.get(env_id)
    if environment is None:
        raise ApiError(404, f"Environment {env_id} not found.")
    return json_response(200, environment.to_json())


def _agent_of(state: CloudState, reference: Any) -> AgentRecord:
    version = None
    if isinstance(reference, str) and reference:
        agent_id = reference
    elif isinstance(reference, dict) and isinstance(reference.get("id"), str):
        agent_id, version = reference["id"], reference.get("version")
    else:
        raise ApiError(400, "agent is required (an id or {'type':'agent','id':…}).", param="agent")
    agent = state.agents.get(agent_id)
    if agent is None or (version is not None and version != agent.version):
        raise ApiError(404, f"Agent {agent_id} not found.")
    return agent


def create_session(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``POST /sessions`` → 201 Session."""
    body = object_body(request)
    agent = _agent_of(state, body.get("agent"))
    environment_id = body.get("environment_id")
    if not isinstance(environment_id, str) or not environment_id:
        raise ApiError(400, "environment_id is required.", param="environment_id")
    if environment_id not in state.environments:
        raise ApiError(404, f"Environment {environment_id} not found.")
    session_id = state.ids.new("sess")
    session = SessionRecord(
        id=session_id,
        agent=agent,
        environment_id=environment_id,
        created_at=state.now(),
        log=EventLog(session_id, state.lock),
        title=_optional(body, "title", str, None),
        metadata=_metadata(body),
        resources=list(_optional(body, "resources", list, []) or []),
        vault_ids=list(_optional(body, "vault_ids", list, []) or []),
        environment_variables=dict(_optional(body, "environment_variables", dict, {}) or {}),
    )
    state.sessions[session_id] = session
    return json_response(201, session.to_json())


def get_session(state: CloudState, request: EmulatorRequest, session_id: str) -> EmulatorResponse:
    """``GET /sessions/{id}``."""
    return json_response(200, state.session(session_id).to_json())


def list_sessions(state: CloudState, request: EmulatorRequest) -> EmulatorResponse:
    """``GET /sessions``: newest first by default; archived ones only on request."""
    query = PageQuery(request, state.page_tokens)
    ordered = list(state.sessions.values())
    if query.order("desc") == "desc":
        ordered.reverse()
    include_archived = parse_bool(query.get("include_archived"), "include_archived")
    agent_id = query.get("agent_id")
    statuses = set(query.all("statuses[]") + query.all("statuses"))

    def keep(session: SessionRecord) -> bool:
        return (
            (include_archived or session.archived_at is None)
            and (not agent_id or session.agent.id == agent_id)
            and (not statuses or session.status in statuses)
        )

    page = page_envelope(
        ordered,
        ident=lambda session: session.id,
        keep=keep,
        query=query,
        tokens=state.page_tokens,
        serialize=lambda session: session.to_json(),
    )
    return json_response(200, page)


def update_session(
    state: CloudState, request: EmulatorRequest, session_id: str
) -> EmulatorResponse:
    """``POST /sessions/{id}``: set ``title``, merge ``metadata`` (a null value removes a key)."""
    session = state.session(session_id)
    body = object_body(request)
    if "title" in body:
        session.title = _optional(body, "title", str, None)
    if "metadata" in body:
        for key, value in (_optional(body, "metadata", dict, {}) or {}).items():
            if value is None:
                session.metadata.pop(key, None)
            else:
                session.metadata[key] = value
    session.updated_at = state.now()
    return json_response(200, session.to_json())


def delete_session(
    state: CloudState, request: EmulatorRequest, session_id: str
) -> EmulatorResponse:
    """``DELETE /sessions/{id}``: open streams get ``session.deleted`` and close; then 404."""
    session = state.session(session_id)
    if session.turn is not None:
        session.turn.finished = True
        session.turn = None
    state.emit(session, "session.deleted", {}, None)
    session.log.close()
    del state.sessions[session_id]
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
