"""The same conversation with SyncClient: no event loop anywhere."""

from qoder import (
    AssistantMessage,
    QoderAgentOptions,
    ResultMessage,
    SyncClient,
    TextBlock,
    access_token_from_env,
)


def main() -> None:
    options = QoderAgentOptions(auth=access_token_from_env())
    with SyncClient(options) as client:
        for prompt in ("What's the capital of France?", "What's the population of that city?"):
            client.query(prompt)
            for msg in client.receive_response():
                if isinstance(msg, AssistantMessage):
                    for block in msg.content:
                        if isinstance(block, TextBlock):
                            print(f"Assistant: {block.text}")
                elif isinstance(msg, ResultMessage):
                    print(f"Done: {msg.subtype}")


if __name__ == "__main__":
    main()
