"""The official SDK's multi-turn example; only the import line differs.

Configuration comes from the environment: QODER_PERSONAL_ACCESS_TOKEN, QODER_AGENT_ID, and
(for the emulator, or another region) QODER_MANAGED_BASE_URL. `make demo` sets them for you.
"""

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
    async with QoderSDKClient(options=options) as client:
        await client.query("What's the capital of France?")
        async for msg in client.receive_response():
            if isinstance(msg, AssistantMessage):
                for block in msg.content:
                    if isinstance(block, TextBlock):
                        print(f"Assistant: {block.text}")

        await client.query("What's the population of that city?")
        async for msg in client.receive_response():
            if isinstance(msg, AssistantMessage):
                for block in msg.content:
                    if isinstance(block, TextBlock):
                        print(f"Assistant: {block.text}")
            elif isinstance(msg, ResultMessage):
                print(f"Done: {msg.subtype}")


if __name__ == "__main__":
    anyio.run(main)
