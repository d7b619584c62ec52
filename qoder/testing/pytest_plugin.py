"""pytest fixtures that hand users a ready emulator (registered through the pytest11 entry point).

* ``fake_cloud``: a :class:`~qoder.testing.FakeCloud` with ``agent_default`` and ``env_default``;
* ``fake_cloud_router``: that cloud mounted on an active respx router at
  ``https://api.qoder.com/api/v1/cloud`` (both ``httpx.Client`` and ``httpx.AsyncClient``);
* ``served_cloud``: that cloud served by uvicorn on 127.0.0.1 (a
  :class:`~qoder.testing.ServedCloud`; use ``served_cloud.base_url``).

Example::

    def test_capital(fake_cloud_router, fake_cloud):
        with httpx.Client(base_url="https://api.qoder.com/api/v1/cloud",
                          headers={"Authorization": "Bearer t"}) as http:
            assert http.get("/agents/agent_default").status_code == 200
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from qoder.testing._cloud import FakeCloud

if TYPE_CHECKING:
    import respx

    from qoder.testing.server import ServedCloud

__all__ = ["fake_cloud", "fake_cloud_router", "served_cloud"]


@pytest.fixture
def fake_cloud() -> Iterator[FakeCloud]:
    """A fresh emulator with the default agent and environment; its streams close afterwards."""
    cloud = FakeCloud()
    yield cloud
    cloud.close_streams()


@pytest.fixture
def fake_cloud_router(fake_cloud: FakeCloud) -> Iterator[respx.MockRouter]:
    """``fake_cloud`` mounted on an active respx router at the default base URL."""
    with fake_cloud.mock() as router:
        yield router


@pytest.fixture
def served_cloud(fake_cloud: FakeCloud) -> Iterator[ServedCloud]:
    """``fake_cloud`` served by uvicorn on a free loopback port for the test."""
    from qoder.testing.server import serve_in_thread

    with serve_in_thread(fake_cloud) as served:
        yield served
