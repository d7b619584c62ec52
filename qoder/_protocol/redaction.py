"""Cutting an access token out of text: where it can actually appear, and nowhere else.

A real token is long and random: any occurrence of it in a message *is* the token, so a token
of :data:`MIN_TOKEN_LENGTH` characters or more is cut out wherever it occurs (inside a repr's
``\\n`` escape too). A shorter one (a test token such as ``"t"``, which
:func:`qoder.options.resolve_options` warns about) also occurs by chance inside URLs and words:
it is cut out only as a whole word, delimited by white space, quotes or brackets (as in
``Bearer t`` or ``'t'``), so that a token ``"1"`` leaves ``http://127.0.0.1:1/api/v1`` alone.
"""

from __future__ import annotations

import functools
import re
from typing import Final

__all__ = ["MASK", "MIN_TOKEN_LENGTH", "hide"]

MIN_TOKEN_LENGTH: Final = 8
"""Tokens shorter than this cannot be real ones: they draw a warning and a narrower redaction."""

MASK: Final = "***"
"""What replaces a token."""

_BEFORE = r"(?<![^\s\"'`,;(\[{<])"
_AFTER = r"(?![^\s\"'`,;)\]}>.:!?])(?![.:!?][^\s])"


@functools.lru_cache(maxsize=64)
def _short_token_pattern(secret: str) -> re.Pattern[str]:
    return re.compile(_BEFORE + re.escape(secret) + _AFTER)


def hide(text: str, secret: str) -> str:
    """``text`` with ``secret`` replaced by :data:`MASK` wherever it can be the token."""
    if not secret or secret not in text:
        return text
    if len(secret) >= MIN_TOKEN_LENGTH:
        return text.replace(secret, MASK)
    return _short_token_pattern(secret).sub(MASK, text)
