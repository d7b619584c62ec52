"""``query_sync()``: the blocking twin of :func:`qoder.query`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from .._protocol.messages import Message
from ..options import QoderAgentOptions
from .client import SyncClient

__all__ = ["query_sync"]


def query_sync(
    *,
    prompt: str | Iterable[Any],
    options: QoderAgentOptions | None = None,
    http_client: httpx.Client | None = None,
) -> Iterator[Message]:
    """Send one prompt in a new session and yield the turn's messages, ending with its
    :class:`~qoder.ResultMessage`::

        for message in query_sync(prompt="What is 2 + 2?"):
            print(message)

    Leaving the loop early closes the client.
    """
    with SyncClient(options, http_client=http_client) as client:
        client.query(prompt)
        yield from client.receive_response()
