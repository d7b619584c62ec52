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
