"""Copying an archive between backends (``asof archive copy SOURCE DEST``).

Every balance change, ledger entry, holdings point and balance-at answer (with whether
its provider declared it exact), every coverage range, sync state and provider's block
time (:mod:`asof.archive.blocktimes`) is read from one snapshot of the source and
written to the destination in batches, one transaction each. Records are stored by
their unique keys, so a copy that was interrupted is resumed by running it again: what
the finished batches stored is kept and skipped, the rest is written. At the end the
destination's counts are checked against the source's.

Not copied: the list of imported seed files (a seed imports again, harmlessly, into the
destination) and claims of pulls in flight. Holdings points keep their values but not
the ``min_liquidity`` filter they were fetched with (as in export).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs

from asof.archive.backend import Filters, Storage, StorageReader, StorageWriter
from asof.batches import batches
from asof.errors import ArchiveError
from asof.records import Token, Wallet

__all__ = ["CopyReport", "copy_archive", "total"]

#: The kinds of rows copied, in order, as ``counts()`` names them.
KINDS = ("changes", "ledger", "holdings", "answers", "coverage", "sync_state",
         "block_times")


@attrs.frozen(kw_only=True)
class CopyReport:
    """What a copy did: rows read per kind, how many were new at the destination, and
    both sides' counts afterwards."""

    read: Mapping[str, int]
    stored: int
    source: Mapping[str, int]
    dest: Mapping[str, int]

    @property
    def complete(self) -> bool:
        """Every kind has at least as many rows at the destination as at the source."""
        return all(self.dest.get(k, 0) >= n for k, n in self.source.items())


def total(storage: Storage) -> int:
    """How many rows :func:`copy_archive` would read from ``storage``."""
    with storage.read() as r:
        counts = r.counts()
    return sum(counts.get(k, 0) for k in KINDS)


def _answers(r: StorageReader) -> Iterator[tuple[str, Any]]:
    seen: dict[tuple[Wallet, str], Token] = {}
    for answer in r.export_answers(Filters()):
        seen.setdefault((answer.wallet, answer.token.address), answer.token)
    for (wallet, _), token in seen.items():
        for stored in r.answers(wallet, token):
            yield "answers", stored


def _rows(r: StorageReader) -> Iterator[tuple[str, Any]]:
    everything = Filters()
    yield from (("changes", c) for c in r.export_changes(everything))
    yield from (("ledger", e) for e in r.export_ledger(everything))
    yield from (("holdings", h) for h in r.export_holdings(everything))
    yield from _answers(r)
    yield from (("coverage", c) for c in r.coverage())
    yield from (("sync_state", s) for s in r.syncs())
    yield from (("block_times", b) for b in r.export_block_times())


def _store(w: StorageWriter, kind: str, row: Any) -> None:
    if kind == "changes":
        w.change(row)
    elif kind == "ledger":
        w.ledger(row)
    elif kind == "holdings":
        w.holding(row)
    elif kind == "answers":
        w.answer(row.answer, row.exact)
    elif kind == "coverage":
        w.coverage(row)
    elif kind == "block_times":
        w.block_time(*row)
    else:
        key, state = row
        w.put_sync(key, state)


def copy_archive(source: Storage, dest: Storage, *, now: datetime, batch: int = 5000,
                 on_batch: Callable[[int], None] | None = None) -> CopyReport:
    """Copy every row of ``source`` into ``dest`` (see the module); ``on_batch`` gets the
    number of rows of each stored batch. Raises :class:`~asof.errors.ArchiveError` when
    the destination ends with fewer rows of some kind than the source has."""
    if source.name == dest.name:
        raise ArchiveError(f"the source and the destination are the same archive "
                           f"({source.name})")
    read = dict.fromkeys(KINDS, 0)
    stored = 0
    with source.read() as r:
        before = r.counts()
        for rows in batches(_rows(r), batch):
            with dest.write(now) as w:
                for kind, row in rows:
                    _store(w, kind, row)
                    read[kind] += 1
                stored += w.stored
            if on_batch is not None:
                on_batch(len(rows))
    with dest.read() as r:
        after = r.counts()
    source_counts = {k: before.get(k, 0) for k in KINDS}
    dest_counts = {k: after.get(k, 0) for k in KINDS}
    report = CopyReport(read=read, stored=stored, source=source_counts, dest=dest_counts)
    if read != source_counts:
        raise ArchiveError(f"read {read} from {source.name}, whose counts say "
                           f"{source_counts}; run the copy again")
    if not report.complete:
        short = ", ".join(f"{k}: {dest_counts[k]} of {n}" for k, n in source_counts.items()
                          if dest_counts[k] < n)
        raise ArchiveError(f"the copy to {dest.name} is short ({short}); run it again")
    return report
