"""One MCP server as the bridge holds it: its transport, its session, its calls, its end.

Each server lives in a *host* task of the bridge's task group, which enters the transport and
the ``ClientSession`` and leaves them in the same task (anyio requires it). Between the
transport and the session a pump forwards the server's messages; when the server's output
ends (the process died, the server closed) the pump sets the session's ``ended`` event and
the host leaves, so a dead process is reaped at once. A call races the server's end: it never
hangs on a server that is gone.

After the server ends the next call restarts it, at most ``max_restarts`` times over the
bridge's life (default once); after that, or if the restart fails, the server is *gone* and
each call gets an error result saying so. The call that was running when the server died
gets an error result too; it is not retried (the tool may have had effects).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import mcp.types as types
from anyio.streams.memory import MemoryObjectSendStream
from mcp import ClientSession, McpError
from mcp.shared.message import SessionMessage

from .transports import Read, Transport

__all__ = ["Connection", "McpServerError", "ServerGone"]

logger = logging.getLogger("qoder")


class McpServerError(RuntimeError):
    """An MCP server could not be started (at ``start()``: the session is not made)."""


class ServerGone(Exception):
    """A call found its server gone for good; the message says why."""


async def _pump(read: Read, send: MemoryObjectSendStream[Any], ended: anyio.Event) -> None:
    """Forward the server's messages to the session; when they end, say so."""
    try:
        async for item in read:
            await send.send(item)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass
    finally:
        send.close()
        ended.set()


