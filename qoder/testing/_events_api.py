"""Handlers of the event endpoints: send, list, stream (docs/protocol.md §3.9–3.11)."""

from __future__ import annotations

from typing import Any

from qoder.testing._faults import PROCESSING_MESSAGE
from qoder.testing._pages import MAX_EVENT_LIMIT, Listing, PageQuery, page_envelope
from qoder.testing._resources import SessionRecord
from qoder.testing._routes import object_body
from qoder.testing._script import TurnContext
from qoder.testing._snapshot import AgentSnapshot
from qoder.testing._state import CloudState
from qoder.testing._stream import EventStream
from qoder.testing._turns import Turn, content_text
from qoder.testing._wire import ApiError, EmulatorRequest, EmulatorResponse, json_response

__all__ = ["list_events", "send_events", "stream_events"]

DELTA_TYPES = frozenset({"agent.message", "agent.thinking"})


def _check_event(index: int, event: Any) -> dict[str, Any]:
    param = f"events[{index}]"
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ApiError(400, f"{param} must be an object with a type.", param=param)
    kind = event["type"]
    if kind == "user.message":
        content = event.get("content")
        valid = (isinstance(content, str) and content != "") or (
            isinstance(content, list)
            and content
            and all(isinstance(block, dict) and "type" in block for block in content)
        )
        if not valid:
            raise ApiError(400, "user.message needs content.", param=f"{param}.content")
    elif kind == "user.custom_tool_result":
        if not isinstance(event.get("custom_tool_use_id"), str):
            raise ApiError(
                400, "custom_tool_use_id is required.", param=f"{param}.custom_tool_use_id"
            )
    elif kind == "user.tool_confirmation":
        if not isinstance(event.get("tool_use_id"), str):
            raise ApiError(400, "tool_use_id is required.", param=f"{param}.tool_use_id")
        if event.get("result") not in ("allow", "deny"):
            raise ApiError(400, "result must be 'allow' or 'deny'.", param=f"{param}.result")
    elif kind == "system.message":
        if not content_text(event.get("content")).strip():
            message = "system.message needs content: text blocks or a string."
            raise ApiError(400, message, param=f"{param}.content")
    elif kind != "user.interrupt":
        raise ApiError(400, f"Unsupported event type: {kind!r}.", param=f"{param}.type")
    return event


_SYSTEM_MESSAGE_HOSTS = ("user.message", "user.custom_tool_result")
"""The events a ``system.message`` may follow (§8.4)."""


def _check_system_message(events: list[dict[str, Any]]) -> None:
    """At most one ``system.message``, the last event, directly after a ``user.message`` or a
    ``user.custom_tool_result`` (docs/protocol.md §8.4); else a 400."""
    positions = [i for i, event in enumerate(events) if event["type"] == "system.message"]
    if not positions:
        return
    index = positions[-1]
    param = f"events[{index}]"
    if len(positions) > 1:
        raise ApiError(400, "At most one system.message per request.", param=param)
    if index != len(events) - 1:
        message = "system.message must be the last event of the request."
        raise ApiError(400, message, param=param)
    if index == 0 or events[index - 1]["type"] not in _SYSTEM_MESSAGE_HOSTS:
        message = (
            "system.message must come directly after a user.message or a "
            "user.custom_tool_result in the same request."
        )
        raise ApiError(400, message, param=param)


_SERVER_FIELDS = frozenset(
    {"id", "type", "turn_id", "session_id", "created_at", "processed_at", "schema_version"}
)


def _fields(event: dict[str, Any]) -> dict[str, Any]:
    """The client's fields of an event param; the envelope is the server's to set (§4.0)."""
    return {key: value for key, value in event.items() if key not in _SERVER_FIELDS}


def _validate_batch(session: SessionRecord, events: list[dict[str, Any]]) -> None:
    """Refuse a batch as a whole before any of it is applied: a 409 or 400 answer means that
    nothing was done, so the client can send the same batch again (§2.6, §3.9)."""
    if sum(event["type"] == "user.message" for event in events) > 1:
        raise ApiError(400, "At most one user.message per request.", param="events")
    _check_system_message(events)
    answered: set[str] = set()
    for event in events:
        kind = event["type"]
        if kind == "user.message" and session.status in ("running", "rescheduling"):
            raise ApiError(409, PROCESSING_MESSAGE)
        if kind in ("user.custom_tool_result", "user.tool_confirmation"):
            target = str(event.get("custom_tool_use_id") or event.get("tool_use_id"))
            expected = "custom" if kind == "user.custom_tool_result" else "confirmation"
            turn = session.turn
            if turn is None or target in answered or turn.pending_kind(target) != expected:
                what = "a result" if expected == "custom" else "a confirmation"
                raise ApiError(400, f"Event {target} is not awaiting {what}.")
            answered.add(target)


