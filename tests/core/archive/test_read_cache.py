"""What a connection keeps between reads never outlives a change: another connection's
commit (another archive object or process on the same file) and this archive's own
writes are seen by the next look-up; a stored answer keeps its own fetch time and
echo while the rest of its provenance is shared."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import attrs

from asof.archive import Archive
from asof.records import BalanceAt

from .helpers import NOW, USDC, answer, at, balance_query, change, clock, covered


def _raw(found: BalanceAt | None) -> int | None:
    return None if found is None else found.amount.raw


def test_another_connections_writes_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as reader, Archive(path, clock=clock()) as writer:
        query = balance_query(at(10))
        assert reader.lookup_balance(query) is None  # caches: no coverage, no streams
        writer.add([covered(None, at(20)), change(at(5), 70)])
        assert _raw(reader.lookup_balance(query)) == 70
        writer.add([change(at(8), 90, account="TokenAccountB111111111111111111111111111111")])
        assert _raw(reader.lookup_balance(query)) == 160
        writer.clear()
        assert reader.lookup_balance(query) is None


def test_own_writes_are_seen_and_another_thread_agrees(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        archive.add([covered(None, at(20)), change(at(5), 70)])
        query = balance_query(at(10))
        assert _raw(archive.lookup_balance(query)) == 70
        archive.add([change(at(9), 20)])
        assert _raw(archive.lookup_balance(query)) == 20
        seen: list[int | None] = []
        worker = threading.Thread(target=lambda: seen.append(
            _raw(archive.lookup_balance(query))))
        worker.start()
        worker.join()
        archive.add([change(at(9, 12), 30)])
        assert seen == [20]
        assert _raw(archive.lookup_balance(query)) == 30


def test_identical_provenance_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as archive:
        stored = []
        for n in range(5):
            one = answer(at(10, n), 100 + n, at(10, n))
            one = attrs.evolve(one, provenance=attrs.evolve(
                one.provenance, fetched_at=NOW.replace(minute=n), echo={"time": n}))
            archive.record_balance(one, exact=False)
            stored.append(one)
        back = [r for r in archive.records(kinds=["balance_at"]) if isinstance(r, BalanceAt)]
        assert back == stored
        found = archive.balance_at(stored[2].wallet, USDC, at(10, 2))
        assert found is not None
        assert found.provenance.fetched_at == NOW.replace(minute=2)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM provenance").fetchone()[0] == 1
    conn.close()


def test_ids_of_a_rolled_back_or_cleared_write_are_not_reused(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        query = balance_query(at(10))
        try:
            with archive.batch() as add:
                add(change(at(5), 70))  # creates the token, stream and provenance rows
                raise RuntimeError("interrupted")
        except RuntimeError:
            pass
        archive.add([covered(None, at(20)), change(at(5), 70)])
        assert _raw(archive.lookup_balance(query)) == 70
        archive.clear()
        archive.add([covered(None, at(20)), change(at(6), 80)])
        assert _raw(archive.lookup_balance(query)) == 80
        assert archive.info().counts["changes"] == 1
