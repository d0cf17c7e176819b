"""One rate budget per provider key, shared by every process and machine that uses it.

A provider's limit belongs to its key, however many processes send requests with it.
A deployment that runs asof in several processes (a cluster's workers, a few cron jobs)
names a shared store, ``[asof] rate_limit_store`` in the configuration or the
``ASOF_RATE_LIMIT_STORE`` environment variable:

- ``postgresql://USER@HOST:PORT/DB`` keeps the budget in PostgreSQL (the shared
  archive's server does; the tables are ``asof_rate_admission`` and ``asof_rate_hold``,
  the function ``asof_rate_admit``);
- ``redis://HOST:PORT/N`` (or ``rediss://``) keeps it in Redis (the keys
  ``<bucket>`` and ``<bucket>:hold``).

Every :class:`SharedBudget` with the same provider and credential draws from one bucket,
a sliding-window log: at most ``requests`` admissions in any window of ``per_seconds``
widened by 3%, and by at least 100 ms, for the time a request takes to reach the
provider; and at most a tenth of them in a tenth of it, so calls are spread, not burst.
The bucket is named after the provider and a SHA-256 digest of its credentials (never
the credential itself); a provider without credentials is keyed by a digest of its base
URL.

Each admission is one atomic step inside the store (a Lua script in Redis, a function
holding the key's advisory lock in PostgreSQL) that reads the store's own clock, counts
the window up to that moment and records the admission at it. A budget timed by its
callers' clocks lets requests through twice: a process that read its clock and was then
held up before reaching the store records its admission in the past, where the others'
windows no longer see it, and a machine whose clock is behind counts too few.

A provider's ``Retry-After`` answer slows every process sharing the key:
:meth:`SharedBudget.hold_off` stores a "not before" moment beside the bucket, and the
admission step waits for it first.

asof runs under asyncio and trio alike, while the async APIs of psycopg and redis-py are
asyncio-only. So the store is only ever called through its synchronous API in a worker
thread (:func:`anyio.to_thread.run_sync`), and the waiting between tries is
:func:`anyio.sleep`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import re
import threading
import uuid
from collections.abc import Iterable
from typing import Protocol

import anyio
import anyio.to_thread

from asof.errors import ConfigError
from asof.provider import RateLimit

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
#: Jitter added to each wait (seconds), so waiters across processes do not all retry
#: at the same moment.
_JITTER = 0.005
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


def _rates(limit: RateLimit) -> tuple[tuple[int, int], ...]:
    """The bucket's rates, as (requests, window in milliseconds): ``requests`` per
    (widened) window, and at most a tenth of them (at least 2) in the same share of the
    window, so that calls are spread over the window rather than sent in one burst (a
    burst opens many connections at once, whose requests reach the provider late and
    bunched)."""
    window = _window_ms(limit)
    whole = (limit.requests, window)
    part = max(2, limit.requests // 10)
    interval = window * part // limit.requests
    if part >= limit.requests or interval < 1:
        return (whole,)
    return ((part, interval), whole)


class BudgetStore(Protocol):
    """The synchronous face of a shared store (called in worker threads)."""

    def admit(self, key: str, rates: tuple[tuple[int, int], ...]) -> int:
        """One admission to the key's bucket, atomic and timed by the store's clock: 0
        when admitted (and recorded), else the milliseconds to wait before the next try
        (for the window to free a place, or for a "not before" moment)."""
        ...

    def now_ms(self) -> int:
        """The store's clock, in milliseconds since the epoch."""
        ...

    def hold_remaining(self, key: str) -> float:
        """Seconds until the key's "not before" moment (0 when there is none)."""
        ...

    def hold(self, key: str, seconds: float) -> None:
        """Push the key's "not before" moment to ``seconds`` from now (never earlier)."""
        ...

    def close(self) -> None:
        """Close the store's connections."""
        ...


