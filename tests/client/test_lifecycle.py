"""Lifecycle, configuration and misuse, through every facade."""

from __future__ import annotations

import gc
import inspect
import weakref

import httpx
import pytest

from qoder import (
    AsyncClient,
    AuthenticationError,
    ClientStateError,
    ConfigurationError,
    QoderAgentOptions,
    QoderSDKClient,
    SyncClient,
    access_token_from_env,
)
from tests.client.driver import Facade
from tests.client.scripted import BASE, TOKEN, ScriptedAPI, stream_of, turn_events
from tests.client.test_conversation import options, texts


def test_query_before_connect_says_what_to_do(facade: Facade, api: ScriptedAPI) -> None:
    client = facade.client(options())
    with pytest.raises(ClientStateError, match="before connect"):
        client.query("hi")


def test_connect_twice_and_use_after_disconnect(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    client = facade.client(options())
    client.connect()
    with pytest.raises(ClientStateError, match="already called"):
        client.connect()
    client.disconnect()
    client.disconnect()
    with pytest.raises(ClientStateError, match="after disconnect"):
        client.query("hi")


def test_missing_token_fails_at_connect_before_any_request(
    facade: Facade, api: ScriptedAPI
) -> None:
    client = facade.client(QoderAgentOptions(base_url=BASE, agent="agent_01"))
    with pytest.raises(ConfigurationError, match="QODER_PERSONAL_ACCESS_TOKEN"):
        client.connect()
    assert not api.router.calls


def test_missing_env_token_names_the_variable(facade: Facade, api: ScriptedAPI) -> None:
    client = facade.client(QoderAgentOptions(auth=access_token_from_env(), agent="a"))
    with pytest.raises(ConfigurationError, match="QODER_PERSONAL_ACCESS_TOKEN"):
        client.connect()


def test_missing_agent_names_the_variable(facade: Facade, api: ScriptedAPI) -> None:
    client = facade.client(QoderAgentOptions(auth=TOKEN, base_url=BASE))
    with pytest.raises(ConfigurationError, match="QODER_AGENT_ID"):
        client.connect()
    assert not api.router.calls


def test_environment_variables_configure_the_client(
    facade: Facade, api: ScriptedAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QODER_PAT", "pat-from-qoder-pat")
    monkeypatch.setenv("QODER_ACCESS_TOKEN", "pat-from-access-token")
    monkeypatch.setenv("QODER_PERSONAL_ACCESS_TOKEN", " ")  # blank counts as unset
    monkeypatch.setenv("QODER_CLOUD_AGENT_API_BASE", BASE + "/")
    monkeypatch.setenv("QODER_AGENT_ID", "agent_env")
    monkeypatch.setenv("QODER_ENVIRONMENT_ID", "env_env")
    api.streams.append(stream_of([]))
    with facade.client(QoderAgentOptions()):
        pass
    create = api.router.calls[0].request
    assert create.headers["Authorization"] == "Bearer pat-from-access-token"
    assert b'"agent":"agent_env"' in create.content.replace(b" ", b"")
    assert b'"environment_id":"env_env"' in create.content.replace(b" ", b"")


def test_explicit_options_win_over_the_environment(
    facade: Facade, api: ScriptedAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QODER_PERSONAL_ACCESS_TOKEN", "pat-env")
    monkeypatch.setenv("QODER_MANAGED_BASE_URL", "https://elsewhere.test/api/v1/cloud")
    monkeypatch.setenv("QODER_AGENT_ID", "agent_env")
    api.streams.append(stream_of([]))
    with facade.client(options()):
        pass
    create = api.router.calls[0].request
    assert create.url.host == "api.test"
    assert create.headers["Authorization"] == f"Bearer {TOKEN}"
    assert b"agent_01" in create.content


def test_standard_headers(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(options()) as client:
        client.turn("hello")
    post = api.events_route.calls[0].request
    assert post.headers["User-Agent"].startswith("qoder-python/")
    assert post.headers["X-Qoder-Retry-Count"] == "0"
    assert post.headers["Content-Type"] == "application/json"
    assert len(post.headers["Idempotency-Key"]) == 36
    # The HTTP client the library makes carries the unchanging ones itself: still all there,
    # each once, with the values of §2.3.
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Accept"] == "application/json"
    assert post.headers["X-Qoder-Lang"] == "python"
    assert post.headers["X-Qoder-Package-Version"] == post.headers["User-Agent"].split("/")[1]
    names = [name.lower() for name, _ in post.headers.multi_items()]
    assert len(names) == len(set(names))
    stream = api.stream_route.calls[0].request
    assert stream.headers["Accept"] == "text/event-stream"
    assert "Last-Event-ID" not in stream.headers  # a new session has no history to skip


def test_creates_agent_and_environment_from_specs(facade: Facade, api: ScriptedAPI) -> None:
    from qoder import AgentSpec

    api.streams.append(stream_of([]))
    opts = QoderAgentOptions(auth=TOKEN, base_url=BASE, agent=AgentSpec(name="helper"))
    with facade.client(opts) as client:
        assert client.session_id == "sess_01"
    paths = [call.request.url.path for call in api.router.calls]
    assert paths[:3] == [
        "/api/v1/cloud/agents",
        "/api/v1/cloud/environments",
        "/api/v1/cloud/sessions",
    ]


def test_query_while_a_turn_is_underway(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(options()) as client:
        client.query("one")
        with pytest.raises(ClientStateError, match="interrupt"):
            client.query("two")
        messages = list(client.receive_response())
    assert messages[-1].result == "hi"  # type: ignore[union-attr]


def test_receive_response_without_a_turn_ends_at_once(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with facade.client(options()) as client:
        assert list(client.receive_response()) == []


def test_user_http_client_is_used_and_not_closed(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    seen: list[str] = []
    if facade.is_async:

        async def hook(request: httpx.Request) -> None:
            seen.append(request.url.path)

        async def make() -> httpx.AsyncClient:
            return httpx.AsyncClient(event_hooks={"request": [hook]})

        http = facade.run(make)
    else:
        http = httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]})
    with facade.client(options(), http_client=http) as client:
        client.turn("hello")
    assert not http.is_closed
    assert "/api/v1/cloud/sessions/sess_01/events" in seen
    facade.run(http.aclose) if facade.is_async else http.close()


def test_token_never_in_reprs_or_errors(facade: Facade, api: ScriptedAPI) -> None:
    api.router.post(f"{BASE}/sessions").mock(
        return_value=httpx.Response(
            401,
            json={
                "type": "error",
                "error": {"type": "authentication_error", "message": f"bad token {TOKEN}"},
            },
            headers={"x-request-id": "req_1"},
        )
    )
    opts = options()
    client = facade.client(opts)
    with pytest.raises(AuthenticationError) as caught:
        client.connect()
    assert caught.value.status_code == 401
    assert caught.value.request_id == "req_1"
    for text in (str(caught.value), repr(caught.value), repr(opts), repr(client.raw)):
        assert TOKEN not in text


def test_the_two_facades_have_the_same_public_api() -> None:
    assert QoderSDKClient is AsyncClient

    def public(cls: type) -> list[tuple[str, list[tuple[str, object, object]]]]:
        out: list[tuple[str, list[tuple[str, object, object]]]] = []
        for name, member in vars(cls).items():
            if name.startswith("_") and name not in ("__init__",):
                continue
            if isinstance(member, property):
                out.append((name, []))
                continue
            params: list[tuple[str, object, object]] = [
                (p.name, p.kind, p.default) for p in inspect.signature(member).parameters.values()
            ]
            out.append((name, params))
        return out

    sync_api = public(SyncClient)
    async_api = public(AsyncClient)
    assert [name for name, _ in sync_api] == [name for name, _ in async_api]
    for (name, sync_params), (_, async_params) in zip(sync_api, async_api, strict=True):
        if name == "__init__":
            assert [p[0] for p in sync_params] == [p[0] for p in async_params]
        else:
            assert sync_params == async_params, name
        sync_doc = inspect.getdoc(getattr(SyncClient, name))
        async_doc = inspect.getdoc(getattr(AsyncClient, name))
        assert sync_doc == async_doc, name


def test_a_disconnected_client_is_freed_by_reference_counting(
    facade: Facade, api: ScriptedAPI
) -> None:
    """No reference cycle between the core and its parts: a client dropped after disconnect()
    goes at once, not at the cyclic collector's next full collection (with many conversations
    in one process, every full collection walked every closed one)."""
    for turn_id in ("turn_01", "turn_02"):  # the first round warms the library's caches up
        api.streams.append(stream_of(turn_events(turn_id, 1, "Paris.")))
        api.reply_with("evt_01", turn_id)
        client = facade.client(options())
        client.connect()
        assert texts(client.turn("Capital?")) == ["Paris."]
        client.disconnect()
        core = weakref.ref(client.raw._core)
        gc.collect()
        gc.disable()
        try:
            del client
            freed = core() is None
        finally:
            gc.enable()
    assert freed
