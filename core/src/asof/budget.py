"""One rate budget per provider key, shared by every process and machine that uses it.

A provider's limit belongs to its key, however many processes send requests with it.
A deployment that runs asof in several processes (a cluster's workers, a few cron jobs)
names a shared store, ``[asof] rate_limit_store`` in the configuration or the
``ASOF_RATE_LIMIT_STORE`` environment variable:

- ``postgresql://USER@HOST:PORT/DB`` keeps the budget in PostgreSQL (the shared
  archive's server does; the tables are ``ratelimit___asof_*`` and ``asof_rate_hold``),
  timed by the server's clock, so machines with drifting clocks agree;
- ``redis://HOST:PORT/N`` (or ``rediss://``) keeps it in Redis, timed by each client's
  clock (keep the machines' clocks in step, e.g. with NTP).

Every :class:`SharedBudget` with the same provider and credential draws from one bucket
(pyrate-limiter's PostgreSQL or Redis bucket, a sliding-window log: at most
``requests`` admissions in any window of ``per_seconds`` widened by 3%, and by at
least 100 ms, for the time a request takes to reach the provider; and at most a
tenth of them in a tenth of it, so calls are spread, not burst). The bucket is named
after the provider and a SHA-256 digest of its credentials (never the credential
itself); a provider without credentials is keyed by a digest of its base URL.

A provider's ``Retry-After`` answer slows every process sharing the key:
:meth:`SharedBudget.hold_off` stores a "not before" moment beside the bucket, and every
acquisition waits for it first.

pyrate-limiter's own blocking waits use :mod:`asyncio` (its async lock and sleep), and
its PostgreSQL and Redis clients' async APIs are asyncio-only, while asof runs under
asyncio and trio alike. So the store is only ever called through its synchronous API in
a worker thread (:func:`anyio.to_thread.run_sync`), without blocking, and the waiting
between tries is :func:`anyio.sleep`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import re
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.to_thread

from asof.errors import ConfigError
from asof.provider import RateLimit

if TYPE_CHECKING:
    from pyrate_limiter import AbstractBucket, RateItem

__all__ = [
    "RATE_LIMIT_STORE_ENV",
    "BudgetStore",
    "SharedBudget",
    "budget_key",
    "check_store_url",
    "open_store",
    "store_kind",
]

log = logging.getLogger("asof.budget")

RATE_LIMIT_STORE_ENV = "ASOF_RATE_LIMIT_STORE"
"""The environment variable naming the shared rate-limit store."""

#: Extra window, as a share of the provider's, and at least ``_MARGIN_MS``: a request
#: let through early in one window may reach the provider late (a busy event loop, a
#: slow connection), and must still not land in the next window's count.
MARGIN = 0.03
_MARGIN_MS = 100
#: The wait between tries when another process holds the bucket's lock.
_CONTENDED = (0.002, 0.02)
#: Buckets are swept of expired entries at most this often (seconds).
_LEAK_EVERY = 5.0
_SAFE = re.compile(r"[^a-z0-9]+")


def store_kind(url: str) -> str:
    """``postgresql`` or ``redis``, for a store URL; a :class:`~asof.errors.ConfigError`
    for anything else."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    if scheme in ("redis", "rediss"):
        return "redis"
    shown = f"{scheme}://..." if scheme else "a value without a scheme"
    raise ConfigError(
        f"rate_limit_store: expected postgresql://... or redis://..., got {shown}")


