"""Calling the user's callables from the event loop: a coroutine function is awaited, a sync
callable that may block (a tool handler) runs in a worker thread, a quick one in place."""

from __future__ import annotations

import inspect

import anyio

from .._protocol import effects as fx

__all__ = ["call_user"]


async def call_user(effect: fx.CallUser) -> fx.Returned | fx.Raised:
    """Perform a :class:`~qoder._protocol.effects.CallUser` effect."""
    func, args = effect.func, effect.args
    try:
        if effect.in_thread and not inspect.iscoroutinefunction(func):
            value = await anyio.to_thread.run_sync(lambda: func(*args))
        else:
            value = func(*args)
        if inspect.isawaitable(value):
            value = await value
    except Exception as error:
        return fx.Raised(error)
    return fx.Returned(value)
