"""A rate limiter for anyio (asyncio and trio alike) that reaches a limit and never
passes it.

:class:`RateLimiter` allows at most ``requests`` calls in **any** window of
``per_seconds`` seconds: it remembers when the last ``requests`` calls were let through,
and :meth:`RateLimiter.acquire` lets the next one through only once the oldest of them
is ``per_seconds`` (plus a small ``margin``) in the past. A token bucket of the same
size lets up to twice the limit through in its first window (a full bucket, then its
refill), which a provider counting a sliding window answers with 429s; this limiter
cannot. The ``margin`` (1.5 % of the window by default) absorbs the difference between
when a request leaves and when the provider counts it. Waiters are served first come,
first served.

The clock and the sleep are injectable, so tests drive the limiter with a fake clock
and never measure wall time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio

from asof.provider import RateLimit

__all__ = ["DEFAULT_MARGIN", "RateLimiter"]

#: The share of the window added between a call and the one ``requests`` later.
DEFAULT_MARGIN = 0.015


class RateLimiter:
    """Allow at most ``requests`` acquisitions in any ``per_seconds`` seconds.

    ``clock`` returns the current time in seconds (default: the event loop's clock,
    :func:`anyio.current_time`); ``sleep`` waits that many seconds (default
    :func:`anyio.sleep`); ``margin`` widens the window by that share. A limiter may be
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
    ) -> None:
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ValueError(f"requests must be a positive integer, not {requests!r}")
        if isinstance(per_seconds, bool) or not per_seconds > 0:
            raise ValueError(f"per_seconds must be positive, not {per_seconds!r}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1), not {margin!r}")
        self.requests = requests
        self.per_seconds = float(per_seconds)
        self._window = self.per_seconds * (1.0 + margin)
        self._clock = clock or anyio.current_time
        self._sleep = sleep or anyio.sleep
        self._sent: deque[float] = deque()
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

    @property
    def available(self) -> int:
        """Calls that could go now without waiting (as of the last acquisition)."""
        return self.requests - len(self._sent)

    async def acquire(self) -> None:
        """Wait until one more call keeps every window within the limit, and count it."""
        async with self._lock:
            now = self._clock()
            while len(self._sent) >= self.requests:
                wait = self._sent[0] + self._window - now
                if wait <= 0:
                    self._sent.popleft()
                    continue
                await self._sleep(wait)
                now = self._clock()
            self._sent.append(now)

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
