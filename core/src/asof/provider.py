"""What a plugin declares about its provider, as data the core acts on.

The core reads these declarations to resolve credentials (from configuration and
environment variables), build the provider's HTTP session (base URL, credential headers,
timeout, rate limit) and explain routes. Plugins never read the environment or build
HTTP clients themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from asof.records import Cost

__all__ = ["Credential", "Option", "ProviderInfo", "RateLimit"]


@attrs.frozen(kw_only=True)
class Credential:
    """A secret the provider needs (or accepts), and how it is sent.

    The core looks it up in, in order: the configuration file's provider section (key
    ``name``), ``ASOF_<PROVIDER>_<NAME>`` (for example ``ASOF_HELIUS_API_KEY``), then each
    of ``env`` (the provider's usual names, such as ``HELIUS_API_KEY``). It is sent in the
    ``header`` header, with ``prefix`` before it, and never in a URL.
    """

    header: str
    name: str = "api_key"
    env: tuple[str, ...] = ()
    required: bool = True
    prefix: str = ""
    description: str = ""


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
class ProviderInfo:
    """Everything the core needs to know about a provider before calling it.

    ``networks`` maps network names (``mainnet``, ``testnet``) to base URLs; the
    configuration's ``network`` option picks one, and ``base_url`` is the default.
    ``ASOF_<PROVIDER>_BASE_URL`` (or ``base_url`` in the configuration) overrides both.

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
    chain_urls: bool = False
