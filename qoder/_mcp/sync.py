"""``SyncMcpBridge``: the bridge for ``SyncClient``, on an event loop in a thread of its own.

The async :class:`~qoder._mcp.bridge.McpBridge` runs in an anyio blocking portal (a
background thread running an event loop); its ``start``/``aclose`` run in one portal task
(``wrap_async_context_manager``), and each tool's handler is a plain function that blocks
the calling thread on ``portal.call``. ``close()`` stops every server and then the thread; it
runs from ``__exit__`` whatever ended the block (an exception, ``KeyboardInterrupt``). A
Ctrl-C in the terminal does not reach the servers themselves: each subprocess runs in a
session of its own, and the bridge ends it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import attrs
from anyio.from_thread import BlockingPortal, start_blocking_portal

from .bridge import McpBridge, McpTool

__all__ = ["SyncMcpBridge", "SyncMcpTool"]


@attrs.frozen
class SyncMcpTool(McpTool):
    """A bridged MCP tool whose ``handler(args)`` blocks until the result is in (the fields
    and the agent's entry are :class:`~qoder._mcp.bridge.McpTool`'s)."""


class SyncMcpBridge:
    """A session's bridged MCP servers, from a thread without an event loop."""

    def __init__(
        self,
        servers: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        max_restarts: int = 1,
        startup_timeout: float = 30.0,
        call_timeout: float | None = None,
        backend: str = "asyncio",
    ) -> None:
        self._call_timeout = call_timeout
        self._servers = dict(servers or {})
        self._max_restarts = max_restarts
        self._startup_timeout = startup_timeout
        self._backend = backend
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._bridge_cm: AbstractContextManager[McpBridge] | None = None
        self._bridge: McpBridge | None = None
        self._portal: BlockingPortal | None = None

    def start(self, servers: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Start the thread and the servers; raises ``McpServerError`` as the async
        bridge does (and then leaves nothing running)."""
        if self._portal_cm is not None:
            raise RuntimeError("a SyncMcpBridge is started once")
        bridge = McpBridge(
            servers if servers is not None else self._servers,
            max_restarts=self._max_restarts,
            startup_timeout=self._startup_timeout,
            call_timeout=self._call_timeout,
        )
        self._portal_cm = start_blocking_portal(self._backend)
        self._portal = self._portal_cm.__enter__()
        try:
            self._bridge_cm = self._portal.wrap_async_context_manager(bridge)
            self._bridge = self._bridge_cm.__enter__()
        except BaseException:
            self._bridge_cm = None
            self.close(*sys.exc_info())
            raise

    def tools(self) -> list[SyncMcpTool]:
        """The bridged tools, with blocking handlers."""
        if self._bridge is None:
            return []
        return [
            SyncMcpTool(
                name=item.name,
                description=item.description,
                input_schema=item.input_schema,
                server=item.server,
                tool=item.tool,
                handler=self._handler(item.server, item.tool),
            )
            for item in self._bridge.tools()
        ]

    def _handler(self, server: str, tool: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        def handler(args: Mapping[str, Any]) -> dict[str, Any]:
            return self.call_tool(server, tool, args)

        return handler

    def call_tool(self, server: str, tool: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call one tool (an error result, never an exception, for any failure)."""
        portal, bridge = self._portal, self._bridge
        if portal is None or bridge is None:
            text = f"no MCP server {server!r} is running on this client"
            return {"content": [{"type": "text", "text": text}], "is_error": True}
        return portal.call(bridge.call_tool, server, tool, arguments)

    def close(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        """Stop every server, then the thread (idempotent). With an exception's details,
        tasks still running in the thread (a call in flight) are cancelled."""
        bridge_cm, self._bridge_cm, self._bridge = self._bridge_cm, None, None
        portal_cm, self._portal_cm, self._portal = self._portal_cm, None, None
        try:
            if bridge_cm is not None:
                bridge_cm.__exit__(exc_type, exc, tb)
        finally:
            if portal_cm is not None:
                portal_cm.__exit__(exc_type, exc, tb)

    def __enter__(self) -> SyncMcpBridge:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(exc_type, exc, tb)
