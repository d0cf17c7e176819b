"""Every error asof raises, in one tree.

Catch :class:`AsofError` to catch them all. Errors caused by the caller's input also
inherit the matching Python builtin, so code that already handles ``ValueError`` or
``LookupError`` keeps working::

    AsofError
    ├── InputError (ValueError)            bad input from the caller; names the field
    │   ├── InvalidAddress                 a wallet, account, token or mint address
    │   ├── InvalidPoint                   a time, date, slot or block that cannot be read
    │   └── InvalidRange                   an end before its start, a bad grid, ...
    ├── ConfigError (ValueError)           a configuration file or variable is wrong
    ├── UnknownChain (LookupError)         a chain name, alias or CAIP-2 id nobody knows
    ├── UnknownToken (LookupError)         a token symbol the registry does not know
    ├── UnknownProvider (LookupError)      a provider name no installed plugin declares
    ├── PluginError                        a plugin broke its contract (bad hook, bad answer)
    ├── NoRoute (LookupError)              no provider can answer; carries the route's reasons
    ├── ArchiveError                       the embedded archive cannot be read or written
    └── ProviderError                      a provider refused or failed; keeps its own message
        ├── ProviderRequestError (ValueError)    400 / 422: the provider rejected the request
        ├── AuthenticationError                  401 / 403, or a required credential is missing
        ├── NotFoundError (LookupError)          404
        ├── ResponseError                        200 with a body that breaks the documented shape
        └── RetryableError                       worth another attempt, here or elsewhere
            ├── RateLimited                      429; ``retry_after`` in seconds when known
            ├── UpstreamError                    5xx
            ├── ProviderTimeout (TimeoutError)   no answer in time
            └── TransportError (ConnectionError) the connection failed

Provider errors for HTTP failures are raised by the core's transport, never built by
hand from a status code in a plugin: the status-to-error map lives in
:data:`STATUS_ERRORS`. An error a provider reports inside a success answer is declared
by the plugin (``ProviderInfo.check_body`` returning a
:class:`~asof.provider.BodyError` that names the class) and built by the transport too.
A plugin may still raise a ``ProviderError`` subclass itself for a refusal it finds
while translating an answer; it then keeps credentials out of the text. Messages built
by the transport never contain a credential: it redacts every secret it knows first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "STATUS_ERRORS",
    "ArchiveError",
    "AsofError",
    "AuthenticationError",
    "ConfigError",
    "InputError",
    "InvalidAddress",
    "InvalidPoint",
    "InvalidRange",
    "NoRoute",
    "NotFoundError",
    "PluginError",
    "ProviderError",
    "ProviderRequestError",
    "ProviderTimeout",
    "RateLimited",
    "ResponseError",
    "RetryableError",
    "TransportError",
    "UnknownChain",
    "UnknownProvider",
    "UnknownToken",
    "UpstreamError",
    "error_for_status",
]


class AsofError(Exception):
    """Base of every error asof raises."""


class InputError(AsofError, ValueError):
    """The caller's input cannot be used.

    ``field`` names the offending argument or record field and ``value`` holds what was
    given (never a secret).
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {message}" if field else message)


class InvalidAddress(InputError):
    """A wallet, account, token or mint address that is not valid for its chain."""


class InvalidPoint(InputError):
    """A moment that cannot be read: bad time format, impossible date, negative slot."""


class InvalidRange(InputError):
    """A range or grid that cannot be used: end before start, zero step, too fine a grid."""


class ConfigError(AsofError, ValueError):
    """A configuration file, section or environment variable is wrong."""


class UnknownChain(AsofError, LookupError):
    """A chain name, alias or CAIP-2 id that asof does not know."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown chain {name!r} (see `asof chains`)")


class UnknownToken(AsofError, LookupError):
    """A token symbol that the built-in registry does not know for that chain."""

    def __init__(self, chain: str, symbol: str) -> None:
        self.chain = chain
        self.symbol = symbol
        super().__init__(
            f"unknown token {symbol!r} on {chain}: give the token's address or mint instead"
        )


class UnknownProvider(AsofError, LookupError):
    """A provider name that no installed and allowed plugin declares."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown provider {name!r} (see `asof plugins`)")


