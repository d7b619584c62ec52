"""Making frozen attrs instances without their ``__init__``: the raw setters of their slots.

The hot paths (the SSE bulk readers of :mod:`.sse_bulk`, the event builders of
:mod:`.fastpath`) make many small frozen objects. For a class without validators, converters or
init hooks, all that attrs' generated ``__init__`` does is store each field with
``object.__setattr__`` (bypassing the frozen ``__setattr__``). Creating the instance with
:data:`new_instance` and storing each field with its slot's own setter makes the very same
object, about a third faster. :func:`plain` tells whether a class qualifies; the users check it
at import, so that a class edited later (a validator added, a field renamed) is noticed.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, Final

import attrs

__all__ = ["Setter", "new_instance", "plain", "slot_setter"]

Setter = Callable[[Any, Any], None]
"""``setter(instance, value)``: stores one field, even on a frozen instance."""

new_instance: Final[Any] = object.__new__
"""``new_instance(cls)``: an instance of ``cls`` with no field set yet (set them all)."""


def slot_setter(cls: type[Any], name: str) -> Setter:
    """The raw setter of field ``name`` of ``cls``: it bypasses the frozen class's ``__setattr__``.

    For a slotted class that is the slot's member descriptor; for any other class, a function
    calling ``object.__setattr__``, which is what attrs' ``__init__`` calls.
    """
    descriptor = getattr(cls, name, None)
    if isinstance(descriptor, types.MemberDescriptorType):
        setter: Setter = descriptor.__set__
        return setter
    return lambda instance, value: object.__setattr__(instance, name, value)  # not slotted


def plain(cls: type[Any], *fields: str) -> bool:
    """``cls`` has exactly ``fields``, and its ``__init__`` would only store them."""
    if not attrs.has(cls) or {field.name for field in attrs.fields(cls)} != set(fields):
        return False
    hooks = ("__attrs_pre_init__", "__attrs_post_init__")
    return not any(hasattr(cls, hook) for hook in hooks) and all(
        field.validator is None and field.converter is None and field.on_setattr is None
        for field in attrs.fields(cls)
    )
