"""What the emulator charges: the ``model_usage`` of each model request (docs/protocol.md
§4.18), the session's running ``usage`` with its ``list_cost`` in USD (§8.6), and the budget
(§3.3, ``budget_reached``).

Every number is a pure function of the turn, so runs are reproducible:

* tokens: ``input_tokens = 12 + 2 * (words of the prompt) + 10 * (earlier requests of the turn)``,
  ``output_tokens = ceil(4/3 * words the agent said in the request)`` (at least 1);
* credits: ``0.01 + (input_tokens + 4 * output_tokens) / 10_000``, rounded to 4 places;
* USD: :data:`USD_PER_INPUT_TOKEN` per input token plus :data:`USD_PER_OUTPUT_TOKEN` per output
  token ($3 and $15 per million), summed over the session, reported with 6 decimals.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from qoder.testing._script import Usage

__all__ = [
    "USD_PER_INPUT_TOKEN",
    "USD_PER_OUTPUT_TOKEN",
    "SessionUsage",
    "model_usage",
    "words",
]

USD_PER_INPUT_TOKEN = Decimal("0.000003")
"""The emulator's list price of one input token, in USD ($3 per million)."""

USD_PER_OUTPUT_TOKEN = Decimal("0.000015")
"""The emulator's list price of one output token, in USD ($15 per million)."""

_MICRODOLLAR = Decimal("0.000001")


def words(text: str) -> int:
    """The number of whitespace-separated words in ``text``."""
    return len(text.split())


def model_usage(given: Usage | None, *, prompt: str, spoken: int, earlier: int) -> dict[str, Any]:
    """The ``model_usage`` of one model request: deterministic defaults from the prompt, the
    ``spoken`` words and the number of ``earlier`` requests of the turn, overridden by
    ``given`` (with ``only_given``: only its fields)."""
    given = given or Usage()
    overrides = {
        "input_tokens": given.input_tokens,
        "output_tokens": given.output_tokens,
        "cache_creation_input_tokens": given.cache_creation_input_tokens,
        "cache_read_input_tokens": given.cache_read_input_tokens,
        "speed": given.speed,
        "credits": given.credits,
    }
    if given.only_given:
        return {key: value for key, value in overrides.items() if value is not None}
    usage: dict[str, Any] = {
        "input_tokens": 12 + 2 * words(prompt) + 10 * earlier,
        "output_tokens": max(1, math.ceil(spoken * 4 / 3)),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "speed": "standard",
    }
    usage.update({key: value for key, value in overrides.items() if value is not None})
    if given.credits is None:
        usage["credits"] = round(
            0.01 + (usage["input_tokens"] + 4 * usage["output_tokens"]) / 10_000, 4
        )
    return usage


def _tokens(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class SessionUsage:
    """The running totals of a session: tokens, credits and (unless turned off) USD."""

    def __init__(self, *, report_usd_cost: bool = True) -> None:
        self.report_usd_cost = report_usd_cost
        self.input_tokens = 0
        self.output_tokens = 0
        self.total_credits = 0.0
        self.cost = Decimal(0)

    def add(self, usage: dict[str, Any]) -> None:
        """Fold one model request's ``model_usage`` in (the fields present only)."""
        input_tokens = _tokens(usage, "input_tokens")
        output_tokens = _tokens(usage, "output_tokens")
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        credits = usage.get("credits")
        if isinstance(credits, (int, float)) and not isinstance(credits, bool):
            self.total_credits = round(self.total_credits + credits, 6)
        self.cost += input_tokens * USD_PER_INPUT_TOKEN + output_tokens * USD_PER_OUTPUT_TOKEN

    def budget_spent(self, budget: dict[str, Any] | None) -> bool:
        """Whether ``budget`` (``{"type": "limit", "max_credit_cost": "10.00"}``) is used up:
        the session's credits have reached ``max_credit_cost``."""
        if not budget:
            return False
        try:
            limit = Decimal(str(budget.get("max_credit_cost")))
        except InvalidOperation:
            return False
        return Decimal(str(self.total_credits)) >= limit

    def to_json(self) -> dict[str, Any]:
        """The Session object's ``usage`` (with ``list_cost`` when USD is reported)."""
        usage: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_credits": self.total_credits,
        }
        if self.report_usd_cost:
            amount = self.cost.quantize(_MICRODOLLAR)
            usage["list_cost"] = {"amount": str(amount), "currency": "USD"}
        return usage
