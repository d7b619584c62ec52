"""Every exception ``qoder`` raises, in one tree rooted at :class:`QoderError`::

    QoderError
    ├── ConfigurationError          options or environment incomplete (raised by connect())
    ├── ClientStateError            a method called in the wrong lifecycle state
    ├── UnsupportedFeatureError     an official SDK method Cloud Agents has no counterpart for
    ├── PromptBlockedError          a UserPromptSubmit hook blocked the prompt (nothing posted)
    ├── ProtocolError               the server broke the protocol beyond what can be carried on
    └── APIError                    a request failed
        ├── APIConnectionError      no response: connect failure, reset, ...
        │   └── APITimeoutError     ... or a timeout
        └── APIStatusError          a non-2xx response (status_code, error_type, request_id)
            ├── BadRequestError             400
            ├── AuthenticationError         401
            ├── PermissionDeniedError       403
            ├── NotFoundError               404
            ├── ConflictError               409
            │   └── SessionBusyError        409 "processing a turn", after every retry
            ├── UnprocessableEntityError    422
            ├── RateLimitError              429
            └── InternalServerError         5xx

Messages say what went wrong and what to do about it; they never contain the access token.
What goes wrong *inside* a turn (a ``session.error``, a lost stream) is not raised: it ends the
turn with a :class:`~qoder.ResultMessage` whose ``is_error`` is true, so no message is lost.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientStateError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "PromptBlockedError",
    "ProtocolError",
    "QoderError",
    "RateLimitError",
    "SessionBusyError",
    "UnprocessableEntityError",
    "UnsupportedFeatureError",
]


class QoderError(Exception):
    """The root of every exception this library raises."""


class UnsupportedFeatureError(QoderError, NotImplementedError):
    """A method of the official ``qoder-agent-sdk`` client that Cloud Agents cannot do (it
    drives a local ``qodercli``): the message says why, and what to use instead."""


class PromptBlockedError(QoderError):
    """A ``UserPromptSubmit`` hook blocked the prompt: ``query()`` posted nothing."""


class ConfigurationError(QoderError):
    """The options or the environment lack something the client needs (a token, an agent)."""


class ClientStateError(QoderError):
    """A method was called in the wrong lifecycle state (``query()`` before ``connect()``...)."""


class ProtocolError(QoderError):
    """The server's answers break the protocol in a way the client cannot carry on from."""


class APIError(QoderError):
    """A request to the API failed. ``method`` and ``url`` name it (never with credentials)."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APIConnectionError(APIError):
    """No response arrived: the connection failed, was reset, or the server is unreachable."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class APIStatusError(APIError):
    """The API answered with a non-2xx status.

    ``status_code``; ``error_type`` and ``error_message`` from the error envelope (or ``None``
    and the raw text for a non-JSON body); ``request_id`` from ``x-request-id``; ``body`` as
    parsed JSON or text.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: str | None = None,
        error_message: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.error_type = error_type
        self.error_message = error_message
        self.request_id = request_id
        self.body = body


class BadRequestError(APIStatusError):
    """400: the request was invalid (``error_message`` says which field)."""


class AuthenticationError(APIStatusError):
    """401: the access token is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the token may not do this."""


class NotFoundError(APIStatusError):
    """404: no such agent, environment or session (or it was deleted)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the session's state (archived, idempotency reuse...)."""


class SessionBusyError(ConflictError):
    """409 "Session is currently processing a turn", still so after every retry."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but not acceptable."""


class RateLimitError(APIStatusError):
    """429: too many requests, still so after every retry."""


class InternalServerError(APIStatusError):
    """5xx: the server failed, still so after every retry."""
