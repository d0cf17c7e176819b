"""What a plugin declares about its provider, as data the core acts on.

The core reads these declarations to resolve credentials (from configuration and
environment variables), build the provider's HTTP session (base URL, credentials,
timeout, rate limit, in-band error check) and explain routes. Plugins never read the
environment or build HTTP clients themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from asof.errors import ProviderError
from asof.records import Cost

__all__ = ["BodyCheck", "BodyError", "Credential", "Option", "ProviderInfo", "RateLimit"]


@attrs.frozen(kw_only=True)
class Credential:
    """A secret the provider needs (or accepts), and how it is sent.

    The core looks it up in, in order: the configuration file's provider section (key
    ``name``), ``ASOF_<PROVIDER>_<NAME>`` (for example ``ASOF_HELIUS_API_KEY``), then each
    of ``env`` (the provider's usual names, such as ``HELIUS_API_KEY``).

    Exactly one placement says how it travels, always with ``prefix`` before it:

    - ``header="X-Api-Key"``: in that request header (the safest; prefer it);
    - ``query="apikey"``: as that query parameter of every request, for APIs that
      document no header (Etherscan's ``apikey=``);
    - ``path=True``: in the URL path, replacing ``{<name>}`` in the base URL (for
      example ``https://eth.node.example/v2/{api_key}``), for node vendors that put
      the key in the URL. A path credential is always required.

    Wherever it travels, the transport masks its value (raw or percent-encoded) in
    every log line, error message, ``repr`` and echoed body, and the cassette filters
    of :mod:`asof.testing.recording` keep it out of recordings.
    """

    header: str | None = None
    query: str | None = None
    path: bool = False
    name: str = "api_key"
    env: tuple[str, ...] = ()
    required: bool = True
    prefix: str = ""
    description: str = ""

    def __attrs_post_init__(self) -> None:
        placed = [p for p in (self.header, self.query) if p is not None] + (
            ["path"] if self.path else []
        )
        if len(placed) != 1:
            raise ValueError(
                f"credential {self.name!r}: give exactly one of header=, query= or path=True"
            )
        if any(not p.strip() for p in placed):
            raise ValueError(f"credential {self.name!r}: its header or query name is empty")
        if self.path and not self.required:
            raise ValueError(f"credential {self.name!r}: a path credential must be required")

    @property
    def placeholder(self) -> str:
        """What a path credential replaces in the base URL: ``{<name>}``."""
        return "{" + self.name + "}"

    @property
    def placement(self) -> str:
        """Where it travels, in words: ``header X-Api-Key``, ``query parameter apikey``
        or ``URL path``."""
        if self.header is not None:
            return f"header {self.header}"
        if self.query is not None:
            return f"query parameter {self.query}"
        return "URL path"


@attrs.frozen(kw_only=True)
class RateLimit:
    """The provider's documented request rate: ``requests`` per ``per_seconds``."""

    requests: int
    per_seconds: float
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.requests} requests per {self.per_seconds:g} s"
        return f"{text} ({self.note})" if self.note else text


@attrs.frozen(kw_only=True)
class Option:
    """A provider setting a deployment may change (configuration key ``name``, or the
    environment variable ``ASOF_<PROVIDER>_<NAME>``)."""

    name: str
    default: str | int | bool | None
    description: str
    choices: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class BodyError:
    """An error a provider reported inside a success answer (HTTP 2xx), as returned by
    a :data:`BodyCheck`.

    ``error`` is the class to raise (for example :class:`~asof.errors.RateLimited` for
    an in-band rate limit, :class:`~asof.errors.UpstreamError` for an upstream
    failure, :class:`~asof.errors.AuthenticationError` for a refused key); the
    transport builds it, names the provider, redacts every credential from the texts,
    and retries it like an HTTP error when it is a
    :class:`~asof.errors.RetryableError`. ``provider_message`` is the provider's own
    words; when ``None`` the transport reads them from the body's message fields
    (:attr:`ProviderInfo.message_fields`). ``retry_after`` is a wait in seconds, when
    the provider said one.
    """

    error: type[ProviderError]
    message: str = "reported an error in a success answer"
    provider_message: str | None = None
    retry_after: float | None = None
    details: Any = attrs.field(default=None, eq=False, hash=False)


BodyCheck = Callable[[Any], "BodyError | None"]
"""A provider's in-band error check: given the parsed JSON body of a success answer,
a :class:`BodyError` when the body reports an error, else ``None``. It must not raise
(an exception it raises is reported as a :class:`~asof.errors.PluginError`)."""


@attrs.frozen(kw_only=True)
class ProviderInfo:
    """Everything the core needs to know about a provider before calling it.

    ``networks`` maps network names (``mainnet``, ``testnet``) to base URLs; the
    configuration's ``network`` option picks one, and ``base_url`` is the default.
    ``ASOF_<PROVIDER>_BASE_URL`` (or ``base_url`` in the configuration) overrides both.

    ``message_fields`` names the body fields that hold the provider's own words in an
    error answer, in order (all found are joined with ``": "``); empty means the
    transport's default (``error``, ``message``, ``detail``, ``details``). For an
    Etherscan-style envelope, ``("message", "result")``.

    ``check_body`` is the in-band error check (see :data:`BodyCheck`): the transport
    runs it on every success body, so an error a provider reports with HTTP 200 (an
    in-band rate limit such as ``{"status": "0", "message": "NOTOK", "result": "Max
    calls per sec rate limit reached"}``) is raised, redacted and retried like an HTTP
    one.

    ``cost`` is the default cost per call; a :class:`~asof.records.ChainSupport` that
    states its own ``cost`` takes precedence for that chain.

    ``chain_urls`` says the provider takes one URL per chain (a node plugin serving
    several chains): the configuration's ``[providers.<name>.urls]`` table maps chain
    names to URLs, and the plugin finds one session per configured chain in
    ``ctx.chain_http``; ``ctx.http`` stays the base URL's session.
    """

    name: str
    title: str
    base_url: str
    networks: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    credentials: tuple[Credential, ...] = ()
    rate_limit: RateLimit | None = None
    cost: Cost | None = None
    caveats: tuple[str, ...] = ()
    docs_url: str | None = None
    options: tuple[Option, ...] = ()
    timeout: float = 30.0
    message_fields: tuple[str, ...] = ()
    check_body: BodyCheck | None = attrs.field(default=None, eq=False, hash=False)
    chain_urls: bool = False
