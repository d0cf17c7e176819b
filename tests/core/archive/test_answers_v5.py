"""Schema version 5: stored answers name their wallet and provider by id.

Answers written in the version 4 layout (each row holding its chain, wallet and
provider as text), as asof before version 5 wrote them, are migrated on opening. On
both backends the migrated archive must answer exactly what was stored: the records
read back equal the records written, the export is byte for byte that of a fresh
archive given the same answers, and writing goes on where the old rows left off.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from asof.archive import Archive, SQLiteStorage, Storage, pgschema, schema
from asof.archive.backend import Filters
from asof.archive.coverage import to_us
from asof.archive.io import export
from asof.records import Amount, BalanceAt, BlockRef, Point, Provenance
from asof.wire import to_data

from .conftest import postgres_database
from .helpers import NOW, OTHER, SOL, USDC, WALLET, answer, at, clock

#: What version 4's writer did with an answer: (columns of its row, provenance kept in
#: the shared row).
_V4_INSERT = (
    "INSERT INTO answers (provider, chain, wallet, token_id, point_time_us, point_block, "
    "raw, decimals, has_asof, asof_block, asof_hash, asof_time_us, asof_txn, asof_idx, "
    "provenance_id, exact, fetched_us, echo) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _answers() -> list[tuple[BalanceAt, bool | None]]:
    """Answers of every shape a stored row can hold, with what each provider declared
    of its method (exact, not, unknown)."""
    by_block = BalanceAt(
        wallet=OTHER, token=SOL, amount=Amount(raw=2**70 + 3, decimals=9),
        requested=Point(block=250_000_123),
        as_of=BlockRef(number=250_000_123, hash="blockhash", timestamp=at(4, 5),
                       transaction=None, index=None),
        provenance=Provenance(provider="node", source="getBalance", caveats=("slot read",)))
    echoed = attrs.evolve(answer(at(6), 7_000_000, at(5, 23)), provenance=Provenance(
        provider="helius", source="GET /v1/wallet/{wallet}/balance-at",
        fetched_at=NOW - timedelta(hours=2), echo={"time": int(at(6).timestamp())},
        caveats=("a token held in several token accounts may be undercounted",)))
    return [
        (answer(at(1), 1_000_000, at(1)), None),
        (answer(at(2), 0, None, provider="other"), False),
        (answer(at(3), 5_000_000, at(2, 12)), True),
        (answer(at(3), 5_000_001, at(2, 13), provider="other"), None),
        (answer(at(1), 42, at(1), wallet=OTHER), True),
        (echoed, False),
        (by_block, True),
    ]


def _v4_rows(run: Callable[[str, tuple[Any, ...]], Any],
             answers: list[tuple[BalanceAt, bool | None]]) -> None:
    """Write ``answers`` as version 4 stored them (tokens and provenance rows too)."""
    for stored, exact in answers:
        token = stored.token
        row = run("SELECT id FROM tokens WHERE chain = ? AND address = ?",
                  (token.chain, token.address)).fetchone()
        token_id = row[0] if row is not None else run(
            "INSERT INTO tokens (chain, address, standard, decimals, symbol) VALUES "
            "(?, ?, ?, ?, ?) RETURNING id",
            (token.chain, token.address, token.standard, token.decimals,
             token.symbol)).fetchone()[0]
        prov = stored.provenance
        shared = attrs.evolve(prov, fetched_at=None, echo=None)
        text = json.dumps(to_data(shared), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
        row = run("SELECT id FROM provenance WHERE data = ?", (text,)).fetchone()
        prov_id = row[0] if row is not None else run(
            "INSERT INTO provenance (data) VALUES (?) RETURNING id", (text,)).fetchone()[0]
        as_of = stored.as_of
        run(_V4_INSERT, (
            prov.provider, stored.wallet.chain, stored.wallet.address, token_id,
            None if stored.requested.time is None else to_us(stored.requested.time),
            stored.requested.block, str(stored.amount.raw), stored.amount.decimals,
            int(as_of is not None), None if as_of is None else as_of.number,
            None if as_of is None else as_of.hash,
            None if as_of is None or as_of.timestamp is None else to_us(as_of.timestamp),
            None if as_of is None else as_of.transaction,
            None if as_of is None else as_of.index, prov_id,
            None if exact is None else int(exact),
            None if prov.fetched_at is None else to_us(prov.fetched_at),
            None if prov.echo is None else json.dumps(
                to_data(prov.echo), sort_keys=True, separators=(",", ":"),
                ensure_ascii=False)))


def _sqlite_v4(folder: Path, answers: list[tuple[BalanceAt, bool | None]]) -> Storage:
    path = folder / "v4.sqlite"
    schema.create_file(path)
    conn = schema.connect(str(path))
    for statements in schema.MIGRATIONS[:4]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    _v4_rows(lambda sql, args: conn.execute(sql, args), answers)
    conn.close()
    return SQLiteStorage(path)


def _postgres_v4(folder: Path, answers: list[tuple[BalanceAt, bool | None]]) -> Storage:
    import psycopg

    from asof.archive.postgres import PostgresStorage, translate

    url = postgres_database()
    with psycopg.connect(url, autocommit=True) as conn:
        for statements in pgschema.MIGRATIONS[:4]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("UPDATE asof_schema SET version = 4")
        _v4_rows(lambda sql, args: conn.execute(translate(sql), args), answers)
    return PostgresStorage(url, pool_size=2)


def _fresh(folder: Path, backend: str) -> Storage:
    if backend == "postgres":
        from asof.archive.postgres import PostgresStorage

        return PostgresStorage(postgres_database(), pool_size=2)
    return SQLiteStorage(folder / "fresh.sqlite")


@pytest.fixture(params=["sqlite", "postgres"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Storage]]:
    """A version 4 archive holding :func:`_answers`, opened (so migrated) now."""
    build = _postgres_v4 if request.param == "postgres" else _sqlite_v4
    storage = build(tmp_path, _answers())
    try:
        yield request.param, storage
    finally:
        storage.close()


def _export(storage: Storage) -> str:
    out = io.StringIO()
    with Archive(storage=storage, clock=clock()) as archive:
        export(archive, out, fmt="jsonl")
    return out.getvalue()


def test_answers_stored_before_version_5_read_the_same_after_it(
        migrated: tuple[str, Storage], tmp_path: Path) -> None:
    backend, storage = migrated
    written = _answers()
    with storage.read() as r:
        assert r.schema_version() == schema.SCHEMA_VERSION == 5
        assert r.counts()["answers"] == len(written)
        by_wallet = {(a.wallet, a.token) for a, _ in written}
        for wallet, token in by_wallet:
            stored = r.answers(wallet, token)
            expected = sorted(
                [(a, e) for a, e in written if (a.wallet, a.token) == (wallet, token)],
                key=lambda pair: (pair[0].requested.time is None,
                                  pair[0].requested.time or NOW, pair[0].requested.block or 0,
                                  pair[0].provenance.provider))
            assert [(s.answer, s.exact) for s in stored] == expected
        exported = list(r.export_answers(Filters()))
    assert sorted(exported, key=repr) == sorted((a for a, _ in written), key=repr)

    # the export is byte for byte that of a fresh archive given the same answers
    fresh = _fresh(tmp_path, backend)
    try:
        with fresh.write(NOW) as w:
            for one, exact in written:
                w.answer(one, exact)
        assert _export(storage) == _export(fresh)
    finally:
        fresh.close()


def test_a_migrated_archive_goes_on_writing_answers(migrated: tuple[str, Storage]) -> None:
    _, storage = migrated
    new = answer(at(9), 9_000_000, at(8), provider="helius")
    again = answer(at(1), 1_000_002, at(1))  # the key of a stored answer: it replaces it
    with storage.write(NOW) as w:
        w.answer(new, True)
        w.answer(again, None)
    with storage.read() as r:
        assert r.counts()["answers"] == len(_answers()) + 1
        stored = r.answers(WALLET, USDC)
        assert [s.answer for s in stored if s.answer.requested == new.requested] == [new]
        assert [s.answer.amount.raw for s in stored
                if s.answer.requested == again.requested
                and s.answer.provenance.provider == "direct"] == [1_000_002]
        # the time look-up reads the migrated key: the answers at or after the point,
        # and the exact ones before it
        found = r.answers_for(WALLET, USDC, Point(time=at(3)))
        assert {(s.answer.requested.time, s.answer.provenance.provider) for s in found} == {
            (at(3), "direct"), (at(3), "other"), (at(6), "helius"), (at(9), "helius")}
