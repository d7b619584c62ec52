"""One REST call as a flow: the client's headers and token around :func:`.retry.call_flow`.

:class:`Caller` holds what every request of a session shares (the base URL, the headers of
§2.3, the token and every token used before it, for redaction) and turns
``call_flow``'s attempts into complete :class:`~.effects.Send` effects. An expired token is
refreshed by calling the user's ``on_auth_expired`` (a :class:`~.effects.CallUser` effect), so
that facades never see the retry driver's own vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from . import jsonio
from . import requests as rq
from .config import SessionConfig
from .effects import CallUser, Effect, EffectResult, Raised, Received, RefreshAuth, Returned, Send
from .errors import ClientStateError, ProtocolError
from .redaction import hide
from .retry import RetryPolicy, call_flow

__all__ = ["Caller", "parse_json"]


class Caller:
    """The shared half of every request a session makes."""

    def __init__(
        self, config: SessionConfig, *, closed: Callable[[], bool] = lambda: False
    ) -> None:
        """``closed`` says whether the client was disconnected meanwhile (maybe by another
        thread): a request is then not sent, nor retried, but refused."""
        self.config = config
        self._closed = closed
        self.policy = RetryPolicy(max_retries=config.max_retries)
        self._token = ""
        self._secrets: list[str] = []
        self._headers: dict[str, str] = {}  # headers(), made again when the token changes
        self.set_token(config.token)

    def set_token(self, token: str) -> None:
        """Use this token from now on (at ``connect()``, and after ``on_auth_expired``)."""
        self._token = token.strip()
        if self._token and self._token not in self._secrets:
            self._secrets.append(self._token)
        config = self.config
        self._headers = rq.base_headers(
            token=self._token,
            version=config.version,
            timeout_seconds=config.timeouts.read,
            workspace_id=config.workspace_id,
            betas=config.betas,
            extra=config.default_headers,
        )

    def redact(self, text: str) -> str:
        """``text`` with every token this client has used cut out where it can be the token
        (:func:`.redaction.hide`): for every error message and log line."""
        for secret in self._secrets:
            text = hide(text, secret)
        return text

    def headers(self) -> dict[str, str]:
        """The headers of every request (§2.3), with the current token (a new dict)."""
        return dict(self._headers)

    def static_headers(self) -> dict[str, str]:
        """The headers of every request that do not change (all but the token): an HTTP
        client the facade makes carries them itself (see :class:`~.effects.OpenHTTP`)."""
        headers = self.headers()
        headers.pop("Authorization", None)
        return headers

    def url(self, request: rq.APIRequest) -> str:
        """The absolute URL of ``request``."""
        return self.config.base_url + request.path

    def call(self, request: rq.APIRequest) -> Generator[Effect, EffectResult, Any]:
        """One REST call through the retry driver; returns its JSON (``None`` if empty)."""
        url = self.url(request)
        flow = call_flow(
            request,
            policy=self.policy,
            method_url=f"{request.method} {url}",
            redact=self.redact,
            can_refresh_auth=self.config.on_auth_expired is not None,
        )
        answer: Any = None
        try:
            while True:
                try:
                    effect = flow.send(answer)
                except StopIteration as done:
                    return parse_json(done.value)
                if isinstance(effect, Send):
                    if self._closed():
                        raise ClientStateError(
                            f"{request.method} {request.path} was not sent, or not retried: "
                            "the client was disconnected meanwhile."
                        )
                    answer = yield Send(request, {**self._headers, **effect.headers}, url)
                elif isinstance(effect, RefreshAuth):
                    answer = yield from self._refresh_auth()
                else:
                    answer = yield effect
        finally:
            flow.close()

    def _refresh_auth(self) -> Generator[Effect, EffectResult, str | None]:
        hook = self.config.on_auth_expired
        assert hook is not None
        outcome = yield CallUser(hook)
        if isinstance(outcome, Raised):
            raise outcome.error
        token = outcome.value if isinstance(outcome, Returned) else None
        if not isinstance(token, str) or not token.strip():
            return None
        self.set_token(token)
        return token


def parse_json(received: Received) -> Any:
    """The JSON of a 2xx response body (``None`` for an empty body)."""
    if not received.body.strip():
        return None
    try:
        return jsonio.loads(received.body)
    except jsonio.errors as error:
        raise ProtocolError(
            f"the API answered {received.status} with a body that is not JSON"
        ) from error
