"""The official SDK's per-conversation options, in a blocking script: a system prompt and a
model for this session, switching models between turns, a USD budget, and partial messages
streamed to the terminal.

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

from qoder import (
    QoderAgentOptions,
    ResultMessage,
    StreamEvent,
    SyncClient,
    access_token_from_env,
)


def ask(client: SyncClient, prompt: str) -> None:
    print(f"User: {prompt}")
    client.query(prompt)
    print("Assistant: ", end="")
    for message in client.receive_response():
        if isinstance(message, StreamEvent) and message.event["type"] == "content_block_delta":
            print(message.event["delta"].get("text", ""), end="", flush=True)
        elif isinstance(message, ResultMessage):
            cost = "unknown" if message.total_cost_usd is None else f"{message.total_cost_usd:.6f}"
            print(f"\nDone: {message.subtype}, session cost so far: {cost} USD")


def main() -> None:
    options = QoderAgentOptions(
        auth=access_token_from_env(),
        system_prompt="You are a geography teacher.",
        model="fast-1",
        max_budget_usd=1.0,
        include_partial_messages=True,
    )
    with SyncClient(options) as client:
        ask(client, "What is your system prompt?")
        ask(client, "What model are you?")
        client.set_model("ultimate")
        ask(client, "What model are you?")
        ask(client, "What's the capital of Japan?")
        print(f"Session: {client.get_server_info()}")


if __name__ == "__main__":
    main()