def _instruct(
    state: CloudState, session: SessionRecord, turn: Turn, system: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Persist the ``system.message`` sent with the turn's event; its text joins the turn's
    instructions (``context.system_messages``) for the rest of the turn (§8.4)."""
    if system is None:
        return []
    echo = state.emit(session, "system.message", _fields(system), turn.turn_id)
    turn.context.system_messages.append(content_text(system["content"]))
    return [echo]


def _user_message(
    state: CloudState, session: SessionRecord, event: dict[str, Any], system: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Open a turn: the echo, the ``system.message`` if any, then the agent plays."""
    if session.status in ("running", "rescheduling"):
        raise ApiError(409, PROCESSING_MESSAGE)
    if session.turn is not None:  # a turn waiting for tool answers is abandoned
        session.turn.discard()
        session.turn = None
    turn_id = state.ids.new("turn")
    echo = state.emit(session, "user.message", _fields(event), turn_id)
    script = state.script_for(session.agent.id)
    context = TurnContext(
        session_id=session.id,
        agent_id=session.agent.id,
        prompt=content_text(event["content"]),
        content=event["content"],
        history=tuple(session.history),
        agent=AgentSnapshot.of(session.agent, script.model),
        think_seconds=state.think_seconds,
    )
    turn = Turn(
        session=session,
        turn_id=turn_id,
        steps=[],
        context=context,
        default_model=script.model,
        emit=lambda kind, fields: state.emit(session, kind, fields, turn_id),
        schedule=state.schedule,
    )
    session.turn = turn
    echoes = [echo, *_instruct(state, session, turn, system)]
    turn.steps = script.plan(context)
    turn.start()
    return echoes


def _answer(
    state: CloudState,
    session: SessionRecord,
    event: dict[str, Any],
    system: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """A tool result or a confirmation for the waiting turn (checked by the batch)."""
    turn = session.turn
    custom = event["type"] == "user.custom_tool_result"
    target = str(event["custom_tool_use_id"] if custom else event["tool_use_id"])
    if turn is None or turn.pending_kind(target) != ("custom" if custom else "confirmation"):
        raise ApiError(400, f"Event {target} is not awaiting an answer.")
    echoes = [state.emit(session, event["type"], _fields(event), turn.turn_id)]
    echoes += _instruct(state, session, turn, system)
    turn.answer(target, event)
    return echoes


def _interrupt(state: CloudState, session: SessionRecord, event: dict[str, Any]) -> Any:
    """Persist a ``user.interrupt``; it ends the turn there is (§6.7)."""
    turn = session.turn
    echo = state.emit(session, event["type"], _fields(event), turn.turn_id if turn else None)
    if turn is not None:
        turn.abort()
    return echo


def send_events(state: CloudState, request: EmulatorRequest, session_id: str) -> EmulatorResponse:
    """``POST /sessions/{id}/events`` → 202 ``{"data": [persisted echoes]}``."""
    session = state.session(session_id)
    body = object_body(request)
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise ApiError(400, "events must be a non-empty array.", param="events")
    checked = [_check_event(index, event) for index, event in enumerate(events)]
    if session.archived_at is not None:
        raise ApiError(409, "Session is archived.")
    if session.status == "terminated":
        raise ApiError(409, "Session is terminated.")
    _validate_batch(session, checked)
    system = checked.pop() if checked[-1]["type"] == "system.message" else None
    echoes: list[dict[str, Any]] = []
    for index, event in enumerate(checked):
        instructions = system if index == len(checked) - 1 else None
        if event["type"] == "user.message":
            echoes += _user_message(state, session, event, instructions)
        elif event["type"] == "user.interrupt":
            echoes.append(_interrupt(state, session, event))
        else:
            echoes += _answer(state, session, event, instructions)
    return json_response(202, {"data": echoes})


def _type_filter(values: list[str], commas: list[str]) -> frozenset[str] | None:
    types = set(values)
    for value in commas:
        types.update(item.strip() for item in value.split(",") if item.strip())
    return frozenset(types) or None


def list_events(state: CloudState, request: EmulatorRequest, session_id: str) -> EmulatorResponse:
    """``GET /sessions/{id}/events``: persisted events, oldest first by default; cursors must
    be events of this session."""
    session = state.session(session_id)
    log = session.log
    query = PageQuery(request, state.page_tokens, f"events:{session_id}")
    types = _type_filter(query.all("types[]") + query.all("types"), query.all("type"))

    def locate(event_id: str) -> int | None:
        after = log.position_after(event_id)
        return None if after is None else after - 1

    def position(event: dict[str, Any]) -> int:
        return (log.position_after(str(event["id"])) or 0) - 1

    page = page_envelope(
        log.events,
        listing=Listing(position=position, locate=locate, ident=lambda event: str(event["id"])),
        query=query,
        keep=lambda event: types is None or event["type"] in types,
        serialize=dict,
        order=query.order("asc"),
        max_limit=MAX_EVENT_LIMIT,
    )
    return json_response(200, page)


def stream_events(state: CloudState, request: EmulatorRequest, session_id: str) -> EmulatorResponse:
    """``GET /sessions/{id}/events/stream``: history after the cursor (all without one), then
    live events; ``Last-Event-ID`` wins over ``after_id``."""
    session = state.session(session_id)
    deltas = frozenset(request.query_all("event_deltas[]") + request.query_all("event_deltas"))
    unknown = sorted(deltas - DELTA_TYPES)
    if unknown:
        raise ApiError(400, f"Unsupported event_deltas: {unknown}.", param="event_deltas[]")
    types = _type_filter(request.query_all("types[]"), request.query_all("type"))
    cursor = (request.header("last-event-id") or "").strip() or request.query_get("after_id")
    start = 0
    if cursor:
        position = session.log.position_after(cursor)
        if position is None:
            raise ApiError(400, f"Event {cursor} does not belong to session {session_id}.")
        start = position
    stream = EventStream(
        session.log,
        state.lock,
        start=start,
        deltas=deltas,
        types=types,
        keepalive_interval=state.keepalive_interval,
        fault=state.faults.take_stream(session_id),
        on_close=state.forget_stream,
    )
    state.streams.add(stream)
    headers = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
    return EmulatorResponse(200, headers, stream=stream)
