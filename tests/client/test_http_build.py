"""``qoder._http.build_request``: the cheap inputs give the request the plain call gives."""

from __future__ import annotations

import ssl

import attrs
import httpx
import pytest

from qoder._http import build_request, ssl_context, timeout
from qoder._protocol import effects as fx
from qoder._protocol import requests as rq

URL = "https://api.example.test/v1/sessions/sess_1/events"
HEADERS = {"Authorization": "Bearer t", "Idempotency-Key": "k1", "X-Qoder-Retry-Count": "0"}
TIMEOUTS = fx.Timeouts(connect=5.0, read=600.0, write=600.0, pool=600.0)


def _plain(http: httpx.Client, effect: fx.Send | fx.OpenStream) -> httpx.Request:
    """What build_request did before: a fresh URL string, the params always, a headers copy."""
    request = effect.request
    return http.build_request(
        request.method,
        effect.url,
        params=list(request.params),
        headers=dict(effect.headers),
        json=request.json if request.has_body else None,
        timeout=(
            timeout(effect.timeouts)
            if isinstance(effect, fx.OpenStream)
            else httpx.USE_CLIENT_DEFAULT
        ),
    )


def _same(a: httpx.Request, b: httpx.Request) -> None:
    assert (a.method, str(a.url)) == (b.method, str(b.url))
    assert a.headers.multi_items() == b.headers.multi_items()
    assert a.read() == b.read()
    assert a.extensions == b.extensions


EFFECTS: list[fx.Send | fx.OpenStream] = [
    fx.Send(rq.send_events("sess_1", [rq.user_message("Hi é")]), HEADERS, URL),
    fx.Send(rq.retrieve_session("sess_1"), HEADERS, "https://api.example.test/v1/sessions/s"),
    fx.Send(rq.list_events("sess_1", limit=1, order="desc"), HEADERS, URL),
    fx.OpenStream(rq.stream_events("sess_1", cursor="evt_1"), HEADERS, URL + "/stream", TIMEOUTS),
]


@pytest.mark.parametrize("effect", EFFECTS)
@pytest.mark.parametrize(
    "client_kwargs",
    [
        {},
        {"headers": {"X-Mine": "1"}, "params": {"tenant": "a"}, "cookies": {"c": "1"}},
        {"timeout": 3.0},
    ],
)
def test_the_same_request_as_the_plain_call(
    effect: fx.Send | fx.OpenStream, client_kwargs: dict[str, object]
) -> None:
    with httpx.Client(**client_kwargs) as http:  # type: ignore[arg-type]
        first = build_request(http, effect)
        _same(first, _plain(http, effect))
        _same(build_request(http, effect), first)  # the cached URL is not changed by use


def test_the_url_is_parsed_once_and_never_shared_mutably() -> None:
    with httpx.Client(params={"tenant": "a"}) as http:
        effect = EFFECTS[0]
        a, b = build_request(http, effect), build_request(http, effect)
        assert a.url == b.url
        assert str(a.url).endswith("?tenant=a")
    with httpx.Client() as plain:
        assert str(build_request(plain, effect).url) == URL


def test_one_ssl_context_per_process() -> None:
    context = ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert ssl_context() is context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


@pytest.mark.parametrize("effect", EFFECTS)
def test_headers_the_client_carries_are_left_out_and_the_request_is_the_same(
    effect: fx.Send | fx.OpenStream,
) -> None:
    static = rq.base_headers(token="t", version="9.9", timeout_seconds=60.0)
    static.pop("Authorization")
    headers = {**static, **effect.headers, "Accept": "text/event-stream"}
    effect = attrs.evolve(effect, headers=headers)
    # An older value of a carried header (a refreshed token, another Accept) still wins.
    carried = {**static, "Authorization": "Bearer old"}
    with httpx.Client() as plain, httpx.Client(headers=carried) as carrying:
        expected = _plain(plain, effect)
        got = build_request(carrying, effect, carried)
        assert sorted(got.headers.multi_items()) == sorted(expected.headers.multi_items())
        assert got.headers["Authorization"] == "Bearer t"
        assert got.headers["Accept"] == "text/event-stream"
        assert got.read() == expected.read()
