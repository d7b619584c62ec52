"""A service holding many conversations at once: one ``AsyncClient`` per conversation, all in
one event loop (asyncio here; trio works the same). Each client makes its own HTTP client
(they share one SSL context), so no pool is shared between conversations: see "Many
conversations at once" in docs/configuration.md for why, and for the measured limits.

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

import anyio

from qoder import AsyncClient, QoderAgentOptions, ResultMessage, access_token_from_env

COUNTRIES = ["France", "Japan", "Italy", "Canada", "Egypt", "Brazil", "Spain", "India"]


async def converse(options: QoderAgentOptions, country: str, answers: dict[str, str]) -> None:
    """One conversation of two turns."""
    async with AsyncClient(options) as client:
        for prompt in (f"What's the capital of {country}?", "What's the population of that city?"):
            await client.query(prompt)
            async for message in client.receive_response():
                if isinstance(message, ResultMessage):
                    answers[f"{country}, turn {message.num_turns}"] = message.result or ""


async def main() -> None:
    options = QoderAgentOptions(auth=access_token_from_env())
    answers: dict[str, str] = {}
    async with anyio.create_task_group() as conversations:
        for country in COUNTRIES:
            conversations.start_soon(converse, options, country, answers)
    for key in sorted(answers):
        print(f"{key}: {answers[key]}")


if __name__ == "__main__":
    anyio.run(main)
