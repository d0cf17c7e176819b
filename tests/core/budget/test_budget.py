"""The rate budget shared across processes (asof.budget), on a real PostgreSQL and a
real Redis server, under asyncio and trio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.budget import SharedBudget, budget_key, open_store, store_kind
from asof.config import load_config
from asof.errors import ConfigError, RateLimited
from asof.provider import Credential, ProviderInfo, RateLimit
from asof.ratelimit import RateLimiter, limiter_for
from asof.secrets import Secret
from asof.testing.ratelimited import RateLimitedServer
from asof.transport import MockTransport, Response, Transport

LIMIT = RateLimit(requests=5, per_seconds=0.5)
KEY_HEADER = Credential(header="X-API-Key")


def _busiest(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# --------------------------------------------------------------------------- keys


@settings(max_examples=60, deadline=None)
@given(provider=st.sampled_from(["helius", "allium", "a-b.c", "Ünï"]),
       secret=st.text(st.characters(codec="ascii"), min_size=8, max_size=60))
def test_a_bucket_name_shows_no_part_of_the_key(provider: str, secret: str) -> None:
    name = budget_key(provider, [secret])
    assert name == budget_key(provider, [secret])  # the same in every process
    assert name != budget_key(provider, [secret + "x"])
    assert name != budget_key("other", [secret])
    for start in range(len(secret) - 7):  # no 8 characters of the key appear in it
        assert secret[start:start + 8].lower() not in name
    assert name.isascii()
    assert len(name) <= 46


def test_a_provider_without_credentials_is_keyed_by_its_url() -> None:
    assert budget_key("evm", [], fallback="http://a") != budget_key("evm", [], fallback="http://b")
    assert budget_key("evm", [], fallback="http://a") == budget_key("evm", [], fallback="http://a")


# --------------------------------------------------------------------------- configuration


def test_the_store_is_read_from_the_file_and_the_environment(tmp_path: os.PathLike[str]) -> None:
    path = f"{tmp_path}/asof.toml"
    with open(path, "w") as f:
        f.write('[asof]\nrate_limit_store = "postgresql://u@db:5432/asof"\n')
    assert load_config(path, env={}).rate_limit_store == "postgresql://u@db:5432/asof"
    env = {"ASOF_RATE_LIMIT_STORE": "redis://cache:6379/2"}
    assert load_config(path, env=env).rate_limit_store == "redis://cache:6379/2"
    assert load_config(None, env={"ASOF_CONFIG": path + ".missing.toml"}.copy()
                       | {"ASOF_CONFIG": ""}).rate_limit_store is None


@pytest.mark.parametrize("value", ["mysql://u:hunter2@db/x", "hunter2", ""])
def test_a_bad_store_is_a_config_error_that_shows_no_password(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"ASOF_CONFIG": "", "ASOF_RATE_LIMIT_STORE": value or " x"})
    assert "ASOF_RATE_LIMIT_STORE" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError):
        store_kind(value)


def test_without_a_store_each_process_keeps_its_own_limiter() -> None:
    assert isinstance(limiter_for("p", LIMIT), RateLimiter)
    shared = limiter_for("p", LIMIT, store="redis://127.0.0.1:1/0", secrets=["sk-secret"])
    assert isinstance(shared, SharedBudget)
    assert shared.key == budget_key("p", ["sk-secret"])
    assert "secret" not in repr(shared)


# --------------------------------------------------------------------------- the budget


@pytest.mark.anyio
async def test_budgets_sharing_a_key_never_pass_the_limit_together(store: str) -> None:
    key = budget_key("test", ["one-key"])
    budgets = [SharedBudget(store, key, LIMIT) for _ in range(3)]
    other = SharedBudget(store, budget_key("test", ["another-key"]), LIMIT)
    times: list[float] = []
    others: list[float] = []

    async def draw(budget: SharedBudget, count: int, into: list[float]) -> None:
        for _ in range(count):
            await budget.acquire()
            into.append(time.monotonic())

    try:
        async with anyio.create_task_group() as tg:
            for budget in budgets:
                tg.start_soon(draw, budget, 5, times)
            tg.start_soon(draw, other, 5, others)
    finally:
        for budget in [*budgets, other]:
            budget.close()
    assert len(times) == 15
    assert len(others) == 5
    # at most `requests` admissions in any window (a hair shorter than the window, for
    # the time between the store's admission and this task waking up)
    assert _busiest(times, LIMIT.per_seconds * 0.9) <= LIMIT.requests
    # 15 admissions of 5 per window take at least two full windows
    assert max(times) - min(times) >= 2 * LIMIT.per_seconds
    # another key has a budget of its own: with it, more than the limit went through
    # in a window
    assert _busiest(times + others, LIMIT.per_seconds) > LIMIT.requests


@pytest.mark.anyio
async def test_a_hold_off_slows_every_budget_sharing_the_key(store: str) -> None:
    key = budget_key("test", ["held-key"])
    first, second = SharedBudget(store, key, LIMIT), SharedBudget(store, key, LIMIT)
    free = SharedBudget(store, budget_key("test", ["free-key"]), LIMIT)
    clock = open_store(store)
    try:
        await second.acquire()
        started = clock.now_ms()
        await first.hold_off(0.6)
        await first.hold_off(0.1)  # an earlier moment never shortens the hold
        assert clock.hold_remaining(key) > 0.3
        assert clock.hold_remaining(free.key) == 0
        await second.acquire()
        assert clock.now_ms() - started >= 600
    finally:
        for budget in (first, second, free):
            budget.close()
        clock.close()


@pytest.mark.anyio
async def test_a_retry_after_answer_holds_off_other_processes(store: str) -> None:
    info = ProviderInfo(name="limited", title="Limited", base_url="https://api.example",
                        credentials=(KEY_HEADER,), rate_limit=LIMIT)

    def handler(request: object) -> Response:
        return Response(429, json={"error": "slow down"}, headers={"Retry-After": "2"})

    transport = Transport(http_transport=MockTransport(handler), attempts=1,
                          rate_limit_store=store)
    session = transport.session(info, base_url=info.base_url, rate_limit=LIMIT,
                                credentials=[(KEY_HEADER, Secret("key-1"))])
    with pytest.raises(RateLimited):
        await session.get("/x")
    await transport.aclose()
    clock = open_store(store)
    try:
        assert clock.hold_remaining(budget_key("limited", ["key-1"])) > 1.0
        assert clock.hold_remaining(budget_key("limited", ["key-2"])) == 0
    finally:
        clock.close()


# --------------------------------------------------------------------------- processes

PER_PROCESS = 10
SERVER_LIMIT = RateLimit(requests=8, per_seconds=1.0)


@pytest.fixture
def server() -> Iterator[RateLimitedServer]:
    with RateLimitedServer(requests=SERVER_LIMIT.requests,
                           per_seconds=SERVER_LIMIT.per_seconds, latency=0.01) as running:
        yield running


def _run_three(server: RateLimitedServer, store: str) -> list[dict[str, int]]:
    jobs = [subprocess.Popen(
        [sys.executable, "-m", "asof.testing.ratelimited", server.url, store, str(PER_PROCESS),
         str(PER_PROCESS),
         str(SERVER_LIMIT.requests), str(SERVER_LIMIT.per_seconds), backend],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for backend in ("asyncio", "trio", "asyncio")]
    for job in jobs:
        assert job.stdout is not None
        assert job.stdout.readline() == "ready\n"
    for job in jobs:  # go, all three at once
        assert job.stdin is not None
        job.stdin.close()
    results = []
    for job in jobs:
        job.stdin = None  # closed above
        out, err = job.communicate(timeout=120)
        assert job.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_three_processes_sharing_one_key_stay_under_its_limit(
        server: RateLimitedServer, store: str) -> None:
    results = _run_three(server, store)
    assert results == [{"ok": PER_PROCESS, "limited": 0}] * 3
    assert server.statuses() == {200: 3 * PER_PROCESS}  # zero 429s, each request once
    assert server.busiest_window() <= SERVER_LIMIT.requests
    paths = [hit.path for hit in server.counted()]
    assert len(paths) == 3 * PER_PROCESS


def test_without_a_shared_store_the_same_processes_are_refused(
        server: RateLimitedServer) -> None:
    """The control: each process keeps the limit on its own, so together they pass it
    and the provider answers 429 (the test above would notice a budget that is not
    shared)."""
    results = _run_three(server, "")
    assert sum(r["limited"] for r in results) > 0
    assert server.statuses().get(429, 0) > 0


@pytest.mark.anyio
async def test_admissions_are_timed_by_the_store_not_by_the_caller(
        store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller whose clock is behind (or that was held up after reading it) must still
    see the admissions the others made: the store times every admission itself."""
    key = budget_key("test", ["clock-key"])
    first, late = SharedBudget(store, key, LIMIT), SharedBudget(store, key, LIMIT)
    try:
        for _ in range(LIMIT.requests):  # the window is full
            await first.acquire()
        real_ns, real_s = time.time_ns, time.time
        monkeypatch.setattr(time, "time_ns", lambda: real_ns() - 10_000_000_000)
        monkeypatch.setattr(time, "time", lambda: real_s() - 10.0)
        started = time.monotonic()
        await late.acquire()
        waited = time.monotonic() - started
    finally:
        first.close()
        late.close()
    # it had to wait for the window to free a place (a tenth-window sub-rate may free
    # one earlier than the whole window, but never at once)
    assert waited >= 0.04


def test_the_postgresql_budget_is_set_up_once(pg_server: object) -> None:
    """After the first store has made the tables and the function, the next ones find
    them and run no DDL (a user without the right to create can then use the budget)."""
    import psycopg

    from asof.budget import _PG_READY

    url = str(pg_server.database())  # type: ignore[attr-defined]
    with psycopg.connect(url) as conn:
        assert conn.execute(_PG_READY).fetchone() == (False,)
    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(_PG_READY).fetchone() == (True,)
        role = "reader_" + url.rsplit("/", 1)[1]  # roles are server-wide: one per database
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON asof_rate_admission, "
                     f"asof_rate_hold TO {role}")
    reader = url.replace("postgres@", f"{role}@", 1)
    assert reader != url
    store = open_store(reader)
    try:
        key = budget_key("test", ["reader-key"])
        assert store.admit(key, ((2, 1000),)) == 0
    finally:
        store.close()
