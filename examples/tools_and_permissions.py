"""Tools and permissions written for the official qoder-agent-sdk, on a cloud agent.

A tool in the official positional form, built-in tools by their official names, a permission
callback, and ``allowed_tools``; nothing here but the import line is specific to ``qoder``.
Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

from typing import Any

import anyio

from qoder import (
    AssistantMessage,
    PermissionResultAllow,
    PermissionResultDeny,
    QoderAgentOptions,
    QoderSDKClient,
    ResultMessage,
    TextBlock,
    ToolPermissionContext,
    access_token_from_env,
    tool,
)


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    """Run by this program when the agent calls it; the result goes back to the agent."""
    return {"content": [{"type": "text", "text": f"{args['a'] + args['b']:g}"}]}


async def can_use_tool(
    tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext
) -> PermissionResultAllow | PermissionResultDeny:
    """Asked about every built-in tool call that allowed_tools does not approve."""
    if tool_name == "bash" and "rm " in tool_input.get("command", ""):
        return PermissionResultDeny(message="Nothing gets deleted today.")
    print(f"Allowing {tool_name} {tool_input}")
    return PermissionResultAllow()


async def ask(client: QoderSDKClient, prompt: str) -> None:
    print(f"User: {prompt}")
    await client.query(prompt)
    async for message in client.receive_response():
        if isinstance(message, AssistantMessage):
            for block in message.content:
                if isinstance(block, TextBlock):
                    print(f"Assistant: {block.text}")
        elif isinstance(message, ResultMessage):
            denied = [denial["tool_name"] for denial in message.permission_denials]
            print(
                f"Done: {message.subtype}" + (f" (denied: {', '.join(denied)})" if denied else "")
            )


async def main() -> None:
    options = QoderAgentOptions(
        auth=access_token_from_env(),
        system_prompt={"type": "preset", "preset": "qodercli", "append": "Be concise."},
        tools=["Read", "Bash", add],  # two built-in tools and one of ours
        allowed_tools=["Read"],  # approved without asking
        can_use_tool=can_use_tool,
        max_turns=4,
    )
    async with QoderSDKClient(options=options) as client:
        await ask(client, "use the add tool to add 15 and 27")
        await ask(client, "read the file README.md")
        await ask(client, "run the command `rm -rf build`")
        await ask(client, "run the command `ls`")


if __name__ == "__main__":
    anyio.run(main)
