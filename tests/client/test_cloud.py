"""The resource client, ``Cloud`` and ``AsyncCloud`` (asyncio and trio), over respx.

Every test runs three times through :class:`Resources`, which calls the same method on a
``Cloud`` or, through a blocking portal, on an ``AsyncCloud``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from qoder import (
    Agent,
    AsyncCloud,
    Cloud,
    ConflictError,
    Deleted,
    Environment,
    MalformedEvent,
    NotFoundError,
    Page,
    ProtocolError,
    QoderAgentOptions,
    Session,
    UnknownEvent,
)
from qoder._protocol.events import AgentMessageEvent
from tests.client.driver import Facade

BASE = "https://api.test/api/v1/cloud"
TOKEN = "pat-resources-0123"


def session(n: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"sess_{n:03}", "type": "session", "status": "idle", **fields}


def page(items: list[dict[str, Any]], **envelope: Any) -> httpx.Response:
    body = {
        "data": items,
        "has_more": False,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "next_page": None,
    }
    body.update(envelope)
    return httpx.Response(200, json=body)


def error(status: int, kind: str, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"type": "error", "error": {"type": kind, "message": message}}
    )


class Resources:
    """One resource client of the facade under test, with blocking calls."""

    def __init__(self, facade: Facade, **kwargs: Any) -> None:
        self.facade = facade
        options = QoderAgentOptions(auth=TOKEN, base_url=BASE, max_retries=1)
        if facade.portal is None:
            self.raw: Any = Cloud(options, **kwargs)
        else:

            async def make() -> AsyncCloud:
                return AsyncCloud(options, **kwargs)

            self.raw = facade.portal.call(make)

    def call(self, path: str, *args: Any, **kwargs: Any) -> Any:
        target: Any = self.raw
        for name in path.split("."):
            target = getattr(target, name)
        if self.facade.portal is None:
            return target(*args, **kwargs)
        return self.facade.portal.call(lambda: target(*args, **kwargs))

    def items(self, path: str, *args: Any, **kwargs: Any) -> list[Any]:
        pager = self.call(path, *args, **kwargs) if self.facade.portal is None else None
        if pager is not None:
            return list(pager)
        target: Any = self.raw
        for name in path.split("."):
            target = getattr(target, name)
        assert self.facade.portal is not None

        async def collect() -> list[Any]:
            return [item async for item in target(*args, **kwargs)]

        return self.facade.portal.call(collect)

    def first_page(self, path: str, **kwargs: Any) -> Page[Any]:
        target: Any = self.raw
        for name in path.split("."):
            target = getattr(target, name)
        if self.facade.portal is None:
            return target(**kwargs).first_page()  # type: ignore[no-any-return]
        first: Page[Any] = self.facade.portal.call(lambda: target(**kwargs).first_page())
        return first

    def close(self) -> None:
        self.call("close")


@pytest.fixture
def router() -> Iterator[respx.Router]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def cloud(facade: Facade, router: respx.Router) -> Iterator[Resources]:
    resources = Resources(facade)
    yield resources
    resources.close()


def test_retrieve_gives_a_typed_session_that_keeps_unknown_fields(
    cloud: Resources, router: respx.Router
) -> None:
    body = session(1, title="demo", usage={"input_tokens": 3, "total_credits": 0.5}, future=1)
    route = router.get("/sessions/sess_001").mock(return_value=httpx.Response(200, json=body))
    got = cloud.call("sessions.retrieve", "sess_001")
    assert isinstance(got, Session)
    assert (got.id, got.status, got.title) == ("sess_001", "idle", "demo")
    assert got.usage is not None
    assert got.usage.total_credits == 0.5
    assert got.raw["future"] == 1
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["User-Agent"].startswith("qoder-python/")


def test_listing_walks_every_page_lazily_with_next_page_then_after_id(
    cloud: Resources, router: respx.Router
) -> None:
    route = router.get("/sessions").mock(
        side_effect=[
            page([session(1), session(2)], has_more=True, next_page="pg_2"),
            page([session(3), session(4)], has_more=True),  # no token: after_id=last_id
            page([session(5)]),
        ]
    )
    got = cloud.items("sessions.list", agent_id="agent_01", statuses=["idle", "running"], limit=2)
    assert [s.id for s in got] == [f"sess_{n:03}" for n in range(1, 6)]
    queries = [dict(call.request.url.params.multi_items()) for call in route.calls]
    first = route.calls[0].request.url.params
    assert first.get_list("statuses[]") == ["idle", "running"]
    assert (first["agent_id"], first["limit"]) == ("agent_01", "2")
    assert "page" not in queries[0]
    assert "after_id" not in queries[0]
    assert queries[1]["page"] == "pg_2"
    assert queries[2]["after_id"] == "sess_004"
    assert "page" not in queries[2]
    assert all(q["limit"] == "2" for q in queries)  # limit sizes a page, not the total


def test_one_page_and_its_has_more_are_reachable(cloud: Resources, router: respx.Router) -> None:
    route = router.get("/sessions").mock(
        return_value=page([session(1)], has_more=True, next_page="pg_2")
    )
    first = cloud.first_page("sessions.list")
    assert first.has_more
    assert first.next_page == "pg_2"
    assert [s.id for s in first] == ["sess_001"]
    assert route.call_count == 1


def test_an_empty_list_and_a_cursor_that_does_not_advance(
    cloud: Resources, router: respx.Router
) -> None:
    router.get("/agents").mock(return_value=page([]))
    assert cloud.items("agents.list") == []
    router.get("/environments").mock(
        side_effect=[
            page([{"id": "env_1"}], has_more=True, next_page="pg_same"),
            page([{"id": "env_2"}], has_more=True, next_page="pg_same"),
        ]
    )
    with pytest.raises(ProtocolError, match="did not advance"):
        cloud.items("environments.list")


def test_a_wrong_json_type_is_a_protocol_error_naming_the_field(
    cloud: Resources, router: respx.Router
) -> None:
    router.get("/sessions/sess_001").mock(
        return_value=httpx.Response(200, json=session(1, title=42))
    )
    with pytest.raises(ProtocolError, match=r"title"):
        cloud.call("sessions.retrieve", "sess_001")


def test_update_sends_a_metadata_patch_and_agent_overrides(
    cloud: Resources, router: respx.Router
) -> None:
    route = router.post("/sessions/sess_001").mock(
        return_value=httpx.Response(200, json=session(1, title="renamed"))
    )
    got = cloud.call(
        "sessions.update",
        "sess_001",
        title="renamed",
        metadata={"keep": "1", "drop": None},
        agent={"model": "fast"},
    )
    assert got.title == "renamed"
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "title": "renamed",
        "metadata": {"keep": "1", "drop": None},
        "agent": {"model": "fast"},
    }
    assert "Idempotency-Key" in route.calls.last.request.headers


def test_archive_cancel_and_delete(cloud: Resources, router: respx.Router) -> None:
    router.post("/sessions/sess_001/archive").mock(
        return_value=httpx.Response(200, json=session(1, archived_at="2026-12-01T00:00:00Z"))
    )
    router.post("/sessions/sess_001/cancel").mock(
        return_value=httpx.Response(
            202, json={"id": "sess_001", "type": "session", "status": "canceling"}
        )
    )
    router.delete("/sessions/sess_001").mock(
        return_value=httpx.Response(
            200, json={"id": "sess_001", "type": "session", "deleted": True}
        )
    )
    assert cloud.call("sessions.archive", "sess_001").archived
    assert cloud.call("sessions.cancel", "sess_001").status == "canceling"
    deleted = cloud.call("sessions.delete", "sess_001")
    assert isinstance(deleted, Deleted)
    assert deleted.deleted


def test_events_are_typed_as_on_the_stream(cloud: Resources, router: respx.Router) -> None:
    events: list[dict[str, Any]] = [
        {"id": "evt_1", "type": "agent.message", "content": [{"type": "text", "text": "hi"}]},
        {"id": "evt_2", "type": "brand.new_event", "x": 1},
        {"id": "evt_3", "type": "agent.message", "content": 3},
    ]
    route = router.get("/sessions/sess_001/events").mock(return_value=page(events))
    got = cloud.items("sessions.events.list", "sess_001", types=["agent.message"], order="asc")
    assert isinstance(got[0], AgentMessageEvent)
    assert isinstance(got[1], UnknownEvent)
    assert got[1].raw["x"] == 1
    assert isinstance(got[2], MalformedEvent)
    params = route.calls.last.request.url.params
    assert params.get_list("types[]") == ["agent.message"]
    assert params["order"] == "asc"


def test_agents_with_optimistic_versions(cloud: Resources, router: respx.Router) -> None:
    agent = {"id": "agent_01", "type": "agent", "name": "helper", "version": 2}
    router.get("/agents/agent_01").mock(return_value=httpx.Response(200, json=agent))
    update = router.post("/agents/agent_01").mock(
        side_effect=[
            error(409, "conflict_error", "Agent version 1 is stale: the latest is 2."),
            httpx.Response(200, json={**agent, "version": 3, "system": "Be brief."}),
        ]
    )
    latest = cloud.call("agents.retrieve", "agent_01", version=2)
    assert isinstance(latest, Agent)
    assert latest.version == 2
    with pytest.raises(ConflictError, match="stale"):
        cloud.call("agents.update", "agent_01", version=1, system="Be brief.")
    updated = cloud.call("agents.update", "agent_01", version=2, system="Be brief.")
    assert updated.version == 3
    assert json.loads(update.calls.last.request.content) == {"version": 2, "system": "Be brief."}


def test_environments(cloud: Resources, router: respx.Router) -> None:
    env = {"id": "env_01", "type": "environment", "name": "demo", "status": "ready"}
    router.post("/environments").mock(return_value=httpx.Response(201, json=env))
    router.delete("/environments/env_01").mock(
        return_value=httpx.Response(200, json={"id": "env_01", "type": "environment_deleted"})
    )
    created = cloud.call("environments.create")
    assert isinstance(created, Environment)
    assert created.status == "ready"
    assert cloud.call("environments.delete", "env_01").type == "environment_deleted"


def test_not_found_hints_tell_a_missing_resource_from_a_wrong_base_url(
    cloud: Resources, router: respx.Router
) -> None:
    router.get("/sessions/sess_404").mock(
        return_value=error(404, "not_found_error", "Session not found.")
    )
    router.get("/sessions").mock(return_value=httpx.Response(404, text="<html>Not Found</html>"))
    with pytest.raises(NotFoundError) as missing:
        cloud.call("sessions.retrieve", "sess_404")
    assert "No session 'sess_404' exists" in str(missing.value)
    with pytest.raises(NotFoundError) as nowhere:
        cloud.items("sessions.list")
    assert "check the base URL" in str(nowhere.value)
    assert "sess_404" not in str(nowhere.value)


def test_failures_are_retried_by_the_shared_policy(cloud: Resources, router: respx.Router) -> None:
    route = router.get("/sessions/sess_001").mock(
        side_effect=[
            httpx.Response(503, headers={"retry-after-ms": "1"}, json={}),
            httpx.Response(200, json=session(1)),
        ]
    )
    assert cloud.call("sessions.retrieve", "sess_001").id == "sess_001"
    assert [c.request.headers["X-Qoder-Retry-Count"] for c in route.calls] == ["0", "1"]


def test_a_users_http_client_is_used_and_left_open(facade: Facade, router: respx.Router) -> None:
    router.get("/sessions/sess_001").mock(return_value=httpx.Response(200, json=session(1)))
    if facade.portal is None:
        own: Any = httpx.Client()
    else:

        async def make() -> httpx.AsyncClient:
            return httpx.AsyncClient()

        own = facade.portal.call(make)
    resources = Resources(facade, http_client=own)
    assert resources.call("sessions.retrieve", "sess_001").id == "sess_001"
    resources.close()
    assert not own.is_closed
    if facade.portal is None:
        own.close()
    else:
        facade.portal.call(own.aclose)


def test_no_agent_is_needed_but_a_token_is(facade: Facade, router: respx.Router) -> None:
    from qoder import ConfigurationError

    options = QoderAgentOptions(base_url=BASE)
    cloud: Any = Cloud(options) if facade.portal is None else None
    if cloud is None:
        assert facade.portal is not None
        with pytest.raises(ConfigurationError, match="access token"):
            facade.portal.call(lambda: AsyncCloud(options).sessions.retrieve("sess_001"))
        return
    with pytest.raises(ConfigurationError, match="access token"):
        cloud.sessions.retrieve("sess_001")


def test_the_twins_have_the_same_api() -> None:
    import qoder._async.cloud as a
    import qoder._sync.cloud as s

    pairs = [
        (s.Cloud, a.AsyncCloud),
        (s.Sessions, a.AsyncSessions),
        (s.SessionEvents, a.AsyncSessionEvents),
        (s.Agents, a.AsyncAgents),
        (s.Environments, a.AsyncEnvironments),
        (s.Pager, a.AsyncPager),
    ]
    for sync_cls, async_cls in pairs:
        names = sorted(n for n in vars(sync_cls) if not n.startswith("_"))
        assert names == sorted(n for n in vars(async_cls) if not n.startswith("_")), sync_cls
        for name in names:
            sync_sig = inspect.signature(getattr(sync_cls, name))
            async_sig = inspect.signature(getattr(async_cls, name))
            assert list(sync_sig.parameters) == list(async_sig.parameters), name
            assert inspect.getdoc(getattr(sync_cls, name)) == inspect.getdoc(
                getattr(async_cls, name)
            ), name


# --- history ----------------------------------------------------------------------------------


def without_timing(messages: list[Any]) -> list[Any]:
    """Messages with the client's own clock taken out (history has none to offer)."""
    import attrs

    from qoder import ResultMessage

    return [attrs.evolve(m, duration_ms=0) if isinstance(m, ResultMessage) else m for m in messages]


