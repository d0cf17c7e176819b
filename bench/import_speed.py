"""Benchmark: importing records into the archive, in records per second.

Writes ``--records`` made-up balance changes (default 100,000) as JSONL and as CSV in a
temporary directory, then imports each file into a fresh archive (one transaction per
file, as ``asof import`` does).

Run: ``.venv/bin/python bench/import_speed.py [--records 100000]``
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from _common import changes, clock, header, rate

from asof.archive import Archive
from asof.archive.io import export, import_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    header("import into the archive")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with Archive(folder / "source.sqlite", clock=clock) as source:
            source.add(changes(args.records))
            for fmt in ("jsonl", "csv"):
                buffer = io.StringIO()
                export(source, buffer, fmt=fmt)
                (folder / f"records.{fmt}").write_text(buffer.getvalue())
        for fmt in ("jsonl", "csv"):
            path = folder / f"records.{fmt}"
            with Archive(folder / f"target-{fmt}.sqlite", clock=clock) as target:
                began = time.perf_counter()
                result = import_file(target, path)
                seconds = time.perf_counter() - began
            size = path.stat().st_size / 2**20
            print(f"{fmt:<6} {result.records:>9,} records  {size:6.1f} MiB  "
                  f"{seconds:6.2f}s  {rate(result.records, seconds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
