"""Compacting an archive file leaves it small on disk: ``VACUUM`` in WAL mode writes the
rebuilt database into the WAL, which the compaction then checkpoints and truncates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from asof.archive import Archive
from asof.records import BalanceAt

from .helpers import answer, at, clock


def test_compact_leaves_no_wal_behind_and_keeps_every_answer(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as archive:
        stored = []
        with archive.batch() as add:
            for n in range(500):
                one = answer(at(1) + timedelta(minutes=n), 1_000 + n, at(1))
                add(one)
                stored.append(one)
        archive.storage.compact()
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        assert archive.storage.size() == path.stat().st_size
        back = [r for r in archive.records(kinds=["balance_at"]) if isinstance(r, BalanceAt)]
        assert back == stored
