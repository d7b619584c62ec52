"""Hand-written builders for the event shapes a live stream is made of.

They make exactly the objects the converter's generated hooks make, about three times faster,
and return ``None`` for anything they do not handle whole, so that the generic hooks of
:mod:`.convert` do the work (and the error reporting) for every other input.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Final, TypeVar

from . import blocks as b
from . import events as e
from .slots import draft_class, plain

__all__ = ["by_class", "by_tag", "fast_path_types", "use_fast_paths"]

T = TypeVar("T")

# --- fast paths for the shapes a live stream is made of --------------------------------------
#
# The generated hooks cost about 3 µs an event (detailed validation, keyword arguments, attrs'
# frozen __init__ setting one field at a time). Nearly all of a live stream is a few canonical
# shapes, so for those the builders below make the very same objects directly. A builder
# returns None for anything it does not handle whole (a wrong JSON type, a variant spelling, a
# block that is not text, a missing required key) and the generic hook then does all the work,
# so errors, variants and their reports are unchanged. Instances are made as drafts, every
# field assigned and then retyped to the event class, which gives what attrs' __init__ gives
# for classes without validators, converters or init hooks (see slots.py); plain() checks that
# at import, and a class whose fields are not exactly those its builder sets is left to the
# generic hook. A builder that gives up drops its draft: none escapes half-filled. (Drafts
# are typed Any; ``built: Class = event`` gives the finished object its type.) The SSE
# decoder's bulk readers build their frames the same way. decode_frame looks the
# builder up by type (a dict lookup, as the tagged union does) and the class hooks try it too.
# benchmarks/equivalence.py compares both paths field by field, on valid and mutated events.

_BAD: Final[Any] = object()  # "not handled here": a field value that sends the event to cattrs
_NoneType = type(None)
_ENVELOPE_FIELDS: Final = ("id", "turn_id", "processed_at", "session_thread_id", "raw")
_ENVELOPE_TYPES: Final = frozenset(itertools.product((str, _NoneType), repeat=4))
_COUNT_TYPES: Final = frozenset(itertools.product((int, _NoneType), repeat=4))

_TextBlock: Final = b.TextBlock
_TextDraft: Final = draft_class(b.TextBlock)


def _envelope(draft: type[Any], value: dict[str, Any]) -> Any:
    """A new ``draft`` with its envelope fields (§4.0) set from ``value``, or None.

    The caller sets the other fields, then retypes it (slots.py)."""
    try:  # subscripts are cheaper than get() for the keys a persisted event always has
        event_id = value["id"]
        turn_id = value["turn_id"]
        processed_at = value["processed_at"]
    except KeyError:
        event_id = value.get("id")
        turn_id = value.get("turn_id")
        processed_at = value.get("processed_at")
    thread_id = value.get("session_thread_id")
    if not (
        event_id.__class__ is str
        and turn_id.__class__ is str
        and processed_at.__class__ is str
        and thread_id is None
    ):  # not the usual case: check each field the long way
        types = (event_id.__class__, turn_id.__class__, processed_at.__class__, thread_id.__class__)
        if types not in _ENVELOPE_TYPES:
            return None
    event = draft()
    event.id = event_id
    event.turn_id = turn_id
    event.processed_at = processed_at
    event.session_thread_id = thread_id
    event.raw = value
    return event


def _new_text_block(text: str) -> b.TextBlock:
    block = _TextDraft()
    block.text = text
    block.__class__ = _TextBlock
    built: b.TextBlock = block
    return built


def _fast_content(value: Any) -> Any:
    """``content`` as _structure_content makes it, when it is all text; else _BAD."""
    if value.__class__ is list:
        out = []
        for item in value:
            if item.__class__ is not dict or item.get("type") != "text":
                return _BAD
            text = item.get("text")
            if text.__class__ is not str:
                return _BAD
            out.append(_new_text_block(text))
        return tuple(out)
    if value is None:
        return ()
    if value.__class__ is str:
        return (_new_text_block(value),)
    return _BAD


def _opt(value: Any, kind: type[Any]) -> Any:
    """``value`` if it is None or exactly of ``kind``, else _BAD."""
    return value if value is None or value.__class__ is kind else _BAD


def _opt_float(value: Any) -> Any:
    """As the float hook: an int or a float becomes a float; None stays; else _BAD."""
    kind = value.__class__
    if kind is float or value is None:
        return value
    return float(value) if kind is int else _BAD


_AgentMessage: Final = e.AgentMessageEvent
_AgentMessageDraft: Final = draft_class(e.AgentMessageEvent)


def _fast_agent_message(value: dict[str, Any]) -> e.AgentMessageEvent | None:
    # Seven events in ten: the usual single text block is handled here, inline.
    content = value.get("content")
    if content.__class__ is list and len(content) == 1:
        item = content[0]
        if item.__class__ is not dict or item.get("type") != "text":
            return None
        text = item.get("text")
        if text.__class__ is not str:
            return None
        block = _TextDraft()
        block.text = text
        block.__class__ = _TextBlock
        content = (block,)
    else:
        content = _fast_content(content)
        if content is _BAD:
            return None
    event = _envelope(_AgentMessageDraft, value)
    if event is None:
        return None
    event.content = content
    event.__class__ = _AgentMessage
    built: e.AgentMessageEvent = event
    return built


_UserMessageDraft: Final = draft_class(e.UserMessageEvent)


def _fast_user_message(value: dict[str, Any]) -> e.UserMessageEvent | None:
    # The echo of every prompt: one a turn, text only (an image goes the generic way).
    content = _fast_content(value.get("content"))
    if content is _BAD:
        return None
    event = _envelope(_UserMessageDraft, value)
    if event is None:
        return None
    event.content = content
    event.__class__ = e.UserMessageEvent
    built: e.UserMessageEvent = event
    return built


_ThinkingDraft: Final = draft_class(e.AgentThinking)


def _fast_agent_thinking(value: dict[str, Any]) -> e.AgentThinking | None:
    thinking = _opt(value.get("thinking"), str)
    if thinking is _BAD or "content" in value:  # content: the older spelling, a variant
        return None
    event = _envelope(_ThinkingDraft, value)
    if event is None:
        return None
    event.thinking = thinking
    event.__class__ = e.AgentThinking
    built: e.AgentThinking = event
    return built


_ToolUseDraft: Final = draft_class(e.AgentToolUse)


def _fast_agent_tool_use(value: dict[str, Any]) -> e.AgentToolUse | None:
    get = value.get
    name = get("name")
    tool_input = get("input")
    permission = _opt(get("evaluated_permission"), str)
    if name.__class__ is not str or permission is _BAD:
        return None
    if tool_input.__class__ is not dict:
        if tool_input is not None or "input" in value:
            return None
        tool_input = {}  # absent: the field's default
    event = _envelope(_ToolUseDraft, value)
    if event is None:
        return None
    event.name = name
    event.input = tool_input
    event.evaluated_permission = permission
    event.__class__ = e.AgentToolUse
    built: e.AgentToolUse = event
    return built


_ToolResultDraft: Final = draft_class(e.AgentToolResult)


def _fast_agent_tool_result(value: dict[str, Any]) -> e.AgentToolResult | None:
    get = value.get
    tool_use_id = _opt(get("tool_use_id"), str)
    is_error = _opt(get("is_error"), bool)
    content = _fast_content(get("content"))
    if tool_use_id is _BAD or is_error is _BAD or content is _BAD:
        return None
    if "output" in value and "content" not in value:  # the older spelling, a variant
        return None
    event = _envelope(_ToolResultDraft, value)
    if event is None:
        return None
    event.tool_use_id = tool_use_id
    event.content = content
    event.is_error = is_error
    event.__class__ = e.AgentToolResult
    built: e.AgentToolResult = event
    return built


def _fast_no_fields(cls: type[T]) -> Callable[[dict[str, Any]], T | None]:
    draft = draft_class(cls)

    def build(value: dict[str, Any]) -> T | None:
        event = _envelope(draft, value)
        if event is None:
            return None
        event.__class__ = cls
        return event  # type: ignore[no-any-return]

    return build


_IdleDraft: Final = draft_class(e.SessionStatusIdle)
_StopReasonDraft: Final = draft_class(e.StopReason)


def _fast_session_status_idle(value: dict[str, Any]) -> e.SessionStatusIdle | None:
    stop_reason = value.get("stop_reason")
    if stop_reason.__class__ is dict and "event_ids" not in stop_reason:
        kind = stop_reason.get("type")  # the usual {"type": "end_turn"}
        if kind.__class__ is not str:
            return None
        stop_reason = _StopReasonDraft()
        stop_reason.type = kind
        stop_reason.event_ids = ()
        stop_reason.__class__ = e.StopReason
    elif stop_reason is not None:
        return None  # event_ids, a bare string or a wrong type: the generic hook decides
    event = _envelope(_IdleDraft, value)
    if event is None:
        return None
    event.stop_reason = stop_reason
    event.__class__ = e.SessionStatusIdle
    built: e.SessionStatusIdle = event
    return built


_SpanStartDraft: Final = draft_class(e.SpanModelRequestStart)


def _fast_span_start(value: dict[str, Any]) -> e.SpanModelRequestStart | None:
    model = _opt(value.get("model"), str)
    span_id = _opt(value.get("span_id"), str)
    if model is _BAD or span_id is _BAD:
        return None
    event = _envelope(_SpanStartDraft, value)
    if event is None:
        return None
    event.model = model
    event.span_id = span_id
    event.__class__ = e.SpanModelRequestStart
    built: e.SpanModelRequestStart = event
    return built


_USAGE_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "speed",
    "credits",
    "raw",
)
_UsageDraft: Final = draft_class(e.ModelUsage)


def _fast_model_usage(value: Any) -> Any:
    """A ``model_usage``/``usage`` value as its hook makes it, or _BAD."""
    if value.__class__ is not dict:
        return None if value is None else _BAD
    get = value.get
    input_tokens = get("input_tokens")
    output_tokens = get("output_tokens")
    cache_creation = get("cache_creation_input_tokens")
    cache_read = get("cache_read_input_tokens")
    speed = get("speed")
    credits = get("credits")
    if credits.__class__ is not float:
        credits = _opt_float(credits)
    if not (
        input_tokens.__class__ is int
        and output_tokens.__class__ is int
        and cache_creation.__class__ is int
        and cache_read.__class__ is int
    ):
        counts = (
            input_tokens.__class__,
            output_tokens.__class__,
            cache_creation.__class__,
            cache_read.__class__,
        )
        if counts not in _COUNT_TYPES:
            return _BAD
    if credits is _BAD or (speed is not None and speed.__class__ is not str):
        return _BAD
    usage = _UsageDraft()
    usage.input_tokens = input_tokens
    usage.output_tokens = output_tokens
    usage.cache_creation_input_tokens = cache_creation
    usage.cache_read_input_tokens = cache_read
    usage.speed = speed
    usage.credits = credits
    usage.raw = value
    usage.__class__ = e.ModelUsage
    return usage


_END_FIELDS: Final = (
    "model_request_start_id",
    "is_error",
    "model_usage",
    "usage",
    "model",
    "span_id",
    "total_cost_usd",
    "cost_usd",
)
_SpanEndDraft: Final = draft_class(e.SpanModelRequestEnd)


def _fast_span_end(value: dict[str, Any]) -> e.SpanModelRequestEnd | None:
    get = value.get
    start_id = _opt(get("model_request_start_id"), str)
    is_error = _opt(get("is_error"), bool)
    model_usage = _fast_model_usage(get("model_usage"))
    usage = _fast_model_usage(get("usage"))
    model = _opt(get("model"), str)
    span_id = _opt(get("span_id"), str)
    total_cost = _opt_float(get("total_cost_usd"))
    cost = _opt_float(get("cost_usd"))
    if (
        start_id is _BAD
        or is_error is _BAD
        or model_usage is _BAD
        or usage is _BAD
        or model is _BAD
        or span_id is _BAD
        or total_cost is _BAD
        or cost is _BAD
    ):
        return None
    event = _envelope(_SpanEndDraft, value)
    if event is None:
        return None
    event.model_request_start_id = start_id
    event.is_error = is_error
    event.model_usage = model_usage
    event.usage = usage
    event.model = model
    event.span_id = span_id
    event.total_cost_usd = total_cost
    event.cost_usd = cost
    event.__class__ = e.SpanModelRequestEnd
    built: e.SpanModelRequestEnd = event
    return built


_CANDIDATES: Final[tuple[tuple[type[Any], Callable[[dict[str, Any]], Any], bool], ...]] = (
    (e.AgentMessageEvent, _fast_agent_message, plain(b.TextBlock, "text")),
    (e.UserMessageEvent, _fast_user_message, plain(b.TextBlock, "text")),
    (e.AgentThinking, _fast_agent_thinking, True),
    (e.AgentToolUse, _fast_agent_tool_use, True),
    (e.AgentToolResult, _fast_agent_tool_result, plain(b.TextBlock, "text")),
    (e.SessionStatusRunning, _fast_no_fields(e.SessionStatusRunning), True),
    (e.SessionStatusIdle, _fast_session_status_idle, plain(e.StopReason, "type", "event_ids")),
    (e.SpanModelRequestStart, _fast_span_start, True),
    (e.SpanModelRequestEnd, _fast_span_end, plain(e.ModelUsage, *_USAGE_FIELDS)),
)
_FAST_FIELDS: Final[dict[type[Any], tuple[str, ...]]] = {
    e.AgentMessageEvent: ("content",),
    e.UserMessageEvent: ("content",),
    e.AgentThinking: ("thinking",),
    e.AgentToolUse: ("name", "input", "evaluated_permission"),
    e.AgentToolResult: ("tool_use_id", "content", "is_error"),
    e.SessionStatusRunning: (),
    e.SessionStatusIdle: ("stop_reason",),
    e.SpanModelRequestStart: ("model", "span_id"),
    e.SpanModelRequestEnd: _END_FIELDS,
}
_FAST_BUILDERS: Final[dict[type[Any], Callable[[dict[str, Any]], Any]]] = {
    cls: build
    for cls, build, parts_plain in _CANDIDATES
    if parts_plain and plain(cls, *_ENVELOPE_FIELDS, *_FAST_FIELDS[cls])
}
"""The builder of each class whose fields are exactly those the builder sets (all, today)."""
by_class: dict[type[Any], Callable[[dict[str, Any]], Any]] = _FAST_BUILDERS
"""The builder of each event class, while fast paths are on."""
by_tag: dict[str, Callable[[dict[str, Any]], e.WireEvent | None]] = {}
"""The builder of each event type, while fast paths are on."""


def use_fast_paths(enabled: bool = True) -> None:
    """Turn the hand-written builders of the common event shapes on (the default) or off.

    Off, every event goes through the generic cattrs hooks; the events are the same either
    way. Meant for benchmarks and for tests that compare the two paths.
    """
    global by_class, by_tag
    by_class = _FAST_BUILDERS if enabled else {}
    by_tag = {cls.type: build for cls, build in by_class.items()}


use_fast_paths()


def fast_path_types() -> frozenset[str]:
    """The event types decoded by a hand-written builder now (empty when turned off)."""
    return frozenset(by_tag)