def check_store_url(value: object, where: str) -> str:
    """A store URL from the configuration, checked (the message names ``where``; it never
    shows the URL, which may carry a password)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a postgresql:// or redis:// URL")
    try:
        store_kind(value.strip())
    except ConfigError as exc:
        raise ConfigError(f"{where}: {str(exc).split(': ', 1)[1]}") from None
    return value.strip()


def budget_key(provider: str, secrets: Iterable[str], *, fallback: str = "") -> str:
    """The bucket name for ``provider`` used with ``secrets`` (its credential values):
    the provider's name and a digest of the credentials, or of ``fallback`` (its base
    URL) when it has none. Safe as a table or key name; reveals nothing of a secret."""
    material = "\x00".join(secrets) or "url:" + fallback
    digest = hashlib.sha256(f"{provider}\x00{material}".encode()).hexdigest()[:24]
    name = _SAFE.sub("_", provider.lower()).strip("_")[:16] or "provider"
    return f"asof_{name}_{digest}"


def _window_ms(limit: RateLimit) -> int:
    window = limit.per_seconds * 1000.0
    return math.ceil(window + max(window * MARGIN, _MARGIN_MS))


def _rates(limit: RateLimit) -> list[Any]:
    """The bucket's rates: ``requests`` per (widened) window, and at most a tenth of
    them (at least 2) in the same share of the window, so that calls are spread over
    the window rather than sent in one burst (a burst opens many connections at once,
    whose requests reach the provider late and bunched)."""
    from pyrate_limiter import Rate

    window = _window_ms(limit)
    whole = Rate(limit.requests, window)
    part = max(2, limit.requests // 10)
    interval = window * part // limit.requests
    if part >= limit.requests or interval < 1:
        return [whole]
    return [Rate(part, interval), whole]


class BudgetStore(Protocol):
    """The synchronous face of a shared store (called in worker threads)."""

    def bucket(self, key: str, limit: RateLimit) -> AbstractBucket:
        """The store's bucket for ``key`` at ``limit``."""
        ...

    def now_ms(self) -> int:
        """The store's clock, in milliseconds."""
        ...

    def hold_remaining(self, key: str) -> float:
        """Seconds until the key's "not before" moment (0 when there is none)."""
        ...

    def hold_and_now(self, key: str) -> tuple[float, int]:
        """:meth:`hold_remaining` and :meth:`now_ms`, in one round trip."""
        ...

    def hold(self, key: str, seconds: float) -> None:
        """Push the key's "not before" moment to ``seconds`` from now (never earlier)."""
        ...

    def close(self) -> None:
        """Close the store's connections."""
        ...


class _PostgresStore:
    """The budget in PostgreSQL: pyrate-limiter's bucket plus a ``asof_rate_hold``
    table of "not before" moments, on one small connection pool."""

    def __init__(self, url: str) -> None:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError("rate_limit_store postgresql://... needs psycopg: install "
                              "asof[budget-postgres]") from exc
        # each ``with pool.connection()`` is one transaction, committed on leaving it
        # (the bucket's LOCK TABLE needs one)
        self._pool = ConnectionPool(url, min_size=1, max_size=4, open=True)
        with self._pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('asof_rate_hold'))")
            conn.execute("CREATE TABLE IF NOT EXISTS asof_rate_hold ("
                         "key TEXT PRIMARY KEY, not_before TIMESTAMPTZ NOT NULL)")

    def bucket(self, key: str, limit: RateLimit) -> AbstractBucket:
        from pyrate_limiter import PostgresBucket

        return PostgresBucket(self._pool, key, _rates(limit))

    def now_ms(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").fetchone()
        assert row is not None
        return int(row[0])

    def hold_remaining(self, key: str) -> float:
        return self.hold_and_now(key)[0]

    def hold_and_now(self, key: str) -> tuple[float, int]:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint, "
                "(SELECT extract(epoch FROM not_before - clock_timestamp()) "
                "FROM asof_rate_hold WHERE key = %s)", (key,)).fetchone()
        assert row is not None
        return (max(0.0, float(row[1])) if row[1] is not None else 0.0), int(row[0])

    def hold(self, key: str, seconds: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO asof_rate_hold (key, not_before) VALUES "
                "(%s, clock_timestamp() + %s * INTERVAL '1 second') ON CONFLICT (key) DO "
                "UPDATE SET not_before = GREATEST(asof_rate_hold.not_before, "
                "EXCLUDED.not_before)", (key, seconds))

    def close(self) -> None:
        self._pool.close()


