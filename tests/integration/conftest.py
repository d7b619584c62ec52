"""Fixtures of the integration tests: the emulator served by uvicorn on 127.0.0.1.

One uvicorn server (on a free loopback port) runs for the whole session; each test gets a fresh
:class:`~tests.integration.support.RecordingCloud` behind it. ``cloud`` is that cloud, ``served``
serves it; ``serve(other_cloud)`` serves a cloud the test built itself instead. After each test
no event stream of its cloud may be left open (a leaked connection fails the test). A watchdog
bounds every test: a hang dumps the stacks and ends the run instead of blocking it.
"""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from qoder.testing import FakeCloud, ServedCloud, serve_in_thread
from tests.integration.support import RecordingCloud, Serve

WATCHDOG_SECONDS = 120.0


class _Switchboard(FakeCloud):
    """What the session's server serves: the ASGI app of the current test's cloud."""

    def __init__(self) -> None:
        super().__init__(default_resources=False)
        self.target: RecordingCloud | None = None

    def asgi_app(self) -> Any:
        board = self

        async def app(scope: Any, receive: Any, send: Any) -> None:
            target = board.target
            if target is None:  # no test is running: refuse rather than guess
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b"no cloud"})
                return
            await target.asgi_app()(scope, receive, send)

        return app

    def close_streams(self) -> None:
        if self.target is not None:
            self.target.close_streams()


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[_Switchboard, ServedCloud]]:
    board = _Switchboard()
    with serve_in_thread(board) as served:
        yield board, served


@pytest.fixture
def serve(_server: tuple[_Switchboard, ServedCloud]) -> Iterator[Serve]:
    """Serve a cloud for this test; on teardown check that no stream was left open."""
    board, served = _server
    clouds: list[RecordingCloud] = []

    def start(cloud: RecordingCloud) -> ServedCloud:
        assert board.target is None, "one served cloud per test"
        board.target = cloud
        clouds.append(cloud)
        return ServedCloud(cloud, served.host, served.port)

    try:
        yield start
        for cloud in clouds:
            assert cloud.wait_for_streams(0, timeout=5), (
                f"{cloud.open_streams} event stream(s) still open after the test"
            )
    finally:
        for cloud in clouds:
            cloud.close_streams()
        board.target = None


@pytest.fixture
def cloud(request: pytest.FixtureRequest) -> RecordingCloud:
    """A fresh emulator with ``agent_default`` and ``env_default``; indirect parametrization
    with a bool sets ``omit_turn_id`` (see ``support.BOTH_TURN_ID_MODES``)."""
    return RecordingCloud(omit_turn_id=bool(getattr(request, "param", False)))


@pytest.fixture
def served(cloud: RecordingCloud, serve: Serve) -> ServedCloud:
    """``cloud`` served by uvicorn on the session's loopback port."""
    return serve(cloud)
