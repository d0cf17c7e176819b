"""Block times in the archive: the settled block timestamps a provider read, kept per
provider and chain, final blocks only, on every backend; and the in-memory twin the
core gives a provider when no archive is enabled."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.archive import SCHEMA_VERSION, Archive, SQLiteStorage
from asof.archive import schema as sqlite_schema
from asof.archive.copy import copy_archive
from asof.archive.finality import Finality
from asof.blocktimes import BlockTime, BlockTimes, MemoryBlockTimes

from .helpers import NOW, clock

#: 2025-06-01 minus a day: final on every chain at the archive's clock
OLD = int((NOW - timedelta(days=1)).timestamp())


def block(number: int, offset: int, hash: str | None = None) -> BlockTime:
    return BlockTime(number=number, timestamp=OLD + offset,
                     hash=hash if hash is not None else f"0x{number:064x}")


CHAIN = [block(10, 100), block(11, 112), block(20, 220), block(21, 220), block(30, 300)]


def test_stored_blocks_bound_a_moment(archive: Archive) -> None:
    times = archive.block_times("evm")
    assert times.record("ethereum", CHAIN) == len(CHAIN)
    assert times.around("ethereum", OLD + 112) == (CHAIN[1], CHAIN[2])
    assert times.around("ethereum", OLD + 150) == (CHAIN[1], CHAIN[2])
    # equal timestamps: the last of them is at or before
    assert times.around("ethereum", OLD + 220) == (CHAIN[3], CHAIN[4])
    assert times.around("ethereum", OLD + 99) == (None, CHAIN[0])
    assert times.around("ethereum", OLD + 10_000) == (CHAIN[4], None)
    # per provider and chain
    assert archive.block_times("other").around("ethereum", OLD + 150) == (None, None)
    assert times.around("base", OLD + 150) == (None, None)
    # a new archive object on the same storage reads them back (a later session)
    again = Archive(storage=archive.storage, clock=clock())
    assert again.block_times("evm").around("ethereum", OLD + 300) == (CHAIN[4], None)
    with archive.storage.read() as reader:
        assert reader.block_times("evm", "ethereum") == CHAIN
        assert reader.block_times("evm", "base") == []


def test_only_final_blocks_are_stored(archive: Archive) -> None:
    """ethereum's horizon is 900 s: a block stamped later than 900 s before the
    archive's clock is not stored, whatever the provider says."""
    cut = int(NOW.timestamp()) - 900
    fresh = BlockTime(number=2, timestamp=cut + 1, hash="0xfresh")
    final = BlockTime(number=1, timestamp=cut, hash="0xfinal")
    times = archive.block_times("evm")
    assert times.record("ethereum", [final, fresh]) == 1
    assert times.around("ethereum", cut + 5) == (final, None)
    with archive.storage.read() as reader:
        assert reader.block_times("evm", "ethereum") == [final]
    assert times.record("ethereum", [fresh]) == 0  # nothing written


def test_a_block_keeps_its_first_record(archive: Archive) -> None:
    times = archive.block_times("evm")
    assert times.record("ethereum", [block(5, 50, "0xfirst")]) == 1
    assert times.record("ethereum", [block(5, 60, "0xsecond")]) == 0
    assert times.around("ethereum", OLD + 55) == (block(5, 50, "0xfirst"), None)


def test_a_block_without_hash(archive: Archive) -> None:
    times = archive.block_times("evm")
    times.record("solana", [BlockTime(number=7, timestamp=OLD)])
    assert times.around("solana", OLD) == (BlockTime(number=7, timestamp=OLD), None)


def test_clearing_everything_drops_block_times(archive: Archive) -> None:
    archive.block_times("evm").record("ethereum", CHAIN)
    assert archive.clear() >= len(CHAIN)
    assert archive.block_times("evm").around("ethereum", OLD + 150) == (None, None)


def test_copied_and_counted(archive: Archive, tmp_path: Path) -> None:
    archive.block_times("evm").record("ethereum", CHAIN)
    archive.block_times("solana").record("solana", CHAIN[:2])
    assert archive.info().counts["block_times"] == len(CHAIN) + 2
    dest = SQLiteStorage(tmp_path / "copy.sqlite")
    try:
        report = copy_archive(archive.storage, dest, now=NOW)
        assert report.read["block_times"] == len(CHAIN) + 2
        with archive.storage.read() as source, dest.read() as copied:
            assert list(copied.export_block_times()) == list(source.export_block_times())
            assert copied.block_times("solana", "solana") == CHAIN[:2]
    finally:
        dest.close()


def test_a_failing_archive_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    archive = Archive(tmp_path / "a.sqlite", clock=clock())
    times = archive.block_times("evm")
    archive.close()
    with caplog.at_level(logging.WARNING, logger="asof.archive"):
        assert times.around("ethereum", OLD) == (None, None)
        assert times.record("ethereum", CHAIN) == 0
    assert "block times not read" in caplog.text
    assert "block times not stored" in caplog.text


def test_an_older_file_gains_the_table(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(path)
    for statements in sqlite_schema.MIGRATIONS[:2]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Archive(path, clock=clock()) as archive:
        assert archive.info().schema_version == SCHEMA_VERSION
        archive.block_times("evm").record("ethereum", CHAIN)
        assert archive.block_times("evm").around("ethereum", OLD + 300) == (CHAIN[4], None)


def test_memory_block_times_apply_the_horizon() -> None:
    cut = int(NOW.timestamp()) - 900
    times = MemoryBlockTimes(clock=clock())
    assert times.record("ethereum", [BlockTime(number=1, timestamp=cut),
                                     BlockTime(number=2, timestamp=cut + 1)]) == 1
    assert times.around("ethereum", cut + 1) == (BlockTime(number=1, timestamp=cut), None)
    custom = MemoryBlockTimes(finality=Finality({"ethereum": 0.0}), clock=clock())
    assert custom.record("ethereum", [BlockTime(number=2, timestamp=cut + 1)]) == 1


def _model(blocks: dict[int, int], second: int) -> tuple[int | None, int | None]:
    below = [n for n, ts in blocks.items() if ts <= second]
    above = [n for n, ts in blocks.items() if ts > second]
    return (max(below) if below else None, min(above) if above else None)


@settings(max_examples=60, deadline=None)
@given(gaps=st.lists(st.integers(0, 5), min_size=1, max_size=40),
       keep=st.lists(st.booleans(), min_size=40, max_size=40),
       second=st.integers(-5, 220))
def test_around_matches_a_model(gaps: list[int], keep: list[bool], second: int) -> None:
    """On a chain with non-decreasing timestamps, the stored blocks around a moment are
    the last stored at or before it and the first stored after it (memory and SQLite)."""
    stamps: dict[int, int] = {}
    ts = OLD
    for number, gap in enumerate(gaps):
        ts += gap
        if keep[number]:
            stamps[number] = ts
    blocks = [BlockTime(number=n, timestamp=t) for n, t in stamps.items()]
    relative = {n: t - OLD for n, t in stamps.items()}
    expected = _model(relative, second)
    archive = Archive(storage=SQLiteStorage(":memory:"), clock=clock())
    stores: list[BlockTimes] = [MemoryBlockTimes(clock=clock()), archive.block_times("p")]
    try:
        for times in stores:
            times.record("ethereum", reversed(blocks))
            below, above = times.around("ethereum", OLD + second)
            assert (None if below is None else below.number,
                    None if above is None else above.number) == expected
    finally:
        archive.close()
