"""The hooks of events without a tool, as steps of the session's flows.

``UserPromptSubmit`` runs before a prompt is posted: a block refuses it
(:class:`~.errors.PromptBlockedError`, nothing is posted) and its ``additionalContext``, with
any context the ``PostToolUse`` hooks left since the last prompt, goes in the same request as
a ``system.message`` (§8.4). ``SessionStart`` and ``SessionEnd`` run at ``connect()`` and
``disconnect()``; what they answer changes nothing. ``Stop`` runs when a turn ends with
``end_turn``: a block continues the conversation with its reason as the next user message,
at most :data:`MAX_STOP_CONTINUATIONS` times in a row. The user's callbacks run as ``CallUser``
effects (:class:`~.config.ToolHooks`, built above the core).
"""

from __future__ import annotations

import functools
from collections.abc import Generator, Mapping
from typing import Any

from . import requests as rq
from .config import HookVerdict, ToolHooks
from .effects import CallUser, Effect, EffectResult, Returned
from .errors import PromptBlockedError

__all__ = ["MAX_STOP_CONTINUATIONS", "prompt_submitted", "session_event", "stop_requested"]

MAX_STOP_CONTINUATIONS = 3
"""How many times in a row ``Stop`` hooks may continue a conversation before the client lets
the turn end (a hook that always blocks cannot loop for ever)."""

Flow = Generator[Effect, EffectResult, Any]


def _text(content: str | list[Any]) -> str:
    """The prompt's text, as ``UserPromptSubmit`` sees it."""
    if isinstance(content, str):
        return content
    texts = []
    for block in content:
        text = block.get("text") if isinstance(block, Mapping) else getattr(block, "text", None)
        if isinstance(text, str):
            texts.append(text)
    return "\n".join(texts)


def _verdict(outcome: EffectResult) -> HookVerdict:
    value = outcome.value if isinstance(outcome, Returned) else None
    return value if isinstance(value, HookVerdict) else HookVerdict()


def prompt_submitted(
    hooks: ToolHooks | None, session_id: str, content: str | list[Any], pending: list[str]
) -> Flow:
    """Run ``UserPromptSubmit``; the ``system.message`` to post after the ``user.message``
    (``[]`` for none). ``pending`` is the context waiting for the next prompt (it is not
    cleared here: the caller clears it once the prompt is accepted)."""
    contexts = list(pending)
    if hooks is not None and hooks.handles_event("UserPromptSubmit"):
        fields = {"prompt": _text(content)}
        run = functools.partial(hooks.run_event, "UserPromptSubmit", session_id, fields)
        verdict = _verdict((yield CallUser(run)))
        if verdict.blocked is not None:
            raise PromptBlockedError(
                f"A UserPromptSubmit hook blocked the prompt, which was not sent: {verdict.blocked}"
            )
        if verdict.context:
            contexts.append(verdict.context)
    return [rq.system_message("\n\n".join(contexts))] if contexts else []


def session_event(
    hooks: ToolHooks | None, event: str, session_id: str, fields: Mapping[str, Any]
) -> Flow:
    """Run ``SessionStart`` or ``SessionEnd`` (their answers change nothing)."""
    if hooks is not None and hooks.handles_event(event):
        yield CallUser(functools.partial(hooks.run_event, event, session_id, dict(fields)))


def stop_requested(
    hooks: ToolHooks | None, session_id: str, result: Any, continuations: int
) -> Flow:
    """Run ``Stop`` when a turn ended normally (``end_turn``): the reason to continue with,
    as the next user message, if a hook blocked the stop and the bound allows it."""
    if hooks is None or not hooks.handles_event("Stop") or result.terminal_reason != "end_turn":
        return None
    fields = {"stop_hook_active": continuations > 0, "last_assistant_message": result.result}
    run = functools.partial(hooks.run_event, "Stop", session_id, fields)
    verdict = _verdict((yield CallUser(run)))
    if verdict.blocked is None or continuations >= MAX_STOP_CONTINUATIONS:
        return None
    return verdict.blocked
