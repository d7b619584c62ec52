"""Sessions, agents and environments as resources (docs/protocol.md §3.5–3.8, §3.10, §8.1, §8.2,
§8.5): pagination over thousands of items, filters, ordering, archive hiding, agent versions,
session updates taking effect from the next model request."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from qoder.testing import EmulatorRequest, FakeCloud, TickingClock, serve_in_thread

from .conftest import AUTH, TIMEOUT
from .helpers import error_of, message, post_message

PAGE_KEYS = {"data", "has_more", "first_id", "last_id", "next_page"}


def call(cloud: FakeCloud, method: str, path: str, body: Any = None, **query: Any) -> Any:
    """One request through ``cloud.handle`` (no transport); returns the decoded JSON body."""
    pairs = [
        (key, str(item))
        for key, value in query.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    kwargs: dict[str, Any] = {"query": pairs, "headers": AUTH}
    if body is not None:
        kwargs["json"] = body
    response = cloud.handle(EmulatorRequest(method, "/api/v1/cloud" + path, **kwargs))
    assert 200 <= response.status < 300, response.body
    return response.json()


def walk(get: Any, path: str, params: dict[str, Any], *, use_page: bool) -> tuple[list[str], int]:
    """Every id of a list, following ``next_page`` or ``after_id``; (ids, pages)."""
    ids: list[str] = []
    page = get(path, params)
    pages = 1
    while True:
        assert set(page) == PAGE_KEYS
        ids.extend(item["id"] for item in page["data"])
        if page["data"]:
            assert (page["first_id"], page["last_id"]) == (
                page["data"][0]["id"],
                page["data"][-1]["id"],
            )
        if not page["has_more"]:
            assert page["next_page"] is None
            return ids, pages
        assert page["next_page"]
        follow = (
            {"page": page["next_page"]} if use_page else {**params, "after_id": page["last_id"]}
        )
        page = get(path, follow)
        pages += 1


def handle_getter(cloud: FakeCloud) -> Any:
    return lambda path, params: call(cloud, "GET", path, **params)


def http_getter(http: httpx.Client) -> Any:
    def get(path: str, params: dict[str, Any]) -> Any:
        response = http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    return get


# -- pagination over thousands -------------------------------------------------------------


@pytest.mark.parametrize("use_page", [True, False], ids=["page", "after_id"])
def test_walk_2500_sessions_both_orders(use_page: bool) -> None:
    cloud = FakeCloud()
    sessions = [cloud.create_session() for _ in range(2500)]
    get = handle_getter(cloud)
    newest_first, pages = walk(get, "/sessions", {}, use_page=use_page)
    assert newest_first == sessions[::-1]
    assert pages == 125  # default limit 20
    oldest_first, pages = walk(get, "/sessions", {"order": "asc", "limit": 100}, use_page=use_page)
    assert oldest_first == sessions
    assert pages == 25


@pytest.mark.parametrize("use_page", [True, False], ids=["page", "after_id"])
def test_walk_3000_events_both_orders(use_page: bool) -> None:
    cloud = FakeCloud()
    cloud.agent.on("hello").reply("Hi.")
    session_id = cloud.create_session()
    for index in range(500):  # six events per turn
        call(cloud, "POST", f"/sessions/{session_id}/events", message(f"hello {index}"))
    events = [event["id"] for event in cloud.events(session_id)]
    assert len(events) == 3000
    get = handle_getter(cloud)
    path = f"/sessions/{session_id}/events"
    oldest_first, pages = walk(get, path, {}, use_page=use_page)
    assert oldest_first == events
    assert pages == 150
    newest_first, _ = walk(get, path, {"order": "desc", "limit": 70}, use_page=use_page)
    assert newest_first == events[::-1]
    wanted = ["user.message", "session.status_idle"]
    filtered, _ = walk(get, path, {"types[]": wanted, "limit": 33}, use_page=use_page)
    expected = [e["id"] for e in cloud.events(session_id) if e["type"] in wanted]
    assert filtered == expected
    assert len(filtered) == 1000


def test_walk_backwards_with_before_id() -> None:
    cloud = FakeCloud()
    sessions = [cloud.create_session() for _ in range(250)]
    page = call(cloud, "GET", "/sessions", order="asc", before_id=sessions[-1], limit=30)
    seen = list(page["data"])
    while page["has_more"]:
        page = call(cloud, "GET", "/sessions", page=page["next_page"])
        seen = page["data"] + seen
    assert [s["id"] for s in seen] == sessions[:-1]


def test_filters_hold_across_pages(cloud: FakeCloud) -> None:
    agent = call(cloud, "POST", "/agents", {"name": "other", "model": "fast"})
    mine, theirs = [], []
    for index in range(600):
        if index % 3 == 0:
            theirs.append(cloud.create_session(agent_id=agent["id"]))
        else:
            mine.append(cloud.create_session())
    archived = set(mine[::4])
    for session_id in archived:
        call(cloud, "POST", f"/sessions/{session_id}/archive", {})
    get = handle_getter(cloud)
    visible = [s for s in mine if s not in archived]
    ids, _ = walk(get, "/sessions", {"agent_id": "agent_default", "limit": 37}, use_page=True)
    assert ids == visible[::-1]
    everything = {"agent_id": "agent_default", "include_archived": "true", "order": "asc"}
    assert walk(get, "/sessions", everything, use_page=False)[0] == mine
    assert walk(get, "/sessions", {"agent_id": agent["id"]}, use_page=True)[0] == theirs[::-1]
    idle = {"statuses[]": ["idle"], "order": "asc", "limit": 100}
    assert len(walk(get, "/sessions", idle, use_page=True)[0]) == 600 - len(archived)
    busy = call(cloud, "GET", "/sessions", **{"statuses[]": ["running", "rescheduling"]})
    assert busy == {
        "data": [],
        "has_more": False,
        "first_id": None,
        "last_id": None,
        "next_page": None,
    }


def test_a_walk_survives_deleting_what_it_has_seen(cloud: FakeCloud) -> None:
    sessions = [cloud.create_session() for _ in range(45)]
    seen: list[str] = []
    page = call(cloud, "GET", "/sessions", order="asc", limit=10)
    while True:
        for session in page["data"]:
            seen.append(session["id"])
            call(cloud, "DELETE", f"/sessions/{session['id']}")
        if not page["has_more"]:
            break
        # the cursor (and the token's) is a deleted session by now
        follow = {"after_id": page["last_id"]} if len(seen) % 20 else {"page": page["next_page"]}
        page = call(cloud, "GET", "/sessions", order="asc", limit=10, **follow)
    assert seen == sessions
    assert call(cloud, "GET", "/sessions", include_archived="true")["data"] == []


def test_page_tokens_and_limits_are_checked(http: httpx.Client, cloud: FakeCloud) -> None:
    for _ in range(3):
        cloud.create_session()
    first = http.get("/sessions", params={"limit": 1}).json()
    token = first["next_page"]
    assert token
    session_id = first["data"][0]["id"]
    post_message(http, session_id, "hello")
    events = http.get(f"/sessions/{session_id}/events", params={"limit": 2}).json()
    bad = [
        ("/sessions", {"page": "page_nope"}),
        ("/sessions", {"page": token[:-1] + ("0" if token[-1] != "0" else "1")}),
        ("/sessions", {"page": events["next_page"]}),  # another list's token
        ("/agents", {"page": token}),
        (f"/sessions/{session_id}/events", {"page": token}),
        ("/sessions", {"limit": 101}),
        ("/sessions", {"limit": 0}),
        ("/sessions", {"limit": "many"}),
        ("/agents", {"limit": 101}),
        ("/environments", {"limit": 101}),
        ("/sessions", {"order": "newest"}),
        ("/sessions", {"include_archived": "maybe"}),
        ("/sessions", {"after_id": "sess_nope"}),
        (f"/sessions/{session_id}/events", {"limit": 1001}),
        (f"/sessions/{session_id}/events", {"before_id": "evt_nope"}),
    ]
    for path, params in bad:
        response = http.get(path, params=params)
        assert error_of(response)[:2] == (400, "invalid_request_error"), (path, params)
    assert len(http.get("/sessions", params={"limit": 100}).json()["data"]) == 3
    second = http.get("/sessions", params={"page": token, "limit": 2}).json()
    assert len(second["data"]) == 2  # a limit next to page overrides the token's
    assert http.get(f"/sessions/{session_id}/events", params={"limit": 1000}).status_code == 200


def test_served_walk_over_loopback() -> None:
    """The served emulator keeps its state between requests and pages the same way."""
    cloud = FakeCloud()
    with (
        serve_in_thread(cloud) as served,
        httpx.Client(base_url=served.base_url, headers=AUTH, timeout=TIMEOUT) as http,
    ):
        created = [
            http.post(
                "/sessions", json={"agent": "agent_default", "environment_id": "env_default"}
            ).json()["id"]
            for _ in range(300)
        ]
        get = http_getter(http)
        assert walk(get, "/sessions", {"limit": 100}, use_page=True)[0] == created[::-1]
        asc = {"limit": 100, "order": "asc"}
        assert walk(get, "/sessions", asc, use_page=False)[0] == created
        post_message(http, created[0], "What is 2+2?")
        assert len(walk(get, f"/sessions/{created[0]}/events", {"limit": 4}, use_page=True)[0]) == 6


def test_python_m_qoder_serve_keeps_its_state() -> None:
    """``python -m qoder serve``: one cloud for the life of the process."""
    server = subprocess.Popen(
        [sys.executable, "-m", "qoder", "serve", "--port", "0", "--token", "tok"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer tok"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT) as http:
            agent = http.post("/agents", json={"name": "a", "model": "ultimate"}).json()
            http.post(f"/agents/{agent['id']}", json={"version": 1, "model": "fast"})
            body = {"agent": agent["id"], "environment_id": "env_default"}
            made = [http.post("/sessions", json=body).json()["id"] for _ in range(30)]
            listed = walk(http_getter(http), "/sessions", {"agent_id": agent["id"]}, use_page=True)
            assert listed[0] == made[::-1]
            assert http.get(f"/agents/{agent['id']}", params={"version": 1}).json() == agent
            assert http.get(f"/sessions/{made[0]}").json()["agent"]["model"] == "fast"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


# -- sessions: create with overrides, update ---------------------------------------------------


def model_requests(cloud: FakeCloud, session_id: str) -> list[str]:
    events = cloud.events(session_id)
    return [e["model"] for e in events if e["type"] == "span.model_request_start"]


def test_session_with_overrides_and_pinned_versions(http: httpx.Client, cloud: FakeCloud) -> None:
    agent = http.post(
        "/agents", json={"name": "helper", "model": "ultimate", "system": "Be brief."}
    ).json()
    http.post(f"/agents/{agent['id']}", json={"version": 1, "system": "Be thorough."})
    body: dict[str, Any] = {
        "agent": {
            "type": "agent_with_overrides",
            "id": agent["id"],
            "version": 1,
            "model": "fast",
            "tools": [{"type": "custom", "name": "t", "input_schema": {"type": "object"}}],
        },
        "environment_id": "env_default",
    }
    session = http.post("/sessions", json=body).json()
    snapshot = session["agent"]
    assert snapshot["id"] == agent["id"]
    assert snapshot["version"] == 1
    assert snapshot["model"] == "fast"
    assert snapshot["system"] == "Be brief."  # version 1, not overridden
    assert snapshot["tools"][0]["name"] == "t"
    post_message(http, session["id"], "hello")
    assert model_requests(cloud, session["id"]) == ["fast"]

    latest = http.post("/sessions", json={**body, "agent": agent["id"]}).json()["agent"]
    assert (latest["version"], latest["system"]) == (2, "Be thorough.")
    pinned = {"type": "agent", "id": agent["id"], "version": 1}
    assert http.post("/sessions", json={**body, "agent": pinned}).json()["agent"]["version"] == 1

    refused = [
        ({"type": "agent", "id": agent["id"], "version": 3}, 404),
        ({"type": "agent", "id": agent["id"], "model": "fast"}, 400),  # overrides need the type
        ({"type": "agent_with_overrides", "id": agent["id"], "name": "x"}, 400),
        ({"type": "agent_with_overrides", "id": agent["id"], "tools": "bash"}, 400),
        ({"type": "agent_with_overrides", "id": agent["id"], "model": ""}, 400),
        ({"type": "agent_with_overrides", "id": agent["id"], "version": "1"}, 400),
        ({"type": "clone", "id": agent["id"]}, 400),
        ({"type": "agent_with_overrides"}, 400),
    ]
    for reference, status in refused:
        response = http.post("/sessions", json={**body, "agent": reference})
        assert error_of(response)[0] == status, reference
    budget = {"type": "limit", "max_credit_cost": "10.00"}
    made = http.post("/sessions", json={**body, "budget": budget}).json()
    assert made["budget"] == budget
    bad_budget = {**body, "budget": {"type": "limit", "max_credit_cost": 10}}
    assert error_of(http.post("/sessions", json=bad_budget))[0] == 400


def test_update_session_fields(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    path = f"/sessions/{session_id}"
    http.post(path, json={"metadata": {"a": "1", "b": "2"}})
    budget = {"type": "limit", "max_credit_cost": "2.50"}
    response = http.post(
        path,
        json={
            "title": "renamed",
            "metadata": {"a": None, "c": "3"},
            "environment_variables": {"DEBUG": "1"},
            "agent": {"model": "fast", "system": "Answer in French.", "skills": []},
            "budget": budget,
        },
    )
    assert response.status_code == 200
    session = response.json()
    assert session == http.get(path).json()
    assert session["title"] == "renamed"
    assert session["metadata"] == {"b": "2", "c": "3"}
    assert session["environment_variables"] == {"DEBUG": "1"}
    assert session["budget"] == budget
    assert session["agent"]["model"] == "fast"
    assert session["agent"]["system"] == "Answer in French."
    assert session["agent"]["tools"] == [{"type": "agent_toolset_20260401"}]  # not given: kept
    # the agent itself is untouched: the snapshot is the session's own
    assert http.get("/agents/agent_default").json()["model"] == "ultimate"
    assert http.post(path, json={"environment_variables": {}}).json()["environment_variables"] == {}

    before = http.get(path).json()
    refused = [
        {"titel": "typo"},
        {"title": "ok", "status": "idle"},  # checked as a whole: the title is not set either
        {"agent": {"name": "x"}},
        {"agent": "agent_default"},
        {"metadata": ["a"]},
        {"environment_variables": {"N": 1}},
        {"budget": {"type": "limit", "max_credit_cost": "lots"}},
    ]
    for body in refused:
        assert error_of(http.post(path, json=body))[:2] == (400, "invalid_request_error"), body
    assert http.get(path).json() == before
    missing = http.post("/sessions/sess_nope", json={"title": "x"})
    assert error_of(missing)[:2] == (404, "not_found_error")

    http.post(f"{path}/archive", json={})
    archived = http.post(path, json={"title": "again"})
    assert error_of(archived) == (409, "conflict_error", "Session is archived.")


def test_agent_update_applies_from_the_next_model_request(
    http: httpx.Client, cloud: FakeCloud, session_id: str
) -> None:
    cloud.agent.on("two steps").tool_use("bash", {"command": "ls"}, result="a.txt").hold().reply(
        "Done."
    )
    post_message(http, session_id, "hello")
    assert model_requests(cloud, session_id) == ["ultimate"]
    http.post(f"/sessions/{session_id}", json={"agent": {"model": "fast"}})
    post_message(http, session_id, "two steps please")
    assert cloud.is_held(session_id)
    # mid-turn: the model request in progress is not touched, the next one uses the new model
    update = http.post(f"/sessions/{session_id}", json={"agent": {"model": {"id": "smart"}}})
    assert update.json()["status"] == "running"
    cloud.release(session_id)
    assert model_requests(cloud, session_id) == ["ultimate", "fast", "smart"]
    assert cloud.session(session_id)["status"] == "idle"


def test_cancel_archive_delete(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    idle = http.post(f"/sessions/{session_id}/cancel", json={})
    assert idle.status_code == 200
    assert idle.json() == {"id": session_id, "type": "session", "status": "canceling"}
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    post_message(http, session_id, "slow")
    running = http.post(f"/sessions/{session_id}/cancel")
    assert running.status_code == 202
    assert running.json() == {"id": session_id, "type": "session", "status": "canceling"}
    assert cloud.events(session_id)[-1]["type"] == "session.status_idle"

    archived = http.post(f"/sessions/{session_id}/archive", json={}).json()
    assert archived["archived_at"] is not None
    assert archived["status"] == "idle"
    again = http.post(f"/sessions/{session_id}/archive", json={}).json()
    assert again["archived_at"] == archived["archived_at"]
    assert http.get(f"/sessions/{session_id}/events").json()["data"]
    deleted = http.delete(f"/sessions/{session_id}")
    assert deleted.json() == {"id": session_id, "type": "session", "deleted": True}
    assert error_of(http.get(f"/sessions/{session_id}"))[0] == 404


# -- agents and environments (§8.5) ----------------------------------------------------------


def test_agent_versions_and_optimistic_concurrency(http: httpx.Client) -> None:
    created = http.post(
        "/agents", json={"name": "helper", "model": "ultimate", "metadata": {"team": "a"}}
    ).json()
    agent_id = created["id"]
    path = f"/agents/{agent_id}"
    second = http.post(path, json={"version": 1, "system": "Be brief.", "metadata": {"x": "1"}})
    assert second.status_code == 200
    v2 = second.json()
    assert v2["version"] == 2
    assert v2["system"] == "Be brief."
    assert v2["metadata"] == {"team": "a", "x": "1"}
    assert v2["created_at"] == created["created_at"]
    assert v2["updated_at"] >= created["updated_at"]

    stale = http.post(path, json={"version": 1, "name": "renamed"})
    status, kind, text = error_of(stale)
    assert (status, kind) == (409, "conflict_error")
    assert "version 2, not 1" in text
    assert http.get(path).json() == v2  # nothing changed

    v3 = http.post(path, json={"name": "renamed", "model": {"id": "fast"}}).json()  # no version
    assert v3["version"] == 3
    assert http.get(path).json() == v3
    assert http.get(path, params={"version": 1}).json() == created
    assert http.get(path, params={"version": 2}).json() == v2
    assert http.get(path, params={"version": 3}).json() == v3
    assert error_of(http.get(path, params={"version": 4}))[:2] == (404, "not_found_error")
    assert error_of(http.get(path, params={"version": "two"}))[0] == 400
    bodies: list[dict[str, Any]] = [
        {"nmae": "x"},
        {"name": ""},
        {"model": None},
        {"version": 0},
        {"tools": {}},
    ]
    for body in bodies:
        assert error_of(http.post(path, json=body))[:2] == (400, "invalid_request_error"), body
    assert error_of(http.post("/agents/agent_nope", json={"name": "x"}))[0] == 404


def test_list_and_archive_agents() -> None:
    cloud = FakeCloud(clock=TickingClock())
    ids = [call(cloud, "POST", "/agents", {"name": f"a{i}", "model": "m"})["id"] for i in range(45)]
    before = call(cloud, "GET", f"/agents/{ids[0]}")
    after = call(cloud, "POST", f"/agents/{ids[0]}", {"name": "updated"})  # keeps its place
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]
    archived = call(cloud, "POST", f"/agents/{ids[1]}/archive", {})
    assert archived["archived_at"] is not None
    assert archived["version"] == 1
    assert archived["updated_at"] == archived["archived_at"]
    assert (
        call(cloud, "POST", f"/agents/{ids[1]}/archive")["archived_at"] == archived["archived_at"]
    )
    get = handle_getter(cloud)
    listed, pages = walk(get, "/agents", {}, use_page=True)
    assert listed == [*ids[::-1][:-2], ids[0], "agent_default"]
    assert pages == 3
    everything = walk(get, "/agents", {"include_archived": "true", "order": "asc"}, use_page=False)
    assert everything[0] == ["agent_default", *ids]
    page = call(cloud, "GET", "/agents", order="asc", limit=2)
    assert page["data"][1]["name"] == "updated"
    assert page["data"][1]["version"] == 2

    refused = cloud.handle(
        EmulatorRequest(
            "POST",
            "/api/v1/cloud/sessions",
            headers=AUTH,
            json={"agent": ids[1], "environment_id": "env_default"},
        )
    )
    assert refused.status == 409
    update = cloud.handle(
        EmulatorRequest("POST", f"/api/v1/cloud/agents/{ids[1]}", headers=AUTH, json={"name": "x"})
    )
    assert update.status == 409
    assert update.json()["error"]["type"] == "conflict_error"


def test_environments(http: httpx.Client) -> None:
    config = {"type": "cloud", "networking": {"type": "unrestricted"}}
    made = [
        http.post("/environments", json={"name": f"e{i}", "config": config}).json()
        for i in range(5)
    ]
    env_id = made[0]["id"]
    assert http.get(f"/environments/{env_id}").json() == made[0]
    listed = http.get("/environments", params={"limit": 3}).json()
    assert set(listed) == PAGE_KEYS
    assert [e["id"] for e in listed["data"]] == [made[4]["id"], made[3]["id"], made[2]["id"]]
    rest = http.get("/environments", params={"page": listed["next_page"]}).json()
    assert [e["id"] for e in rest["data"]] == [made[1]["id"], env_id, "env_default"]
    assert rest["has_more"] is False

    updated = http.post(f"/environments/{env_id}", json={"name": "renamed", "metadata": {"k": "v"}})
    assert updated.json()["name"] == "renamed"
    assert updated.json()["metadata"] == {"k": "v"}
    assert error_of(http.post(f"/environments/{env_id}", json={"nmae": "x"}))[0] == 400

    archived = http.post(f"/environments/{made[1]['id']}/archive", json={}).json()
    assert archived["type"] == "environment"
    assert archived["archived_at"] is not None
    visible = [e["id"] for e in http.get("/environments").json()["data"]]
    assert made[1]["id"] not in visible
    hidden = http.get("/environments", params={"include_archived": "true"}).json()["data"]
    assert made[1]["id"] in [e["id"] for e in hidden]
    new_session = {"agent": "agent_default", "environment_id": made[1]["id"]}
    assert error_of(http.post("/sessions", json=new_session))[:2] == (409, "conflict_error")

    session = http.post("/sessions", json={**new_session, "environment_id": env_id}).json()
    deleted = http.delete(f"/environments/{env_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": env_id, "type": "environment_deleted"}
    for response in (
        http.get(f"/environments/{env_id}"),
        http.delete(f"/environments/{env_id}"),
        http.post(f"/environments/{env_id}/archive", json={}),
        http.post("/sessions", json={**new_session, "environment_id": env_id}),
    ):
        assert error_of(response)[:2] == (404, "not_found_error")
    assert http.get(f"/sessions/{session['id']}").json()["environment_id"] == env_id
    after_deleted = http.get("/environments", params={"after_id": env_id}).json()
    assert [e["id"] for e in after_deleted["data"]] == ["env_default"]
