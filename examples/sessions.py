"""Sessions as resources: start a conversation, find it again, read its history, continue it.

Against the emulator: `python -m qoder serve`, then paste the environment it prints and run
`python examples/sessions.py`.
"""

import os

from qoder import (
    AssistantMessage,
    Cloud,
    QoderAgentOptions,
    ResultMessage,
    SyncClient,
    TextBlock,
    UserMessage,
    access_token_from_env,
)


def text_of(message: AssistantMessage | UserMessage) -> str:
    content = message.content if isinstance(message.content, tuple) else ()
    return "".join(block.text for block in content if isinstance(block, TextBlock))


def main() -> None:
    options = QoderAgentOptions(auth=access_token_from_env())
    agent_id = os.environ["QODER_AGENT_ID"]

    # 1. A conversation leaves a session behind.
    with SyncClient(options) as client:
        client.query("What's the capital of France?")
        for _ in client.receive_response():
            pass

    with Cloud(options) as cloud:
        # 2. Find the agent's newest session (lists are newest first, fetched page by page).
        newest = cloud.sessions.list(agent_id=agent_id, limit=1).first_page().data[0]
        print(f"Newest session: {newest.status}")
        # 3. Its history, as the messages a live conversation yields, prompts included.
        for message in cloud.sessions.history(newest.id):
            if isinstance(message, UserMessage):
                print(f"User: {text_of(message)}")
            elif isinstance(message, AssistantMessage):
                print(f"Assistant: {text_of(message)}")
            elif isinstance(message, ResultMessage):
                print(f"Turn {message.num_turns}: {message.subtype}")
        cloud.sessions.update(newest.id, title="France", metadata={"topic": "geography"})

    # 4. Continue it: resume= attaches to the session (and would pick up a running turn).
    with SyncClient(QoderAgentOptions(auth=access_token_from_env(), resume=newest.id)) as client:
        client.query("What's the population of that city?")
        for message in client.receive_response():
            if isinstance(message, AssistantMessage):
                print(f"Assistant: {text_of(message)}")

    with Cloud(options) as cloud:
        print(f"Title: {cloud.sessions.retrieve(newest.id).title}")
        cloud.sessions.archive(newest.id)  # hidden from lists from now on


if __name__ == "__main__":
    main()
