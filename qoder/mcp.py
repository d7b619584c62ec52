"""MCP servers on the client side: in-process (``create_sdk_mcp_server``), stdio
subprocesses, and HTTP/SSE servers bridged through the client.

Needs the MCP SDK: ``pip install 'qoder[mcp]'``. ``import qoder`` never imports it; the
config types and :func:`agent_declarations` (pure) are in :mod:`qoder._mcp.config`, which
does not need it either.

::

    @tool("add", "Add two numbers", {"a": float, "b": float})
    async def add(args):
        return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}

    calculator = create_sdk_mcp_server(name="calc", version="1.0.0", tools=[add])
    async with McpBridge({"calc": calculator}) as bridge:
        [tool] = bridge.tools()                  # mcp__calc__add, a client-side tool
        await tool.handler({"a": 1, "b": 2})     # {"content": [...], "is_error": False}
"""

from __future__ import annotations

try:
    import mcp as _mcp  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "qoder.mcp needs the MCP SDK (the 'mcp' package): pip install 'qoder[mcp]'"
    ) from error

from ._mcp.bridge import McpBridge, McpTool
from ._mcp.config import (
    McpHttpServerConfig,
    McpSdkServerConfig,
    McpServerConfig,
    McpServerToolPolicy,
    McpSSEServerConfig,
    McpStdioServerConfig,
    agent_declarations,
    is_bridged,
    tool_name,
)
from ._mcp.connection import McpServerError
from ._mcp.server import create_sdk_mcp_server
from ._mcp.sync import SyncMcpBridge, SyncMcpTool

__all__ = [
    "McpBridge",
    "McpHttpServerConfig",
    "McpSSEServerConfig",
    "McpSdkServerConfig",
    "McpServerConfig",
    "McpServerError",
    "McpServerToolPolicy",
    "McpStdioServerConfig",
    "McpTool",
    "SyncMcpBridge",
    "SyncMcpTool",
    "agent_declarations",
    "create_sdk_mcp_server",
    "is_bridged",
    "tool_name",
]
