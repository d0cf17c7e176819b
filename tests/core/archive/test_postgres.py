"""The shared archive: PostgreSQL URLs in the configuration, no password shown, claims
on pulls, and copying an archive between backends."""

from __future__ import annotations

import json
import string
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.archive import SCHEMA_VERSION, Archive, Storage, archive_settings, open_archive
from asof.archive.claims import claim_key, pull_claim
from asof.archive.copy import copy_archive
from asof.archive.postgres import PostgresStorage, redact_url, translate
from asof.archive.settings import open_storage
from asof.cli.app import cli
from asof.cli.common import CliState
from asof.config import load_config
from asof.errors import ArchiveError, ConfigError
from asof.testing.postgres import PostgresServer

from .helpers import (
    NOW,
    SOL,
    USDC,
    WALLET,
    answer,
    at,
    balance_query,
    change,
    clock,
    covered,
    entry,
    history_query,
    lines_of,
)


def settings_of(tmp_path: Path, text: str, **env: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "asof.toml"
    path.write_text(text)
    return archive_settings(load_config(path, env={"HOME": str(tmp_path), **env}))


def test_url_in_the_file_or_the_environment(tmp_path: Path) -> None:
    url = "postgresql://me:s3cret@db.example:5432/asof"
    found = settings_of(tmp_path, f'[archive]\nurl = "{url}"\n')
    assert (found.url, found.path, found.chosen) == (url, "", True)
    env = settings_of(tmp_path, '[archive]\npath = "a.sqlite"\n', ASOF_ARCHIVE_URL=url)
    assert env.url == url
    lite = settings_of(tmp_path, '[archive]\nurl = "sqlite:///rel/a.sqlite"\n')
    assert (lite.url, lite.path) == ("", str(tmp_path / "rel" / "a.sqlite"))
    absolute = settings_of(tmp_path, "", ASOF_ARCHIVE_URL=f"sqlite:///{tmp_path}/b.sqlite")
    assert absolute.path == str(tmp_path / "b.sqlite")
    plain = settings_of(tmp_path, '[archive]\npath = "a.sqlite"\n')
    assert (plain.url, plain.path) == ("", str(tmp_path / "a.sqlite"))


def test_bad_urls_are_config_errors_that_show_no_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both url and path"):
        settings_of(tmp_path, '[archive]\nurl = "postgresql://h/db"\npath = "a.sqlite"\n')
    with pytest.raises(ConfigError, match=r"ASOF_ARCHIVE_URL: expected") as info:
        settings_of(tmp_path, "", ASOF_ARCHIVE_URL="mysql://me:s3cret@h/db")
    assert "s3cret" not in str(info.value)
    with pytest.raises(ConfigError, match="url: expected a database URL"):
        settings_of(tmp_path, "[archive]\nurl = 5\n")


def test_the_password_is_never_shown() -> None:
    assert redact_url("postgresql://me:s3cret@db:6543/asof") == "postgresql://me@db:6543/asof"
    assert redact_url("postgres://db/asof?password=s3cret") == "postgresql://db/asof"
    with pytest.raises(ArchiveError) as info:
        PostgresStorage("postgresql://me:s3cret@127.0.0.1:1/asof?connect_timeout=2")
    assert "s3cret" not in str(info.value)
    assert "postgresql://me@127.0.0.1:1/asof" in str(info.value)


def test_sqlite_statements_become_postgresql_ones() -> None:
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)") == \
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    assert translate("INSERT OR REPLACE INTO imports (name, sha256) VALUES (?, ?)") == (
        "INSERT INTO imports (name, sha256) VALUES (%s, %s) ON CONFLICT (sha256) DO UPDATE "
        "SET name = excluded.name, sha256 = excluded.sha256")
    assert translate("SELECT 1 WHERE basis IS ? AND x LIKE '%a'") == \
        "SELECT 1 WHERE basis IS NOT DISTINCT FROM %s AND x LIKE '%%a'"


def test_open_storage_takes_urls_and_paths(tmp_path: Path, pg_server: PostgresServer) -> None:
    for target in (str(tmp_path / "a.sqlite"), f"sqlite:///{tmp_path}/b.sqlite"):
        storage = open_storage(target)
        assert storage.about()["backend"] == "sqlite"
        storage.close()
    shared = open_storage(pg_server.database())
    assert shared.about()["backend"] == "postgresql"
    assert shared.about()["server"].startswith("PostgreSQL 15")
    shared.close()
    with pytest.raises(ArchiveError, match="expected postgresql"):
        open_storage("mysql://h/db")


