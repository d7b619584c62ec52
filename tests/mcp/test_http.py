"""HTTP and SSE servers bridged through the client (``"bridge": True``, or headers), against
a FastMCP app served by uvicorn on a loopback socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from mcp.server.fastmcp import Context, FastMCP

from qoder.mcp import McpBridge

from .helpers import text_of

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.integration,
    # The MCP SDK's streamable-HTTP client iterates httpx_sse's aiter_sse without aclosing(),
    # so trio finalises it (the response itself is closed: the leak check still applies), as
    # pyproject.toml's filter already says for httpx's own generators.
    pytest.mark.filterwarnings("ignore:Async generator 'httpx_sse\\.:ResourceWarning"),
]


def make_app() -> FastMCP:
    app = FastMCP("web")

    @app.tool()
    def shout(text: str) -> str:
        """Upper-case it."""
        return text.upper()

    @app.tool()
    def authorization(ctx: Context[Any, Any, Any]) -> str:
        """The Authorization header of the request."""
        request = ctx.request_context.request
        assert request is not None
        return str(request.headers.get("authorization", ""))

    return app


@pytest.fixture(params=["http", "sse"])
def served(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A config for the app, served over the kind of transport the param names."""
    kind: str = request.param
    app = make_app()
    asgi = app.streamable_http_app() if kind == "http" else app.sse_app()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()  # connections wait in the backlog until uvicorn accepts them
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    path = "/mcp" if kind == "http" else "/sse"
    try:
        yield {"type": kind, "url": f"http://127.0.0.1:{port}{path}"}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listening.close()
        assert not thread.is_alive()


async def test_bridge_true_calls_the_server_through_the_client(served: dict[str, Any]) -> None:
    async with McpBridge({"web": {**served, "bridge": True}}) as bridge:
        assert [item.name for item in bridge.tools()] == [
            "mcp__web__shout",
            "mcp__web__authorization",
        ]
        assert text_of(await bridge.call("mcp__web__shout", {"text": "hi"})) == "HI"


async def test_headers_are_sent_by_the_client(served: dict[str, Any]) -> None:
    config = {**served, "headers": {"Authorization": "Bearer abc"}}
    async with McpBridge({"web": config}) as bridge:
        assert text_of(await bridge.call("mcp__web__authorization", {})) == "Bearer abc"
