"""Making frozen attrs instances without their ``__init__``: fill a draft, then retype it.

The hot paths (the SSE bulk readers of :mod:`.sse_bulk`, the event builders of
:mod:`.fastpath`) make many small frozen objects. For a class without validators, converters or
init hooks, all that attrs' generated ``__init__`` does is store each field with
``object.__setattr__``, one call per field (the class's own ``__setattr__`` refuses). Those
calls are most of the cost of a small object: about 60 ns a field, through ``__init__`` or
through the slot's own setter alike.

:func:`draft_class` makes a subclass of such a class that adds nothing to its layout (no slot,
no dict) and keeps ``object``'s ``__setattr__``. Its instances take plain assignments
(``draft.text = text``), which the interpreter turns into a direct store into the slot (about
10 ns). Once every field is set, ``draft.__class__ = cls`` (allowed: the layouts are the same)
makes it an instance of ``cls`` itself: the very object ``cls(...)`` would have made, same
type, same slots, same values. A draft must never escape half-filled: the builders set every
field before retyping, and create, fill and retype in one function. :func:`plain` tells whether
a class qualifies; the users check it at import, so that a class edited later (a validator
added, a field renamed) is noticed.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["draft_class", "plain"]


def draft_class(cls: type[Any]) -> type[Any]:
    """A subclass of the slotted attrs class ``cls`` whose instances take plain assignments.

    ``cls()`` of the draft makes an empty instance (no field set); set every field of ``cls``
    on it, then assign ``cls`` to its ``__class__``. Raises ``TypeError`` if ``cls`` is not a
    slotted class (a draft would then differ from it in layout).
    """
    if cls.__dictoffset__ or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__qualname__} is not a slotted class")
    namespace = {
        "__slots__": (),  # the same layout as cls: __class__ can be switched both ways
        "__setattr__": object.__setattr__,  # both, so that assignments go straight to
        "__delattr__": object.__delattr__,  # the slot (one Python-level hook and they would not)
        "__init__": object.__init__,  # draft() makes an empty instance
        "__module__": cls.__module__,
        "__doc__": f"A {cls.__qualname__} being filled (see qoder._protocol.slots).",
    }
    return type(f"{cls.__name__}Draft", (cls,), namespace)


def plain(cls: type[Any], *fields: str) -> bool:
    """``cls`` has exactly ``fields``, and its ``__init__`` would only store them."""
    if not attrs.has(cls) or {field.name for field in attrs.fields(cls)} != set(fields):
        return False
    hooks = ("__attrs_pre_init__", "__attrs_post_init__")
    return not any(hasattr(cls, hook) for hook in hooks) and all(
        field.validator is None and field.converter is None and field.on_setattr is None
        for field in attrs.fields(cls)
    )
