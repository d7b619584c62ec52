"""The session's cost in money, as the server reports it (docs/protocol.md §8.6).

The Session object's ``usage.list_cost`` is ``{"amount": "0.42", "currency": "USD"}``, a
decimal string. A cost in USD is taken from there and from nowhere else: credits are never
converted to money by a guessed rate, and a missing or non-USD cost is ``None``.
"""

from __future__ import annotations

import decimal
import logging
import math
from typing import Any

from .config import SessionConfig

__all__ = ["usd_cost", "watches_cost"]

logger = logging.getLogger("qoder")


def usd_cost(session: Any) -> float | None:
    """The USD cost in a Session object's JSON, or ``None`` when it reports none."""
    usage = session.get("usage") if isinstance(session, dict) else None
    cost = usage.get("list_cost") if isinstance(usage, dict) else None
    if not isinstance(cost, dict) or str(cost.get("currency", "")).upper() != "USD":
        return None
    amount = cost.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
        return None
    try:
        value = float(decimal.Decimal(str(amount)))
    except (decimal.InvalidOperation, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def watches_cost(config: SessionConfig, session: Any) -> bool:
    """Whether ``max_budget_usd`` can be enforced: only if the server reports a USD cost
    (§8.6); if not, the user is told once, and pointed at ``max_credit_cost``."""
    if config.max_budget_usd is None:
        return False
    if usd_cost(session) is not None:
        return True
    logger.warning(
        "max_budget_usd=%s cannot be enforced: the server reports no cost in USD for this "
        "session (docs/protocol.md §8.6). Set max_credit_cost, which the server enforces.",
        config.max_budget_usd,
    )
    return False
