"""REST endpoints: resources, pagination, auth, 404/405, archive, delete, idempotency, records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud

from .conftest import BASE_URL
from .helpers import error_of, message, post_message
from .sse import SyncFrames

PAGE_KEYS = {"data", "has_more", "first_id", "last_id", "next_page"}


def test_create_agent_environment_session(http: httpx.Client) -> None:
    agent_body = {
        "name": "helper",
        "model": "ultimate",
        "system": "Be brief.",
        "tools": [{"type": "agent_toolset_20260401"}],
    }
    response = http.post("/agents", json=agent_body)
    assert response.status_code == 201
    agent = response.json()
    assert agent["id"].startswith("agent_")
    assert len(agent["id"]) == len("agent_") + 32
    assert agent["type"] == "agent"
    assert agent["version"] == 1
    assert http.get(f"/agents/{agent['id']}").json() == agent

    env_body = {"name": "demo", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}
    environment = http.post("/environments", json=env_body).json()
    assert environment["status"] == "ready"
    assert environment["id"].startswith("env_")

    response = http.post(
        "/sessions",
        json={
            "agent": {"type": "agent", "id": agent["id"], "version": 1},
            "environment_id": environment["id"],
            "title": "demo",
            "metadata": {"purpose": "test"},
        },
    )
    assert response.status_code == 201
    session = response.json()
    assert session["status"] == "idle"
    assert session["agent_id"] == agent["id"]
    assert session["agent"]["model"] == "ultimate"
    assert session["usage"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "total_credits": 0.0,
        "list_cost": {"amount": "0.000000", "currency": "USD"},
    }
    assert session["archived_at"] is None
    assert http.get(f"/sessions/{session['id']}").json() == session


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/agents", {"model": "ultimate"}, 400),
        ("/agents", {"name": "x"}, 400),
        ("/agents", {"name": "x" * 257, "model": "ultimate"}, 400),
        ("/environments", {"name": "e", "config": {"networking": "unrestricted"}}, 400),
        ("/sessions", {"environment_id": "env_default"}, 400),
        ("/sessions", {"agent": "agent_default"}, 400),
        ("/sessions", {"agent": "agent_nope", "environment_id": "env_default"}, 404),
        ("/sessions", {"agent": "agent_default", "environment_id": "env_nope"}, 404),
        ("/sessions", [1, 2], 400),
    ],
)
def test_validation_errors(http: httpx.Client, path: str, body: Any, status: int) -> None:
    code, kind, _ = error_of(http.post(path, json=body))
    assert code == status
    assert kind == ("not_found_error" if status == 404 else "invalid_request_error")


def test_invalid_event_bodies(http: httpx.Client, session_id: str) -> None:
    path = f"/sessions/{session_id}/events"
    bodies: list[dict[str, Any]] = [
        {"events": []},
        {"events": [{"type": "user.message"}]},
        {"events": [{"type": "user.message", "content": []}]},
        {"events": [{"type": "agent.message", "content": "hi"}]},
        {"events": [{"type": "user.tool_confirmation", "tool_use_id": "x", "result": "maybe"}]},
        {"nothing": True},
    ]
    for body in bodies:
        assert error_of(http.post(path, json=body))[:2] == (400, "invalid_request_error")
    assert http.post(path, content=b"not json").status_code == 400


def test_not_found_and_wrong_method(http: httpx.Client, session_id: str) -> None:
    for path in (
        "/sessions/sess_nope",
        "/sessions/sess_nope/events",
        "/sessions/sess_nope/events/stream",
        "/agents/agent_nope",
        "/environments/env_nope",
        "/nothing/here",
    ):
        assert error_of(http.get(path))[:2] == (404, "not_found_error")
    assert error_of(http.post("/sessions/sess_nope/events", json=message("x")))[0] == 404
    assert error_of(http.post("/sessions/sess_nope/cancel", json={}))[0] == 404
    assert http.put(f"/sessions/{session_id}", json={}).status_code == 405


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({}, None),
        ({"Authorization": ""}, None),
        ({"Authorization": "Bearer"}, None),
        ({"Authorization": "Basic abc"}, None),
        ({"Authorization": "Bearer wrong"}, "right"),
        ({"x-api-key": "right"}, "right"),
    ],
)
def test_authentication(
    http: httpx.Client, cloud: FakeCloud, headers: dict[str, str], token: str | None
) -> None:
    cloud.token = token
    request = http.build_request("GET", "/agents/agent_default")
    del request.headers["Authorization"]
    request.headers.update(headers)
    response = http.send(request)
    assert error_of(response)[:2] == (401, "authentication_error")
    good = http.get("/agents/agent_default", headers={"Authorization": f"Bearer {token or 'x'}"})
    assert good.status_code == 200


def test_update_archive_and_list_sessions(http: httpx.Client, cloud: FakeCloud) -> None:
    ids = [cloud.create_session(title=f"s{index}") for index in range(5)]
    updated = http.post(f"/sessions/{ids[0]}", json={"title": "renamed", "metadata": {"k": "v"}})
    assert updated.json()["title"] == "renamed"
    cleared = http.post(f"/sessions/{ids[0]}", json={"metadata": {"k": None, "z": "1"}}).json()
    assert cleared["metadata"] == {"z": "1"}

    archived = http.post(f"/sessions/{ids[1]}/archive", json={}).json()
    assert archived["archived_at"] is not None
    assert archived["status"] == "idle"
    listed = http.get("/sessions").json()
    assert set(listed) == PAGE_KEYS
    assert [s["id"] for s in listed["data"]] == [ids[4], ids[3], ids[2], ids[0]]
    everything = http.get("/sessions", params={"include_archived": "true", "order": "asc"})
    assert [s["id"] for s in everything.json()["data"]] == ids

    # archived sessions can still be read, but take no new events
    assert http.get(f"/sessions/{ids[1]}/events").status_code == 200
    response = http.post(f"/sessions/{ids[1]}/events", json=message("hi"))
    assert error_of(response) == (409, "conflict_error", "Session is archived.")

    post_message(http, ids[2], "hello")
    idle = http.get("/sessions", params={"statuses[]": ["running", "terminated"]}).json()
    assert idle["data"] == []
    by_agent = http.get("/sessions", params={"agent_id": "agent_default", "limit": 2}).json()
    assert len(by_agent["data"]) == 2
    assert by_agent["has_more"] is True


def collect_pages(
    http: httpx.Client, path: str, params: dict[str, Any], use_page: bool
) -> list[str]:
    ids: list[str] = []
    page = http.get(path, params=params).json()
    while True:
        assert set(page) == PAGE_KEYS
        ids.extend(item["id"] for item in page["data"])
        if page["data"]:
            assert page["first_id"] == page["data"][0]["id"]
            assert page["last_id"] == page["data"][-1]["id"]
        if not page["has_more"]:
            assert page["next_page"] is None
            return ids
        follow = (
            {"page": page["next_page"]} if use_page else {**params, "after_id": page["last_id"]}
        )
        page = http.get(path, params=follow).json()


@pytest.mark.parametrize("use_page", [True, False], ids=["page", "after_id"])
def test_pagination(http: httpx.Client, cloud: FakeCloud, use_page: bool) -> None:
    sessions = [cloud.create_session() for _ in range(7)]
    assert collect_pages(http, "/sessions", {"limit": 3}, use_page) == sessions[::-1]
    assert collect_pages(http, "/sessions", {"limit": 3, "order": "asc"}, use_page) == sessions

    session_id = sessions[0]
    for text in ("What's the capital of France?", "What is 2+2?", "hello"):
        post_message(http, session_id, text)
    events = [event["id"] for event in cloud.events(session_id)]
    path = f"/sessions/{session_id}/events"
    assert collect_pages(http, path, {"limit": 4}, use_page) == events
    assert collect_pages(http, path, {"limit": 5, "order": "desc"}, use_page) == events[::-1]
    types = {"types[]": ["user.message", "session.status_idle"], "limit": 2}
    filtered = collect_pages(http, path, types, use_page)
    kinds = [e["type"] for e in cloud.events(session_id) if e["id"] in set(filtered)]
    assert kinds == ["user.message", "session.status_idle"] * 3


def test_event_list_cursors_and_filters(http: httpx.Client, session_id: str) -> None:
    post_message(http, session_id, "What's the capital of France?")
    path = f"/sessions/{session_id}/events"
    events = http.get(path).json()["data"]
    assert len(events) == 6
    default = http.get(path).json()
    assert default["has_more"] is False
    assert default["next_page"] is None
    newest = http.get(path, params={"order": "desc", "limit": 1}).json()
    assert newest["data"][0]["id"] == events[-1]["id"]
    before = http.get(path, params={"before_id": events[4]["id"], "limit": 2}).json()
    assert [e["id"] for e in before["data"]] == [events[2]["id"], events[3]["id"]]
    assert before["has_more"] is True
    comma = http.get(path, params={"type": "user.message,agent.message"}).json()["data"]
    assert [e["type"] for e in comma] == ["user.message", "agent.message"]
    assert http.get(path, params={"after_id": "evt_nope"}).status_code == 400
    assert http.get(path, params={"page": "page_nope"}).status_code == 400
    assert http.get(path, params={"limit": 0}).status_code == 400
    assert http.get(path, params={"order": "sideways"}).status_code == 400


def test_delete_sends_session_deleted_and_closes_streams(
    http: httpx.Client, cloud: FakeCloud, session_id: str
) -> None:
    post_message(http, session_id, "hello")
    last = cloud.events(session_id)[-1]["id"]
    with http.stream(
        "GET", f"/sessions/{session_id}/events/stream", headers={"Last-Event-ID": last}
    ) as stream:
        frames = SyncFrames(stream.iter_bytes())
        response = http.delete(f"/sessions/{session_id}")
        assert response.status_code == 200
        assert response.json() == {"id": session_id, "type": "session", "deleted": True}
        rest = frames.to_end()
    assert [frame.event for frame in rest if frame.persisted] == ["session.deleted"]
    deleted = rest[-1].json()
    assert deleted["type"] == "session.deleted"
    assert "turn_id" not in deleted
    gone = [
        http.get(f"/sessions/{session_id}"),
        http.get(f"/sessions/{session_id}/events"),
        http.post(f"/sessions/{session_id}/events", json=message("x")),
        http.delete(f"/sessions/{session_id}"),
    ]
    for response in gone:
        assert error_of(response)[:2] == (404, "not_found_error")


def test_delete_accepts_an_empty_object_body(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = cloud.create_session()
    response = http.request("DELETE", f"/sessions/{session_id}", json={})
    assert response.status_code == 200


def test_idempotency_replay_and_conflict(http: httpx.Client, cloud: FakeCloud) -> None:
    session_id = cloud.create_session()
    path = f"/sessions/{session_id}/events"
    headers = {"Idempotency-Key": "key-1"}
    first = http.post(path, json=message("hello"), headers=headers)
    count = len(cloud.events(session_id))
    again = http.post(path, json=message("hello"), headers=headers)
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(cloud.events(session_id)) == count  # nothing re-run

    other = http.post(path, json=message("something else"), headers=headers)
    assert error_of(other) == (
        409,
        "conflict_error",
        "Idempotency key reused with a different request body.",
    )
    created = http.post(
        "/sessions",
        json={"agent": "agent_default", "environment_id": "env_default"},
        headers={"Idempotency-Key": "k2"},
    )
    replayed = http.post(
        "/sessions",
        json={"agent": "agent_default", "environment_id": "env_default"},
        headers={"Idempotency-Key": "k2"},
    )
    assert created.json()["id"] == replayed.json()["id"]
    # errors are not stored: the same key may be used again once the request is valid
    assert http.post("/agents", json={}, headers={"Idempotency-Key": "k3"}).status_code == 400
    valid = {"name": "a", "model": "ultimate"}
    assert http.post("/agents", json=valid, headers={"Idempotency-Key": "k3"}).status_code == 201


def test_requests_are_recorded(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    headers = {"X-Qoder-Retry-Count": "0", "Idempotency-Key": "abc", "X-Custom": "kept"}
    response = http.post(f"/sessions/{session_id}/events", json=message("hi"), headers=headers)
    assert response.headers["x-request-id"].startswith("req_")
    recorded = cloud.requests[-1]
    assert recorded.method == "POST"
    assert recorded.path == f"/api/v1/cloud/sessions/{session_id}/events"
    assert recorded.header("x-qoder-retry-count") == "0"
    assert recorded.header("IDEMPOTENCY-KEY") == "abc"
    assert recorded.header("x-custom") == "kept"
    assert recorded.json() == message("hi")
    http.get(f"/sessions/{session_id}/events", params={"types[]": ["a", "b"]})
    assert cloud.requests[-1].query_all("types[]") == ["a", "b"]


def test_percent_encoded_path_parameters(http: httpx.Client) -> None:
    response = http.get("/sessions/sess%2Fodd")
    assert error_of(response)[:2] == (404, "not_found_error")
    assert "sess/odd" in response.json()["error"]["message"]


def test_base_url_mismatch_is_explained(cloud: FakeCloud) -> None:
    with pytest.raises(ValueError, match="base_path"), cloud.mock("https://x.test/other"):
        pass
    assert BASE_URL.endswith(cloud.base_path)
