"""MCP servers for a cloud agent, as written for the official qoder-agent-sdk: an in-process
server made of @tool functions and a stdio server the client starts, both called by the
agent through the client. Needs the MCP extra: pip install 'qoder[mcp]'.

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import anyio

from qoder import (
    AssistantMessage,
    QoderAgentOptions,
    QoderSDKClient,
    TextBlock,
    access_token_from_env,
    create_sdk_mcp_server,
    tool,
)


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"{args['a'] + args['b']:g}"}]}


@tool("multiply", "Multiply two numbers", {"a": float, "b": float})
async def multiply(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": f"{args['a'] * args['b']:g}"}]}


# A stdio MCP server, as its own program (here written inline and run with this Python).
UPPERCASE_SERVER = textwrap.dedent(
    """
    from mcp.server.fastmcp import FastMCP
    app = FastMCP("text", log_level="WARNING")

    @app.tool()
    def shout(text: str) -> str:
        '''Say it in capitals.'''
        return text.upper()

    app.run()
    """
)


async def ask(client: QoderSDKClient, prompt: str) -> None:
    print(f"User: {prompt}")
    await client.query(prompt)
    async for message in client.receive_response():
        if isinstance(message, AssistantMessage):
            for block in message.content:
                if isinstance(block, TextBlock):
                    print(f"Assistant: {block.text}")


async def main() -> None:
    options = QoderAgentOptions(
        auth=access_token_from_env(),
        mcp_servers={
            "calc": create_sdk_mcp_server(name="calc", version="1.0.0", tools=[add, multiply]),
            "text": {"type": "stdio", "command": sys.executable, "args": ["-c", UPPERCASE_SERVER]},
        },
        allowed_tools=["mcp__calc__add", "mcp__calc__multiply", "mcp__text__shout"],
    )
    async with QoderSDKClient(options=options) as client:  # starts the stdio server
        await ask(client, "use the mcp__calc__multiply tool to multiply 6 and 7")
        await ask(client, "use the mcp__text__shout tool on 'hello from a subprocess'")
    # disconnect() stopped the stdio server


if __name__ == "__main__":
    anyio.run(main)
