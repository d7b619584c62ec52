"""What one turn keeps and adds up to: its record and its result (PROTOCOL.md §6.1, §6.5).

:class:`ResultAccumulator` is fed the events the turn state machine (:mod:`.turn`) has already
attributed to the current turn; it never decides membership itself (:mod:`.correlate` does).
:class:`TurnEnding` says how the turn ended (§6.4) and maps that to ``terminal_reason``,
``is_error``, ``subtype`` and ``errors``. :meth:`ResultAccumulator.build` joins both into a
:class:`~.messages.ResultMessage`. :class:`TurnRecord` is one logical turn's memory: its
:class:`~.correlate.Correlation`, its accumulator and a few per-turn values, kept here so that
:mod:`.turn` holds only rules.

Sums follow §1.1 and §6.5: a count no model request reported stays ``None`` (not zero), credits
and USD costs are summed separately and never converted into each other, and every span counts,
failed ones included. Floats are summed with :func:`math.fsum` so that the order in which spans
arrive cannot change the last digit.
"""

from __future__ import annotations

import calendar
import math
import re
from typing import Any, Final

import attrs

from .blocks import TextBlock, ToolUseBlock
from .correlate import Correlation, ToolUseEvent
from .events import (
    AgentCustomToolUse,
    AgentMCPToolUse,
    AgentMessageEvent,
    ModelUsage,
    SpanModelRequestEnd,
    SpanModelRequestStart,
)
from .messages import ResultMessage, Usage
from .partials import PartialMessages

__all__ = [
    "ResultAccumulator",
    "TurnEnding",
    "TurnRecord",
    "parse_timestamp_ns",
    "tool_use_block",
]

MAX_WARNINGS = 100
"""Warnings a ResultMessage lists one by one; the rest are counted."""

_TOKEN_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
# Nested legacy counters (§4.18) summed into Usage.extra under dotted names.
_NESTED_FIELDS: Final = ("cache_creation", "server_tool_use")
_UNKNOWN_MODEL: Final = "unknown"
_TEXT_RUN: Final = 64
"""Text pieces joined into one (see ResultAccumulator.add_message)."""

