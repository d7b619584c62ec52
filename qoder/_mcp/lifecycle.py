"""The MCP servers one conversation client runs itself, from ``connect()`` to ``disconnect()``.

The servers that are *bridged* (in-process ``create_sdk_mcp_server`` ones, ``stdio``
processes, and HTTP/SSE ones with ``"bridge": True`` or headers; see :mod:`.config`) are
started by :meth:`ClientServers.start` before the session is created, so that their tools can
be declared to the agent as ``mcp__<server>__<tool>`` custom tools, and stopped by
:meth:`ClientServers.close` when the client disconnects, fails to connect, or is interrupted.
Both facades use the blocking bridge (:class:`.sync.SyncMcpBridge`, its own event loop in a
thread): an ``AsyncClient`` may connect and disconnect from different tasks, which a bridge in
the caller's own task group could not survive. The ``mcp`` package is imported only when
there is a server to bridge.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .._protocol.config import LocalTool
from .config import is_bridged

__all__ = ["ClientServers"]


class ClientServers:
    """The bridged MCP servers of one client's options."""

    def __init__(self, servers: Mapping[str, Any] | None) -> None:
        self._servers = {
            name: config for name, config in (servers or {}).items() if is_bridged(name, config)
        }
        self._bridge: Any = None
        self._lock = threading.Lock()

    @property
    def any(self) -> bool:
        """Whether there is a server to bridge (without one, start and close do nothing, and
        an async client need not hand them to a worker thread)."""
        return bool(self._servers)

    def start(self) -> tuple[LocalTool, ...]:
        """Start the servers (none: nothing happens, nothing is imported); their tools."""
        if not self._servers:
            return ()
        from .sync import SyncMcpBridge  # the mcp package: only with servers to bridge

        bridge = SyncMcpBridge()
        with self._lock:
            self._bridge = bridge
        bridge.start(self._servers)
        return tuple(bridge.tools())

    def close(self) -> None:
        """Stop every server this client started (idempotent, from any thread)."""
        with self._lock:
            bridge, self._bridge = self._bridge, None
        if bridge is not None:
            bridge.close()