async def _list_tools(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        page = await session.list_tools(cursor=cursor) if cursor else await session.list_tools()
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools


class Connection:
    """One bridged server: started by :meth:`start`, called by :meth:`call`, stopped by
    :meth:`stop` (the host task leaves; the bridge's task group waits for it)."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        *,
        max_restarts: int = 1,
        startup_timeout: float = 30.0,
        call_timeout: float | None = None,
    ) -> None:
        self.name = name
        self._call_timeout = call_timeout
        self._transport = transport
        self._restarts_left = max_restarts
        self._restarted = False
        self._startup_timeout = startup_timeout
        self._starting: anyio.CancelScope | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._session: ClientSession | None = None
        self._ended = anyio.Event()
        self._done = anyio.Event()
        self._stop = anyio.Event()
        self._gone: str | None = None
        self._lock = anyio.Lock()

    async def start(self, group: anyio.abc.TaskGroup) -> list[types.Tool]:
        """Start the server in a host task of ``group``; its tools. Raises
        :class:`McpServerError` if it cannot be started."""
        self._group = group
        return await self._open()

    def stop(self) -> None:
        """Ask the host to leave (it closes the session, then the transport)."""
        self._gone = self._gone or "the MCP bridge is closed"
        self._stop.set()
        if self._starting is not None:  # still starting: nothing to close in order yet
            self._starting.cancel()

    async def _open(self) -> list[types.Tool]:
        assert self._group is not None
        outcome = await self._group.start(self._host)
        if isinstance(outcome, BaseException):
            raise McpServerError(
                f"MCP server {self.name!r} could not be started: {type(outcome).__name__}: "
                f"{outcome}"
            ) from outcome
        tools: list[types.Tool] = outcome
        return tools

    async def _host(self, *, task_status: anyio.abc.TaskStatus[Any]) -> None:
        """Hold one run of the server. Shielded: a cancellation around the bridge does not
        reach it (the MCP SDK's transports do not all close cleanly when cancelled); it
        leaves when the server ends or :meth:`stop` is called, and closes everything in
        order (a stdio process gets EOF, then is terminated if it lingers). Only its own
        deadline (``startup_timeout``, while starting) cancels it."""
        ended, done, started = anyio.Event(), anyio.Event(), False
        failure: BaseException | None = None
        try:  # outside the scope: an error that came with its cancellation is caught too
            with anyio.CancelScope(shield=True) as scope:
                scope.deadline = anyio.current_time() + self._startup_timeout
                self._starting = scope
                try:
                    async with AsyncExitStack() as stack:
                        session = await self._connect(stack, ended)
                        await session.initialize()
                        tools = await _list_tools(session)
                        self._session, self._ended, self._done = session, ended, done
                        scope.deadline, self._starting = math.inf, None
                        task_status.started(tools)
                        started = True
                        async with anyio.create_task_group() as waiting:
                            waiting.start_soon(_wait_then_cancel, ended, waiting.cancel_scope)
                            await _wait_then_cancel(self._stop, waiting.cancel_scope)
                finally:
                    self._starting = None if self._starting is scope else self._starting
                    ended.set()
                    done.set()
        except Exception as error:
            failure = error
        if not started:
            if failure is None:
                failure = TimeoutError(f"not ready within {self._startup_timeout:g} s")
            task_status.started(failure)
        elif failure is not None:
            kind = type(failure).__name__
            logger.warning("MCP server %r failed: %s: %s", self.name, kind, failure)

    async def _connect(self, stack: AsyncExitStack, ended: anyio.Event) -> ClientSession:
        """Enter the transport, the pump and the session into ``stack``."""
        read, write = await stack.enter_async_context(self._transport())
        send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](1)
        await stack.enter_async_context(receive)
        await stack.enter_async_context(send)
        pumps = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(pumps.cancel_scope.cancel)
        pumps.start_soon(_pump, read, send, ended)
        return await stack.enter_async_context(ClientSession(receive, write))

    async def _live(self) -> tuple[ClientSession, anyio.Event, anyio.Event]:
        """The running session; restarts a server that ended, once its budget allows."""
        async with self._lock:
            if self._session is not None and not self._ended.is_set():
                return self._session, self._ended, self._done
            if self._gone is None and self._restarts_left <= 0:
                self._gone = (
                    "it exited and was already restarted" if self._restarted else "it exited"
                )
            if self._gone is not None:
                raise ServerGone(f"the MCP server {self.name!r} is gone: {self._gone}")
            self._restarts_left -= 1
            self._restarted = True
            logger.warning("MCP server %r ended; restarting it", self.name)
            try:
                await self._open()
            except McpServerError as error:
                self._gone = f"its restart failed ({error.__cause__})"
                raise ServerGone(f"the MCP server {self.name!r} is gone: {self._gone}") from None
            assert self._session is not None
            return self._session, self._ended, self._done

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> types.CallToolResult | str:
        """Call a tool: its result, or the text of an error (the server is gone, it died
        during the call, or it answered with a protocol error)."""
        try:
            session, ended, done = await self._live()
        except ServerGone as gone:
            return str(gone)
        outcome: types.CallToolResult | str | None = None
        limit = math.inf if self._call_timeout is None else self._call_timeout
        with anyio.move_on_after(limit) as timer:
            async with anyio.create_task_group() as race:
                race.start_soon(_wait_then_cancel, ended, race.cancel_scope)
                outcome = await _call_tool(session, self.name, tool, arguments)
                race.cancel_scope.cancel()
        await anyio.lowlevel.checkpoint_if_cancelled()  # our caller's cancellation, not a death
        if timer.cancelled_caught:
            return f"the MCP server {self.name!r} did not answer {tool!r} within {limit:g} s"
        if outcome is None and self._stop.is_set():
            return f"the MCP bridge was closed during the call to {tool!r}"
        if outcome is None:
            await done.wait()  # the host has left: the process is reaped
            return (
                f"the MCP server {self.name!r} exited during the call to {tool!r}; "
                "the call may or may not have taken effect"
            )
        return outcome


async def _call_tool(
    session: ClientSession, server: str, tool: str, arguments: Mapping[str, Any]
) -> types.CallToolResult | str | None:
    """The result, the text of a protocol error, or ``None`` if the connection closed."""
    try:
        return await session.call_tool(tool, dict(arguments))
    except McpError as error:
        if error.error.code == types.CONNECTION_CLOSED:
            return None
        return f"MCP server {server!r} refused the call: {error.error.message}"
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        return None


async def _wait_then_cancel(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()
