"""The one HTTP stack of asof: a shared client, per-provider sessions, typed errors.

This is the only module that imports the HTTP library (``httpx2``, which keeps the
httpx API); everything else, tests included, takes it from here::

    from asof.transport import MockTransport, Request, Response, Transport

A :class:`Transport` owns one ``httpx.AsyncClient`` for a whole asof client, created on
first use (so a transport may be built outside an event loop) and closed by
:meth:`Transport.aclose` or ``async with``. :meth:`Transport.session` hands each
provider a :class:`ProviderSession`, the :class:`~asof.context.ProviderHTTP` its plugin
calls. A session:

- joins paths to the provider's base URL and sends its credentials where each one's
  :class:`~asof.provider.Credential` says (a header, a query parameter, or the URL
  path), with ``Accept: application/json`` and ``User-Agent: asof/<version>``;
- waits for the provider's rate limiter (one :class:`~asof.ratelimit.RateLimiter` per
  provider, shared by every session of that provider; with a ``rate_limit_store``, one
  :class:`~asof.budget.SharedBudget` per provider key, shared by every process using
  it, which a ``Retry-After`` answer holds off for all of them);
- parses JSON with ``parse_float=Decimal``, so no float is ever created and big
  integers stay exact;
- turns failures into :mod:`asof.errors`: timeouts into ``ProviderTimeout``, failed
  connections into ``TransportError``, a status that is not a success into the class
  :func:`~asof.errors.error_for_status` names, carrying the provider's own message (and
  the structured detail of a validation error), and a success whose body cannot be read
  (cut short, not JSON, badly compressed) into ``UnreadableResponse``, which is retried;
  ``Retry-After`` (seconds or an HTTP date, capped) lands in ``retry_after``;
- runs the provider's in-band error check (:attr:`~asof.provider.ProviderInfo.check_body`)
  on every success body and raises the :class:`~asof.provider.BodyError` it reports;
- bounds each request by one deadline, ``timeout`` seconds from sending to the last
  byte of the body (a server that drips its answer cannot hold a call longer);
- with ``blocking`` set (the synchronous :class:`asof.Client` sets it), sends a request
  with a blocking HTTP client when it is the only task of its event loop, which saves
  the event loop's share of the call; each wait is then bounded by ``timeout`` and the
  body by the deadline once the headers are in. A request among others (a bulk call,
  a page asked for ahead) goes through the asynchronous client, as always;
- retries :class:`~asof.errors.RetryableError` with exponential backoff and jitter
  (stamina), ``attempts`` tries in all, waiting what ``Retry-After`` asked plus jitter;
- redacts its credentials, and anything key-like in a configured base URL, from every
  message, detail, log line and ``repr``, before any part of a body is kept (an HTML
  page is reduced to its title);
- logs each request at DEBUG on the ``asof.http`` logger (method, URL, status, time),
  and through :mod:`logging` only: the retry library's warnings reach stderr only when
  the application configures logging (a ``NullHandler`` stands in otherwise).

Redirects are not followed: a credential header must not travel to another host.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit, urlunsplit

import anyio
import httpx2 as httpx
import msgspec
import stamina

from asof import __version__
from asof.ahead import on_written
from asof.budget import SharedBudget, budget_key
from asof.errors import (
    AuthenticationError,
    PluginError,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    RetryableError,
    TransportError,
    UnreadableResponse,
    error_for_status,
)
from asof.provider import BodyError, Credential, ProviderInfo, RateLimit
from asof.ratelimit import HoldsOff, RateLimiter, limiter_for
from asof.secrets import Redactor, Secret, url_secrets

if TYPE_CHECKING:
    from asof.config import Config
    from asof.settings import ProviderSettings

__all__ = [
    "USER_AGENT",
    "MockTransport",
    "ProviderSession",
    "Request",
    "Response",
    "Transport",
    "httpx",
    "parse_retry_after",
]

MockTransport = httpx.MockTransport
Request = httpx.Request
Response = httpx.Response

USER_AGENT = f"asof/{__version__}"
"""The ``User-Agent`` every request carries."""

log = logging.getLogger("asof.http")
# The retry library logs each scheduled retry at WARNING on its own logger: without this,
# a library user who configured no logging would get them on stderr from logging's
# last-resort handler. Configured handlers (the CLI's --verbose, an application's) still
# receive them.
logging.getLogger("stamina").addHandler(logging.NullHandler())

_EXCERPT = 300  # characters of a non-JSON body kept in an error
_EXCERPT_HTML = 120  # characters of an HTML page's title (or text) kept in an error
_MESSAGE_KEYS = ("error", "message", "detail", "details")
_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header", "cookie"})
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_HTML = re.compile(r"^\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<h1[^>]*>(.*?)</h1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


# --------------------------------------------------------------------------- helpers


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP
    date (relative to ``now``, default the current time). ``None`` when absent or
    unreadable; never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _loads(text: str) -> Any:
    return jsonlib.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


#: The quick reading of a UTF-8 JSON body: the same values as :func:`_loads` (integers
#: exact, other numbers ``Decimal``, the last of repeated keys), several times faster.
#: Whatever it refuses is read again by :func:`_loads`, which accepts or refuses it as
#: before.
_quick_loads = msgspec.json.Decoder(float_hook=Decimal).decode

_UTF8 = frozenset({"utf-8", "utf8", "utf_8"})


def _body(response: httpx.Response) -> Any:
    """A JSON body's value (``None`` for an empty body); a ``ValueError`` or
    ``RecursionError`` for one that is not JSON."""
    content = response.content
    if not content.strip():
        return None
    # Most answers name no charset (JSON is UTF-8): the header is only parsed when it
    # names one.
    kind = response.headers.get("content-type")
    charset = None if kind is None or "charset" not in kind.lower() \
        else response.charset_encoding
    if charset is None or charset.lower() in _UTF8:
        try:
            return _quick_loads(content)
        except msgspec.DecodeError:
            pass  # the standard library reads it, or says why not, as it always has
    return _loads(response.text)


def _strip_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _alone() -> bool:
    """Whether the running task is the only unfinished task of its asyncio loop."""
    try:
        return len(asyncio.all_tasks()) == 1
    except RuntimeError:  # not under asyncio
        return False


class _Deadline(httpx.SyncByteStream):
    """A blocking response body that raises :class:`TimeoutError` once a chunk comes
    after ``at`` (``time.monotonic()``)."""

    def __init__(self, stream: httpx.SyncByteStream, at: float) -> None:
        self._stream = stream
        self._at = at

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._at:
                raise TimeoutError
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


# --------------------------------------------------------------------------- Transport


class Transport:
    """The shared HTTP client and the sessions built on it.

    ``http_transport`` replaces the network (tests pass a :data:`MockTransport`);
    ``timeout`` is the default per-request timeout in seconds; ``attempts`` the tries
    per request, retries included; ``max_retry_after`` caps the wait a provider may ask
    for with ``Retry-After``; ``rate_limit_store`` names the store of rate budgets shared
    across processes (:mod:`asof.budget`), ``None`` keeping them in this process;
    ``blocking`` sends a request that is alone on its asyncio loop with a blocking client
    (for callers that run the loop for one call at a time, as :class:`asof.Client` does;
    it applies only when ``http_transport`` is not given).
    """

    def __init__(
        self,
        *,
        http_transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        max_retry_after: float = 60.0,
        rate_limit_store: str | None = None,
        blocking: bool = False,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"attempts must be a positive integer, not {attempts!r}")
        if not max_retry_after >= 0:
            raise ValueError(f"max_retry_after must not be negative, not {max_retry_after!r}")
        self.timeout = float(timeout)
        self.attempts = attempts
        self.max_retry_after = float(max_retry_after)
        self._http_transport = http_transport
        self._client: httpx.AsyncClient | None = None
        self._blocking_client: httpx.Client | None = None
        self._blocking = blocking
        self.sending_blocking = False  #: a blocking request is on its way
        self.rate_limit_store = rate_limit_store
        self._limiters: dict[tuple[str, int, float, str], RateLimiter | SharedBudget] = {}

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        http_transport: httpx.AsyncBaseTransport | None = None,
        max_retry_after: float = 60.0,
    ) -> Transport:
        """A transport with the configuration's timeout, attempts and rate-limit
        store."""
        return cls(
            http_transport=http_transport,
            timeout=config.timeout,
            attempts=config.attempts,
            max_retry_after=max_retry_after,
            rate_limit_store=config.rate_limit_store,
        )

    @property
    def blocking(self) -> bool:
        """Whether a request alone on its loop goes through the blocking client (never
        with a given ``http_transport``, which replaces the network)."""
        return self._blocking and self._http_transport is None

    @blocking.setter
    def blocking(self, value: bool) -> None:
        self._blocking = value

    def _options(self) -> dict[str, Any]:
        """What both clients are built with."""
        return {"timeout": self.timeout, "follow_redirects": False,
                "headers": {"Accept": "application/json", "User-Agent": USER_AGENT}}

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared client, created on first use."""
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._http_transport,
                                             **self._options())
        return self._client

    @property
    def blocking_client(self) -> httpx.Client:
        """The blocking client (with ``blocking``), created on first use."""
        if self._blocking_client is None:
            self._blocking_client = httpx.Client(**self._options())
        return self._blocking_client

    def send_blocking(self, request: httpx.Request, seconds: float) -> httpx.Response:
        """Send ``request`` with the blocking client and read its whole body, raising
        :class:`TimeoutError` when the body is still coming ``seconds`` after now."""
        at = time.monotonic() + seconds
        self.sending_blocking = True
        try:
            response = self.blocking_client.send(request, stream=True)
            try:
                response.stream = _Deadline(cast(httpx.SyncByteStream, response.stream), at)
                response.read()
            finally:
                response.close()
        finally:
            self.sending_blocking = False
        return response

    async def aclose(self) -> None:
        """Close the shared clients (a later request opens new ones)."""
        blocking, self._blocking_client = self._blocking_client, None
        if blocking is not None:
            blocking.close()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        for limiter in self._limiters.values():
            if isinstance(limiter, SharedBudget):
                await limiter.aclose()  # reopened on next use

    async def __aenter__(self) -> Transport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def limiter(
        self,
        provider: str,
        rate_limit: RateLimit | None,
        *,
        secrets: Sequence[str] = (),
        base_url: str = "",
    ) -> RateLimiter | SharedBudget | None:
        """The rate limiter shared by every session of ``provider`` at that limit (with
        a shared store: by every session, in any process, with the same credentials
        ``secrets``, or the same ``base_url`` for a provider without any)."""
        if rate_limit is None:
            return None
        store = self.rate_limit_store
        who = budget_key(provider, secrets, fallback=base_url) if store else ""
        key = (provider, rate_limit.requests, float(rate_limit.per_seconds), who)
        if key not in self._limiters:
            self._limiters[key] = limiter_for(provider, rate_limit, store=store,
                                              secrets=secrets, base_url=base_url)
        return self._limiters[key]

    def session(
        self,
        info: ProviderInfo,
        *,
        base_url: str,
        credentials: Sequence[tuple[Credential, Secret]] = (),
        rate_limit: RateLimit | None = None,
        timeout: float | None = None,
    ) -> ProviderSession:
        """A session for one provider. ``timeout`` None means the transport's timeout."""
        return ProviderSession(
            self,
            info,
            base_url=base_url,
            credentials=credentials,
            rate_limit=rate_limit,
            timeout=self.timeout if timeout is None else timeout,
        )

    def session_for(
        self, settings: ProviderSettings, *, base_url: str | None = None
    ) -> ProviderSession:
        """A session built from one provider's resolved settings (see
        :meth:`asof.config.Config.provider_settings`): credentials, base URL (unless
        ``base_url`` is given, as for one chain's URL), rate limit and timeout. A missing
        required credential raises
        :class:`~asof.errors.AuthenticationError` saying how to set it."""
        for cred, where in settings.unset:
            if cred.required:
                raise AuthenticationError(
                    settings.name, f"missing credential {cred.name}", provider_message=where
                )
        return self.session(
            settings.info,
            base_url=base_url or settings.base_url,
            credentials=settings.credentials,
            rate_limit=settings.rate_limit,
            timeout=settings.timeout,
        )

    def __repr__(self) -> str:
        state = "open" if self._client is not None else "idle"
        return f"<Transport {state} timeout={self.timeout:g} attempts={self.attempts}>"


