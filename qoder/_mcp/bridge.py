"""``McpBridge``: the client side of the session's bridged MCP servers, for the event loop.

``start(servers)`` starts every bridged server (in-process ones over an in-memory transport,
stdio ones as subprocesses, HTTP/SSE ones with ``"bridge": True`` or headers) and lists their
tools; ``tools()`` gives one :class:`McpTool` per tool, a ``LocalTool`` named
``mcp__<server>__<tool>`` whose async ``handler(args)`` calls the server and returns
``{"content": [...], "is_error": bool}``; ``aclose()`` stops them all (each subprocess is
ended and reaped). Servers the agent calls itself (plain HTTP/SSE) are skipped: declare them
with :func:`qoder._mcp.config.agent_declarations`.

``start`` and ``aclose`` must run in the same task, as ``async with bridge:`` does (the
servers live in a task group the bridge holds from one to the other). A server's failure or
death never reaches that task: its calls get error results (see ``connection``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

import anyio
import attrs
import mcp.types as types

from .config import denied_tools, is_bridged, tool_name
from .connection import Connection, McpServerError
from .content import from_call_result
from .transports import transport_for

__all__ = ["McpBridge", "McpServerError", "McpTool"]

logger = logging.getLogger("qoder")

Handler = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]


def _error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "is_error": True}


@attrs.frozen
class McpTool:
    """A bridged MCP tool as a client-side tool (a ``qoder._protocol.config.LocalTool``)."""

    name: str
    description: str
    input_schema: dict[str, Any]
    server: str
    tool: str
    handler: Callable[..., Any] = attrs.field(repr=False, eq=False)
    takes_args: bool = True

    def to_agent_tool(self) -> dict[str, Any]:
        """The ``{"type": "custom", ...}`` entry for the agent's ``tools``."""
        return {
            "type": "custom",
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


class McpBridge:
    """The bridged MCP servers of one session (see the module's docstring).

    ``max_restarts``: how many times over the bridge's life a server that ended is started
    again (for the next call); ``startup_timeout``: seconds a server has to start and list
    its tools (at ``start()`` and at a restart); ``call_timeout``: seconds a call may take
    before it is an error result (``None``: no limit; the server is not stopped).
    """

    def __init__(
        self,
        servers: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        max_restarts: int = 1,
        startup_timeout: float = 30.0,
        call_timeout: float | None = None,
    ) -> None:
        self._servers = dict(servers or {})
        self._call_timeout = call_timeout
        self._max_restarts = max_restarts
        self._startup_timeout = startup_timeout
        self._stack: AsyncExitStack | None = None
        self._connections: dict[str, Connection] = {}
        self._tools: list[McpTool] = []
        self._closed = False

    async def start(self, servers: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Start the bridged servers among ``servers`` (else those given to the
        constructor) and list their tools; raises :class:`McpServerError` (and stops the
        ones started) if one cannot be started."""
        if self._stack is not None or self._closed:
            raise RuntimeError("an McpBridge is started once")
        if servers is not None:
            self._servers = dict(servers)
        bridged = {name: cfg for name, cfg in self._servers.items() if is_bridged(name, cfg)}
        stack = self._stack = AsyncExitStack()
        group = await stack.enter_async_context(anyio.create_task_group())
        try:
            for name, config in bridged.items():
                connection = Connection(
                    name,
                    transport_for(name, config),
                    max_restarts=self._max_restarts,
                    startup_timeout=self._startup_timeout,
                    call_timeout=self._call_timeout,
                )
                self._connections[name] = connection
                listed = await connection.start(group)
                self._add_tools(name, listed, denied_tools(config))
        except BaseException:
            await self.aclose()  # in this task: it leaves the task group entered above
            raise

    def _add_tools(self, server: str, listed: list[types.Tool], denied: frozenset[str]) -> None:
        for item in listed:
            if item.name in denied:
                continue
            self._tools.append(
                McpTool(
                    name=tool_name(server, item.name),
                    description=item.description or "",
                    input_schema=dict(item.inputSchema),
                    server=server,
                    tool=item.name,
                    handler=self._handler(server, item.name),
                )
            )

    def _handler(self, server: str, tool: str) -> Handler:
        async def handler(args: Mapping[str, Any]) -> dict[str, Any]:
            return await self.call_tool(server, tool, args)

        return handler

    def tools(self) -> list[McpTool]:
        """The bridged tools, in the order of the servers and of their listings."""
        return list(self._tools)

    async def call_tool(
        self, server: str, tool: str, arguments: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Call one tool; every failure is an error result, never an exception (bar the
        caller's own cancellation)."""
        connection = self._connections.get(server)
        if connection is None or self._closed:
            return _error(f"no MCP server {server!r} is running on this client")
        outcome = await connection.call(tool, arguments)
        if isinstance(outcome, str):
            logger.warning("MCP tool %r: %s", tool_name(server, tool), outcome)
            return _error(outcome)
        return from_call_result(outcome)

    async def call(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call a tool by its agent-side name ``mcp__<server>__<tool>``."""
        for item in self._tools:
            if item.name == name:
                return await self.call_tool(item.server, item.tool, arguments)
        return _error(f"no bridged MCP tool is named {name!r}")

    async def aclose(self) -> None:
        """Stop every server and wait until each has ended (idempotent)."""
        self._closed = True
        for connection in self._connections.values():
            connection.stop()
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> McpBridge:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