#: Whether the budget's tables and function exist already.
_PG_READY = ("SELECT to_regclass('asof_rate_hold') IS NOT NULL "
             "AND to_regclass('asof_rate_admission') IS NOT NULL "
             "AND to_regprocedure('asof_rate_admit(text, integer[], bigint[])') IS NOT NULL")

_PG_SETUP = [
    "SELECT pg_advisory_xact_lock(hashtext('asof_rate_setup'))",
    "CREATE TABLE IF NOT EXISTS asof_rate_hold ("
    "key TEXT PRIMARY KEY, not_before TIMESTAMPTZ NOT NULL)",
    "CREATE TABLE IF NOT EXISTS asof_rate_admission (key TEXT NOT NULL, at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS asof_rate_admission_key_at ON asof_rate_admission (key, at_ms)",
    # the whole admission under the key's advisory lock, timed after taking it
    """CREATE OR REPLACE FUNCTION asof_rate_admit(k TEXT, limits INT[], windows BIGINT[])
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    now_ms BIGINT;
    held BIGINT;
    n BIGINT;
    oldest BIGINT;
    longest BIGINT := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('asof_rate:' || k, 0));
    now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    SELECT (extract(epoch FROM not_before) * 1000)::BIGINT INTO held
        FROM asof_rate_hold WHERE key = k;
    IF held IS NOT NULL AND held > now_ms THEN
        RETURN held - now_ms;
    END IF;
    FOR i IN 1 .. array_length(limits, 1) LOOP
        longest := GREATEST(longest, windows[i]);
        SELECT count(*) INTO n FROM asof_rate_admission
            WHERE key = k AND at_ms > now_ms - windows[i];
        IF n >= limits[i] THEN
            SELECT at_ms INTO oldest FROM asof_rate_admission
                WHERE key = k AND at_ms > now_ms - windows[i]
                ORDER BY at_ms OFFSET n - limits[i] LIMIT 1;
            RETURN GREATEST(1, oldest + windows[i] - now_ms);
        END IF;
    END LOOP;
    DELETE FROM asof_rate_admission WHERE key = k AND at_ms <= now_ms - longest;
    INSERT INTO asof_rate_admission (key, at_ms) VALUES (k, now_ms);
    RETURN 0;
END $$""",
]


class _PostgresStore:
    """The budget in PostgreSQL: the ``asof_rate_admission`` log, the ``asof_rate_hold``
    table of "not before" moments and the ``asof_rate_admit`` function, on one small
    pool of autocommit connections (an admission is one statement and one round
    trip)."""

    def __init__(self, url: str) -> None:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError("rate_limit_store postgresql://... needs psycopg: install "
                              "asof[budget-postgres]") from exc
        self._pool = ConnectionPool(url, min_size=1, max_size=4, open=True,
                                    kwargs={"autocommit": True})
        with self._pool.connection() as conn:
            # made once per database (a DDL statement per client would take catalog
            # locks on every start-up, and need the right to create)
            row = conn.execute(_PG_READY).fetchone()
            if row is None or not row[0]:
                with conn.transaction():
                    for statement in _PG_SETUP:
                        conn.execute(statement)

    def admit(self, key: str, rates: tuple[tuple[int, int], ...]) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT asof_rate_admit(%s, %s, %s)",
                               (key, [r for r, _ in rates], [w for _, w in rates])).fetchone()
        assert row is not None
        return int(row[0])

    def now_ms(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").fetchone()
        assert row is not None
        return int(row[0])

    def hold_remaining(self, key: str) -> float:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM not_before - clock_timestamp()) "
                "FROM asof_rate_hold WHERE key = %s", (key,)).fetchone()
        return max(0.0, float(row[0])) if row is not None else 0.0

    def hold(self, key: str, seconds: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO asof_rate_hold (key, not_before) VALUES "
                "(%s, clock_timestamp() + %s * INTERVAL '1 second') ON CONFLICT (key) DO "
                "UPDATE SET not_before = GREATEST(asof_rate_hold.not_before, "
                "EXCLUDED.not_before)", (key, seconds))

    def close(self) -> None:
        self._pool.close()


