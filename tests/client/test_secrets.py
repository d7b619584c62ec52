"""The token never shows: not in a repr, a str, a log record (DEBUG included) or an exception,
in every kind of failure, with a token of the shortest real length and a long one, through
every facade. Authorization never follows a redirect to another origin; TLS is verified.

Each test runs its scenario under :class:`Watch`, which records every log record of the
``qoder``, ``httpx`` and ``httpcore`` loggers at DEBUG, and every exception, message and
object the test hands it, then looks for the token in all of their texts.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import httpx
import pytest
import respx

from qoder import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    QoderAgentOptions,
    QoderError,
    ResultMessage,
    access_token,
    access_token_from_env,
    tool,
)
from qoder.options import resolve_options
from qoder.testing import FakeCloud, serve_in_thread
from tests.client.driver import Facade
from tests.client.scripted import BASE, ScriptedAPI, stream_of, turn_events
from tests.client.test_conversation import options
from tests.client.test_tools import custom_tool_turn

SHORT = "pat-short1"  # 10 characters: above the 8 below which a token draws a warning
LONG = "pat-" + "0123456789abcdef" * 3 + "ABCDEFGHIJKL"  # 64 characters
assert len(LONG) == 64

LOGGERS = ("qoder", "httpx", "httpcore")


def echo(status: int, kind: str, token: str) -> httpx.Response:
    """An error answer whose body repeats the request's Authorization, as a careless server
    (or a proxy) might."""
    message = f"rejected Authorization: Bearer {token} (token {token})"
    return httpx.Response(
        status, json={"type": "error", "error": {"type": kind, "message": message}}
    )


class Watch:
    """Everything a scenario showed; :meth:`check` finds no token in any of it."""

    def __init__(self, caplog: pytest.LogCaptureFixture, *tokens: str) -> None:
        self.caplog = caplog
        self.tokens = list(tokens)
        self.texts: list[str] = []

    def seen(self, *objects: Any) -> None:
        """Keep the repr and str of each object (for an exception, of its whole chain)."""
        for obj in objects:
            while obj is not None:
                self.texts += [repr(obj), str(obj)]
                if isinstance(obj, APIStatusError):
                    self.texts += [repr(obj.body), repr(obj.error_message)]
                obj = obj.__cause__ or obj.__context__ if isinstance(obj, BaseException) else None

    def check(self, *, logged: bool = True) -> None:
        """No token anywhere; ``logged``: the scenario must have logged (the capture works)."""
        records = self.caplog.records
        assert records or not logged, "the scenario logged nothing: the capture is not working"
        texts = self.texts + [r.getMessage() for r in records] + [self.caplog.text]
        for token in self.tokens:
            leaks = [text for text in texts if token in text]
            assert not leaks, f"the token shows in: {leaks}"


@pytest.fixture(params=[SHORT, LONG], ids=["short", "long"])
def token(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def watch(caplog: pytest.LogCaptureFixture, token: str) -> Watch:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return Watch(caplog, token)


def test_auth_failure(facade: Facade, token: str, watch: Watch) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{BASE}/sessions").mock(return_value=echo(401, "authentication_error", token))
        client = facade.client(options(auth=token))
        with pytest.raises(AuthenticationError) as caught:
            client.connect()
    watch.seen(caught.value, client.raw)
    watch.check()


def test_auth_refresh_hides_both_tokens(facade: Facade, token: str, watch: Watch) -> None:
    fresh = token.replace("pat-", "pat-fresh-")
    watch.tokens.append(fresh)
    with respx.mock(assert_all_called=False) as router:
        api = ScriptedAPI(router)
        api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
        api.replies += [echo(401, "authentication_error", token)]
        api.reply_with("evt_01", "turn_01")
        opts = options(auth=token, on_auth_expired=lambda: fresh, stream_reconnect_delay=0.001)
        with facade.client(opts) as client:
            messages = client.turn("hello")
    assert api.events_route.calls[1].request.headers["Authorization"] == f"Bearer {fresh}"
    watch.seen(*messages, client.raw)
    watch.check()


def test_connection_error(facade: Facade, token: str, watch: Watch) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{BASE}/sessions").mock(side_effect=httpx.ConnectError("refused"))
        client = facade.client(options(auth=token, max_retries=0))
        with pytest.raises(APIConnectionError) as caught:
            client.connect()
    watch.seen(caught.value)
    watch.check(logged=False)  # no response, nothing to log


def test_not_found(facade: Facade, token: str, watch: Watch) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/sessions/sess_gone").mock(
            return_value=echo(404, "not_found_error", token)
        )
        client = facade.client(options(auth=token, resume="sess_gone"))
        with pytest.raises(NotFoundError) as caught:
            client.connect()
    watch.seen(caught.value)
    watch.check()


def test_stream_lost(facade: Facade, token: str, watch: Watch) -> None:
    with respx.mock(assert_all_called=False) as router:
        api = ScriptedAPI(router)
        api.streams.append(stream_of(turn_events("turn_01", 1, "hi")[:3]))
        api.streams += [[httpx.ReadError(f"reset after Bearer {token}")] for _ in range(3)]
        api.reply_with("evt_01", "turn_01")
        opts = options(auth=token, stream_reconnect_delay=0.001, max_stream_reconnects=2)
        with facade.client(opts) as client:
            messages = client.turn("hello")
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "stream_lost"
    watch.seen(*messages, *result.errors)
    watch.check()


def test_tool_error(facade: Facade, token: str, watch: Watch) -> None:
    @tool
    def get_weather(city: str) -> str:
        """Weather."""
        raise RuntimeError("weather service down")

    with respx.mock(assert_all_called=False) as router:
        api = ScriptedAPI(router)
        before, after = custom_tool_turn()
        api.streams.append(stream_of(before + after))
        api.reply_with("evt_21", "turn_21")
        api.replies.append(echo(500, "api_error", token))  # posting the tool's answer fails
        with facade.client(options(auth=token, tools=[get_weather], max_retries=0)) as client:
            messages = client.turn("Weather in Paris?")
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.is_error
    watch.seen(*messages, *result.errors)
    watch.check()


def test_reprs_of_options_clients_and_messages(
    facade: Facade, token: str, watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QODER_PERSONAL_ACCESS_TOKEN", token)
    opts = options(auth=token)
    config = resolve_options(opts)
    watch.seen(opts, access_token(token), access_token_from_env(), config)
    with respx.mock(assert_all_called=False) as router:
        api = ScriptedAPI(router)
        api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
        api.reply_with("evt_01", "turn_01")
        client = facade.client(QoderAgentOptions(base_url=BASE, agent="a", environment="e"))
        watch.seen(client.raw)
        with client:
            watch.seen(client.raw)
            watch.seen(*client.turn("hello"))
    watch.check()


def test_a_redirect_to_another_origin_is_not_followed(
    facade: Facade, token: str, watch: Watch
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{BASE}/sessions").mock(
            return_value=httpx.Response(
                307, headers={"Location": "https://elsewhere.test/api/v1/cloud/sessions"}
            )
        )
        elsewhere = router.route(host="elsewhere.test").mock(return_value=httpx.Response(201))
        client = facade.client(options(auth=token, max_retries=0))
        with pytest.raises(APIStatusError) as caught:
            client.connect()
    assert caught.value.status_code == 307
    assert not elsewhere.calls
    watch.seen(caught.value)
    watch.check()


def test_a_users_redirecting_http_client_drops_authorization_across_origins(
    facade: Facade, token: str, watch: Watch
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{BASE}/sessions").mock(
            return_value=httpx.Response(
                307, headers={"Location": "https://elsewhere.test/api/v1/cloud/sessions"}
            )
        )
        elsewhere = router.route(host="elsewhere.test").mock(
            return_value=httpx.Response(500, json={})
        )
        http: httpx.Client | httpx.AsyncClient
        http = (
            httpx.AsyncClient(follow_redirects=True)
            if facade.is_async
            else httpx.Client(follow_redirects=True)
        )
        client = facade.client(options(auth=token, max_retries=0), http_client=http)
        with pytest.raises(InternalServerError):
            client.connect()
        facade.run(http.aclose if isinstance(http, httpx.AsyncClient) else http.close)
    (call,) = elsewhere.calls
    assert "Authorization" not in call.request.headers
    watch.check()


def test_tls_is_verified_by_the_client_the_library_makes(facade: Facade, token: str) -> None:
    with respx.mock(assert_all_called=False) as router:
        api = ScriptedAPI(router)
        api.streams.append(stream_of([]))
        with facade.client(options(auth=token)) as client:
            http = client.raw._http._client
            context = http._transport._pool._ssl_context
            assert context.verify_mode is ssl.CERT_REQUIRED
            assert context.check_hostname is True


def test_a_real_loopback_conversation_and_a_wrong_token(
    facade: Facade, token: str, watch: Watch
) -> None:
    wrong = token.replace("pat-", "pat-wrong-")
    watch.tokens.append(wrong)
    with serve_in_thread(FakeCloud(token=token)) as served:
        real = QoderAgentOptions(auth=token, base_url=served.base_url, agent="agent_default")
        with facade.client(real) as client:
            messages = client.turn("What's the capital of France?")
        assert isinstance(messages[-1], ResultMessage)
        assert not messages[-1].is_error
        bad = facade.client(
            QoderAgentOptions(auth=wrong, base_url=served.base_url, agent="agent_default")
        )
        with pytest.raises(QoderError) as caught:
            bad.connect()
    assert any(r.name.startswith("httpcore") for r in watch.caplog.records)
    watch.seen(*messages, caught.value, client.raw)
    watch.check()
