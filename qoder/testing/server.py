"""Serve a :class:`FakeCloud` over real HTTP with uvicorn (loopback by default).

``serve_in_thread()`` runs it in a background thread for tests and demos; ``run_server()`` blocks
(the ``python -m qoder serve`` command)::

    with serve_in_thread() as served:
        client = httpx.Client(base_url=served.base_url, headers={"Authorization": "Bearer x"})
        ...
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from qoder.testing._cloud import FakeCloud

__all__ = ["ServedCloud", "run_server", "serve_in_thread"]

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0


@dataclass(frozen=True)
class ServedCloud:
    """A running emulator: its cloud, address and API base URL."""

    cloud: FakeCloud
    host: str
    port: int

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:54321/api/v1/cloud``."""
        return self.url + self.cloud.base_path


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket says it is TCP; without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _server(cloud: FakeCloud, **options: Any) -> Any:
    """A uvicorn server whose ``ready`` event is set once it accepts connections."""
    import uvicorn

    class _Server(uvicorn.Server):
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.ready = threading.Event()

        async def startup(self, sockets: Any = None) -> None:
            try:
                await super().startup(sockets=sockets)
            finally:
                self.ready.set()

        async def shutdown(self, sockets: Any = None) -> None:
            cloud.close_streams()  # open streams would otherwise hold the shutdown up
            await super().shutdown(sockets=sockets)

    config = uvicorn.Config(
        cloud.asgi_app(),
        log_level="warning",
        lifespan="off",
        loop="asyncio",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=2,
        **options,
    )
    return _Server(config)


@contextmanager
def serve_in_thread(
    cloud: FakeCloud | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[ServedCloud]:
    """Serve ``cloud`` (a new default one if ``None``) on ``host:port`` (0: a free port) in a
    background thread; stop it on exit, closing open event streams first."""
    cloud = cloud or FakeCloud()
    sock = _bind(host, port)
    server = _server(cloud)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as error:  # reported to the caller below
            errors.append(error)
        finally:
            server.ready.set()

    thread = threading.Thread(target=run, name=f"qoder-emulator-{sock.getsockname()[1]}")
    thread.daemon = True
    try:
        thread.start()
        if not server.ready.wait(_STARTUP_TIMEOUT) or not server.started:
            raise RuntimeError(f"the emulator did not start: {errors!r}")
        yield ServedCloud(cloud, host, sock.getsockname()[1])
    finally:
        cloud.close_streams()
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)
        sock.close()


def run_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    *,
    cloud: FakeCloud | None = None,
    keepalive_interval: float = 15.0,
    on_ready: Callable[[str], None] | None = None,
    think_seconds: float = 0.0,
    report_usd_cost: bool = True,
) -> None:
    """Serve an emulator until interrupted (Ctrl-C, SIGTERM), then return.

    Prints ``Qoder Cloud emulator listening on <base URL>`` once listening (or calls
    ``on_ready(base_url)`` instead). ``port=0`` picks a free port.

    ``token=None`` accepts any non-empty bearer token. The cloud has the default agent
    ``agent_default`` and environment ``env_default``; ``think_seconds`` and
    ``report_usd_cost`` are passed to :class:`FakeCloud` (ignored when ``cloud`` is given).
    """
    cloud = cloud or FakeCloud(
        token=token,
        keepalive_interval=keepalive_interval,
        think_seconds=think_seconds,
        report_usd_cost=report_usd_cost,
    )
    sock = _bind(host, port)
    served = ServedCloud(cloud, host, sock.getsockname()[1])
    server = _server(cloud)

    def announce() -> None:
        server.ready.wait()
        if not server.started:
            return
        if on_ready is not None:
            on_ready(served.base_url)
        else:
            print(f"Qoder Cloud emulator listening on {served.base_url}", flush=True)
            print(f"  export QODER_MANAGED_BASE_URL={served.base_url}", flush=True)

    announcer = threading.Thread(target=announce, daemon=True)
    announcer.start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a normal stop here
        pass
    finally:
        server.ready.set()
        cloud.close_streams()
        sock.close()
        announcer.join(1.0)