_LUA_NOW = ("if redis.replicate_commands then redis.replicate_commands() end "
            "local t = redis.call('TIME') "
            "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ")

#: KEYS: the bucket, its hold; ARGV: a unique member, then (requests, window ms) pairs.
_LUA_ADMIT = _LUA_NOW + """
local held = tonumber(redis.call('GET', KEYS[2]) or '0')
if held > now then return held - now end
local longest = 0
for i = 2, #ARGV, 2 do
    local limit = tonumber(ARGV[i])
    local window = tonumber(ARGV[i + 1])
    if window > longest then longest = window end
    local from = '(' .. string.format('%d', now - window)
    local count = redis.call('ZCOUNT', KEYS[1], from, '+inf')
    if count >= limit then
        local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES',
                                  'LIMIT', count - limit, 1)
        return math.max(1, tonumber(oldest[2]) + window - now)
    end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - longest))
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
redis.call('PEXPIRE', KEYS[1], longest)
return 0
"""

#: KEYS: the hold; ARGV: milliseconds from now. Keeps the later moment.
_LUA_HOLD = _LUA_NOW + """
local till = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < till then
    redis.call('SET', KEYS[1], string.format('%d', till), 'PX', ARGV[1])
end
return 1
"""

#: KEYS: the hold. Milliseconds until it.
_LUA_HELD = _LUA_NOW + """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
return math.max(0, held - now)
"""


class _RedisStore:
    """The budget in Redis: a sorted set of admissions per bucket and a ``<key>:hold``
    key holding the "not before" moment, both timed by the Redis server's clock (its
    ``TIME``) inside Lua scripts."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigError("rate_limit_store redis://... needs redis: install "
                              "asof[budget-redis]") from exc
        self._redis = redis.Redis.from_url(url)
        self._admit = self._redis.register_script(_LUA_ADMIT)
        self._hold = self._redis.register_script(_LUA_HOLD)
        self._held = self._redis.register_script(_LUA_HELD)

    def admit(self, key: str, rates: tuple[tuple[int, int], ...]) -> int:
        args: list[str | int] = [uuid.uuid4().hex]
        for requests, window in rates:
            args += [requests, window]
        return int(self._admit(keys=[key, f"{key}:hold"], args=args))

    def now_ms(self) -> int:
        seconds, micros = self._redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def hold_remaining(self, key: str) -> float:
        return int(self._held(keys=[f"{key}:hold"])) / 1000.0

    def hold(self, key: str, seconds: float) -> None:
        self._hold(keys=[f"{key}:hold"], args=[max(1, math.ceil(seconds * 1000))])

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
        self._rates = _rates(limit)
        self._lock = threading.Lock()  # opening the store, once

    @property
    def requests(self) -> int:
        """The requests allowed per window."""
        return self.limit.requests

    @property
    def per_seconds(self) -> float:
        """The window, in seconds."""
        return self.limit.per_seconds

    def _open(self) -> BudgetStore:
        with self._lock:
            if self._store is None:
                assert self._url is not None
                self._store = open_store(self._url)
            return self._store

    def _try(self) -> float:
        """One try, in a worker thread: 0 when admitted, else seconds to wait."""
        wait_ms = self._open().admit(self.key, self._rates)
        if wait_ms <= 0:
            return 0.0
        return wait_ms / 1000.0 + random.uniform(0.0, _JITTER)

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
            self._open().hold(self.key, seconds)

        await anyio.to_thread.run_sync(hold)

    def close(self) -> None:
        """Close the store's connections (when the budget opened them)."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None and self._url is not None:
            store.close()

    async def aclose(self) -> None:
        """:meth:`close`, in a worker thread."""
        await anyio.to_thread.run_sync(self.close)

    def __repr__(self) -> str:
        return (f"SharedBudget(key={self.key!r}, requests={self.limit.requests}, "
                f"per_seconds={self.limit.per_seconds:g})")
