"""A rate limiter for anyio (asyncio and trio alike) that reaches a limit and never
passes it.

:class:`RateLimiter` allows ``requests`` calls per ``per_seconds`` by spacing them:
each call's turn comes ``per_seconds / requests`` (widened by a small ``margin``,
2 % by default, so that a steady stream reaches 98 % of the limit) after the one
before, and never before the call ``requests`` back is that widened window old, so
no window of ``per_seconds`` ever holds more than ``requests`` calls, wherever it
starts. A call that a busy event loop wakes late is
made up by the next ones (never closer than 80 % of a spacing), so lateness does not lower the
rate. A token bucket of the same size lets
up to twice the limit through in its first window (a full bucket, then its refill),
and its bursts open many connections at once whose requests reach the provider late
and bunched; a provider counting a sliding window answers both with 429s. Spaced
calls do neither. The ``margin`` absorbs the difference between when a request
leaves and when the provider counts it, and the call after the very first waits a
further ``warmup`` (0.25 s by default): the first call opens the connection (name
look-up, TCP, TLS), so the provider counts it late, and the calls spaced after it
would otherwise reach it bunched; for the same reason the calls of the first two
windows, while the connections a job needs are opened, are spaced 10 % wider. Waiters
are served first come, first served.

The clock and the sleep are injectable, so tests drive the limiter with a fake clock
and never measure wall time.

:func:`limiter_for` chooses, per provider key, between this in-process limiter and the
budget shared across processes (:mod:`asof.budget`) a deployment's
``rate_limit_store`` names.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from asof.provider import RateLimit

if TYPE_CHECKING:
    from asof.budget import SharedBudget

__all__ = ["DEFAULT_MARGIN", "DEFAULT_OPENING", "DEFAULT_WARMUP", "HoldsOff", "RateLimiter",
           "limiter_for"]

#: The share by which the spacing between calls is widened.
DEFAULT_MARGIN = 0.02
#: Seconds added after the first call, which opens the connection.
DEFAULT_WARMUP = 0.25
# A late call is made up by the next, at least this share of a spacing after it.
_CLOSEST = 0.8
# Departures are tracked for limits up to this many calls per window (the window rule
# then takes the n-th latest of up to twice as many times, per call).
_TRACKED = 256
#: The factor widening the spacing of the first two windows' calls: the connections
#: opened then (name look-up, TCP, TLS) delay their first requests, which reach the
#: provider bunched with the next ones.
DEFAULT_OPENING = 1.1


class RateLimiter:
    """Allow at most ``requests`` acquisitions in any ``per_seconds`` seconds, spaced
    evenly.

    ``clock`` returns the current time in seconds (default: the event loop's clock,
    :func:`anyio.current_time`); ``sleep`` waits that many seconds (default
    :func:`anyio.sleep`); ``margin`` widens the spacing by that share; ``warmup`` is
    added once, after the first call; ``opening`` widens the spacing of the first two
    windows. A limiter may be
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
        opening: float = DEFAULT_OPENING,
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
        if not opening >= 1:
            raise ValueError(f"opening must be at least 1, not {opening!r}")
        self.opening = float(opening)
        self.requests = requests
        self.per_seconds = float(per_seconds)
        #: seconds between one call and the next
        self.interval = self.per_seconds / requests * (1.0 + margin)
        #: no ``requests + 1`` calls are closer together than this
        self.window = self.per_seconds * (1.0 + margin)
        self._clock = clock or anyio.current_time
        self._sleep = sleep or anyio.sleep
        self._slot: float | None = None
        self._sent: deque[float] = deque(maxlen=2 * requests)
        self._granted = 0  # turns given so far (the last one's ticket)
        self._moved = False  # whether a departure moved a time in ``_sent``
        self._steady = False
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

    async def acquire(self) -> int:
        """Wait for this call's turn, and count it. Returns the turn's ticket for
        :meth:`departed`."""
        async with self._lock:
            now = self._clock()
            if self._slot is None:  # the first call: it opens the connection
                self._slot = now + self.interval * self.opening + self.warmup
                return self._grant(now)
            turn = self._turn(now)
            while now < turn:
                await self._sleep(turn - now)
                now = self._clock()
                turn = self._turn(now)
            spacing = self.interval * (self.opening if len(self._sent) < 2 * self.requests
                                       and not self._steady else 1.0)
            if len(self._sent) >= 2 * self.requests:
                self._steady = True
            # the schedule moves on from the slot just used, not from a late wake-up
            # (a busy event loop wakes waiters late; up to a spacing of that is made
            # up), and starts afresh after an idle spell
            self._slot = max(self._slot + spacing, now - self.interval)
            return self._grant(now)

    def waits(self) -> bool:
        """Whether a call asking now would wait for its turn (another call holds the
        turn, or the schedule's next slot is later)."""
        if self._lock.locked():
            return True
        if self._slot is None:
            return False
        now = self._clock()
        return self._turn(now) > now

    def _grant(self, now: float) -> int:
        # The ticket is counted with its time, at once: a departure said while the next
        # call still waits for its turn must find its own call ``back`` from the end.
        self._granted += 1
        self._sent.append(now)
        return self._granted

    def departed(self, ticket: int) -> None:
        """Say that the call given ``ticket`` left only now (its request was written
        later than its turn: the event loop ran other work first). The window rule
        then counts it from now, so calls held up after their turn do not reach the
        provider bunched with the calls after them. Limits above 256 calls per window
        do not track departures."""
        back = self._granted - ticket
        if self.requests <= _TRACKED and 0 <= back < len(self._sent):
            now = self._clock()
            if now > self._sent[-1 - back]:
                self._sent[-1 - back] = now
                self._moved = True

    def _turn(self, now: float) -> float:
        """When the next call may go: its slot on the schedule, but never before the
        call ``requests`` back (by when calls left) is a (widened) window old, nor
        within 80 % of a spacing of the last call."""
        assert self._slot is not None
        turn = max(self._slot, self._sent[-1] + self.interval * _CLOSEST)
        if len(self._sent) >= self.requests:
            nth = (heapq.nlargest(self.requests, self._sent)[-1] if self._moved
                   else self._sent[-self.requests])
            turn = max(turn, nth + self.window)
        return turn

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