class PluginError(AsofError):
    """A plugin broke its contract: a missing or malformed hook, or an answer of the
    wrong type."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin}: {message}")


class NoRoute(AsofError, LookupError):
    """No provider can answer a query. ``reasons`` says, per provider, why not; the
    last provider error met on the way, if any, is chained as ``__cause__``."""

    def __init__(self, message: str, *, reasons: Sequence[tuple[str, str]] = ()) -> None:
        self.reasons = tuple(reasons)
        detail = "; ".join(f"{name}: {why}" for name, why in self.reasons)
        super().__init__(f"{message} ({detail})" if detail else message)


class ArchiveError(AsofError):
    """The embedded archive cannot be opened, read, migrated or written."""


class ProviderError(AsofError):
    """A provider refused or failed a request.

    ``provider`` names it, ``status`` is the HTTP status (``None`` when there was no
    answer), ``provider_message`` is the provider's own words, kept as they came (with
    secrets redacted), and ``details`` holds any structured detail it gave (for example
    the ``loc`` and ``msg`` of a validation error).
    """

    retryable = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        provider_message: str | None = None,
        details: Any = None,
        field: str | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.provider_message = provider_message
        self.details = details
        self.field = field
        text = f"{provider}: {message}"
        if status is not None:
            text += f" (HTTP {status})"
        if provider_message and provider_message not in message:
            text += f": {provider_message}"
        super().__init__(text)


class ProviderRequestError(ProviderError, ValueError):
    """The provider rejected the request as invalid (400, 422)."""


class AuthenticationError(ProviderError):
    """The credential is missing, wrong or not allowed (401, 403)."""


class NotFoundError(ProviderError, LookupError):
    """The provider says the thing asked for does not exist (404)."""


class ResponseError(ProviderError):
    """The provider answered, but not in the documented shape."""


class RetryableError(ProviderError):
    """A failure worth another attempt: the transport retries it, then the router
    falls over to the next provider on the route. ``retry_after`` is the wait, in
    seconds, the provider asked for (a ``Retry-After`` header), when it said."""

    retryable = True
    retry_after: float | None = None


class RateLimited(RetryableError):
    """429: too many requests. ``retry_after`` is the wait the provider asked for, in
    seconds, when it said."""

    def __init__(
        self, provider: str, message: str, *, retry_after: float | None = None, **kw: Any
    ) -> None:
        self.retry_after = retry_after
        super().__init__(provider, message, **kw)


class UpstreamError(RetryableError):
    """5xx: the provider or something behind it failed."""


class ProviderTimeout(RetryableError, TimeoutError):
    """The provider did not answer in time."""


class TransportError(RetryableError, ConnectionError):
    """The connection to the provider failed (DNS, refused, reset, TLS)."""


STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: ProviderRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    408: ProviderTimeout,
    409: ProviderRequestError,
    413: ProviderRequestError,
    422: ProviderRequestError,
    429: RateLimited,
    500: UpstreamError,
    502: UpstreamError,
    503: UpstreamError,
    504: ProviderTimeout,
}

_STATUS_WORDS = {
    400: "rejected the request",
    401: "refused the credential",
    403: "refused access",
    404: "found nothing there",
    408: "timed out",
    409: "rejected the request",
    413: "rejected the request as too large",
    422: "rejected the request as invalid",
    429: "rate limit exceeded",
    500: "internal error",
    502: "upstream error",
    503: "unavailable",
    504: "gateway timeout",
}


def error_for_status(status: int) -> tuple[type[ProviderError], str]:
    """The error class and a short phrase for an HTTP status that is not a success."""
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status], _STATUS_WORDS[status]
    if status >= 500:
        return UpstreamError, "server error"
    if status >= 400:
        return ProviderRequestError, "rejected the request"
    return ResponseError, f"unexpected status {status}"