class _RedisStore:
    """The budget in Redis: pyrate-limiter's bucket plus a ``<key>:hold`` key holding
    the "not before" moment (milliseconds since the epoch, expiring with it)."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError("rate_limit_store redis://... needs redis: install "
                              "asof[budget-redis]") from exc
        self._redis = redis.Redis.from_url(url)

    def bucket(self, key: str, limit: RateLimit) -> AbstractBucket:
        from pyrate_limiter import RedisBucket

        made: AbstractBucket = RedisBucket.init(_rates(limit), self._redis, key)
        return made

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def hold_remaining(self, key: str) -> float:
        raw = self._redis.get(f"{key}:hold")
        if raw is None:
            return 0.0
        return max(0.0, (int(raw) - self.now_ms()) / 1000.0)

    def hold(self, key: str, seconds: float) -> None:
        until = self.now_ms() + math.ceil(seconds * 1000)
        # keep the later moment: set when absent, else only when ours is later
        script = ("local cur = redis.call('GET', KEYS[1]) "
                  "if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then "
                  "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1")
        self._redis.eval(script, 1, f"{key}:hold", until, max(1, math.ceil(seconds * 1000)))

    def hold_and_now(self, key: str) -> tuple[float, int]:
        return self.hold_remaining(key), self.now_ms()

    def close(self) -> None:
        self._redis.close()


def open_store(url: str) -> BudgetStore:
    """The store a ``rate_limit_store`` URL names, connected."""
    if store_kind(url) == "postgresql":
        return _PostgresStore(url)
    return _RedisStore(url)


class SharedBudget:
    """A provider key's rate budget in a shared store.

    ``store`` is the store's URL (or an open :class:`BudgetStore`, which the budget then
    does not close); ``key`` the bucket's name (see :func:`budget_key`); ``limit`` the
    provider's limit. Use ``await budget.acquire()`` before each request and
    ``await budget.hold_off(seconds)`` when the provider asks to wait. Works under
    asyncio and trio; the store is opened on first use.
    """

    def __init__(self, store: str | BudgetStore, key: str, limit: RateLimit) -> None:
        self.key = key
        self.limit = limit
        self._url = store if isinstance(store, str) else None
        self._store: BudgetStore | None = None if isinstance(store, str) else store
        self._bucket: AbstractBucket | None = None
        self._lock = threading.Lock()  # the bucket keeps its last verdict on itself
        self._leaked = 0.0

    @property
    def requests(self) -> int:
        """The requests allowed per window."""
        return self.limit.requests

    @property
    def per_seconds(self) -> float:
        """The window, in seconds."""
        return self.limit.per_seconds

    def _open(self) -> tuple[BudgetStore, AbstractBucket]:
        if self._store is None:
            assert self._url is not None
            self._store = open_store(self._url)
        if self._bucket is None:
            self._bucket = self._store.bucket(self.key, self.limit)
        return self._store, self._bucket

    def _try(self) -> float:
        """One try, in a worker thread: 0 when admitted, else seconds to wait."""
        from pyrate_limiter import RateItem

        with self._lock:
            store, bucket = self._open()
            held, now = store.hold_and_now(self.key)
            if held > 0:
                return held
            item: RateItem = RateItem(self.key, now, weight=1)
            decision: Any = bucket.put_decision(item)
            if decision.allowed:
                if time.monotonic() - self._leaked > _LEAK_EVERY:
                    self._leaked = time.monotonic()
                    bucket.leak(now)
                return 0.0
            if decision.retry_after_ms is None:  # another process held the lock
                return random.uniform(*_CONTENDED)
            # a little jitter, so waiters across processes do not all retry at once
            return max(int(decision.retry_after_ms), 1) / 1000.0 + random.uniform(0.0, 0.005)

    async def acquire(self) -> None:
        """Take one request from the budget, waiting (with :func:`anyio.sleep`) until the
        shared bucket admits it and no "not before" moment is pending."""
        while True:
            wait: float = await anyio.to_thread.run_sync(self._try)
            if wait <= 0:
                return
            await anyio.sleep(wait)

    async def hold_off(self, seconds: float) -> None:
        """Make every process sharing this key wait ``seconds`` from now (a provider's
        ``Retry-After``); a later moment already stored is kept."""
        if seconds <= 0:
            return

        def hold() -> None:
            with self._lock:
                store, _ = self._open()
                store.hold(self.key, seconds)

        await anyio.to_thread.run_sync(hold)

    def close(self) -> None:
        """Close the store's connections (when the budget opened them)."""
        store, self._store, self._bucket = self._store, None, None
        if store is not None and self._url is not None:
            store.close()

    async def aclose(self) -> None:
        """:meth:`close`, in a worker thread."""
        await anyio.to_thread.run_sync(self.close)

    def __repr__(self) -> str:
        return (f"SharedBudget(key={self.key!r}, requests={self.limit.requests}, "
                f"per_seconds={self.limit.per_seconds:g})")
