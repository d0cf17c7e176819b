"""A rate limiter for anyio (asyncio and trio alike) that reaches a limit and never
passes it.

:class:`RateLimiter` allows ``requests`` calls per ``per_seconds`` by spacing them:
each call goes at least ``per_seconds / requests`` (widened by a small ``margin``,
1.5 % by default) after the one before, so no window of ``per_seconds`` ever holds
more than ``requests`` calls, wherever it starts. A token bucket of the same size lets
up to twice the limit through in its first window (a full bucket, then its refill),
and its bursts open many connections at once whose requests reach the provider late
and bunched; a provider counting a sliding window answers both with 429s. Spaced
calls do neither. The ``margin`` absorbs the difference between when a request
leaves and when the provider counts it, and the call after the very first waits a
further ``warmup`` (0.25 s by default): the first call opens the connection (name
look-up, TCP, TLS), so the provider counts it late, and the calls spaced after it
would otherwise reach it bunched. Waiters are served first come, first served.

The clock and the sleep are injectable, so tests drive the limiter with a fake clock
and never measure wall time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio

from asof.provider import RateLimit

__all__ = ["DEFAULT_MARGIN", "DEFAULT_WARMUP", "RateLimiter"]

#: The share by which the spacing between calls is widened.
DEFAULT_MARGIN = 0.015
#: Seconds added after the first call, which opens the connection.
DEFAULT_WARMUP = 0.25


class RateLimiter:
    """Allow at most ``requests`` acquisitions in any ``per_seconds`` seconds, spaced
    evenly.

    ``clock`` returns the current time in seconds (default: the event loop's clock,
    :func:`anyio.current_time`); ``sleep`` waits that many seconds (default
    :func:`anyio.sleep`); ``margin`` widens the spacing by that share; ``warmup`` is
    added once, after the first call. A limiter may be
    built outside an event loop; it binds to the loop it is first used in.

    Use ``await limiter.acquire()`` before each call, or ``async with limiter:``.
    """

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        margin: float = DEFAULT_MARGIN,
        warmup: float = DEFAULT_WARMUP,
    ) -> None:
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ValueError(f"requests must be a positive integer, not {requests!r}")
        if isinstance(per_seconds, bool) or not per_seconds > 0:
            raise ValueError(f"per_seconds must be positive, not {per_seconds!r}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1), not {margin!r}")
        if not warmup >= 0:
            raise ValueError(f"warmup must not be negative, not {warmup!r}")
        self.warmup = float(warmup)
        self.requests = requests
        self.per_seconds = float(per_seconds)
        #: seconds between one call and the next
        self.interval = self.per_seconds / requests * (1.0 + margin)
        self._clock = clock or anyio.current_time
        self._sleep = sleep or anyio.sleep
        self._next: float | None = None
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

    async def acquire(self) -> None:
        """Wait until the spacing since the last call has passed, and count this one."""
        async with self._lock:
            now = self._clock()
            if self._next is None:
                self._next = now + self.interval + self.warmup
                return
            if now < self._next:
                await self._sleep(self._next - now)
                now = max(self._clock(), self._next)
            self._next = now + self.interval

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
