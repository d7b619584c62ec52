"""Interrupting a turn: the agent starts thinking, the client interrupts it, and the turn's
``ResultMessage`` still arrives and says so. Against ``python -m qoder serve`` the default
agent thinks for as long as the prompt asks; against a real agent, any long task will do.

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

import anyio

from qoder import (
    QoderAgentOptions,
    QoderSDKClient,
    ResultMessage,
    StreamEvent,
    access_token_from_env,
)


async def main() -> None:
    options = QoderAgentOptions(auth=access_token_from_env(), include_partial_messages=True)
    async with QoderSDKClient(options=options) as client:
        await client.query("Think for 30 seconds, then what is 2+2?")
        interrupted = False
        async for message in client.receive_response():
            if isinstance(message, StreamEvent) and not interrupted:
                print("The agent is at work: interrupting.")
                await client.interrupt()  # the turn goes on until the server stops it
                interrupted = True
            elif isinstance(message, ResultMessage):
                print(f"Done: {message.subtype}, terminal_reason={message.terminal_reason}")
        await client.query("What is 2+2?")  # the session takes the next turn as usual
        async for message in client.receive_response():
            if isinstance(message, ResultMessage):
                print(f"Next turn: {message.result}")


if __name__ == "__main__":
    anyio.run(main)
