"""What a failed answer means: a non-2xx response becomes the exception for its status.

:func:`error_from_response` picks the class of :mod:`qoder.errors` by status and writes a
message that says what went wrong and what to do. Every piece of server text and the URL go
through the caller's ``redact`` first, so an error can be logged or shown without leaking the
access token (a server may echo a header back, a proxy may print the request line).
:func:`is_session_busy` recognises the 409 "processing a turn" answer of §2.6.
"""

from __future__ import annotations

import http
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

import attrs

from . import errors, jsonio
from .requests import BUSY_MESSAGE, NO_BODY, header_value

__all__ = ["error_from_response", "is_session_busy", "session_busy_error"]

_MAX_MESSAGE_CHARS = 500  # server text quoted in an exception message; the body keeps it all


_STATUS_CLASSES: Final[Mapping[int, type[errors.APIStatusError]]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
}


def _status_class(status: int) -> type[errors.APIStatusError]:
    if status >= 500:
        return errors.InternalServerError
    return _STATUS_CLASSES.get(status, errors.APIStatusError)


@attrs.frozen
class _ParsedBody:
    body: Any  # parsed JSON or text, every string redacted
    error_type: str | None
    error_message: str | None
    param: str | None


def _redact_json(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redact_json(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(item, redact) for item in value]
    return value


def _load_json(body: bytes) -> Any:
    """The parsed body, or ``NO_BODY`` when it is not JSON."""
    try:
        return jsonio.loads(body)
    except jsonio.errors:  # not JSON, not UTF-8, or nested too deep: kept as text
        return NO_BODY


def _parse_body(body: bytes, redact: Callable[[str], str]) -> _ParsedBody:
    parsed = _load_json(body) if body.strip() else NO_BODY
    if parsed is NO_BODY:
        text = redact(body.decode("utf-8", errors="replace"))
        return _ParsedBody(text, None, text.strip() or None, None)
    parsed = _redact_json(parsed, redact)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    kind = message = param = None
    if isinstance(error, dict):
        kind, message, param = error.get("type"), error.get("message"), error.get("param")
    elif isinstance(parsed, dict):  # tolerate {"error": "text"} and {"message": "text"}
        message = error if isinstance(error, str) else parsed.get("message")
    return _ParsedBody(
        parsed,
        kind if isinstance(kind, str) else None,
        message if isinstance(message, str) else None,
        param if isinstance(param, str) else None,
    )


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE_CHARS:
        return text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


_RESOURCE_PATH = re.compile(r"/(sessions|agents|environments)/([^/?#]+)")
_KINDS = {"sessions": "session", "agents": "agent", "environments": "environment"}


def _not_found_hint(parsed: _ParsedBody, url: str) -> str:
    """404: a resource that does not exist, or an endpoint that does not (a wrong base URL).

    A request that names no id (``POST /sessions``) or whose answer is not the API's error
    envelope (a proxy's HTML page) reached no endpoint; one that names an id most likely
    names a resource that is gone.
    """
    base_url = (
        "Nothing answers at this URL: check the base URL (QODER_MANAGED_BASE_URL or "
        "QoderAgentOptions(base_url=...)); it ends in /api/v1/cloud."
    )
    found = list(_RESOURCE_PATH.finditer(url))
    if not found or parsed.error_type is None:
        return base_url
    kind, ident = _KINDS[found[-1].group(1)], urllib.parse.unquote(found[-1].group(2))
    return (
        f"No {kind} {ident!r} exists (it was deleted, or the id is wrong); list the {kind}s "
        f"to find one. If every {kind} gives this, check the base URL instead."
    )


def _hint(status: int, param: str | None, retries: int) -> str:
    """What the user can do about a status, after every automatic retry was spent."""
    if status == 400:
        where = f" (the server names {param!r})" if param else ""
        return f"Check the arguments of the call{where}."
    if status == 401:
        return "Check QODER_PERSONAL_ACCESS_TOKEN or QoderAgentOptions(auth=...)."
    if status == 403:
        return (
            "The token is valid but may not do this: check its permissions and the workspace "
            "(QoderAgentOptions(workspace_id=...))."
        )
    if status == 409:
        return (
            "The request conflicts with the session's state (archived, or an idempotency key "
            "reused with another body); retrieve the session to check it."
        )
    if status == 422:
        return "The request was understood but not accepted: check the values of its arguments."
    if status in (408, 429) or status >= 500:
        what = "rate-limited" if status == 429 else "failing"
        return (
            f"Retried {_times(retries)}; the server is still {what}. Wait and try again, or "
            "allow more retries with QoderAgentOptions(max_retries=...)."
        )
    return "This status is unexpected here; the request id helps the server's operators."


def _message(status: int, parsed: _ParsedBody, request_id: str | None, hint: str) -> str:
    label = parsed.error_type
    if label is None:
        try:
            label = http.HTTPStatus(status).phrase
        except ValueError:
            label = "error"
    text = f"{status} {label}"
    server_text = _shorten(parsed.error_message or "").removesuffix(".")
    if server_text:
        text += f": {server_text}"
    if request_id:
        text += f" (request id {request_id})"
    return f"{text}. {hint}"


_E = TypeVar("_E", bound=errors.APIStatusError)


def _build(
    cls: type[_E],
    *,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    method: str,
    url: str,
    redact: Callable[[str], str],
    hint: Callable[[_ParsedBody], str],
) -> _E:
    parsed = _parse_body(body, redact)
    request_id = header_value(headers, "x-request-id") or header_value(headers, "request-id")
    request_id = redact(request_id) if request_id else None
    return cls(
        _message(status, parsed, request_id, hint(parsed)),
        status_code=status,
        error_type=parsed.error_type,
        error_message=parsed.error_message,
        request_id=request_id,
        body=parsed.body,
        method=method,
        url=redact(url),
    )


def error_from_response(
    *,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    method: str,
    url: str,
    redact: Callable[[str], str],
    retries: int = 0,
) -> errors.APIStatusError:
    """The exception for a non-2xx answer, picked by status (see :mod:`qoder.errors`).

    The envelope ``{"type":"error","error":{"type","message","param"}}`` gives
    ``error_type`` and ``error_message``; a non-JSON body is kept as text (``error_type`` is
    then ``None``). ``request_id`` is ``x-request-id``, else ``request-id``. ``retries`` is how
    many automatic retries were spent, named in the message of 408/429/5xx. ``redact`` is
    applied to the URL and to every string taken from the answer before it is stored.
    """
    return _build(
        _status_class(status),
        status=status,
        headers=headers,
        body=body,
        method=method,
        url=url,
        redact=redact,
        hint=lambda parsed: (
            _not_found_hint(parsed, url) if status == 404 else _hint(status, parsed.param, retries)
        ),
    )


def session_busy_error(
    *,
    headers: Mapping[str, str],
    body: bytes,
    method: str,
    url: str,
    redact: Callable[[str], str],
    attempts: int,
) -> errors.SessionBusyError:
    """The :class:`~qoder.errors.SessionBusyError` after ``attempts`` busy answers (§2.6)."""

    def hint(_: _ParsedBody) -> str:
        return (
            f"The session was still running a turn after {attempts} attempts: wait for the turn "
            "to finish, or interrupt() it (or cancel the session) before sending."
        )

    return _build(
        errors.SessionBusyError,
        status=409,
        headers=headers,
        body=body,
        method=method,
        url=url,
        redact=redact,
        hint=hint,
    )


def is_session_busy(status: int, body: bytes) -> bool:
    """True for the 409 "Session is currently processing a turn" answer (§2.6).

    The raw text is checked first (cheap, and works on a body that is not JSON); the parsed
    ``error.message`` catches a body whose JSON escapes the text (``\\u0053ession``).
    """
    if status != 409:
        return False
    if BUSY_MESSAGE.encode() in body:
        return True
    parsed = _load_json(body)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return isinstance(message, str) and message.startswith(BUSY_MESSAGE)
