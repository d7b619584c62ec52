"""Calling the user's callables from a thread that runs no event loop of ours.

A tool handler, ``can_use_tool`` or ``on_auth_expired`` may be a coroutine function even in a
sync program. Its coroutine runs on an event loop of its own: in this thread, or, when this
thread already runs a loop (a Jupyter cell), in a short-lived worker thread, where
``anyio.run`` works.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .._protocol import effects as fx

__all__ = ["call_user"]


def call_user(effect: fx.CallUser) -> fx.Returned | fx.Raised:
    """Call a user callable; a coroutine it returns runs on an event loop of its own (in a
    worker thread when this thread already runs one, as in a Jupyter cell)."""
    try:
        value = effect.func(*effect.args)
        if inspect.isawaitable(value):
            value = _wait(value)
    except Exception as error:
        return fx.Raised(error)
    return fx.Returned(value)


def _wait(awaitable: Awaitable[Any]) -> Any:
    async def wait() -> Any:
        return await awaitable

    return run_blocking(wait)


def run_blocking(func: Callable[[], Awaitable[Any]]) -> Any:
    """Run the coroutine function ``func`` to its end from blocking code: on a loop of its own
    here, or, if this thread already runs one (a Jupyter cell), in a worker thread."""
    if not _event_loop_running():
        return anyio.run(func)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="qoder-callback") as pool:
        return pool.submit(anyio.run, func).result()


def _event_loop_running() -> bool:
    """Whether this thread runs an event loop (asyncio, or trio if it is loaded)."""
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
        return True
    except RuntimeError:
        return False
