"""A one-shot question: ``query()`` opens a session, sends one prompt, yields the turn's
messages and closes everything (``query_sync()`` is the same without an event loop).

Run it against ``python -m qoder serve`` with the environment that command prints (or a real
account: QODER_PERSONAL_ACCESS_TOKEN and QODER_AGENT_ID).
"""

from __future__ import annotations

import anyio

from qoder import QoderAgentOptions, ResultMessage, access_token_from_env, query, query_sync


async def main() -> None:
    options = QoderAgentOptions(auth=access_token_from_env())
    async for message in query(prompt="What is 6 * 7?", options=options):
        if isinstance(message, ResultMessage):
            print(f"async: {message.result}")
    for message in query_sync(prompt="What's the capital of Japan?", options=options):
        if isinstance(message, ResultMessage):
            print(f"sync: {message.result}")


if __name__ == "__main__":
    anyio.run(main)
