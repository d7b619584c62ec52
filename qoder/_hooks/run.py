"""Running the callbacks of one hook event: all at once, each within its timeout.

The selected callbacks (``matching``) run concurrently, as the official runtime runs them,
and their outputs are combined in registration order (``combine``), so the outcome does not
depend on which finished first. A coroutine function is awaited; a sync callable runs in a
worker thread (abandoned, not stopped, at its timeout). Each gets its own copy of the input.
A callback that raises or times out decides nothing: the event goes on (the official rule
for hook errors), and the outcome's ``errors`` says what happened.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import anyio.to_thread

from .._sync.callables import run_blocking
from .combine import HookOutcome, combine_outputs
from .matching import matching_callbacks
from .types import HookCallback, HookContext

__all__ = ["run_hooks", "run_hooks_sync"]

logger = logging.getLogger("qoder")

Hooks = Mapping[str, Sequence[Any]]


async def _call(callback: HookCallback, args: tuple[Any, ...]) -> Any:
    if inspect.iscoroutinefunction(callback):
        return await callback(*args)
    value = await anyio.to_thread.run_sync(
        functools.partial(callback, *args), abandon_on_cancel=True
    )
    if inspect.isawaitable(value):
        value = await value
    return value


def _name(callback: Any) -> str:
    return getattr(callback, "__qualname__", None) or repr(callback)


async def run_hooks(
    hooks: Hooks | None,
    hook_input: Mapping[str, Any],
    tool_use_id: str | None = None,
    context: HookContext | None = None,
) -> HookOutcome:
    """Run the callbacks ``hooks`` selects for ``hook_input`` (its ``hook_event_name`` and
    ``tool_name``) as ``callback(input, tool_use_id, context)``; their combined outcome."""
    event = str(hook_input["hook_event_name"])
    selected = matching_callbacks(hooks, event, hook_input.get("tool_name"))
    if not selected:
        return HookOutcome()
    outputs: list[Any] = [None] * len(selected)
    errors: list[str | None] = [None] * len(selected)

    async def one(index: int, callback: HookCallback, seconds: float) -> None:
        given: HookContext = context if context is not None else {}
        args: tuple[Any, ...] = (copy.deepcopy(dict(hook_input)), tool_use_id, given)
        with anyio.move_on_after(seconds) as scope:
            try:
                outputs[index] = await _call(callback, args)
            except Exception as error:
                errors[index] = f"{event} hook {_name(callback)} raised {error!r}"
        if scope.cancelled_caught:
            errors[index] = f"{event} hook {_name(callback)} timed out after {seconds:g}s"
        if errors[index]:
            logger.warning("%s; it decides nothing", errors[index])

    async with anyio.create_task_group() as group:
        for index, (callback, seconds) in enumerate(selected):
            group.start_soon(one, index, callback, seconds)
    return combine_outputs(event, outputs, [error for error in errors if error])


def run_hooks_sync(
    hooks: Hooks | None,
    hook_input: Mapping[str, Any],
    tool_use_id: str | None = None,
    context: HookContext | None = None,
) -> HookOutcome:
    """:func:`run_hooks` from a thread without an event loop (``SyncClient``): on a
    short-lived loop of its own, in a worker thread if this thread already runs one. No loop
    is started when no callback applies."""
    event = str(hook_input["hook_event_name"])
    if not matching_callbacks(hooks, event, hook_input.get("tool_name")):
        return HookOutcome()
    outcome: HookOutcome = run_blocking(
        functools.partial(run_hooks, hooks, hook_input, tool_use_id, context)
    )
    return outcome
