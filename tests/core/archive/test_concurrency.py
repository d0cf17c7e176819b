"""Many readers and one writer at once: threads each with their own connection, and
two archive objects (as two processes would) on one file."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from asof.archive import Archive

from .helpers import at, balance_query, change, clock, covered


def test_readers_in_threads_see_whole_transactions_while_a_writer_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as archive:
        archive.add([covered(None, at(31)), change(at(1), 0)])
        done = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                # Every batch moves the balance and adds a later change in one transaction:
                # a reader must never see a batch half written.
                for n in range(1, 60):
                    with Archive(path, clock=clock()) as other:
                        other.add([change(at(2), n * 10, slot=10_000 + n, index=0),
                                   change(at(2), n * 10, slot=10_000 + n, index=1,
                                          account="twin")])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                done.set()

        def reader() -> set[int]:
            seen: set[int] = set()
            while not done.is_set():
                found = archive.lookup_balance(balance_query(at(3)))
                assert found is not None
                seen.add(found.amount.raw)
            return seen

        with ThreadPoolExecutor(max_workers=5) as pool:
            readers = [pool.submit(reader) for _ in range(4)]
            pool.submit(writer).result()
            results = [r.result() for r in readers]
        assert not errors
        for seen in results:
            # Both accounts move together in one transaction: the sum is always even
            # tens times two, never one account updated without the other.
            assert all(value % 20 == 0 for value in seen)
        final = archive.lookup_balance(balance_query(at(3)))
        assert final is not None
        assert final.amount.raw == 59 * 20


def test_each_thread_gets_its_own_connection(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        archive.add([change(at(2), 5)])
        with ThreadPoolExecutor(max_workers=3) as pool:
            counts = list(pool.map(lambda _: archive.info().counts["changes"], range(6)))
        assert counts == [1] * 6
        assert len(archive._connections) >= 2
    assert archive._connections == []