_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def parse_timestamp_ns(text: str | None) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 timestamp, or ``None`` if it is not one.

    Accepts any number of fraction digits (the server sends up to nine; more are cut, not
    rounded), ``Z`` or a numeric offset (a missing offset is read as UTC), a space or lower-case
    ``t`` as the separator, and a leap second. Never raises.
    """
    if not text:
        return None
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.group(1, 2, 3, 4, 5, 6))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    # timegm is plain arithmetic: it accepts second 60 and needs no datetime object.
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match[9] is not None:
        offset = int(match[10]) * 3600 + int(match[11]) * 60
        seconds -= offset if match[9] == "+" else -offset
    fraction = (match[7] or "")[:9].ljust(9, "0")
    return seconds * 1_000_000_000 + int(fraction)


def _canonical(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SS[.fff…]Z``: stamps of this shape and one length sort as text."""
    # Positions 4, 7, 10, 13 and 16 hold "-", "-", "T", ":", ":": one slice checks them.
    return (
        text[-1:] == "Z"
        and len(text) >= 20
        and text[4:17:3] == "--T::"
        and (len(text) == 20 or text[19] == ".")
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _UsageSum:
    """Running sums of one usage shape; a count stays ``None`` until some span reports it."""

    __slots__ = ("counts", "extra")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.extra: dict[str, list[float]] = {}

    def add(self, usage: ModelUsage) -> None:
        for name in _TOKEN_FIELDS:
            value = getattr(usage, name)
            if value is not None:
                self.counts[name] = self.counts.get(name, 0) + value
        raw = usage.raw
        for outer in _NESTED_FIELDS:
            nested = raw.get(outer)
            if isinstance(nested, dict):
                for key, value in nested.items():
                    if _is_number(value):
                        self.extra.setdefault(f"{outer}.{key}", []).append(value)

    def to_usage(self) -> Usage:
        extra: dict[str, float] = {}
        for key, values in self.extra.items():
            extra[key] = (
                sum(values) if all(isinstance(v, int) for v in values) else math.fsum(values)
            )
        return Usage(
            input_tokens=self.counts.get("input_tokens"),
            output_tokens=self.counts.get("output_tokens"),
            cache_creation_input_tokens=self.counts.get("cache_creation_input_tokens"),
            cache_read_input_tokens=self.counts.get("cache_read_input_tokens"),
            extra=extra,
        )


@attrs.frozen
class TurnEnding:
    """How a turn ended: the §6.4 row that ended it, mapped to the §6.5 result fields.

    Build one with :meth:`idle` (the turn ended on ``session.status_idle``) or :meth:`failure`
    (a terminal ``session.error``, termination, deletion, a lost stream, a client failure).
    """

    terminal_reason: str
    is_error: bool
    subtype: str
    stop_reason: str | None = None
    errors: tuple[str, ...] = ()

    @classmethod
    def idle(cls, stop_reason: str | None, recorded_errors: tuple[str, ...] = ()) -> TurnEnding:
        """The turn ended on an idle whose ``stop_reason.type`` is ``stop_reason``.

        ``terminal_reason`` is the stop reason itself (``end_turn`` when absent; an unknown
        value is reported as it is, §4.13). ``end_turn`` and ``requires_action`` are successes;
        ``retries_exhausted`` is an error, ``budget_reached`` an ``error_max_budget``; an
        absent or unknown stop reason is a success unless the turn recorded errors
        (``recorded_errors``: the server's retrying ``session.error`` messages), §6.4.
        """
        reason = stop_reason or "end_turn"
        if reason in ("end_turn", "requires_action") and stop_reason is not None:
            return cls(reason, False, "success", stop_reason)
        if reason == "retries_exhausted":
            detail = f": {recorded_errors[-1]}" if recorded_errors else ""
            errors = (f"the server's retries were exhausted{detail}",)
            return cls(reason, True, "error_during_execution", stop_reason, errors)
        if reason == "budget_reached":
            errors = ("the session's budget was reached",)
            return cls(reason, True, "error_max_budget", stop_reason, errors)
        if recorded_errors:  # absent or unknown stop reason after errors the server retried
            errors = (
                f"the session went idle (stop_reason {stop_reason!r}) after errors: "
                + "; ".join(recorded_errors),
            )
            return cls(reason, True, "error_during_execution", stop_reason, errors)
        return cls(reason, False, "success", stop_reason)

    @classmethod
    def interrupted(cls, stop_reason: str | None) -> TurnEnding:
        """The turn ended on an idle after the client's own ``interrupt()`` or ``cancel()``
        (§6.7): a success with the text so far, ``terminal_reason="interrupted"``; the idle's
        own ``stop_reason`` is kept."""
        return cls("interrupted", False, "success", stop_reason)

    @classmethod
    def limit_reached(cls, limit: str, stop_reason: str | None) -> TurnEnding:
        """The turn ended on an idle after the client interrupted it at a limit of its
        options: ``max_turns`` (``error_max_turns``, §6.5) or ``max_budget_usd``
        (``error_max_budget_usd``); an error, with the text so far."""
        subtype = "error_max_turns" if limit == "max_turns" else "error_max_budget_usd"
        message = f"the client interrupted the turn: {limit} was reached"
        return cls("interrupted", True, subtype, stop_reason, (message,))

    @classmethod
    def failure(cls, terminal_reason: str, message: str) -> TurnEnding:
        """The turn ended without an idle: ``session_error``, ``terminated``, ``deleted``,
        ``stream_lost``, ``buffer_overflow``, ``protocol_error`` or ``client_error``."""
        return cls(terminal_reason, True, "error_during_execution", None, (message,))


class ResultAccumulator:
    """Everything of one turn that goes into its :class:`~.messages.ResultMessage`."""

    __slots__ = (
        "_cost",
        "_credits",
        "_denials",
        "_first_met",
        "_first_ns",
        "_first_text",
        "_joined",
        "_last_ns",
        "_last_text",
        "_model_usage",
        "_requests",
        "_session_cost",
        "_shape",
        "_stamps",
        "_start_models",
        "_text",
        "_usage",
        "_warnings",
        "_warnings_dropped",
    )

    def __init__(self) -> None:
        self._text: list[str] = []
        self._joined = 0  # pieces of _text already joined from runs of _TEXT_RUN
        self._usage = _UsageSum()
        self._model_usage: dict[str, _UsageSum] = {}
        self._start_models: dict[str, str] = {}
        self._credits: list[float] = []
        self._cost: list[float] = []
        self._denials: list[dict[str, str]] = []
        self._requests = 0
        self._session_cost: float | None = None
        self._stamps = 0
        self._first_ns = 0
        self._last_ns = 0
        self._shape = 0  # the length of the canonical stamps seen so far; 0: parse each one
        self._first_text = self._last_text = ""
        self._first_met = ""  # text mode: the first stamp, whose time _first_ns holds
        self._warnings: list[str] = []
        self._warnings_dropped = 0

    @property
    def text(self) -> str:
        """The result text so far: every text block of the primary thread, no separator."""
        return "".join(self._text)

    def _join_run(self) -> None:
        """Join the pieces of text added since the last run into one string (see
        :meth:`add_message`)."""
        pieces, joined = self._text, self._joined
        pieces[joined:] = ["".join(pieces[joined:])]
        self._joined = joined + 1

    def add_timestamp(self, processed_at: str | None) -> None:
        """Widen the turn's ``processed_at`` span (for ``duration_api_ms``).

        The earliest and latest stamps count, whatever order they arrive in.
        """
        if not processed_at:
            return
        shape = self._shape
        if (  # _canonical(processed_at), inlined for the stamp of every event
            shape
            and len(processed_at) == shape
            and processed_at[-1] == "Z"
            and processed_at[4:17:3] == "--T::"
            and (shape == 20 or processed_at[19] == ".")
        ):
            # Every stamp so far had this one canonical shape: text order is time order,
            # and only the earliest and latest are parsed, once, at the end.
            if processed_at < self._first_text:
                self._first_text = processed_at
            elif processed_at > self._last_text:
                self._last_text = processed_at
            self._stamps += 1
            return
        ns = parse_timestamp_ns(processed_at)
        if ns is None:
            return
        if not self._stamps and _canonical(processed_at):
            self._shape = len(processed_at)
            self._first_text = self._last_text = self._first_met = processed_at
            self._first_ns = ns  # kept: the first stamp is usually the earliest (see _span_ns)
            self._stamps = 1
            return
        self._leave_text_mode()
        if not self._stamps:
            self._first_ns = self._last_ns = ns
        elif ns < self._first_ns:
            self._first_ns = ns
        elif ns > self._last_ns:
            self._last_ns = ns
        self._stamps += 1

    def _leave_text_mode(self) -> None:
        """A stamp of another shape came: from now on every stamp is parsed."""
        if self._shape:
            self._shape = 0
            self._first_ns = parse_timestamp_ns(self._first_text) or 0
            self._last_ns = parse_timestamp_ns(self._last_text) or 0

    def _span_ns(self) -> int:
        if self._shape:
            # The first stamp met (the prompt's own, from the POST reply) is usually the
            # earliest: it was parsed when met, and _first_ns still holds it.
            if self._first_text == self._first_met:
                first = self._first_ns
            else:
                first = parse_timestamp_ns(self._first_text) or 0
            return (parse_timestamp_ns(self._last_text) or 0) - first
        return self._last_ns - self._first_ns

    def add_message(self, event: AgentMessageEvent) -> None:
        """Add the text of an ``agent.message``; other threads and other blocks add none.

        Every :data:`_TEXT_RUN` pieces or so are joined into one string: a turn of a million
        short messages keeps a few thousand strings, its own text in size, rather than a
        million string objects of 50 bytes of overhead each."""
        if event.session_thread_id is None:
            pieces = self._text
            for block in event.content:
                if type(block) is TextBlock:
                    pieces.append(block.text)
            if len(pieces) >= self._joined + _TEXT_RUN:
                self._join_run()

    def add_model_request_start(self, event: SpanModelRequestStart, event_id: str | None) -> None:
        """Remember the start's model, for an end that names none (§6.5 ``model_usage``).

        ``event_id`` is the start's id (its SSE frame id when the data carried none).
        """
        if event_id is not None and event.model:
            self._start_models[event_id] = event.model

    def add_model_request_end(self, event: SpanModelRequestEnd) -> None:
        """Count one model request (the caller has already dropped duplicates)."""
        self._requests += 1
        usage = event.effective_usage
        if usage is not None:
            self._usage.add(usage)
            model = event.model or self._start_models.get(event.model_request_start_id or "")
            self._model_usage.setdefault(model or _UNKNOWN_MODEL, _UsageSum()).add(usage)
            if usage.credits is not None:
                self._credits.append(usage.credits)
        cost = event.total_cost_usd if event.total_cost_usd is not None else event.cost_usd
        if cost is not None:
            self._cost.append(cost)

    def warn(self, text: str) -> None:
        """Record a warning of the turn (a retrying error, a malformed event, ...); past
        :data:`MAX_WARNINGS` only a count is kept, so a flood of bad frames stays bounded."""
        if len(self._warnings) < MAX_WARNINGS:
            self._warnings.append(text)
        else:
            self._warnings_dropped += 1

    def add_denial(self, denial: dict[str, str]) -> None:
        """A confirmation the client denied (for ``permission_denials``)."""
        self._denials.append(denial)

    def set_session_cost(self, usd: float) -> None:
        """The session's USD cost as the server last reported it (§8.6): it is the result's
        ``total_cost_usd``, in place of the sum of per-request costs."""
        self._session_cost = usd

    def _total_cost_usd(self) -> float | None:
        if self._session_cost is not None:
            return self._session_cost
        return math.fsum(self._cost) if self._cost else None

    def build(
        self,
        ending: TurnEnding,
        *,
        session_id: str,
        num_turns: int,
        duration_ms: int,
        turn_ids: tuple[str, ...],
        pending_tool_uses: tuple[ToolUseBlock, ...] = (),
    ) -> ResultMessage:
        """The result message of the turn as it stands, ended by ``ending``."""
        # One timestamp spans no time: fall back to the client's clock (§6.5).
        api_ms = self._span_ns() // 1_000_000 if self._stamps >= 2 else duration_ms
        return ResultMessage(
            subtype=ending.subtype,
            duration_ms=duration_ms,
            duration_api_ms=api_ms,
            is_error=ending.is_error,
            num_turns=num_turns,
            session_id=session_id,
            stop_reason=ending.stop_reason,
            total_cost_usd=self._total_cost_usd(),
            usage=self._usage.to_usage(),
            result=self.text,
            model_usage={model: sums.to_usage() for model, sums in self._model_usage.items()},
            errors=ending.errors,
            warnings=tuple(self._warnings)
            + (
                (f"... and {self._warnings_dropped} more warnings",)
                if self._warnings_dropped
                else ()
            ),
            terminal_reason=ending.terminal_reason,
            total_credits=math.fsum(self._credits) if self._credits else None,
            num_model_requests=self._requests,
            turn_ids=turn_ids,
            pending_tool_uses=pending_tool_uses,
            permission_denials=tuple(self._denials),
        )


class TurnRecord:
    """One logical turn (§6.1): which events are its, and what they add up to.

    ``corr`` is its correlation memory (:class:`~.correlate.Correlation`), ``acc`` its
    :class:`ResultAccumulator`. The rest is what the state machine (:mod:`.turn`) needs besides:
    when the turn started and its ``num_turns`` (for the result), the model of the current model
    request (for assistant messages), the ``session.error`` messages the server is retrying (for
    :meth:`TurnEnding.idle`), an ending recorded while the turn was PENDING (``failure``), and
    whether the client interrupted it (``interrupted``, for :meth:`TurnEnding.interrupted`).
    The state machine owns the rules; this record only keeps what they need.
    """

    __slots__ = (
        "acc",
        "corr",
        "failure",
        "interrupted",
        "limit",
        "limit_enforced",
        "model",
        "num_turns",
        "partials",
        "requests_started",
        "retrying_errors",
        "started",
    )

    def __init__(self, started: float) -> None:
        self.started = started
        self.num_turns = 0
        self.corr = Correlation()
        self.acc = ResultAccumulator()
        self.model = ""  # model of the current model request
        self.retrying_errors: list[str] = []
        self.failure: TurnEnding | None = None  # an end recorded while PENDING
        self.interrupted = False  # the client's own interrupt()/cancel() was sent (§6.7)
        self.limit: str | None = None  # the option limit that interrupt was for, if any
        self.limit_enforced = False  # max_turns was already asked to be enforced
        self.requests_started = 0  # span.model_request_start events of the turn
        self.partials: PartialMessages | None = None  # open previews (partial messages)

    def learn_reply(self, items: list[dict[str, Any]], *, all_turn_ids: bool) -> None:
        """Learn from the items of a POST reply: correlation (see
        :meth:`~.correlate.Correlation.learn_reply`) and their ``processed_at`` stamps."""
        self.corr.learn_reply(items, all_turn_ids=all_turn_ids)
        for item in items:
            stamp = item.get("processed_at")
            self.acc.add_timestamp(stamp if isinstance(stamp, str) else None)

    def pending_tool_use(self, tool_use_id: str) -> ToolUseBlock:
        """How a call that ``requires_action`` lists is reported in ``pending_tool_uses``; a
        call the turn never saw is listed all the same, with a warning."""
        tool_use = self.corr.tool_uses.get(tool_use_id)
        if tool_use is None:
            self.acc.warn(f"requires_action names {tool_use_id}, a call this turn never saw")
            return ToolUseBlock(id=tool_use_id, name="", input={}, kind="unknown")
        return tool_use_block(tool_use, tool_use_id)


def tool_use_block(event: ToolUseEvent, event_id: str) -> ToolUseBlock:
    """The block a tool-use event is delivered as (and listed in ``pending_tool_uses``)."""
    if isinstance(event, AgentCustomToolUse):
        return ToolUseBlock(id=event_id, name=event.name, input=event.input, kind="custom")
    if isinstance(event, AgentMCPToolUse):
        return ToolUseBlock(
            id=event_id,
            name=event.name,
            input=event.input,
            kind="mcp",
            server_name=event.mcp_server_name,
            evaluated_permission=event.evaluated_permission,
        )
    return ToolUseBlock(
        id=event_id,
        name=event.name,
        input=event.input,
        evaluated_permission=event.evaluated_permission,
    )
