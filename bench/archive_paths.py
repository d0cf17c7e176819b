"""Benchmark: the archive's hot paths beside what the same work costs done directly.

- ``balance_at`` look-ups (``Archive.lookup_balance``) beside a direct indexed SQL query
  on the same file (per token account, the last change at or before the moment, summed);
- ``asof import`` of JSONL balance changes beside ``json.loads`` + ``executemany`` into
  a plain table;
- ``asof export`` of the same changes beside ``sqlite3`` + ``json.dumps`` of the rows;
- a 365-point daily series beside one indexed seek per point and token account, with
  peak Python memory (``tracemalloc``, traced in runs of their own, not the timed ones)
  of both;
- bytes on disk per stored Helius answer.

Every asof answer is checked against the direct one: the import stores as many changes
with the same sum of raw balances as the plain table holds, and every exported line
carries the token account, time, block, index, transaction and raw balance of its row.
Sizes: ``--changes`` (default 100,000; the issue's figures are at 1,000,000).

Run: ``python bench/archive_paths.py [--changes 100000]``
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import START, USDC, WALLET, Figure, changes, clock, fill, table

from asof.archive import Archive
from asof.archive.coverage import to_us
from asof.archive.io import export, import_file
from asof.queries import BalanceQuery
from asof.records import Amount, BalanceAt, BlockRef, Point, Provenance

Row = Figure


def _median(runs: int, job: Callable[[], float]) -> float:
    return statistics.median(job() for _ in range(runs))


def lookups(path: Path, archive: Archive, runs: int, count: int = 3000) -> Row:
    rng = random.Random(1)
    moments = [START + timedelta(days=365) * rng.random() for _ in range(count)]
    queries = [BalanceQuery(wallet=WALLET, token=USDC, point=Point(time=m)) for m in moments]
    conn = sqlite3.connect(path)
    streams = [r[0] for r in conn.execute("SELECT id FROM streams ORDER BY id")]
    sql = ("SELECT raw FROM changes WHERE stream_id = ? AND time_us <= ? "
           "ORDER BY time_us DESC, block DESC, idx DESC LIMIT 1")

    def direct(moment: datetime) -> int:
        pos = to_us(moment)
        total = 0
        for stream in streams:
            row = conn.execute(sql, (stream, pos)).fetchone()
            total += 0 if row is None else int(row[0])
        return total

    for query, moment in zip(queries[:200], moments, strict=False):
        found = archive.lookup_balance(query)
        if found is None or found.amount.raw != direct(moment):
            raise SystemExit(f"archive and direct SQL differ at {moment}")

    def ours() -> float:
        began = time.perf_counter()
        for query in queries:
            archive.lookup_balance(query)
        return time.perf_counter() - began

    def theirs() -> float:
        began = time.perf_counter()
        for moment in moments:
            direct(moment)
        return time.perf_counter() - began

    a, b = _median(runs, ours), _median(runs, theirs)
    conn.close()
    return ("archive balance_at look-up", f"{count / a:,.0f}/s",
            f"{count / b:,.0f}/s (direct indexed SQL)", (count / a) / (count / b), ">= 0.7x")


def _jsonl(folder: Path, count: int) -> Path:
    path = folder / "records.jsonl"
    with Archive(folder / "source.sqlite", clock=clock) as source:
        source.add(changes(count))
        with path.open("w", encoding="utf-8") as out:
            export(source, out, fmt="jsonl")
    return path


def _stored(path: Path, table: str) -> tuple[int, int]:
    """How many changes a file holds and the sum of their raw balances."""
    conn = sqlite3.connect(path)
    found = conn.execute(f"SELECT count(*), sum(CAST(raw AS INTEGER)) FROM {table}"
                         ).fetchone()
    conn.close()
    return int(found[0]), int(found[1] or 0)


def importing(folder: Path, path: Path, count: int, runs: int) -> Row:
    seen: dict[str, tuple[int, int]] = {}

    def ours() -> float:
        target = folder / f"import-{random.random()}.sqlite"
        with Archive(target, clock=clock) as archive:
            began = time.perf_counter()
            result = import_file(archive, path)
            spent = time.perf_counter() - began
        if result.records != count:
            raise SystemExit(f"imported {result.records} of {count}")
        seen["asof"] = _stored(target, "changes")
        return spent

    def theirs() -> float:
        plain = folder / f"plain-{random.random()}.sqlite"
        conn = sqlite3.connect(plain)
        conn.execute("CREATE TABLE changes (wallet TEXT, token TEXT, account TEXT, "
                     "time TEXT, block INTEGER, txn TEXT, idx INTEGER, raw TEXT, decimals "
                     "INTEGER, provider TEXT)")
        began = time.perf_counter()
        rows = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                d = json.loads(line, parse_float=Decimal)
                c = d
                if c.get("kind") != "balance_change":
                    continue
                b = c["block"]
                rows.append((c["wallet"], c["token"]["address"], c.get("token_account"),
                             b.get("timestamp"), b.get("number"), b.get("transaction"),
                             b.get("index"), str(c["balance"]["raw"]),
                             c["balance"].get("decimals"), json.dumps(c["provenance"])))
        conn.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
        spent = time.perf_counter() - began
        conn.close()
        seen["plain"] = _stored(plain, "changes")
        return spent

    a, b = _median(runs, ours), _median(runs, theirs)
    if seen["asof"] != seen["plain"]:
        raise SystemExit(f"import and the plain table differ: {seen}")
    return (f"asof import of {count:,} JSONL records", f"{count / a:,.0f}/s",
            f"{count / b:,.0f}/s (json.loads + executemany)", b / a,
            ">= 2.5x")


def exporting(folder: Path, count: int, runs: int) -> Row:
    path = folder / "source.sqlite"

    written: dict[str, io.StringIO] = {}

    def ours() -> float:
        with Archive(path, clock=clock) as archive:
            out = written["asof"] = io.StringIO()
            began = time.perf_counter()
            export(archive, out, fmt="jsonl")
            return time.perf_counter() - began

    def theirs() -> float:
        conn = sqlite3.connect(path)
        out = written["plain"] = io.StringIO()
        began = time.perf_counter()
        for row in conn.execute(
                "SELECT s.chain, s.wallet, s.token_id, s.token_account, c.time_us, c.block, "
                "c.idx, c.txn, c.raw, c.decimals, p.data FROM changes c JOIN streams s ON "
                "s.id = c.stream_id JOIN provenance p ON p.id = c.provenance_id ORDER BY "
                "s.chain, s.wallet, c.time_us, c.block, c.idx, c.id"):
            out.write(json.dumps(row) + "\n")
        spent = time.perf_counter() - began
        conn.close()
        return spent

    a, b = _median(runs, ours), _median(runs, theirs)
    # The same changes in the same order: token account, time, block, index,
    # transaction and raw balance of every line against the row.
    mine = written["asof"].getvalue().splitlines()
    rows = written["plain"].getvalue().splitlines()
    if len(mine) != len(rows):
        raise SystemExit(f"export wrote {len(mine)} lines for {len(rows)} rows")
    for line, plain in zip(mine, rows, strict=True):
        d, (_, _, _, account, time_us, block, idx, txn, raw, _, _) = (
            json.loads(line), json.loads(plain))
        b_ = d["block"]
        if (d["token_account"], to_us(datetime.fromisoformat(b_["timestamp"])),
                b_["number"], b_["index"], b_["transaction"], d["balance"]["raw"]) != (
                account, time_us, block, idx, txn, raw):
            raise SystemExit(f"export and the rows differ: {line} / {plain}")
    return (f"asof export of {count:,} changes", f"{a:.2f} s", f"{b:.2f} s (sqlite3 + "
            "json.dumps)", a / b, "<= 1.5x")


def series(path: Path, archive: Archive, runs: int) -> Row:
    end = START + timedelta(days=365)
    conn = sqlite3.connect(path)
    streams = [r[0] for r in conn.execute("SELECT id FROM streams ORDER BY id")]
    sql = ("SELECT raw FROM changes WHERE stream_id = ? AND time_us <= ? "
           "ORDER BY time_us DESC, block DESC, idx DESC LIMIT 1")
    days = [START + timedelta(days=n) for n in range(365)]

    def direct() -> list[int]:
        out = []
        for day in days:
            pos = to_us(day)
            total = 0
            for stream in streams:
                row = conn.execute(sql, (stream, pos)).fetchone()
                total += 0 if row is None else int(row[0])
            out.append(total)
        return out

    def measured(job: Callable[[], Any]) -> tuple[float, float, Any]:
        # time untraced (tracemalloc slows every allocation, so it would charge the
        # side that allocates more Python objects twice), then peak memory traced
        began = time.perf_counter()
        result = job()
        spent = time.perf_counter() - began
        tracemalloc.start()
        job()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return spent, peak, result

    points = archive.series(WALLET, USDC, start=START, end=end, every="1d")
    truth = direct()
    if [p.amount.raw if p.amount else None for p in points] != truth:
        raise SystemExit("series and direct seeks differ")
    ours = [measured(lambda: archive.series(WALLET, USDC, start=START, end=end,
                                            every="1d")) for _ in range(runs)]
    theirs = [measured(direct) for _ in range(runs)]
    a = statistics.median(t for t, _, _ in ours)
    b = statistics.median(t for t, _, _ in theirs)
    mem_a = max(m for _, m, _ in ours) / 2**20
    mem_b = max(m for _, m, _ in theirs) / 2**20
    conn.close()
    return ("asof series, 365 daily points", f"{a:.3f} s, {mem_a:.1f} MiB",
            f"{b:.3f} s, {mem_b:.1f} MiB (seek per point)", a / b, "<= 2x, < 50 MiB")


def answers_storage(folder: Path, count: int = 20_000) -> Row:
    path = folder / "answers.sqlite"
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    with Archive(path, clock=clock) as archive:
        empty = archive.storage.size() or 0
        with archive.batch() as add:
            for n in range(count):
                at = START + timedelta(seconds=n * 60)
                add(BalanceAt(
                    wallet=WALLET, token=USDC, amount=Amount(raw=1_000_000 + n, decimals=6),
                    requested=Point(time=at),
                    as_of=BlockRef(number=250_000_000 + n, timestamp=at,
                                   transaction=f"{n:088d}"),
                    provenance=Provenance(
                        provider="helius", source="GET /v1/wallet/{wallet}/balance-at",
                        fetched_at=fetched + timedelta(seconds=n),
                        echo={"time": int(at.timestamp())},
                        caveats=("a token held in several token accounts may be "
                                 "undercounted",))))
        archive.storage.compact()
        size = (archive.storage.size() or 0) - empty
    return ("storage per stored Helius answer", f"{size / count:,.0f} bytes", "-", 0.0,
            "<= 200 bytes")


def figures(count: int = 100_000, runs: int = 3) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "lookup.sqlite"
        with Archive(path, clock=clock) as archive:
            fill(archive, count)
            rows.append(lookups(path, archive, runs))
            rows.append(series(path, archive, runs))
        jsonl = _jsonl(folder, count)
        rows.append(importing(folder, jsonl, count, runs))
        rows.append(exporting(folder, count, runs))
        rows.append(answers_storage(folder))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    table(figures(args.changes, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
