"""Where a token is cut out of text (qoder._protocol.redaction), and where it is left alone."""

from __future__ import annotations

import pytest

from qoder._protocol.calls import Caller
from qoder._protocol.redaction import MIN_TOKEN_LENGTH, hide
from qoder._protocol.retry import _without
from qoder.options import resolve_options

URL_TEXT = (
    "POST http://127.0.0.1:1/api/v1/cloud/environments got no response (not retried) (ConnectError)"
)
LONG = "pat-0123456789abcdef"


@pytest.mark.parametrize("token", ["t", "1", "e", "api", "cloud"])
def test_a_short_token_does_not_mangle_urls_and_words(token: str) -> None:
    assert hide(URL_TEXT, token) == URL_TEXT


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("t", "***"),
        ("Bearer t", "Bearer ***"),
        ("{'Authorization': 'Bearer t'}", "{'Authorization': 'Bearer ***'}"),
        ('{"token": "t"}', '{"token": "***"}'),
        ("invalid token t.", "invalid token ***."),
        ("invalid token t: expired", "invalid token ***: expired"),
        ("(t)", "(***)"),
        ("at.t tt t1 1t", "at.t tt t1 1t"),
    ],
)
def test_a_short_token_is_hidden_as_a_whole_word(text: str, hidden: str) -> None:
    assert hide(text, "t") == hidden


@pytest.mark.parametrize(
    "text",
    [LONG, f"Bearer {LONG}", f"x{LONG}y", f"'a\\n{LONG}'", f"https://h/p?token={LONG}&a=1"],
)
def test_a_token_of_real_length_is_hidden_wherever_it_occurs(text: str) -> None:
    assert len(LONG) >= MIN_TOKEN_LENGTH
    assert LONG not in hide(text, LONG)
    assert "***" in hide(text, LONG)


def test_the_caller_and_the_refresh_redaction_use_the_same_rule() -> None:
    caller = Caller(resolve_options(None, {"QODER_PAT": "1", "QODER_AGENT_ID": "a"}))
    assert caller.redact(URL_TEXT) == URL_TEXT
    assert caller.redact("Bearer 1") == "Bearer ***"
    later = _without("t", caller.redact)
    assert later(URL_TEXT) == URL_TEXT
    assert later("Bearer 1, then Bearer t") == "Bearer ***, then Bearer ***"
