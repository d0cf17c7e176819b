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
from asof.records import BalanceAt, Wallet
from asof.tokens import resolve_token

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


def test_after_writing_only_answers_each_look_up_agrees_with_a_fresh_archive(
        tmp_path: Path) -> None:
    """A transaction that writes only answers keeps the rest of the connection's read
    cache; every look-up and explanation still equals what a newly opened archive (no
    cache at all) says, through answers, a history write and a token seen first."""
    path = tmp_path / "a.sqlite"
    other = Wallet(chain="solana", address="7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU")
    queries = [balance_query(at(10)), balance_query(at(10, 5)), balance_query(at(25)),
               balance_query(at(10), wallet=other)]

    def check(archive: Archive) -> None:
        with Archive(path, clock=clock()) as fresh:
            for query in queries:
                assert archive.lookup_balance(query) == fresh.lookup_balance(query)
                assert archive.explain_balance(query) == fresh.explain_balance(query)

    bonk = resolve_token("solana", "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263")
    with Archive(path, clock=clock()) as archive:
        check(archive)  # warm: nothing known
        archive.record_balance(answer(at(10), 100, at(9)), exact=True)
        check(archive)
        archive.record_balance(answer(at(10, 5), 110, at(10, 5)), exact=False)
        archive.record_balance(answer(at(10), 7, at(9), wallet=other), exact=True)
        check(archive)
        archive.add([covered(None, at(20)), change(at(5), 70)])
        check(archive)
        archive.record_balance(answer(at(25), 130, at(24)), exact=True)
        check(archive)
        archive.record_balance(answer(at(10), 5, at(9), token=bonk), exact=True)
        queries.append(balance_query(at(10), token=bonk))
        check(archive)
        assert _raw(archive.lookup_balance(queries[2])) == 130


def test_every_write_but_an_answer_drops_the_whole_read_cache() -> None:
    """The read cache outlives only a transaction that wrote answers alone: each other
    write method marks the writer (``answered = None``). A write method added later must
    be listed here once it does the same."""
    from asof.archive.sqlite import _Writer

    public = {name for name, value in vars(_Writer).items()
              if callable(value) and not name.startswith("_")}
    reads_only = {"sync"}
    assert public - reads_only == {"answer", "change", "changes", "ledger", "holding",
                                   "coverage",
                                   "put_sync", "forget_sync", "mark_imported", "clear",
                                   "block_time"}
    import inspect

    for name in public - reads_only - {"answer"}:
        assert "self.answered = None" in inspect.getsource(getattr(_Writer, name)), name
