"""Etherscan's answer envelope, ``{"status": "1", "message": "OK", "result": ...}``.

Etherscan answers errors with HTTP 200 and ``status`` ``"0"``, the cause in ``result``
(its "Common Error Messages" page)::

    {"status": "0", "message": "NOTOK", "result": "Max calls per sec rate limit reached (3/sec)"}

:func:`check_body` is the plugin's in-band error check: the core's transport runs it on
every success body, so a rate limit reported this way is retried like an HTTP 429 and
an invalid key is an authentication error, with the key redacted from any text the
provider echoes. Two ``status "0"`` answers are not errors and pass through:
``"No transactions found"`` (an empty list) and ``"No closest block found"`` (no
block at or before a time).
"""

from __future__ import annotations

from typing import Any

from asof.plugin import (
    AuthenticationError,
    BodyError,
    ProviderError,
    ProviderRequestError,
    RateLimited,
    UpstreamError,
)

__all__ = ["NO_BLOCK", "NO_TRANSACTIONS", "check_body", "is_empty"]

#: ``message`` of an empty transfer list (``result`` is ``[]``).
NO_TRANSACTIONS = "No transactions found"
#: Words of ``result`` when no block lies on the asked side of a time.
NO_BLOCK = "No closest block found"

# (words found in the lowercased text, the error) in order; the first match wins.
_KINDS: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (("rate limit",), RateLimited),
    (("invalid api key", "missing/invalid api key", "too many invalid api key"),
     AuthenticationError),
    (("api pro endpoint", "pro endpoint"), AuthenticationError),
    (("timeout", "timed out", "try again later", "temporarily unavailable"), UpstreamError),
)


def _text(body: dict[str, Any]) -> str:
    parts = [body.get("message"), body.get("result")]
    return ": ".join(p for p in parts if isinstance(p, str) and p)


def is_empty(body: Any) -> bool:
    """Whether ``body`` is Etherscan's "nothing found" answer for a list or a block."""
    if not isinstance(body, dict) or body.get("status") != "0":
        return False
    return body.get("message") == NO_TRANSACTIONS or NO_BLOCK.lower() in _text(body).lower()


def check_body(body: Any) -> BodyError | None:
    """The error an Etherscan envelope reports with HTTP 200, or ``None``.

    ``status "0"`` with a rate-limit text is :class:`~asof.errors.RateLimited` (retried
    after a second), an invalid key or a PRO endpoint asked on a free key is
    :class:`~asof.errors.AuthenticationError`, a query timeout is
    :class:`~asof.errors.UpstreamError`, and anything else the provider rejects is
    :class:`~asof.errors.ProviderRequestError`.
    """
    if not isinstance(body, dict) or body.get("status") != "0" or is_empty(body):
        return None
    text = _text(body)
    lowered = text.lower()
    for words, error in _KINDS:
        if any(word in lowered for word in words):
            retry = 1.0 if error is RateLimited else None
            return BodyError(error=error, message="refused the request",
                             provider_message=text or None, retry_after=retry)
    return BodyError(error=ProviderRequestError, message="refused the request",
                     provider_message=text or None)
