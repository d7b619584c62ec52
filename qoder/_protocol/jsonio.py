"""The JSON parser of the stream's hot path: orjson when the extra is installed, else the
stdlib's own scanner, called without ``json.loads``' Python wrapper.

Both give the same values for valid JSON and a ``ValueError`` for invalid JSON, so decoded events
are identical whichever is in use; :func:`use_json_backend` switches (benchmarks and tests).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["errors", "json_backend", "loads", "loads_stdlib", "use_json_backend"]

try:  # the optional `orjson` extra decodes several times faster than the stdlib
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _orjson = None  # type: ignore[assignment]

_json_decoder: Any = json.decoder.JSONDecoder()
_scan_once: Callable[[str, int], tuple[Any, int]] = _json_decoder.scan_once


def loads_stdlib(data: str | bytes) -> Any:
    """``json.loads``, minus its Python wrapper in the common case (about 0.5 µs a call).

    The decoder's own scanner (C when available) parses a text that starts with a value; the
    result is kept only if the value ends the text. Anything else (leading or trailing
    whitespace, errors, bytes) is handed to ``json.loads`` itself, so results and exceptions
    are exactly those of ``json.loads``.
    """
    if data.__class__ is str:
        try:
            value, end = _scan_once(data, 0)
        except (StopIteration, ValueError):
            pass
        else:
            if end == len(data):
                return value
    return json.loads(data)


loads: Callable[[str | bytes], Any] = loads_stdlib
"""The JSON parser in use (see :func:`use_json_backend`); read it as ``jsonio.loads``."""
errors: tuple[type[Exception], ...] = (ValueError, RecursionError)
"""What :data:`loads` raises for invalid JSON (the stdlib parser: a ``RecursionError`` for
JSON nested deeper than the interpreter's recursion limit; orjson stops at 1,024 levels)."""


def use_json_backend(name: Literal["stdlib", "orjson"]) -> None:
    """Choose the JSON parser of the stream decoder: ``"orjson"`` or the ``"stdlib"`` one.

    At import, ``orjson`` is chosen when the extra is installed, else the stdlib. Both give the
    same values for valid JSON and a ValueError for invalid JSON, so events are identical; only
    the ``reason`` text of a malformed event differs. Meant for benchmarks and tests: it rebinds
    :data:`loads` in this module (code that imported ``loads`` by name keeps its parser).
    Raises ``ValueError`` for an unknown name, ``ImportError`` for ``"orjson"`` when absent.
    """
    global loads, errors
    if name == "stdlib":
        loads, errors = loads_stdlib, (ValueError, RecursionError)
    elif name == "orjson":
        if _orjson is None:
            raise ImportError("the orjson backend needs the 'orjson' extra")
        loads, errors = _orjson.loads, (_orjson.JSONDecodeError, ValueError)
    else:
        raise ValueError(f"unknown JSON backend {name!r}; expected 'stdlib' or 'orjson'")


def json_backend() -> Literal["stdlib", "orjson"]:
    """The name of the JSON parser in use now."""
    return "stdlib" if loads is loads_stdlib else "orjson"


if _orjson is not None:
    use_json_backend("orjson")