# --------------------------------------------------------------------------- sessions


class ProviderSession:
    """One provider's view of the transport; implements :class:`asof.context.ProviderHTTP`.

    Built by :meth:`Transport.session`. ``provider`` is the provider's name.
    """

    def __init__(
        self,
        transport: Transport,
        info: ProviderInfo,
        *,
        base_url: str,
        credentials: Sequence[tuple[Credential, Secret]] = (),
        rate_limit: RateLimit | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        self.provider = info.name
        self.info = info
        self.timeout = float(timeout)
        self.rate_limit = rate_limit
        self._transport = transport
        self._redactor = Redactor()
        self._headers: dict[str, str] = {}
        self._query: dict[str, str] = {}
        for part in url_secrets(base_url, known=(info.base_url, *info.networks.values())):
            self._redactor.add(part)
        for cred, secret in credentials:
            value = secret if isinstance(secret, Secret) else Secret(secret)
            base_url = self._place(cred, value, base_url)
        self.base_url = base_url.rstrip("/")
        self._limiter = transport.limiter(
            info.name, rate_limit, base_url=self.base_url,
            secrets=[s.reveal() if isinstance(s, Secret) else str(s) for _, s in credentials])

    def _place(self, cred: Credential, secret: Secret, base_url: str) -> str:
        """Put one credential where it travels; returns the base URL (changed only for
        a path credential)."""
        value = cred.prefix + secret.reveal()
        self._redactor.add(secret)
        if cred.header is not None:
            self._headers[cred.header] = value
        elif cred.query is not None:
            self._query[cred.query] = value
        else:
            if cred.placeholder not in base_url:
                raise PluginError(
                    self.provider,
                    f"credential {cred.name} goes in the URL path, but the base URL "
                    f"has no {cred.placeholder}",
                )
            encoded = quote(value, safe="")
            self._redactor.add(encoded)
            base_url = base_url.replace(cred.placeholder, encoded)
        return base_url

    # -- public helpers

    def redact(self, text: str) -> str:
        """``text`` with this session's credentials masked."""
        return self._redactor.redact(text)

    def url(self, path: str) -> str:
        """The absolute URL for ``path``. An absolute ``path`` must stay on the base
        URL's scheme and host (credentials never go elsewhere)."""
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
            if _origin(path) != _origin(self.base_url):
                raise PluginError(
                    self.provider,
                    f"refusing to send a request outside {self._safe_url(self.base_url)}",
                )
            return path
        if not path:
            return self.base_url
        return f"{self.base_url}/{path.lstrip('/')}"

    def __repr__(self) -> str:
        return f"<ProviderSession {self.provider} {self._safe_url(self.base_url)}>"

    # -- ProviderHTTP

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return the parsed JSON body (``None`` for an empty one)."""
        return await self.request("GET", path, params=params)

    async def post(
        self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """POST ``json`` to ``path`` and return the parsed JSON body."""
        return await self.request("POST", path, params=params, json=json)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send a request with retries and return the parsed JSON body. Query
        parameters whose value is ``None`` are left out."""
        url = self.url(path)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        query.update(self._query)
        if query and "?" not in url:
            # the query joined here, as httpx2 would encode it: httpx2 then parses the
            # URL once, not again to merge the parameters in
            target, query = f"{url}?{httpx.QueryParams(query)}", {}
        else:
            target = url
        method = method.upper()
        # The first attempt goes without a retry context (most requests need none);
        # after a retryable failure, stamina's schedule takes over from that failure:
        # its first attempt hands it the error already met, so the waits, the attempt
        # count and stamina's test mode are exactly those of a retry context around
        # every attempt.
        try:
            return await self._send(method, url, target, query, json, 1)
        except RetryableError as exc:
            if self._transport.attempts == 1:
                raise
            failed: RetryableError | None = exc
            written = on_written()
            if written is not None:  # it waits to be tried again: go on meanwhile
                written()
        async for attempt in stamina.retry_context(
            on=self._retry_wait,
            attempts=self._transport.attempts,
            timeout=None,
            wait_initial=0.25,
            wait_max=8.0,
            wait_jitter=1.0,
        ):
            with attempt:
                if failed is not None:
                    met, failed = failed, None
                    raise met
                return await self._send(method, url, target, query, json, attempt.num)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- internals

    def _safe_url(self, url: str) -> str:
        return _strip_userinfo(self.redact(url))

    def _retry_wait(self, exc: Exception) -> bool | float:
        if not isinstance(exc, RetryableError):
            return False
        log.debug("%s: will retry after %s", self.provider, exc)
        if exc.retry_after:
            # what the provider asked for, plus jitter, so that callers told the same
            # wait do not all come back in the same instant
            return exc.retry_after + random.uniform(0.0, min(1.0, exc.retry_after / 2) + 0.05)
        return True

    async def _send(
        self, method: str, url: str, target: str, params: Mapping[str, Any], body: Any,
        attempt: int,
    ) -> Any:
        """One attempt: ``target`` is ``url`` with its query, ``url`` is what a log line
        names."""
        blocking = self._transport.blocking and _alone()
        # built before the wait: sent as soon as let through
        client = self._transport.blocking_client if blocking else self._transport.client
        limiter = self._limiter
        ticket = 0
        extensions: dict[str, Any] | None = None
        rate = limiter if isinstance(limiter, RateLimiter) else None
        written = on_written()
        if rate is not None or written is not None:

            def note(event: str, info: Any) -> None:
                # the request's headers are written: it has left (the limiter counts
                # its window from here, not from its turn)
                if rate is not None and ticket and event.endswith(
                        "send_request_headers.complete"):
                    rate.departed(ticket)
                # the whole request is written: the provider is working on it
                elif written is not None and event.endswith("send_request_body.complete"):
                    written()

            async def trace(event: str, info: Any) -> None:
                note(event, info)

            extensions = {"trace": note if blocking else trace}
        # The request is built before the wait too. The client's own timeout is passed
        # on only when this session's differs from it, and headers only when there are
        # some: each argument costs httpx2 a merge.
        request = client.build_request(
            method,
            target,
            params=params or None,
            json=body,
            headers=self._headers or None,
            timeout=(httpx.USE_CLIENT_DEFAULT if self.timeout == self._transport.timeout
                     else self.timeout),
            extensions=extensions,
        )
        if rate is not None:
            if written is not None and rate.waits():
                # its turn comes later: whoever asked ahead goes on meanwhile
                written()
            ticket = await rate.acquire()
        elif limiter is not None:
            await limiter.acquire()
        started = time.perf_counter()
        try:
            # the deadline covers the whole request, not each read
            if blocking:
                response = self._transport.send_blocking(request, self.timeout)
            else:
                with anyio.move_on_after(self.timeout) as deadline:
                    response = await self._transport.client.send(request)
                if deadline.cancelled_caught:
                    raise TimeoutError
        except TimeoutError:
            self._log(method, url, "deadline", started, attempt)
            raise ProviderTimeout(
                self.provider, f"no complete answer within {self.timeout:g} s"
            ) from None
        except httpx.TimeoutException as exc:
            self._log(method, url, type(exc).__name__, started, attempt)
            raise ProviderTimeout(
                self.provider,
                f"no answer within {self.timeout:g} s ({type(exc).__name__})",
            ) from None
        except httpx.DecodingError as exc:
            self._log(method, url, type(exc).__name__, started, attempt)
            raise UnreadableResponse(
                self.provider, self.redact(f"the answer could not be decoded: {exc}")
            ) from None
        except httpx.RequestError as exc:
            self._log(method, url, type(exc).__name__, started, attempt)
            raise TransportError(
                self.provider,
                self.redact(f"connection failed ({type(exc).__name__}: {exc})"),
            ) from None
        if log.isEnabledFor(logging.DEBUG):
            self._log(method, str(response.request.url), str(response.status_code), started,
                      attempt)
        if 200 <= response.status_code < 300:
            try:
                return self._checked(self._parse(response), response.status_code)
            except RateLimited as exc:  # a rate limit said in the body
                if exc.retry_after:
                    await self._hold_off(exc.retry_after)
                raise
        error = self._error(response)
        if isinstance(error, RateLimited) and error.retry_after:
            await self._hold_off(error.retry_after)
        raise error

    async def _hold_off(self, seconds: float) -> None:
        """Slow every process sharing this key (a shared budget) for ``seconds``."""
        if isinstance(self._limiter, HoldsOff):
            await self._limiter.hold_off(seconds)

    def _log(self, method: str, url: str, outcome: str, started: float, attempt: int) -> None:
        """Log one request at debug level; the URL is redacted (and its userinfo
        stripped) only when the line is written."""
        if log.isEnabledFor(logging.DEBUG):
            url = self._safe_url(url)
            elapsed = (time.perf_counter() - started) * 1000
            suffix = f" (attempt {attempt})" if attempt > 1 else ""
            log.debug("%s %s %s -> %s in %.0f ms%s", self.provider, method, url, outcome,
                      elapsed, suffix)

    def _excerpt(self, text: str) -> str | None:
        """A short, redacted piece of a body for a message: the title of an HTML page,
        else its first characters."""
        redacted = self.redact(text)
        if _HTML.match(redacted):
            found = _TITLE.search(redacted) or _HEADING.search(redacted)
            shown = found.group(1) if found else redacted
            words = " ".join(_TAG.sub(" ", shown).split())
            if len(words) > _EXCERPT_HTML:
                words = words[:_EXCERPT_HTML] + "…"
            return f"an HTML page: {words}" if words else "an HTML page"
        cleaned = " ".join(redacted.split())
        if not cleaned:
            return None
        return cleaned if len(cleaned) <= _EXCERPT else cleaned[:_EXCERPT] + "…"

    def _parse(self, response: httpx.Response) -> Any:
        # The body is never bound to a local here: when it cannot be read, only its
        # redacted excerpt is kept (an error reporter recording locals sees no secret).
        try:
            return _body(response)
        except (ValueError, RecursionError):
            excerpt = self._excerpt(response.text)
        raise UnreadableResponse(
            self.provider,
            "answered with a body that is cut short or not JSON",
            status=response.status_code,
            provider_message=excerpt,
        )

    def _checked(self, body: Any, status: int) -> Any:
        """``body``, unless the provider's in-band check finds an error in it."""
        check = self.info.check_body
        if check is None:
            return body
        try:
            found = check(body)
        except Exception as exc:
            raise PluginError(
                self.provider, self.redact(f"check_body raised {type(exc).__name__}: {exc}")
            ) from None
        if found is None:
            return body
        if not isinstance(found, BodyError):
            raise PluginError(self.provider, f"check_body returned {type(found).__name__}")
        raise self._body_error(found, body, status)

    def _body_error(self, found: BodyError, body: Any, status: int) -> ProviderError:
        """The error an in-band check reported, built and redacted like an HTTP one."""
        if found.provider_message is not None:
            message: str | None = self.redact(found.provider_message)
            details = self._redactor.redact_data(found.details)
        else:
            message, details, _ = self._body_message(body, "")
            details = self._redactor.redact_data(found.details) if found.details else details
        kwargs: dict[str, Any] = {
            "status": status,
            "provider_message": message,
            "details": details,
        }
        retry_after = found.retry_after
        if retry_after is not None:
            retry_after = min(max(0.0, retry_after), self._transport.max_retry_after)
        words = self.redact(found.message)
        if issubclass(found.error, RateLimited):
            return found.error(self.provider, words, retry_after=retry_after, **kwargs)
        error = found.error(self.provider, words, **kwargs)
        if retry_after is not None and isinstance(error, RetryableError):
            error.retry_after = retry_after
        return error

    def _error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        cls, words = error_for_status(status)
        message, details, field = self._provider_message(self.redact(response.text))
        retry_after: float | None = None
        if status in (429, 503):
            seconds = parse_retry_after(response.headers.get("Retry-After"))
            if seconds is not None:
                retry_after = min(seconds, self._transport.max_retry_after)
        kwargs: dict[str, Any] = {
            "status": status,
            "provider_message": message,
            "details": details,
            "field": field,
        }
        error: ProviderError
        if issubclass(cls, RateLimited):
            error = cls(self.provider, words, retry_after=retry_after, **kwargs)
        else:
            error = cls(self.provider, words, **kwargs)
            if retry_after is not None and isinstance(error, RetryableError):
                error.retry_after = retry_after
        return error

    def _provider_message(self, text: str) -> tuple[str | None, Any, str | None]:
        """The provider's own words, structured details and the field they name."""
        try:
            body = _loads(text)
        except (ValueError, RecursionError):
            return self._excerpt(text), None, None
        return self._body_message(body, text)

    def _body_message(self, body: Any, text: str) -> tuple[str | None, Any, str | None]:
        """The provider's words, details and field from a parsed body; ``text`` is the
        raw body, excerpted when no message field is found."""
        if not isinstance(body, dict):
            return self._excerpt(text), None, None
        messages: list[str] = []
        details: Any = None
        field: str | None = None
        for key in self.info.message_fields or _MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str):
                messages.append(value.strip())
            elif isinstance(value, dict):
                messages.append(_inner_message(value))
                details = value if details is None else details
            elif isinstance(value, list) and value:
                if all(isinstance(item, dict) and "msg" in item for item in value):
                    lines, first = _validation_lines(value)
                    messages.append("; ".join(lines))
                    details, field = value, field or first
                else:
                    messages.append("; ".join(_inner_message(item) for item in value))
                    details = value if details is None else details
        words = [m for m in dict.fromkeys(messages) if m]
        message = ": ".join(words) if words else self._excerpt(text)
        return (
            self.redact(message) if message else None,
            self._redactor.redact_data(details),
            self.redact(field) if field else None,
        )


def _inner_message(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        for key in ("message", "error", "detail", "msg", "description"):
            inner = value.get(key)
            if isinstance(inner, str | dict) and inner:
                return _inner_message(inner)
        return ""
    if isinstance(value, int | Decimal):
        return str(value)
    return ""


def _validation_lines(items: list[Any]) -> tuple[list[str], str | None]:
    lines: list[str] = []
    first: str | None = None
    for item in items:
        loc = item.get("loc")
        parts = [str(p) for p in loc] if isinstance(loc, list | tuple) else []
        if parts and parts[0] in _LOCATION_PREFIXES:
            parts = parts[1:]
        where = ".".join(parts)
        msg = str(item.get("msg", "")).strip()
        lines.append(f"{where}: {msg}" if where else msg)
        if first is None and where:
            first = where
    return lines, first
