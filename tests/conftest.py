"""Shared fixtures: the facade matrix and the anyio backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal

from tests.client.driver import Facade

VECTORS = Path(__file__).resolve().parent / "vectors" / "real"


@pytest.fixture(params=["sync", "asyncio", "trio"])
def facade(request: pytest.FixtureRequest) -> Iterator[Facade]:
    """Each test that takes it runs with SyncClient, and AsyncClient on asyncio and on trio."""
    kind: str = request.param
    if kind == "sync":
        yield Facade(kind, None)
        return
    with start_blocking_portal(backend=kind) as portal:
        yield Facade(kind, portal)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Native async tests run on asyncio and on trio."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _clean_qoder_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real QODER_* variables."""
    import os

    for name in list(os.environ):
        if name.startswith("QODER_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _no_open_responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The leak check: every httpx response opened during a test is closed by its end."""
    import httpx

    opened: list[httpx.Response] = []
    sync_send = httpx.Client.send
    async_send = httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: object) -> httpx.Response:
        response = sync_send(self, request, **kwargs)  # type: ignore[arg-type]
        opened.append(response)
        return response

    async def asend(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: object
    ) -> httpx.Response:
        response = await async_send(self, request, **kwargs)  # type: ignore[arg-type]
        opened.append(response)
        return response

    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(httpx.AsyncClient, "send", asend)
    yield
    left_open = [f"{r.request.method} {r.request.url}" for r in opened if not r.is_closed]
    assert not left_open, f"httpx responses left open: {left_open}"
