"""A token-bucket rate limiter for anyio (asyncio and trio alike).

:class:`RateLimiter` allows ``requests`` calls per ``per_seconds``: the bucket holds up
to ``requests`` tokens, refills continuously at ``requests / per_seconds`` tokens per
second, and :meth:`RateLimiter.acquire` takes one token, sleeping until one is there.
Waiters are served first come, first served.

The clock and the sleep are injectable, so tests drive the limiter with a fake clock
and never measure wall time.

:func:`limiter_for` chooses, per provider key, between this in-process limiter and the
budget shared across processes (:mod:`asof.budget`) a deployment's
``rate_limit_store`` names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from asof.provider import RateLimit

if TYPE_CHECKING:
    from asof.budget import SharedBudget

__all__ = ["HoldsOff", "RateLimiter", "limiter_for"]

_EPSILON = 1e-9  # float slack, so a refill that lands a hair under one token counts


class RateLimiter:
    """Allow at most ``requests`` acquisitions per ``per_seconds`` seconds.

    ``clock`` returns the current time in seconds (default: the event loop's clock,
    :func:`anyio.current_time`); ``sleep`` waits that many seconds (default
    :func:`anyio.sleep`). A limiter may be built outside an event loop; it binds to the
    loop it is first used in.

    Use ``await limiter.acquire()`` before each call, or ``async with limiter:``.
    """

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ValueError(f"requests must be a positive integer, not {requests!r}")
        if isinstance(per_seconds, bool) or not per_seconds > 0:
            raise ValueError(f"per_seconds must be positive, not {per_seconds!r}")
        self.requests = requests
        self.per_seconds = float(per_seconds)
        self._rate = requests / self.per_seconds  # tokens per second
        self._clock = clock or anyio.current_time
        self._sleep = sleep or anyio.sleep
        self._tokens = float(requests)
        self._updated: float | None = None
        self._lock = anyio.Lock()

    @classmethod
    def from_rate_limit(
        cls,
        limit: RateLimit,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> RateLimiter:
        """A limiter for a provider's declared :class:`~asof.provider.RateLimit`."""
        return cls(limit.requests, limit.per_seconds, clock=clock, sleep=sleep)

    def _refill(self) -> float:
        now = self._clock()
        if self._updated is None:
            self._updated = now
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.requests), self._tokens + elapsed * self._rate)
        self._updated = now
        return now

    @property
    def available(self) -> float:
        """Tokens in the bucket as of the last acquisition (not refilled here)."""
        return self._tokens

    async def acquire(self) -> None:
        """Take one token, waiting until the bucket has one."""
        async with self._lock:
            self._refill()
            while self._tokens < 1.0 - _EPSILON:
                await self._sleep((1.0 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1.0

    async def __aenter__(self) -> RateLimiter:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        return f"RateLimiter(requests={self.requests}, per_seconds={self.per_seconds:g})"


# --------------------------------------------------------------------------- choosing


@runtime_checkable
class HoldsOff(Protocol):
    """A limiter that a provider's ``Retry-After`` can slow for everyone sharing it."""

    async def hold_off(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` from now."""
        ...


def limiter_for(
    provider: str,
    rate_limit: RateLimit,
    *,
    store: str | None = None,
    secrets: Sequence[str] = (),
    base_url: str = "",
) -> RateLimiter | SharedBudget:
    """The limiter for one provider key: in this process (:class:`RateLimiter`) when no
    shared ``store`` is configured, else the key's :class:`~asof.budget.SharedBudget`
    in that store (keyed by the provider and a digest of ``secrets``, or of ``base_url``
    for a provider without credentials)."""
    if store is None:
        return RateLimiter.from_rate_limit(rate_limit)
    from asof.budget import SharedBudget, budget_key

    return SharedBudget(store, budget_key(provider, secrets, fallback=base_url), rate_limit)
