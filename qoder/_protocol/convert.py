"""The one cattrs converter: wire JSON objects to typed events, and SSE frames to events.

All wire names live here and in :mod:`.events`. The converter is strict about the JSON type of
the fields it knows (a number where a string belongs is a :class:`~.events.MalformedEvent`, not a
silently coerced value) and lenient about everything else: unknown fields are ignored for typed
access and kept in ``raw``; unknown event types become :class:`~.events.UnknownEvent`; unknown
content blocks become :class:`~.blocks.UnknownBlock`. Nothing here raises on bad server input:
:func:`decode_frame` turns every failure into a value.

:func:`decode_frame` is the hot path of every stream, and :func:`decode_fields` the same for
a frame given as its fields (:meth:`.sse.SSEDecoder.feed_parts`); the two are written out
separately so that neither pays a call to the other (tests/protocol/test_fields.py compares
them). The common event shapes have hand-written builders that give exactly what the cattrs
hooks give, and fall back to them for anything else (:func:`use_fast_paths`); JSON is parsed
by orjson when the extra is installed, else by the stdlib's scanner (:func:`use_json_backend`).
Figures and method: ``benchmarks/README.md``.
Over ~400 lines because every structure hook must be registered on the one converter before
the tagged union of events is configured (hooks are captured then), so they stay together.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from . import blocks as b
from . import events as e
from . import fastpath, jsonio
from .fastpath import fast_path_types, use_fast_paths
from .jsonio import json_backend, use_json_backend

if TYPE_CHECKING:
    from .sse import SSEFrame

__all__ = [
    "KEEPALIVE_EVENT_NAMES",
    "converter",
    "decode_fields",
    "decode_frame",
    "event_from_object",
    "fast_path_types",
    "json_backend",
    "keep_raw",
    "structure_event",
    "use_fast_paths",
    "use_json_backend",
]

logger = logging.getLogger("qoder.protocol")

KEEPALIVE_EVENT_NAMES: Final = frozenset({"heartbeat", "ping"})
"""SSE frame names that only keep the connection alive (§5 rule 8)."""

converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)
"""The converter every wire object goes through."""

T = TypeVar("T")


# --- strict primitives: the wire can lie, and str(3) is not a string the server sent --------


def _strict(kind: type[T], *, reject_bool: bool = False) -> Callable[[Any, Any], T]:
    def hook(value: Any, _: Any) -> T:
        if isinstance(value, kind) and not (reject_bool and isinstance(value, bool)):
            return value
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")

    return hook


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _structure_string_tuple(value: Any, _: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


converter.register_structure_hook(str, _strict(str))
converter.register_structure_hook(bool, _strict(bool))
converter.register_structure_hook(int, _strict(int, reject_bool=True))
converter.register_structure_hook(float, _structure_float)


def _register_exact(type_: Any, hook: Callable[[Any, Any], Any]) -> None:
    """Register a hook for a parametrised generic (``dict[str, Any]``), matched exactly."""
    converter.register_structure_hook_func(lambda candidate: candidate == type_, hook)


_register_exact(dict[str, Any], _strict(dict))
_register_exact(tuple[str, ...], _structure_string_tuple)


# --- raw-keeping classes ---------------------------------------------------------------------


def _keep_raw(cls: type[T]) -> Callable[[Any, Any], T]:
    """A structure hook for an attrs class with a ``raw`` field: it gets the input dict itself.

    ``raw`` is left out of the generated hook and set afterwards, on the frozen instance, with
    ``object.__setattr__``: cheaper than copying the input dict to add a key, and it cannot
    collide with a field the server might one day call ``raw``.
    """
    generated = _lazy_structure_fn(cls)

    def hook(value: Any, _: Any) -> T:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        instance = generated(value, cls)
        object.__setattr__(instance, "raw", value)
        return instance

    return hook


def _lazy_structure_fn(cls: type[T]) -> Callable[[Any, Any], T]:
    """cattrs' generated structure function of ``cls`` (``raw`` omitted), generated on its
    first call rather than at import: generating one compiles Python source (about 0.5 ms a
    class), and the hand-written builders leave most of them unused. Every hook is registered
    by the time any is called, so the function is the one an eager generation would give."""
    generated: Callable[[Any, Any], T] | None = None

    def structure(value: Any, type_: Any) -> T:
        nonlocal generated
        if generated is None:  # two threads may both generate: the same function either way
            generated = make_dict_structure_fn(cls, converter, raw=override(omit=True))
        return generated(value, type_)

    return structure


keep_raw = _keep_raw
"""The structure hook of a raw-keeping attrs class (the resource objects use it too)."""


# --- content blocks --------------------------------------------------------------------------


def _structure_unknown_block(value: Any, _: Any) -> b.UnknownBlock:
    if not isinstance(value, dict):
        raise TypeError(f"expected a content block object, got {type(value).__name__}")
    kind = value.get("type")
    return b.UnknownBlock(type=kind if isinstance(kind, str) else "", raw=value)


def _structure_search_result(value: Any, _: Any) -> b.SearchResultBlock:
    return _search_result_hook(value, b.SearchResultBlock)


def _generic_structure_fn(cls: type[T]) -> Callable[[Any, Any], T]:
    """``make_dict_structure_fn(cls, converter)``, generated on first call (as above)."""
    generated: Callable[[Any, Any], T] | None = None

    def structure(value: Any, type_: Any) -> T:
        nonlocal generated
        if generated is None:
            generated = make_dict_structure_fn(cls, converter)
        return generated(value, type_)

    return structure


converter.register_structure_hook(b.UnknownBlock, _structure_unknown_block)
_register_exact(tuple[b.TextBlock, ...], lambda v, _: _text_blocks(v))
_search_result_hook = _generic_structure_fn(b.SearchResultBlock)

_BLOCK_CLASSES: dict[str, Callable[[Any, Any], Any]] = {
    cls.type: converter.get_structure_hook(cls)
    for cls in (b.TextBlock, b.ImageBlock, b.DocumentBlock, b.RedactedBlock)
}
_BLOCK_CLASSES["search_result"] = _structure_search_result


def _structure_block(value: Any) -> b.ContentBlock:
    if not isinstance(value, dict):
        raise TypeError(f"expected a content block object, got {type(value).__name__}")
    kind = value.get("type")
    if kind == "text":  # the hot path: most blocks are text
        text = value.get("text")
        if isinstance(text, str):
            return b.TextBlock(text)
        raise TypeError("text block: expected a string 'text'")
    hook = _BLOCK_CLASSES.get(kind) if isinstance(kind, str) else None
    if hook is None:
        return _structure_unknown_block(value, None)
    block: b.ContentBlock = hook(value, None)
    return block


def _text_blocks(value: Any) -> tuple[b.TextBlock, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of text blocks, got {type(value).__name__}")
    out = []
    for item in value:
        block = _structure_block(item)
        if not isinstance(block, b.TextBlock):
            raise TypeError(f"expected a text block, got {block.type!r}")
        out.append(block)
    return tuple(out)


def _structure_content(value: Any, _: Any) -> tuple[b.ContentBlock, ...]:
    """``content`` is a list of blocks, or (variant) a string standing for one text block."""
    if isinstance(value, str):
        return (b.TextBlock(value),)
    if isinstance(value, list):
        return tuple([_structure_block(item) for item in value])
    if value is None:
        return ()
    raise TypeError(f"expected a list of content blocks or a string, got {type(value).__name__}")


_register_exact(tuple[b.ContentBlock, ...], _structure_content)


# --- nested event objects --------------------------------------------------------------------


def _structure_stop_reason(value: Any, _: Any) -> e.StopReason:
    if isinstance(value, str):  # tolerate a bare string; report it as the type
        return e.StopReason(type=value)
    if not isinstance(value, dict):
        raise TypeError(f"expected a stop_reason object, got {type(value).__name__}")
    kind = value.get("type")
    ids = value.get("event_ids")
    return e.StopReason(
        type=_strict(str)(kind, None) if kind is not None else None,
        event_ids=_structure_string_tuple(ids, None) if ids is not None else (),
    )


def _optional_str(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name}: expected a string, got {type(value).__name__}")


def _structure_error_detail(value: Any, _: Any) -> e.SessionErrorDetail:
    if isinstance(value, str):  # legacy: "error": "<text>"
        return e.SessionErrorDetail(message=value)
    if not isinstance(value, dict):
        raise TypeError(f"expected an error object or string, got {type(value).__name__}")
    retry = value.get("retry_status")
    if isinstance(retry, dict):
        retry = retry.get("type")
    return e.SessionErrorDetail(
        type=_optional_str(value.get("type"), "error.type"),
        message=_optional_str(value.get("message"), "error.message") or "",
        retry_status=_optional_str(retry, "error.retry_status"),
        qoder_error_code=_optional_str(value.get("qoder_error_code"), "error.qoder_error_code"),
        mcp_server_name=_optional_str(value.get("mcp_server_name"), "error.mcp_server_name"),
    )


converter.register_structure_hook(e.StopReason, _structure_stop_reason)
converter.register_structure_hook(e.SessionErrorDetail, _structure_error_detail)
converter.register_structure_hook(e.ModelUsage, _keep_raw(e.ModelUsage))


# --- variants folded into canonical fields ---------------------------------------------------


def _tool_use_variant(value: dict[str, Any]) -> dict[str, Any]:
    if "name" not in value and ("tool_name" in value or "tool_input" in value):
        return {**value, "name": value.get("tool_name"), "input": value.get("tool_input", {})}
    return value


def _tool_result_variant(value: dict[str, Any]) -> dict[str, Any]:
    if "content" not in value and "output" in value:
        return {**value, "content": value["output"]}
    return value


def _thinking_variant(value: dict[str, Any]) -> dict[str, Any]:
    if "thinking" not in value and isinstance(value.get("content"), str):
        return {**value, "thinking": value["content"]}
    return value


def _event_start_variant(value: dict[str, Any]) -> dict[str, Any]:
    event = value.get("event")
    if not isinstance(event, dict):
        raise TypeError("event_start: expected an 'event' object")
    return {**value, "event_type": event.get("type"), "event_id": event.get("id")}


def _event_delta_variant(value: dict[str, Any]) -> dict[str, Any]:
    delta = value.get("delta")
    if not isinstance(delta, dict):
        raise TypeError("event_delta: expected a 'delta' object")
    return {
        **value,
        "delta_type": delta.get("type"),
        "index": delta.get("index", 0),
        "content": delta.get("content"),
    }


_VARIANTS: dict[type[Any], Callable[[dict[str, Any]], dict[str, Any]]] = {
    e.AgentToolUse: _tool_use_variant,
    e.AgentToolResult: _tool_result_variant,
    e.AgentThinking: _thinking_variant,
    e.EventStart: _event_start_variant,
    e.EventDelta: _event_delta_variant,
}


def _event_hook(cls: type[T]) -> Callable[[Any, Any], T]:
    """Structure one event class; fold its variants first, but keep the original as ``raw``."""
    generated = _lazy_structure_fn(cls)
    variant = _VARIANTS.get(cls)

    def hook(value: Any, _: Any) -> T:
        if value.__class__ is dict:
            fast = fastpath.by_class.get(cls)
            if fast is not None:
                event: T | None = fast(value)
                if event is not None:
                    return event
        source = variant(value) if variant is not None else value
        instance = generated(source, cls)
        object.__setattr__(instance, "raw", value)
        return instance

    return hook


def _structure_unknown_event(value: Any, _: Any) -> e.UnknownEvent:
    kind = value.get("type")
    event_id = value.get("id")
    turn_id = value.get("turn_id")
    processed_at = value.get("processed_at")
    return e.UnknownEvent(
        type=kind if isinstance(kind, str) else "",
        id=event_id if isinstance(event_id, str) else None,
        turn_id=turn_id if isinstance(turn_id, str) else None,
        processed_at=processed_at if isinstance(processed_at, str) else None,
        raw=value,
    )


_KNOWN_EVENTS: tuple[type[Any], ...] = (
    e.UserMessageEvent,
    e.UserInterrupt,
    e.UserToolConfirmation,
    e.UserCustomToolResult,
    e.AgentMessageEvent,
    e.AgentThinking,
    e.AgentToolUse,
    e.AgentToolResult,
    e.AgentMCPToolUse,
    e.AgentMCPToolResult,
    e.AgentCustomToolUse,
    e.SessionStatusRunning,
    e.SessionStatusIdle,
    e.SessionStatusRescheduled,
    e.SessionStatusTerminated,
    e.Terminated,
    e.SessionError,
    e.SessionDeleted,
    e.SpanModelRequestStart,
    e.SpanModelRequestEnd,
    e.EventStart,
    e.EventDelta,
)

converter.register_structure_hook(b.TextBlock, lambda v, _: _text_block(v))
for _cls in _KNOWN_EVENTS:
    converter.register_structure_hook(_cls, _event_hook(_cls))
# The fallback must be registered before the union is configured: hooks are captured then.
converter.register_structure_hook(e.UnknownEvent, _structure_unknown_event)


def _union_member(cls: type[T]) -> Callable[[Any], T]:
    hook = converter.get_structure_hook(cls)
    return lambda value: hook(value, cls)


# The tagged union on ``type`` (what cattrs' configure_tagged_union builds, structure side
# only: nothing unstructures events, and that strategy would generate an unstructure function
# per class at import). A dict without ``type`` goes to UnknownEvent's hook, as does an
# unknown tag.
_default_event = _union_member(e.UnknownEvent)
_union_members: tuple[type[Any], ...] = e.WireEvent.__args__
_union_hooks: dict[Any, Callable[[Any], e.WireEvent]] = {
    str(cls.__dict__["type"]): _union_member(cls) for cls in _union_members
}


def _structure_tagged_event(value: Any, _: Any) -> e.WireEvent:
    if "type" in value:
        return _union_hooks.get(value["type"], _default_event)(value)
    return _default_event(value)


converter.register_structure_hook(e.WireEvent, _structure_tagged_event)


def _text_block(value: Any) -> b.TextBlock:
    block = _structure_block(value)
    if not isinstance(block, b.TextBlock):
        raise TypeError(f"expected a text block, got {block.type!r}")
    return block


_structure_wire_event: Callable[[Any, Any], e.WireEvent] = converter.get_structure_hook(e.WireEvent)


def structure_event(value: dict[str, Any]) -> e.WireEvent:
    """Structure one wire object (a dict with a string ``type``) into its event class.

    Raises on a known field with the wrong JSON type; :func:`decode_frame` catches that.
    """
    return _structure_wire_event(value, e.WireEvent)


# --- SSE frames to events --------------------------------------------------------------------


def _describe(error: Exception) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error, path="data"))
    return f"{type(error).__name__}: {error}"


def _malformed(
    name: str, frame_id: str | None, data: str, kind: str, reason: str, **extra: Any
) -> e.MalformedEvent:
    """The event of a bad frame (named ``name``, with ``frame_id`` and ``data``), logged once."""
    logger.warning("malformed %s frame (event id %s): %s", kind or name, frame_id or "none", reason)
    return e.MalformedEvent(type=kind or name, id=frame_id, data=data, reason=reason, **extra)


def decode_frame(frame: SSEFrame) -> e.Event | None:
    """Turn one SSE frame into an event; ``None`` for keep-alives and the ``[DONE]`` marker.

    The event type is ``data.type`` when that is a string, else the SSE event name (§5 rule
    11); the event id is the one inside the data, never one copied from an earlier frame.
    Every failure becomes a :class:`~.events.MalformedEvent`, logged once at WARNING.
    """
    name = frame.event
    if name in KEEPALIVE_EVENT_NAMES:  # rule 8
        return None
    data = frame.data
    if frame.oversized:  # rule 9
        reason = "frame data exceeded the size limit"
        return _malformed(name, frame.id, data, name, reason, oversized=True)
    if data == "[DONE]":  # rule 8
        return None
    try:
        obj = jsonio.loads(data)
    except jsonio.errors as error:  # rule 10
        return _malformed(name, frame.id, data, name, f"invalid JSON: {error}")
    if obj.__class__ is not dict and not isinstance(obj, dict):  # rule 10
        reason = f"expected a JSON object, got {type(obj).__name__}"
        return _malformed(name, frame.id, data, name, reason)
    kind = obj.get("type")
    if kind.__class__ is str and name != "error":
        fast = fastpath.by_tag.get(kind)  # a known event type: never "error"
        if fast is not None:
            try:
                event = fast(obj)  # the common shapes: same event as the union gives, faster
            except Exception as failure:  # pragma: no cover - builders do not raise
                return _malformed(name, frame.id, data, kind, _describe(failure))
            if event is not None:
                return event
    return _structure_fields(name, frame.id, data, obj, kind)


def decode_fields(frame_id: str | None, name: str, data: str) -> e.Event | None:
    """:func:`decode_frame` of a frame that is not oversized, given as its ``id``, ``event``
    and ``data`` (what :meth:`.sse.SSEDecoder.feed_parts` gives for a persisted event).

    The same steps as :func:`decode_frame`, written out again rather than called: this runs
    once per event of every stream the client reads.
    """
    if name in KEEPALIVE_EVENT_NAMES:  # rule 8
        return None
    if data == "[DONE]":  # rule 8
        return None
    try:
        obj = jsonio.loads(data)
    except jsonio.errors as error:  # rule 10
        return _malformed(name, frame_id, data, name, f"invalid JSON: {error}")
    if obj.__class__ is not dict and not isinstance(obj, dict):  # rule 10
        reason = f"expected a JSON object, got {type(obj).__name__}"
        return _malformed(name, frame_id, data, name, reason)
    kind = obj.get("type")
    if kind.__class__ is str and name != "error":
        fast = fastpath.by_tag.get(kind)  # a known event type: never "error"
        if fast is not None:
            try:
                event = fast(obj)  # the common shapes: same event as the union gives, faster
            except Exception as failure:  # pragma: no cover - builders do not raise
                return _malformed(name, frame_id, data, kind, _describe(failure))
            if event is not None:
                return event
    return _structure_fields(name, frame_id, data, obj, kind)


def _structure_fields(
    name: str, frame_id: str | None, data: str, obj: dict[str, Any], kind: Any
) -> e.Event:
    """Rules 11-13 by the generic hooks, for data ``obj`` (a dict) of type ``kind`` (any), of a
    frame named ``name`` with ``frame_id`` and ``data``."""
    if isinstance(kind, str):
        source = obj
    else:
        kind = name
        source = {**obj, "type": kind}
    if name == "error" or kind == "error":
        detail = obj.get("error")
        message = detail.get("message") if isinstance(detail, dict) else detail
        return e.StreamErrorFrame(
            id=frame_id, message=message if isinstance(message, str) else data, raw=obj
        )
    try:
        event = _structure_wire_event(source, e.WireEvent)
    except Exception as failure:
        return _malformed(name, frame_id, data, kind, _describe(failure))
    if source is not obj:
        object.__setattr__(event, "raw", obj)
    return event


def event_from_object(obj: Any) -> e.Event:
    """A persisted event as a list endpoint returns it (§3.10), typed exactly as the same
    event on the stream would be: unknown types kept, malformed ones as values."""
    from .sse import SSEFrame

    kind = obj.get("type") if isinstance(obj, dict) else None
    event_id = obj.get("id") if isinstance(obj, dict) else None
    frame = SSEFrame(
        event=kind if isinstance(kind, str) and kind else "message",
        data=json.dumps(obj, ensure_ascii=False),
        id=event_id if isinstance(event_id, str) else None,
        last_event_id="",
        retry=None,
    )
    event = decode_frame(frame)
    if event is None:  # a persisted "ping" or "heartbeat": not a keep-alive here
        return e.UnknownEvent(
            type=frame.event, id=frame.id, raw=obj if isinstance(obj, dict) else {}
        )
    return event


def block_to_wire(block: b.ContentBlock) -> dict[str, Any]:
    """One content block as the wire wants it in a request body (absent fields omitted).

    Thinking, tool-use and tool-result blocks exist only in messages this client builds;
    they have no wire form and raise :class:`TypeError`.
    """
    if isinstance(block, b.TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, b.UnknownBlock):
        return dict(block.raw)
    if isinstance(block, (b.ThinkingBlock, b.ToolUseBlock, b.ToolResultBlock)):
        raise TypeError(
            f"a {type(block).__name__} cannot be sent: it only describes what the agent did; "
            "send text, image or document blocks (or plain dicts)"
        )
    out: dict[str, Any] = {"type": block.type}
    for field in attrs.fields(type(block)):
        value = getattr(block, field.name)
        if value is None:
            continue
        if field.name == "content" and isinstance(value, tuple):
            value = [block_to_wire(item) for item in value]
        out[field.name] = value
    return out


def content_to_wire(blocks: tuple[b.ContentBlock, ...]) -> list[dict[str, Any]]:
    """Content blocks as the wire wants them in a request body."""
    return [block_to_wire(block) for block in blocks]
