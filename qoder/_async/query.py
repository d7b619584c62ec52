"""``query()``: one prompt, one turn, then the session is left as it is and the client closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx

from .._protocol.messages import Message
from ..options import QoderAgentOptions
from .client import AsyncClient

__all__ = ["query"]


async def query(
    *,
    prompt: str | Iterable[Any],
    options: QoderAgentOptions | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> AsyncIterator[Message]:
    """Send one prompt in a new session and yield the turn's messages, ending with its
    :class:`~qoder.ResultMessage`::

        async for message in query(prompt="What is 2 + 2?"):
            print(message)

    Leaving the loop early closes the client.
    """
    async with AsyncClient(options, http_client=http_client) as client:
        await client.query(prompt)
        async for message in client.receive_response():
            yield message
