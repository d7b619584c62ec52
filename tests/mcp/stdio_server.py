"""A tiny stdio MCP server for the bridge's tests (run as ``python stdio_server.py``).

``echo`` answers, ``pid`` says which process answers, ``env`` reads a variable, ``crash``
kills the process in the middle of the call, ``block`` never returns (until the client goes
away).
"""

from __future__ import annotations

import os
import signal

import anyio
from mcp.server.fastmcp import FastMCP

app = FastMCP("files")


@app.tool()
def echo(text: str) -> str:
    """Say it back."""
    return text


@app.tool()
def pid() -> str:
    """This server's process id."""
    return str(os.getpid())


@app.tool()
def env(name: str) -> str:
    """The value of an environment variable ("" if unset)."""
    return os.environ.get(name, "")


@app.tool()
def crash() -> str:
    """Die in the middle of the call."""
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


@app.tool()
async def block() -> str:
    """Never answer."""
    await anyio.sleep_forever()
    return "unreachable"


if __name__ == "__main__":
    app.run()
