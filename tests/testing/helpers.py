"""Small request helpers shared by the emulator's tests."""

from __future__ import annotations

from typing import Any

import httpx

TURN_TYPES = [
    "user.message",
    "session.status_running",
    "span.model_request_start",
    "agent.message",
    "span.model_request_end",
    "session.status_idle",
]


def message(text: str) -> dict[str, Any]:
    """A ``POST …/events`` body with one user message in block form."""
    return {"events": [{"type": "user.message", "content": [{"type": "text", "text": text}]}]}


def post_message(http: httpx.Client, session_id: str, text: str) -> dict[str, Any]:
    """Send a user message; return the reply item (asserting 202)."""
    response = http.post(f"/sessions/{session_id}/events", json=message(text))
    assert response.status_code == 202, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    assert len(items) == 1
    return items[0]


async def apost_message(http: httpx.AsyncClient, session_id: str, text: str) -> dict[str, Any]:
    """Async :func:`post_message`."""
    response = await http.post(f"/sessions/{session_id}/events", json=message(text))
    assert response.status_code == 202, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items[0]


def post_events(http: httpx.Client, session_id: str, *events: dict[str, Any]) -> httpx.Response:
    """Send raw events."""
    return http.post(f"/sessions/{session_id}/events", json={"events": list(events)})


def text_of(events: list[dict[str, Any]]) -> str:
    """The joined text of the ``agent.message`` events."""
    return "".join(
        block["text"]
        for event in events
        if event["type"] == "agent.message"
        for block in event["content"]
        if block["type"] == "text"
    )


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, error type, message) of an error response, checking the envelope."""
    body = response.json()
    assert body["type"] == "error"
    return response.status_code, body["error"]["type"], body["error"]["message"]


def user_message(text: str) -> dict[str, Any]:
    """A ``user.message`` event param in block form."""
    return {"type": "user.message", "content": [{"type": "text", "text": text}]}


def system_message(text: str) -> dict[str, Any]:
    """A ``system.message`` event param (docs/protocol.md §8.4)."""
    return {"type": "system.message", "content": [{"type": "text", "text": text}]}


def custom_result(use_id: str, text: str, *, is_error: bool = False) -> dict[str, Any]:
    """A ``user.custom_tool_result`` event param."""
    return {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": use_id,
        "content": [{"type": "text", "text": text}],
        "is_error": is_error,
    }


def confirmation(use_id: str, result: str, deny_message: str | None = None) -> dict[str, Any]:
    """A ``user.tool_confirmation`` event param."""
    event: dict[str, Any] = {"type": "user.tool_confirmation", "tool_use_id": use_id}
    event["result"] = result
    if deny_message is not None:
        event["deny_message"] = deny_message
    return event


def new_session(http: httpx.Client, **overrides: Any) -> str:
    """Create a session of ``agent_default`` with the §8.1 ``overrides`` (none: the plain
    agent id); returns its id."""
    agent: Any = "agent_default"
    if overrides:
        agent = {"type": "agent_with_overrides", "id": "agent_default", **overrides}
    body = {"agent": agent, "environment_id": "env_default"}
    response = http.post("/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def waiting_ids(events: list[dict[str, Any]]) -> list[str]:
    """The ``event_ids`` of the last event, an idle ``requires_action``."""
    stop_reason = events[-1]["stop_reason"]
    assert stop_reason["type"] == "requires_action", stop_reason
    return list(stop_reason["event_ids"])
