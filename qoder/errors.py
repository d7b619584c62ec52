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
    PromptBlockedError,
    ProtocolError,
    QoderError,
    RateLimitError,
    SessionBusyError,
    UnprocessableEntityError,
    UnsupportedFeatureError,
)

CLIConnectionError = APIConnectionError
"""The official SDK's name for :class:`APIConnectionError` (there it means the agent could not
be reached): the same class, so ``except CLIConnectionError`` in ported code catches it."""

QoderSDKError = QoderError
"""The official SDK's name for :class:`QoderError`, the root of every exception raised here:
the same class."""

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CLIConnectionError",
    "ClientStateError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "PromptBlockedError",
    "ProtocolError",
    "QoderError",
    "QoderSDKError",
    "RateLimitError",
    "SessionBusyError",
    "UnprocessableEntityError",
    "UnsupportedFeatureError",
]
