"""The official example's manual lifecycle: connect() and, in a finally, disconnect()."""

import anyio

from qoder import (
    AssistantMessage,
    QoderAgentOptions,
    QoderSDKClient,
    ResultMessage,
    TextBlock,
    access_token_from_env,
)


async def main() -> None:
    options = QoderAgentOptions(auth=access_token_from_env())
    client = QoderSDKClient(options=options)
    await client.connect()
    try:
        await client.query("What's the capital of France?")
        async for msg in client.receive_response():
            if isinstance(msg, AssistantMessage):
                for block in msg.content:
                    if isinstance(block, TextBlock):
                        print(f"Assistant: {block.text}")

        await client.query("What's the population of that city?")
        async for msg in client.receive_response():
            if isinstance(msg, ResultMessage):
                print(f"Done: {msg.subtype}")
    finally:
        await client.disconnect()


if __name__ == "__main__":
    anyio.run(main)
