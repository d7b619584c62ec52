"""Shared fixtures: the facade matrix and the anyio backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal

from tests.client.driver import Facade

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "real"


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
