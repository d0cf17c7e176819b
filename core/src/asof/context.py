"""What the core hands a plugin's async hooks: its HTTP session, settings, clock and
the settled block times it learnt."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs

from asof.blocktimes import BlockTimes, MemoryBlockTimes

__all__ = ["ProviderContext", "ProviderHTTP"]


class ProviderHTTP(Protocol):
    """A provider's HTTP session, built by the core.

    Paths are relative to the provider's base URL. Credentials are already where the
    provider's declaration puts them (header, query parameter or URL path); the
    in-band error check has run on success bodies; retries, the rate limit and
    timeouts are applied; a non-success status or a transport failure is raised as a
    typed :mod:`asof.errors` error carrying the provider's own message. JSON is parsed
    with ``Decimal`` for every non-integer number, so no float is ever created.
    """

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return the parsed JSON body."""
        ...

    async def post(
        self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """POST a JSON body to ``path`` and return the parsed JSON body."""
        ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.frozen(kw_only=True)
class ProviderContext:
    """Passed to ``balance_at``, ``history_page`` and ``discover_chains``.

    ``options`` holds the provider's declared options resolved from configuration and
    environment (defaults filled in); ``network`` the selected network, if the provider
    declares any; ``clock`` returns the current UTC time (tests replace it).
    ``chain_http`` holds one session per configured chain for a provider that declares
    ``chain_urls`` (:class:`~asof.provider.ProviderInfo`), keyed by canonical chain name.
    ``block_times`` keeps the settled block timestamps the provider read
    (:class:`~asof.blocktimes.BlockTimes`): in the archive where it is enabled, else in
    memory for the client's lifetime.
    """

    provider: str
    http: ProviderHTTP
    options: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    network: str | None = None
    clock: Callable[[], datetime] = _utcnow
    log: logging.Logger = attrs.field(factory=lambda: logging.getLogger("asof.provider"))
    chain_http: Mapping[str, ProviderHTTP] = attrs.field(factory=dict, hash=False)
    block_times: BlockTimes = attrs.field(factory=MemoryBlockTimes, hash=False, eq=False)

    def now(self) -> datetime:
        """The current UTC time as the core sees it."""
        return self.clock()
