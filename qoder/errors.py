"""Every exception ``qoder`` raises, in one tree rooted at :class:`QoderError` (drawn in
:mod:`qoder._protocol.errors`, where the classes live so that the sans-IO core can raise them)."""

from ._protocol.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    QoderError,
    RateLimitError,
    SessionBusyError,
    UnprocessableEntityError,
)

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
    "ProtocolError",
    "QoderError",
    "RateLimitError",
    "SessionBusyError",
    "UnprocessableEntityError",
]
