"""pytest fixtures that hand users a ready emulator (registered through the pytest11 entry point).

* ``fake_cloud``: a :class:`~qoder.testing.FakeCloud` with ``agent_default`` and ``env_default``;
* ``fake_cloud_router``: that cloud mounted on an active respx router at
  ``https://api.qoder.com/api/v1/cloud`` (both ``httpx.Client`` and ``httpx.AsyncClient``);
* ``served_cloud``: that cloud served by uvicorn on 127.0.0.1 (a
  :class:`~qoder.testing.ServedCloud`; use ``served_cloud.base_url``).

It also ignores, in every test, the ``ResourceWarning: Async generator 'httpx…' was garbage
collected`` that trio emits for httpx's own nested byte iterators when a streamed response is
closed early (httpx does not ``aclose()`` them: https://github.com/encode/httpx/issues/3686,
and the unmerged fix https://github.com/encode/httpx/pull/3593; the response and its
connection are closed, only the warning is left). The filter is added
as a ``filterwarnings`` mark, so it holds under ``pytest -W error`` and ``filterwarnings =
error`` alike; nothing else is filtered.

Example::

    def test_capital(fake_cloud_router, fake_cloud):
        with httpx.Client(base_url="https://api.qoder.com/api/v1/cloud",
                          headers={"Authorization": "Bearer t"}) as http:
            assert http.get("/agents/agent_default").status_code == 200
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import pytest

from qoder.testing._cloud import FakeCloud

if TYPE_CHECKING:
    import respx

    from qoder.testing.server import ServedCloud

__all__ = [
    "HTTPX_ASYNCGEN_FILTER",
    "fake_cloud",
    "fake_cloud_router",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "served_cloud",
]

HTTPX_ASYNCGEN_FILTER: Final = "ignore:Async generator '(httpx|httpcore|respx)\\.:ResourceWarning"
"""The one warning filter this plugin adds (see the module docstring)."""


def pytest_configure(config: pytest.Config) -> None:
    """Add :data:`HTTPX_ASYNCGEN_FILTER` to the ``filterwarnings`` ini option (collection and
    the phases outside a test)."""
    config.addinivalue_line("filterwarnings", HTTPX_ASYNCGEN_FILTER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with :data:`HTTPX_ASYNCGEN_FILTER`: a mark outranks ``-W error``."""
    for item in items:
        item.add_marker(pytest.mark.filterwarnings(HTTPX_ASYNCGEN_FILTER))


@pytest.fixture
def fake_cloud() -> Iterator[FakeCloud]:
    """A fresh emulator with the default agent and environment; its streams close afterwards."""
    cloud = FakeCloud()
    yield cloud
    cloud.close_streams()


@pytest.fixture
def fake_cloud_router(
    fake_cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch
) -> Iterator[respx.MockRouter]:
    """``fake_cloud`` mounted on an active respx router at the default base URL.

    ``QODER_MANAGED_BASE_URL`` and ``QODER_CLOUD_AGENT_API_BASE`` are unset for the test (an
    exported one, as ``python -m qoder serve`` suggests, would send the client elsewhere), so
    a client without an explicit ``base_url`` reaches the mocked cloud.
    """
    from qoder.options import BASE_URL_ENV_VARS

    for name in BASE_URL_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with fake_cloud.mock() as router:
        yield router


@pytest.fixture
def served_cloud(fake_cloud: FakeCloud) -> Iterator[ServedCloud]:
    """``fake_cloud`` served by uvicorn on a free loopback port for the test."""
    from qoder.testing.server import serve_in_thread

    with serve_in_thread(fake_cloud) as served:
        yield served
