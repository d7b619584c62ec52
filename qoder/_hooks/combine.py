"""What the callbacks of one event decided, together: pure, in registration order.

The rules (each callback's output read as the official ``SyncHookJSONOutput``):

- *Permission* (``PreToolUse``): ``hookSpecificOutput.permissionDecision`` ranks
  ``deny`` > ``ask`` > ``allow``; ``defer`` and no decision rank below all. A deny from any
  callback wins. The legacy top-level ``decision: "block"`` counts as a deny and
  ``"approve"`` as an allow. ``reason`` joins (one per line) the reasons of the callbacks that
  gave the winning decision (``permissionDecisionReason``, else ``reason``).
- *Input*: the last ``updatedInput`` wins; it is dropped when the call is denied.
- *Stopping*: any ``continue_: False`` (or ``continue``) stops; ``stopReason``s are joined.
- *Blocking* (the other events): any ``decision: "block"`` blocks, with the ``reason``s.
- *Text*: every ``systemMessage`` and every ``additionalContext`` is kept, joined by lines.
- *Output* (``PostToolUse``): the last ``updatedMCPToolOutput`` / ``updatedToolOutput`` wins.
- ``{"async_": True}``, ``None`` and outputs that are not dicts decide nothing; a
  ``hookSpecificOutput`` for another event is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import attrs

__all__ = ["HookOutcome", "combine_outputs"]

Decision = Literal["allow", "deny", "ask"]
_RANK: Final[Mapping[str, int]] = {"allow": 1, "ask": 2, "deny": 3}


@attrs.frozen
class HookOutcome:
    """The combined answer of one event's callbacks (see the module's rules)."""

    permission_decision: Decision | None = None
    reason: str | None = None
    updated_input: dict[str, Any] | None = None
    continue_: bool = True
    stop_reason: str | None = None
    blocked: bool = False
    system_message: str | None = None
    additional_context: str | None = None
    updated_tool_output: Any = None
    suppress_output: bool = False
    errors: tuple[str, ...] = ()
    """One line per callback that raised or timed out (those decide nothing)."""

    @property
    def denied(self) -> bool:
        """Whether a ``PreToolUse`` callback denied the call."""
        return self.permission_decision == "deny"


def _joined(texts: Iterable[Any]) -> str | None:
    kept = [text for text in texts if isinstance(text, str) and text]
    return "\n".join(kept) if kept else None


def _specific(output: Mapping[str, Any], event: str) -> Mapping[str, Any]:
    specific = output.get("hookSpecificOutput")
    if not isinstance(specific, Mapping):
        return {}
    if specific.get("hookEventName", event) != event:
        return {}
    return specific


def _decision(output: Mapping[str, Any], specific: Mapping[str, Any]) -> Decision | None:
    value = specific.get("permissionDecision")
    if value in _RANK:
        return value
    legacy = output.get("decision")
    if legacy == "block":
        return "deny"
    if legacy == "approve":
        return "allow"
    return None


def combine_outputs(event: str, outputs: Sequence[Any], errors: Sequence[str] = ()) -> HookOutcome:
    """Combine the callbacks' outputs (in registration order) for ``event``."""
    usable = [out for out in outputs if isinstance(out, Mapping) and not out.get("async_")]
    decided: list[tuple[Decision, Mapping[str, Any], Mapping[str, Any]]] = []
    updated_input: dict[str, Any] | None = None
    updated_output: Any = None
    for output in usable:
        specific = _specific(output, event)
        decision = _decision(output, specific) if event == "PreToolUse" else None
        if decision is not None:
            decided.append((decision, output, specific))
        if isinstance(specific.get("updatedInput"), Mapping):
            updated_input = dict(specific["updatedInput"])
        for key in ("updatedToolOutput", "updatedMCPToolOutput"):
            if key in specific:
                updated_output = specific[key]
    winner = max((d for d, _, _ in decided), key=_RANK.__getitem__, default=None)
    reasons = [
        specific.get("permissionDecisionReason") or output.get("reason")
        for decision, output, specific in decided
        if decision == winner
    ]
    stops = [out for out in usable if out.get("continue_", out.get("continue", True)) is False]
    blocks = [out for out in usable if out.get("decision") == "block"]
    return HookOutcome(
        permission_decision=winner,
        reason=_joined(reasons if event == "PreToolUse" else [o.get("reason") for o in blocks]),
        updated_input=None if winner == "deny" else updated_input,
        continue_=not stops,
        stop_reason=_joined(out.get("stopReason") for out in stops),
        blocked=event != "PreToolUse" and bool(blocks),
        system_message=_joined(out.get("systemMessage") for out in usable),
        additional_context=_joined(_specific(o, event).get("additionalContext") for o in usable),
        updated_tool_output=updated_output,
        suppress_output=any(out.get("suppressOutput") is True for out in usable),
        errors=tuple(errors),
    )
