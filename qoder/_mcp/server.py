"""``create_sdk_mcp_server``: an in-process MCP server made of ``@tool`` handlers.

The server is a real ``mcp.server.lowlevel.Server``: the bridge talks to it over an in-memory
transport, exactly as to a subprocess. Its ``call_tool`` validates the arguments against the
tool's input schema (``jsonschema``, through the MCP SDK) before the handler runs; an unknown
tool, invalid arguments, a handler that raises and a value that cannot be sent all come back
as ``isError`` results, never as an exception.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import anyio.to_thread
import attrs
import mcp.types as types
from mcp.server.lowlevel import Server

from .._protocol.answers import describe_failure
from ..tools import CustomTool, schema_of
from .config import McpSdkServerConfig
from .content import error_result, to_call_result

__all__ = ["create_sdk_mcp_server"]

logger = logging.getLogger("qoder")


@attrs.frozen
class _Spec:
    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Callable[..., Any]
    takes_args: bool


def _spec(tool: Any) -> _Spec:
    """A ``qoder.tools.CustomTool``, or anything shaped like the official ``SdkMcpTool``
    (``name``, ``description``, ``input_schema``, ``handler(args)``)."""
    if isinstance(tool, CustomTool):
        return _Spec(tool.name, tool.description, tool.input_schema, tool.handler, tool.takes_args)
    try:
        schema = schema_of(tool.input_schema)
        return _Spec(tool.name, tool.description or "", schema, tool.handler, True)
    except AttributeError:
        raise TypeError(f"not a tool (use @tool to make one): {tool!r}") from None


async def _invoke(spec: _Spec, arguments: Mapping[str, Any]) -> Any:
    """Call the handler: a coroutine function is awaited, a sync one runs in a worker
    thread (it may block; a bridge that closes does not wait for it)."""
    if spec.takes_args:
        call = functools.partial(spec.handler, dict(arguments))
    else:
        call = functools.partial(spec.handler, **arguments)
    if inspect.iscoroutinefunction(spec.handler):
        return await call()
    value = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    if inspect.isawaitable(value):
        value = await value
    return value


def create_sdk_mcp_server(
    name: str, version: str = "1.0.0", tools: Sequence[Any] | None = None
) -> McpSdkServerConfig:
    """An in-process MCP server holding ``tools`` (``@tool`` handlers), as the config the
    official SDK returns: ``{"type": "sdk", "name": name, "instance": server}``. Put it in
    ``mcp_servers``; the agent sees each tool as ``mcp__<name>__<tool>``."""
    specs: dict[str, _Spec] = {}
    for tool in tools or ():
        spec = _spec(tool)
        if spec.name in specs:
            raise ValueError(f"MCP server {name!r}: two tools are named {spec.name!r}")
        specs[spec.name] = spec
    listed = [
        types.Tool(name=spec.name, description=spec.description, inputSchema=spec.input_schema)
        for spec in specs.values()
    ]
    server: Server[Any, Any] = Server(name, version=version)

    @server.list_tools()  # type: ignore[no-untyped-call,untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return listed

    @server.call_tool()  # type: ignore[untyped-decorator]
    async def call_tool(tool_name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        spec = specs.get(tool_name)
        if spec is None:
            return error_result(f"Unknown tool {tool_name!r} on MCP server {name!r}")
        try:
            value = await _invoke(spec, arguments)
        except Exception as error:
            logger.warning("MCP tool %r of %r raised %s", tool_name, name, type(error).__name__)
            return error_result(describe_failure(tool_name, error))
        try:
            return to_call_result(value)
        except (TypeError, ValueError, AttributeError) as bad:
            return error_result(describe_failure(tool_name, TypeError(f"bad return value: {bad}")))

    return {"type": "sdk", "name": name, "instance": server}
