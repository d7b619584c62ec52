"""How the bridge reaches a server: each transport yields the pair of message streams a
``ClientSession`` runs on, and closes them when it exits.

- ``sdk``: the server's ``run`` in a task, over in-memory streams (no subprocess).
- ``stdio``: the MCP SDK's ``stdio_client``, which starts the process in a session of its own
  (a Ctrl-C in the terminal does not reach it), and at exit closes its stdin, waits 2 s, then
  terminates it. Its environment is this process's (as the official runtime passes it)
  without the client's own ``QODER_*`` settings, with the config's ``env`` on top.
- ``http`` / ``sse``: the MCP SDK's streamable-HTTP and SSE clients, with the config's
  ``headers``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from .config import server_kind

__all__ = ["Read", "Transport", "Write", "server_environment", "transport_for"]

Read = MemoryObjectReceiveStream[SessionMessage | Exception]
Write = MemoryObjectSendStream[SessionMessage]
Transport = Callable[[], AbstractAsyncContextManager[tuple[Read, Write]]]


@asynccontextmanager
async def _in_memory(server: Any) -> AsyncIterator[tuple[Read, Write]]:
    server = getattr(server, "_mcp_server", server)  # a FastMCP holds its low-level server
    to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](1)
    to_client, client_reads = anyio.create_memory_object_stream[SessionMessage | Exception](1)
    async with to_server, server_reads, to_client, client_reads, anyio.create_task_group() as tg:
        options = server.create_initialization_options()
        tg.start_soon(server.run, server_reads, to_client, options)
        try:
            yield client_reads, to_server
        finally:
            tg.cancel_scope.cancel()


def server_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """A stdio server's environment: this process's, as the official runtime passes it,
    without the client's own ``QODER_*`` settings (its credentials), and ``env`` on top."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("QODER_")}
    return {**inherited, **(extra or {})}


@asynccontextmanager
async def _closed_after(
    transport: AbstractAsyncContextManager[tuple[Any, ...]],
) -> AsyncIterator[tuple[Read, Write]]:
    """The transport's two streams, closed once it has exited: the MCP SDK's stdio and HTTP
    clients leave the pair they yield open (stdio's only when its exit is cancelled)."""
    streams: tuple[Any, ...] = ()
    try:
        async with transport as streams:
            yield streams[0], streams[1]
    finally:
        for stream in streams[:2]:
            stream.close()


def _stdio(config: Mapping[str, Any]) -> AbstractAsyncContextManager[tuple[Read, Write]]:
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=config["command"],
        args=list(config.get("args") or ()),
        env=server_environment(config.get("env")),
        cwd=config.get("cwd"),
    )
    return _closed_after(stdio_client(params, errlog=sys.stderr))


@asynccontextmanager
async def _http(config: Mapping[str, Any]) -> AsyncIterator[tuple[Read, Write]]:
    headers = dict(config.get("headers") or {})
    if config["type"] == "sse":
        from mcp.client.sse import sse_client

        async with _closed_after(sse_client(config["url"], headers=headers)) as streams:
            yield streams
        return
    import httpx
    from mcp.client.streamable_http import streamable_http_client

    # the MCP SDK's own defaults: a response stream may stay open for minutes
    timeout = httpx.Timeout(30.0, read=300.0)
    async with (
        httpx.AsyncClient(headers=headers, timeout=timeout) as client,
        _closed_after(streamable_http_client(config["url"], http_client=client)) as streams,
    ):
        yield streams


def transport_for(name: str, config: Mapping[str, Any]) -> Transport:
    """How to reach a bridged server (a new connection each time it is called)."""
    kind = server_kind(name, config)
    if kind == "sdk":
        return lambda: _in_memory(config["instance"])
    if kind == "stdio":
        return lambda: _stdio(config)
    return lambda: _http(config)
