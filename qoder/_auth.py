"""The access token: how this client holds it, and every form ``auth=`` takes.

An :class:`AccessToken` never shows its value in a ``repr``, a ``str`` or an error; an
:class:`EnvAccessToken` names the environment variable to read it from at ``connect()``.
``auth=`` also takes the token as a plain string (wrapped at once) and the official SDK's auth
values (:func:`secret_of`). Re-exported by :mod:`qoder.options` and :mod:`qoder`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from ._porting import OptionTypeError
from .errors import ConfigurationError

__all__ = [
    "TOKEN_ENV_VARS",
    "AccessToken",
    "AuthInput",
    "EnvAccessToken",
    "access_token",
    "access_token_from_env",
    "as_secret",
    "secret_of",
]

TOKEN_ENV_VARS = ("QODER_PERSONAL_ACCESS_TOKEN", "QODER_ACCESS_TOKEN", "QODER_PAT")


def _clean_token(value: str) -> str:
    """Strip surrounding white space (a token read from a file ends with a newline) and refuse
    what cannot go in an HTTP header, without ever echoing the value."""
    token = value.strip()
    if not token or not all("!" <= char <= "~" for char in token):
        raise ConfigurationError(
            "The access token is empty or contains characters that cannot be sent in an HTTP "
            "header (spaces, control or non-ASCII characters); check where it was read from."
        )
    return token


@attrs.frozen(repr=False)
class AccessToken:
    """A personal access token. Its ``repr`` and ``str`` never show it; use :meth:`reveal`.

    Surrounding white space is stripped; anything else that cannot be sent in a header is a
    :class:`~qoder.ConfigurationError` that does not show the value.
    """

    _value: str = attrs.field(alias="value", converter=_clean_token)

    def reveal(self) -> str:
        """The token itself, for the ``Authorization`` header and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "AccessToken('***')"

    __str__ = __repr__


@attrs.frozen
class EnvAccessToken:
    """A token read from the environment variable ``env_var`` when the client connects."""

    env_var: str = TOKEN_ENV_VARS[0]

    def resolve(self, environ: Mapping[str, str]) -> AccessToken:
        """The token, or :class:`ConfigurationError` naming the variable when it is unset."""
        value = environ.get(self.env_var, "").strip()
        if not value:
            raise ConfigurationError(
                f"The environment variable {self.env_var} is not set (or blank): set it to "
                "your Qoder personal access token, or pass auth=access_token('...')."
            )
        return AccessToken(value)


def access_token_from_env(env_var: str = TOKEN_ENV_VARS[0]) -> EnvAccessToken:
    """Read the access token from ``env_var`` (default ``QODER_PERSONAL_ACCESS_TOKEN``) at
    ``connect()``, as the official SDK's helper of the same name does."""
    return EnvAccessToken(env_var)


def access_token(token: str) -> AccessToken:
    """Wrap a token given in code, so that it stays out of reprs and logs."""
    return AccessToken(token)


class OfficialAuth(Protocol):
    """The official SDK's auth values (``qoder_agent_sdk.access_token(...)`` and the like):
    anything with a ``type``."""

    @property
    def type(self) -> str: ...


AuthInput = AccessToken | EnvAccessToken | str | Mapping[str, Any] | OfficialAuth | None
"""What ``auth=`` takes: see :func:`secret_of`."""

_AUTH_FIX = (
    "auth must be access_token('...'), access_token_from_env('VAR') or the token as a string"
)
_UNSUPPORTED_AUTH = {
    "qodercli": "the qodercli login",
    "serviceAccount": "service accounts",
    "jobToken": "job tokens",
}


def _official_auth(kind: object, token: object) -> AccessToken | EnvAccessToken:
    """The official SDK's ``AccessTokenAuthOptions`` (its dataclass or its dict form)."""
    if isinstance(kind, str) and kind in _UNSUPPORTED_AUTH:
        raise ConfigurationError(
            f"auth: {_UNSUPPORTED_AUTH[kind]} cannot sign in to Cloud Agents from this "
            "client; use a personal access token: auth=access_token_from_env() (reads "
            "QODER_PERSONAL_ACCESS_TOKEN) or auth=access_token('...')"
        )
    if kind != "accessToken":
        raise ConfigurationError(f"{_AUTH_FIX}; an auth of type {kind!r} is unknown")
    if isinstance(token, str):
        return AccessToken(token)
    env_var = (
        token.get("env_var") if isinstance(token, Mapping) else getattr(token, "env_var", None)
    )
    if isinstance(env_var, str) and env_var:
        return EnvAccessToken(env_var)
    raise OptionTypeError(f"{_AUTH_FIX}; its access_token is a {type(token).__name__}")


def as_secret(value: AuthInput) -> AccessToken | EnvAccessToken | None:
    """``auth`` as this client keeps it (typed for the type checker; see :func:`secret_of`)."""
    return secret_of(value)


def secret_of(value: object) -> AccessToken | EnvAccessToken | None:
    """``auth`` as this client keeps it. A token given as a plain string is wrapped at once,
    so no repr can show it; the official helpers' values (``qoder_agent_sdk.access_token()``,
    ``access_token_from_env()`` or their dict form) are taken too. The value is never shown
    in an error."""
    if value is None or isinstance(value, (AccessToken, EnvAccessToken)):
        return value
    if isinstance(value, str):
        return AccessToken(value.strip()) if value.strip() else None
    if isinstance(value, Mapping):
        return _official_auth(value.get("type"), value.get("access_token"))
    kind = getattr(value, "type", None)
    if isinstance(kind, str):
        return _official_auth(kind, getattr(value, "access_token", None))
    raise OptionTypeError(f"{_AUTH_FIX}, not {type(value).__name__}")
