"""Reliability and security through every facade: short tokens, plain http, reconnect logs,
reprs and the ``qoder.events`` namespace."""

from __future__ import annotations

import logging
import types

import httpx
import pytest
import respx

import qoder
import qoder.options
from qoder import APIConnectionError, ConfigurationError, QoderAgentOptions, ResultMessage
from qoder._protocol import events as wire_events
from qoder.options import normalize_base_url
from tests.client.driver import Facade
from tests.client.scripted import TOKEN, ScriptedAPI, stream_of, turn_events
from tests.client.test_conversation import options

LOOPBACK = "http://127.0.0.1:1/api/v1/cloud"


@pytest.mark.parametrize("token", ["t", "1"])
def test_a_short_token_leaves_the_url_of_an_error_intact(facade: Facade, token: str) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{LOOPBACK}/environments").mock(side_effect=httpx.ConnectError("refused"))
        client = facade.client(
            QoderAgentOptions(auth=token, base_url=LOOPBACK, agent="agent_01", max_retries=0)
        )
        with pytest.raises(APIConnectionError) as caught:
            client.connect()
    assert str(caught.value).startswith(f"POST {LOOPBACK}/environments got no response")
    assert caught.value.url == f"{LOOPBACK}/environments"


def test_a_short_token_is_warned_about_once_without_showing_it(
    facade: Facade,
    api: ScriptedAPI,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(qoder.options, "_warned_short_token", False)
    with caplog.at_level(logging.WARNING, logger="qoder"):
        for _ in range(2):
            with facade.client(options(auth="tiny-t")):
                pass
    warned = [r for r in caplog.records if "shorter than 8 characters" in r.getMessage()]
    assert len(warned) == 1
    assert warned[0].levelno == logging.WARNING
    assert "tiny-t" not in warned[0].getMessage()


def test_a_token_of_real_length_draws_no_warning(
    facade: Facade,
    api: ScriptedAPI,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(qoder.options, "_warned_short_token", False)
    with caplog.at_level(logging.WARNING, logger="qoder"), facade.client(options()):
        pass
    assert not [r for r in caplog.records if "shorter than" in r.getMessage()]


@pytest.mark.parametrize(
    "base_url", ["http://10.0.0.5:8765/api/v1/cloud", "http://api.qoder.com/api/v1/cloud"]
)
def test_plain_http_to_another_host_is_refused_before_any_request(
    facade: Facade, base_url: str
) -> None:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        client = facade.client(options(base_url=base_url))
        with pytest.raises(ConfigurationError, match="clear text") as caught:
            client.connect()
        assert not router.calls
    assert "allow_insecure_http=True" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_plain_http_to_another_host_is_sent_when_the_user_opts_in(facade: Facade) -> None:
    base_url = "http://10.0.0.5:8765/api/v1/cloud"
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        api = ScriptedAPI(router, base_url)  # mocked: nothing leaves the machine
        api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
        with facade.client(options(base_url=base_url, allow_insecure_http=True)) as client:
            assert client.session_id == "sess_01"
        assert router.calls


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/api/v1/cloud",
        "http://127.8.9.10/api",
        "http://localhost:8765/api/v1/cloud",
        "http://LOCALHOST./x",
        "http://[::1]:8765/api/v1/cloud",
        "https://10.0.0.5/api",
    ],
)
def test_loopback_and_https_stay_allowed(url: str) -> None:
    assert normalize_base_url(url) == url


def test_each_reconnect_is_logged_at_warning(
    facade: Facade, api: ScriptedAPI, caplog: pytest.LogCaptureFixture
) -> None:
    events = turn_events("turn_01", 1, "hi")
    api.streams.append(stream_of(events[:3]))
    for _ in range(3):
        api.streams.append([httpx.ReadError("reset")])
    api.reply_with("evt_01", "turn_01")
    opts = options(stream_reconnect_delay=0.001, max_stream_reconnects=3)
    with caplog.at_level(logging.WARNING, logger="qoder"), facade.client(opts) as client:
        result = client.turn("hello")[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "stream_lost"
    stream_records = [r for r in caplog.records if r.getMessage().startswith("event stream")]
    assert all(r.levelno == logging.WARNING and r.name == "qoder" for r in stream_records)
    messages = [r.getMessage() for r in stream_records]
    assert [m.split("; reconnect attempt ")[1].split(" in ")[0] for m in messages[:3]] == [
        "1 of 3",
        "2 of 3",
        "3 of 3",
    ]
    assert "event stream of sess_01 dropped (the event stream failed: ReadError" in messages[1]
    assert messages[1].endswith(" s")
    assert messages[3].startswith("event stream of sess_01 lost (")
    assert "gave up after 3 reconnects" in messages[3]
    assert len(messages) == 4


def test_the_repr_of_a_client_shows_its_session_and_state(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    client = facade.client(options())
    name = "AsyncClient" if facade.is_async else "SyncClient"
    assert repr(client.raw) == f"<{name} session=None state=new>"
    client.connect()
    assert repr(client.raw) == f"<{name} session=sess_01 state=connected>"
    client.disconnect()
    assert repr(client.raw) == f"<{name} session=sess_01 state=closed>"
    assert TOKEN not in repr(client.raw)
    assert TOKEN not in str(client.raw)


def test_the_events_namespace_exports_every_wire_event_class() -> None:
    assert isinstance(qoder.events, types.ModuleType)
    assert "events" in qoder.__all__
    assert sorted(qoder.events.__all__) == sorted(wire_events.__all__)
    for name in wire_events.__all__:
        assert getattr(qoder.events, name) is getattr(wire_events, name)
    from qoder import events

    assert events.SessionStatusIdle is wire_events.SessionStatusIdle


def test_receive_events_shows_the_end_of_a_turn(facade: Facade, api: ScriptedAPI) -> None:
    from qoder import events

    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    seen: list[str] = []
    with facade.client(options()) as client:
        client.query("hello")
        for event in client.receive_events():
            seen.append(event.type)
            if isinstance(event, events.SessionStatusIdle) and (
                event.stop_reason is None or event.stop_reason.type != "requires_action"
            ):
                break
    assert seen[-1] == "session.status_idle"
    assert "agent.message" in seen
