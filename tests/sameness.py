"""What "the same object" means for the checks of the hand-written fast paths, and the mutations
they are checked on: shared by tests/protocol (make test) and benchmarks/equivalence.py (make
bench, before it times anything).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from qoder._protocol import convert
from qoder._protocol.convert import decode_frame
from qoder._protocol.sse import SSEFrame

__all__ = ["MISSING", "decode_both_ways", "mutations", "same"]

MISSING: Any = object()
"""A palette value that means "the field removed" (see :func:`mutations`)."""


def same(a: Any, b: Any) -> bool:
    """Equal, down to the exact type of every value and the ``raw`` of every event."""
    if type(a) is not type(b):
        return False
    if attrs.has(type(a)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def decode_both_ways(frame: SSEFrame) -> tuple[Any, Any]:
    """``decode_frame(frame)`` with the hand-written builders on, then off (the generic hooks)."""
    convert.use_fast_paths(True)
    try:
        fast = decode_frame(frame)
        convert.use_fast_paths(False)
        generic = decode_frame(frame)
    finally:
        convert.use_fast_paths(True)
    return fast, generic


def mutations(
    event: dict[str, Any],
    palette: Iterable[Any],
    *,
    extra_keys: Iterable[str] = (),
    skip: Iterable[str] = ("type",),
    nested: Iterable[str] = ("model_usage", "usage", "stop_reason"),
) -> Iterator[dict[str, Any]]:
    """Copies of ``event`` with one field changed: each of its keys but ``skip``, and each of
    ``extra_keys``, set to every value of ``palette`` (:data:`MISSING`: removed); then the same
    for the keys of each ``nested`` object it has, plus ``event_ids`` and ``type``."""
    values = tuple(palette)
    skipped = set(skip)
    keys = [key for key in event if key not in skipped]
    for key in dict.fromkeys([*keys, *extra_keys]):
        for value in values:
            mutated = copy.deepcopy(event)
            if value is MISSING:
                mutated.pop(key, None)
            else:
                mutated[key] = copy.deepcopy(value)
            yield mutated
    for key in nested:
        inner_object = event.get(key)
        if isinstance(inner_object, dict):
            for inner in [*inner_object, "event_ids", "type"]:
                for value in values:
                    mutated = copy.deepcopy(event)
                    if value is MISSING:
                        mutated[key].pop(inner, None)
                    else:
                        mutated[key][inner] = copy.deepcopy(value)
                    yield mutated