def test_a_claim_has_one_holder_until_released_or_expired(pg_server: PostgresServer) -> None:
    storage = PostgresStorage(pg_server.database())
    try:
        assert storage.claim("k", "one", 60)
        assert not storage.claim("k", "two", 60)
        assert storage.claim("k", "one", 60)  # renewed by its holder
        storage.release("k", "two")  # not its claim: nothing happens
        assert not storage.claim("k", "two", 60)
        storage.release("k", "one")
        assert storage.claim("k", "two", 0.001)
        import time

        time.sleep(0.05)
        assert storage.claim("k", "three", 60)  # two's claim expired
    finally:
        storage.close()


def test_sqlite_grants_every_claim(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite") as archive:
        assert archive.storage.claim("k", "one", 60)
        assert archive.storage.claim("k", "two", 60)


@pytest.mark.parametrize("loop", ["asyncio", "trio"])
def test_a_second_puller_waits_for_the_first(pg_server: PostgresServer, loop: str) -> None:
    import anyio

    storage = PostgresStorage(pg_server.database())
    query = history_query(at(1), at(2))
    order: list[str] = []

    async def second() -> None:
        async with pull_claim(storage, query, poll=0.01,
                              on_wait=lambda: order.append("waiting")):
            order.append("second")

    async def main() -> None:
        async with anyio.create_task_group() as tg, pull_claim(storage, query) as renew:
            tg.start_soon(second)
            await anyio.sleep(0.3)
            renew()
            order.append("first")  # the second is still waiting
            # released: the second gets it now

    try:
        anyio.run(main, backend=loop)
    finally:
        storage.close()
    assert order == ["waiting", "first", "second"]


def test_renewing_a_claim_taken_over_stops_the_pull(pg_server: PostgresServer) -> None:
    import anyio

    storage = PostgresStorage(pg_server.database())
    query = history_query(at(1), at(2))

    async def main() -> None:
        async with pull_claim(storage, query, seconds=0.01) as renew:
            await anyio.sleep(0.05)
            assert storage.claim(claim_key(query), "someone else", 60)
            renew()

    try:
        with pytest.raises(ArchiveError, match="another process took it over"):
            anyio.run(main)
    finally:
        storage.close()


RECORDS = ("changes", "ledger", "holdings", "answers")


def fill(archive: Archive) -> None:
    """Records of every kind, coverage and a sync state."""
    archive.add([change(at(3), 10), change(at(4), 20, account=None, token=SOL),
                 change(at(5), 2**70), entry(at(6), "1.5", "11.5"),
                 covered(None, at(20))])
    archive.record_balance(answer(at(7), 42, at(6, 23)), exact=True)
    archive.record_balance(answer(at(8), 43, None, provider="other"), exact=False)
    from asof.records import Page

    archive.record_page(history_query(at(1), at(9)), "hist", Page(items=(), cursor="c2"),
                        None)


def test_copy_moves_everything_both_ways(storage: Storage, tmp_path: Path,
                                         pg_server: PostgresServer) -> None:
    with Archive(storage=storage, clock=clock()) as source:
        fill(source)
        expected = list(source.records())
        counts = source.info().counts
        for target in (PostgresStorage(pg_server.database()),
                       open_storage(str(tmp_path / "copy.sqlite"))):
            done: list[int] = []
            report = copy_archive(source.storage, target, now=NOW, batch=3,
                                  on_batch=done.append)
            assert report.source == dict(counts)
            assert report.dest == dict(counts)
            assert sum(done) == sum(counts.values())
            # new records (coverage and sync states are not counted as records)
            assert report.stored == sum(counts[k] for k in RECORDS) == 6
            with Archive(storage=target, clock=clock()) as moved:
                assert list(moved.records()) == expected
                query = balance_query(at(10))
                assert moved.lookup_balance(query) == source.lookup_balance(query)
                assert moved.lookup_balance(query) is not None
                with moved.storage.read() as r, source.storage.read() as s:
                    assert r.answers(WALLET, USDC) == s.answers(WALLET, USDC)
                    assert r.syncs() == s.syncs()
                again = copy_archive(source.storage, moved.storage, now=NOW)
                # a rerun skips every record but the answers, which it replaces
                assert again.stored == counts["answers"]
                assert again.dest == dict(counts)


def test_an_interrupted_copy_resumes(tmp_path: Path, pg_server: PostgresServer) -> None:
    with Archive(tmp_path / "a.sqlite", clock=clock()) as source:
        fill(source)
        target = PostgresStorage(pg_server.database())
        calls: list[int] = []

        def stop_after_two(n: int) -> None:
            calls.append(n)
            if len(calls) == 2:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            copy_archive(source.storage, target, now=NOW, batch=2, on_batch=stop_after_two)
        with target.read() as r:
            assert r.counts()["changes"] == 3  # two batches of two were committed
        report = copy_archive(source.storage, target, now=NOW, batch=2)
        records = sum(source.info().counts[k] for k in RECORDS)
        assert report.stored == records - 4
        assert report.dest == dict(source.info().counts)
        target.close()


def test_copy_refuses_the_same_archive(tmp_path: Path) -> None:
    storage = open_storage(str(tmp_path / "a.sqlite"))
    with pytest.raises(ArchiveError, match="same archive"):
        copy_archive(storage, storage, now=NOW)
    storage.close()


def invoke(args: list[str], **kw: object) -> Result:
    return CliRunner().invoke(cli, args, obj=CliState(), **kw)  # type: ignore[arg-type]


def test_the_commands_on_postgresql(tmp_path: Path, pg_server: PostgresServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASOF_CONFIG", "ASOF_ARCHIVE_PATH", "ASOF_ARCHIVE_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    url = pg_server.database().replace("postgres@", "postgres:s3cret@")
    monkeypatch.setenv("ASOF_ARCHIVE_URL", url)  # trust auth ignores the password
    source = tmp_path / "in.jsonl"
    source.write_text(lines_of(change(at(3), 10), change(at(4), 20)))
    imported = invoke(["import", str(source), "--complete-to", "2025-03-31"])
    assert imported.exit_code == 0, imported.output
    assert "imported 2 record(s)" in imported.stderr
    assert "s3cret" not in imported.stderr
    info = invoke(["archive", "info", "--format", "json"])
    data = json.loads(info.stdout)
    assert data["backend"] == "postgresql"
    assert data["server"].startswith("PostgreSQL 15")
    assert data["schema version"] == SCHEMA_VERSION
    assert data["changes"] == 2
    assert "s3cret" not in info.stdout
    assert data["url"] == url.replace(":s3cret", "")
    balance = invoke(["balance-at", "solana:" + WALLET.address, "USDC", "--at",
                      "2025-03-05", "--format", "json"])
    assert balance.exit_code == 0, balance.output
    answered = json.loads(balance.stdout)
    assert answered["amount"]["raw"] == "20"
    assert answered["provenance"]["archived"] is True
    copy = invoke(["archive", "copy", url, str(tmp_path / "copy.sqlite")])
    assert copy.exit_code == 0, copy.output
    assert "s3cret" not in copy.stderr
    with Archive(tmp_path / "copy.sqlite", clock=clock()) as moved:
        assert moved.info().counts["changes"] == 2
    cleared = invoke(["archive", "clear", "--yes"])
    assert cleared.exit_code == 0
    assert json.loads(invoke(["archive", "info", "--format", "json"]).stdout)[
        "changes"] == 0


def test_open_archive_with_a_url(tmp_path: Path, pg_server: PostgresServer) -> None:
    path = tmp_path / "asof.toml"
    path.write_text(f'[archive]\nurl = "{pg_server.database()}"\n')
    archive = open_archive(load_config(path, env={"HOME": str(tmp_path)}))
    assert archive is not None
    assert archive.storage.about()["backend"] == "postgresql"
    archive.close()


def test_batched_changes_count_what_was_new(pg_server: PostgresServer) -> None:
    from asof.archive import postgres

    with Archive(storage=PostgresStorage(pg_server.database()), clock=clock()) as archive:
        first = [change(at(1) + timedelta(minutes=n), n) for n in range(5)]
        assert archive.add(first) == 5
        more = [change(at(2) + timedelta(minutes=n), n) for n in range(postgres._BATCH + 3)]
        assert archive.add([*first, *more]) == len(more)  # across several batches
        assert archive.info().counts["changes"] == 5 + len(more)


def test_the_schema_follows_sqlite_and_refuses_a_newer_one(pg_server: PostgresServer) -> None:
    import psycopg

    from asof.archive import pgschema, schema

    assert pgschema.SCHEMA_VERSION == schema.SCHEMA_VERSION
    assert pgschema.ddl("id INTEGER PRIMARY KEY, n INTEGER, UNIQUE (ifnull(n, -1))") == \
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, " \
        "UNIQUE (coalesce(n, -1))"
    url = pg_server.database()
    PostgresStorage(url).close()
    PostgresStorage(url).close()  # opening again migrates nothing
    with psycopg.connect(url, autocommit=True) as conn:
        assert pgschema.schema_version(conn) == pgschema.SCHEMA_VERSION
        conn.execute("UPDATE asof_schema SET version = 99")
    with pytest.raises(ArchiveError, match="schema version 99, written by a newer asof"):
        PostgresStorage(url)


def _migrate_at_once(conn: Any, gate: Any, started: list[int],
                     failures: list[BaseException]) -> None:
    from asof.archive import pgschema

    gate.wait()
    try:
        started.append(pgschema.migrate(conn))
    except BaseException as exc:  # reported by the test
        failures.append(exc)


def test_sessions_opening_a_new_database_at_once_migrate_it_once(
        pg_server: PostgresServer) -> None:
    """Six sessions migrate the same empty database at the same moment, ten times over:
    each waits for the one that makes the schema and then finds it made (before the
    version table was looked for in ``pg_class``, a waiting session's stale catalog
    cache made it create the schema again in most rounds)."""
    import threading

    import psycopg

    from asof.archive import pgschema

    for _ in range(10):
        url = pg_server.database()
        conns = [psycopg.connect(url, autocommit=True) for _ in range(6)]
        started: list[int] = []
        failures: list[BaseException] = []
        gate = threading.Barrier(len(conns))

        threads = [threading.Thread(target=_migrate_at_once, args=(c, gate, started, failures))
                   for c in conns]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        try:
            assert failures == []
            assert len(started) == len(conns)
            assert pgschema.schema_version(conns[0]) == pgschema.SCHEMA_VERSION
        finally:
            for conn in conns:
                conn.close()


@pytest.mark.parametrize("loop", ["asyncio", "trio"])
def test_a_killed_pull_resumes_on_postgresql_under_either_loop(
        pg_server: PostgresServer, tmp_path: Path, loop: str) -> None:
    import anyio

    from asof.archive.pull import PullReport, pull
    from asof.client import AsyncClient
    from asof.errors import PluginError

    from .history_plugin import HistoryProvider

    url = pg_server.database()
    query = history_query(at(1), at(31))

    def run(plugin: HistoryProvider) -> PullReport:
        async def main() -> PullReport:
            archive = Archive(storage=PostgresStorage(url), clock=clock())
            async with AsyncClient(plugins={plugin.name: plugin},
                                   env={"HOME": str(tmp_path)}, archive=archive) as client:
                return await pull(client, query)

        return anyio.run(main, backend=loop)

    first = HistoryProvider(pages=5, fail_at=3)
    with pytest.raises(PluginError):
        run(first)
    second = HistoryProvider(pages=5)
    report = run(second)
    assert second.cursors == ["3", "4"]  # continued after the claim was released
    assert (report.resumed, report.total_pages) == (True, 5)
    with Archive(storage=PostgresStorage(url), clock=clock()) as archive:
        found = archive.lookup_balance(balance_query(at(30)))
        assert found is not None
        assert found.amount.raw == 500


@given(secret=st.text(alphabet=string.ascii_letters + string.digits + "-_.~", max_size=24),
       scheme=st.sampled_from(["postgresql", "postgres", "mysql", "http", "sqlite"]))
@settings(max_examples=60, deadline=None)
def test_no_url_form_shows_its_password(secret: str, scheme: str) -> None:
    password = "Pw9" + secret  # "Pw9" is in no message
    url = f"{scheme}://me:{password}@db.example:5432/asof"
    assert "Pw9" not in redact_url(url)
    env = {"HOME": "/nonexistent", "ASOF_ARCHIVE_URL": url}
    message = ""
    try:
        found = archive_settings(load_config(None, env=env))
    except ConfigError as exc:
        message = str(exc)
    else:
        assert found.url == url  # a PostgreSQL URL is kept for connecting, never printed
    assert "Pw9" not in message
    assert bool(message) == (scheme in ("mysql", "http", "sqlite"))


def test_many_writers_share_a_small_pool_and_new_tokens(pg_server: PostgresServer) -> None:
    import threading

    from asof.records import Token

    tokens = [Token(chain="solana", address=f"Mint{n + 1}" + "1" * 38, standard="spl",
                    decimals=6) for n in range(4)]
    errors: list[BaseException] = []
    with Archive(storage=PostgresStorage(pg_server.database(), pool_size=2),
                 clock=clock()) as archive:

        def write(n: int) -> None:
            try:
                # every writer brings the same new tokens, in its own order
                order = tokens[n % 4:] + tokens[:n % 4]
                archive.add([change(at(1) + timedelta(minutes=n), n, token=t,
                                    account=f"Acc{n}" + "1" * 38) for t in order])
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert archive.info().counts["changes"] == 8 * 4
        with archive.storage.read() as r:
            assert all(r.token(t) == t for t in tokens)


def test_an_archive_opens_from_a_url(pg_server: PostgresServer, tmp_path: Path) -> None:
    with Archive(pg_server.database(), clock=clock()) as shared:
        assert shared.storage.about()["backend"] == "postgresql"
        assert shared.path is None
    with Archive(f"sqlite:///{tmp_path}/u.sqlite", clock=clock()) as lite:
        assert lite.path == tmp_path / "u.sqlite"
