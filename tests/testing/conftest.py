"""Fixtures of the emulator's own tests: clients reaching a FakeCloud through each transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from qoder.testing import FakeCloud, serve_in_thread

BASE_URL = "https://api.qoder.com/api/v1/cloud"
AUTH = {"Authorization": "Bearer test-token"}
TIMEOUT = httpx.Timeout(5.0)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Async tests run on asyncio and on trio."""
    return str(request.param)


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    """A cloud whose quiet streams send a heartbeat every 0.2 s (so no read can hang)."""
    cloud = FakeCloud(keepalive_interval=0.2)
    yield cloud
    cloud.close_streams()


@pytest.fixture(params=["respx", "served"])
def http(request: pytest.FixtureRequest, cloud: FakeCloud) -> Iterator[httpx.Client]:
    """A sync httpx client reaching ``cloud`` through respx, then through a loopback server."""
    if request.param == "respx":
        with cloud.mock(), httpx.Client(base_url=BASE_URL, headers=AUTH, timeout=TIMEOUT) as c:
            yield c
    else:
        with (
            serve_in_thread(cloud) as served,
            httpx.Client(base_url=served.base_url, headers=AUTH, timeout=TIMEOUT) as c,
        ):
            yield c


@pytest.fixture(params=["respx", "served"])
async def ahttp(
    request: pytest.FixtureRequest, cloud: FakeCloud
) -> AsyncIterator[httpx.AsyncClient]:
    """An async httpx client reaching ``cloud`` through respx, then through a loopback server."""
    if request.param == "respx":
        with cloud.mock():
            async with httpx.AsyncClient(base_url=BASE_URL, headers=AUTH, timeout=TIMEOUT) as c:
                yield c
    else:
        with serve_in_thread(cloud) as served:
            async with httpx.AsyncClient(
                base_url=served.base_url, headers=AUTH, timeout=TIMEOUT
            ) as c:
                yield c


@pytest.fixture
def session_id(cloud: FakeCloud) -> str:
    """A fresh session of the default agent."""
    return cloud.create_session()


@pytest.fixture
def local_http(cloud: FakeCloud) -> Iterator[httpx.Client]:
    """A sync httpx client reaching ``cloud`` through respx only (for checks that do not
    depend on the transport)."""
    with cloud.mock(), httpx.Client(base_url=BASE_URL, headers=AUTH, timeout=TIMEOUT) as c:
        yield c