@pytest.mark.parametrize("omit_turn_id", [False, True], ids=["turn_ids", "no_turn_ids"])
def test_history_rebuilds_the_messages_the_live_conversation_yielded(
    facade: Facade, omit_turn_id: bool
) -> None:
    from qoder.testing import FakeCloud

    fake = FakeCloud(omit_turn_id=omit_turn_id)
    fake.agent.on("capital").think("Hmm.").reply("Paris ", "is the capital.")
    fake.agent.on("files").tool_use("bash", {"command": "ls"}, result="a.txt").reply("One file.")
    fake.agent.on("flaky").error("retrying").reply("Recovered.")
    options = QoderAgentOptions(auth=TOKEN, base_url=BASE, agent="agent_default")
    with fake.mock(base_url=BASE), facade.client(options) as client:
        live = [client.turn(p) for p in ("capital?", "list files", "flaky one")]
        session_id = client.session_id
        resources = Resources(facade)
        history = resources.call("sessions.history", session_id, prompts=False)
        with_prompts = resources.call("sessions.history", session_id)
        resources.close()
    assert without_timing(history) == without_timing([m for turn in live for m in turn])
    prompts = [m for m in with_prompts if m not in history]
    assert [m.content[0].text for m in prompts] == ["capital?", "list files", "flaky one"]


def test_history_of_a_turn_answered_by_hand(facade: Facade) -> None:
    from qoder import ResultMessage
    from qoder.testing import FakeCloud

    fake = FakeCloud()
    fake.agent.on("weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
        "It is {result}."
    )
    options = QoderAgentOptions(auth=TOKEN, base_url=BASE, agent="agent_default")
    with fake.mock(base_url=BASE), facade.client(options) as client:
        stopped = client.turn("weather?")
        result = stopped[-1]
        assert isinstance(result, ResultMessage)
        client.raw_respond({result.pending_tool_uses[0].id: "18°C"})
        rest = list(client.receive_response())
        resources = Resources(facade)
        history = resources.call("sessions.history", client.session_id, prompts=False)
        resources.close()
    assert without_timing(history) == without_timing(stopped + rest)
    assert [m.stop_reason for m in history if isinstance(m, ResultMessage)] == [
        "requires_action",
        "end_turn",
    ]
