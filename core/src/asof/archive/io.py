"""Import and export of the archive's records, as JSONL or CSV.

The JSONL form is :mod:`asof.wire`'s (one record per line with a ``kind``: the form
``asof history --format jsonl`` writes), plus ``coverage`` lines that say which ranges
are complete::

    {"kind":"coverage","capability":"balance_history","provider":"example",
     "wallet":"solana:...","scope":"*","start":"2025-01-01T00:00:00Z",
     "end":"2025-04-01T00:00:00Z","start_block":null,"end_block":null}

The CSV form has one row per record with a ``kind`` column and dotted columns for
nested fields (:func:`asof.wire.to_csv_row`); CSV written by ``--format csv`` of the
history commands reads back too.

An import is one transaction: a file with one bad line stores nothing, and the error
names the file, the line and the field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, cast

import attrs

from asof import wire
from asof.archive.backend import ChangeRow, Filters
from asof.archive.coverage import ALL, Coverage, to_us
from asof.archive.lines import ChangeLines
from asof.archive.store import Archive, Record
from asof.chains import resolve_chain
from asof.errors import AsofError, InputError
from asof.points import TimeLike, parse_time
from asof.records import BalanceChange, Capability, LedgerEntry, Token, Wallet
from asof.tokens import resolve_token

__all__ = [
    "EXPORT_KINDS",
    "FORMATS",
    "ImportRecordError",
    "ImportResult",
    "csv_header",
    "detect_format",
    "dumps_record",
    "export",
    "import_file",
    "import_stream",
    "read_records",
    "records",
    "seed",
]

#: The file formats import and export speak.
FORMATS = ("jsonl", "csv")
#: The kinds an export writes, in this order.
EXPORT_KINDS: dict[str, type[Any]] = {
    "coverage": Coverage,
    "balance_change": wire.KINDS["balance_change"],
    "ledger_entry": wire.KINDS["ledger_entry"],
    "holdings_point": wire.KINDS["holdings_point"],
    "balance_at": wire.KINDS["balance_at"],
}


class ImportRecordError(InputError):
    """A record in an import file cannot be read. ``source`` names the file, ``line``
    the line (or CSV row's line), ``field`` the offending field or column."""

    def __init__(self, source: str, line: int, error: BaseException) -> None:
        self.source = source
        self.line = line
        super().__init__(f"{source} line {line}: {error}")
        self.field = getattr(error, "field", None)


@attrs.frozen(kw_only=True)
class ImportResult:
    """What an import did."""

    source: str
    records: int  #: records read
    stored: int  #: records that were new to the archive
    skipped: bool = False  #: a seed file already imported


def detect_format(path: str | Path, given: str | None = None) -> str:
    """``given``, else the format the file name says (``.csv`` is CSV, anything else
    JSONL)."""
    if given is not None:
        fmt = given.lower()
        if fmt not in FORMATS:
            raise InputError(f"unknown format {given!r}; use jsonl or csv", field="format")
        return fmt
    return "csv" if str(path).lower().endswith(".csv") else "jsonl"


def _json_line(text: str) -> Any:
    if '"coverage"' in text:
        try:
            data = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):  # wire.loads_line says why, below
            data = None
        if isinstance(data, dict) and data.get("kind") == "coverage":
            del data["kind"]
            return wire.from_data(Coverage, data)
    return wire.loads_line(text)


def read_records(stream: TextIO, *, fmt: str = "jsonl", source: str = "input",
                 ) -> Iterator[Record]:
    """The records of a JSONL or CSV stream, in order; blank JSONL lines are skipped.
    Raises :class:`ImportRecordError` at the first bad record."""
    if fmt == "csv":
        reader = csv.DictReader(stream)
        for row in reader:
            try:
                if row.get("kind") == "coverage":
                    yield wire.from_csv_row(Coverage, row)
                else:
                    yield wire.loads_csv_row(row)
            except AsofError as exc:
                raise ImportRecordError(source, reader.line_num, exc) from None
        return
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            yield _json_line(text)
        except AsofError as exc:
            raise ImportRecordError(source, number, exc) from None


_BATCH = 5000


def _import_records(stream: TextIO, fmt: str, source: str,
                    store_rows: Callable[[Sequence[ChangeRow]], None]) -> Iterator[Record]:
    """The records of an import stream, but canonical balance-change lines (the bulk
    of a history export) go to ``store_rows`` in batches, decoded straight into rows
    (:class:`~asof.archive.lines.ChangeLines`); any other line is read the generic way,
    in order (pending rows are stored first), and a bad one raises
    :class:`ImportRecordError` naming the line and the field."""
    if fmt == "csv":
        yield from read_records(stream, fmt=fmt, source=source)
        return
    lines = ChangeLines()
    decode = lines.row
    pending: list[ChangeRow] = []
    for number, text in enumerate(stream, start=1):
        row = decode(text)
        if row is not None:
            pending.append(row)
            if len(pending) >= _BATCH:
                store_rows(pending)
                pending = []
            continue
        if not text.strip():
            continue
        if pending:
            store_rows(pending)
            pending = []
        try:
            yield _json_line(text)
        except AsofError as exc:
            raise ImportRecordError(source, number, exc) from None
    if pending:
        store_rows(pending)


def import_stream(
    archive: Archive,
    stream: TextIO,
    *,
    fmt: str = "jsonl",
    source: str = "input",
    complete: tuple[datetime | None, datetime] | None = None,
) -> ImportResult:
    """Import every record of ``stream`` in one transaction (all or nothing).

    ``complete=(start, end)`` also declares that the stream holds every balance change
    and ledger entry of each wallet and provider in it over ``[start, end)`` (``start``
    ``None``: since the beginning), so the archive answers inside that range.
    """
    count = 0
    seen: set[tuple[Capability, str, Any]] = set()
    rows = 0

    def store_rows(batch: Sequence[ChangeRow]) -> None:
        nonlocal rows
        store.changes(batch)
        rows += len(batch)
        if complete is not None:
            seen.update({(Capability.BALANCE_HISTORY, row.provider, row.wallet)
                         for row in batch})

    with archive.batch() as store:
        for record in _import_records(stream, fmt, source, store_rows):
            store(record)
            count += 1
            if isinstance(record, BalanceChange):
                seen.add((Capability.BALANCE_HISTORY, record.provenance.provider,
                          record.wallet))
            elif isinstance(record, LedgerEntry):
                seen.add((Capability.ACCOUNT_LEDGER, record.provenance.provider,
                          record.account))
        count += rows
        if complete is not None:
            start, end = complete
            for capability, provider, wallet in sorted(seen, key=str):
                store(Coverage(capability=capability, provider=provider, wallet=wallet,
                               scope=ALL, start=start, end=end))
        stored = store.stored
    return ImportResult(source=source, records=count, stored=stored)


def import_file(
    archive: Archive,
    path: str | Path,
    *,
    fmt: str | None = None,
    complete: tuple[datetime | None, datetime] | None = None,
) -> ImportResult:
    """Import a JSONL or CSV file (``-`` reads standard input); see
    :func:`import_stream`."""
    kind = detect_format(path, fmt)
    if str(path) == "-":
        return import_stream(archive, sys.stdin, fmt=kind, source="<stdin>",
                             complete=complete)
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            return import_stream(archive, stream, fmt=kind, source=str(path),
                                 complete=complete)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}", field="file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: {exc.reason}", field="file") from None


def seed(archive: Archive, path: Path) -> ImportResult:
    """Import a seed file unless this archive file already holds it (by SHA-256)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"archive seed file not found: {path}", field="seed") from None
    digest = hashlib.sha256(data).hexdigest()
    if not archive.memory and archive.was_imported(digest):
        return ImportResult(source=str(path), records=0, stored=0, skipped=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: {exc.reason}", field="seed") from None
    result = import_stream(archive, io.StringIO(text, newline=""),
                           fmt=detect_format(path), source=str(path))
    archive.mark_imported(str(path), digest, result.records)
    return result


def dumps_record(record: Record) -> str:
    """One JSONL line (no newline) for any record the archive holds."""
    if isinstance(record, Coverage):
        data = {"kind": "coverage", **wire.to_data(record)}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return wire.dumps_line(record)


def csv_header(kinds: Iterable[str]) -> list[str]:
    """The CSV columns of an export of ``kinds``: ``kind``, then each kind's columns."""
    columns = ["kind"]
    for kind in kinds:
        for column in wire.csv_columns(EXPORT_KINDS[kind]):
            if column not in columns:
                columns.append(column)
    return columns


def _csv_row(record: Record) -> dict[str, str]:
    row = wire.to_csv_row(record)
    if isinstance(record, Coverage):
        row = {"kind": "coverage", **row}
    return row


def records(
    archive: Archive,
    *,
    kinds: Iterable[str] = (),
    wallet: Wallet | str | None = None,
    chain: str | None = None,
    token: Token | str | None = None,
    provider: str | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
) -> Iterator[Record]:
    """Stored records for export, oldest first per kind: ``kinds`` among
    ``coverage``, ``balance_change``, ``ledger_entry``, ``holdings_point``,
    ``balance_at`` (all when empty), filtered by wallet, chain, token, provider and
    time range. Provenance is as stored (``archived`` as the source said)."""
    yield from cast("Iterator[Record]", _records(
        archive, kinds, {"wallet": wallet, "chain": chain, "token": token,
                         "provider": provider, "start": start, "end": end}, lines=False))


_FILTERS = frozenset(("wallet", "chain", "token", "provider", "start", "end"))


def _records(archive: Archive, kinds: Iterable[str], given: Mapping[str, Any], *,
             lines: bool) -> Iterator[Record | str]:
    """:func:`records` (``given``: its filters by name); with ``lines``, balance
    changes come as their JSONL lines, encoded straight from the stored rows."""
    stray = set(given) - _FILTERS
    if stray:
        raise TypeError(f"unknown export filter(s): {', '.join(sorted(stray))}")
    wallet, chain, token, provider, start, end = (
        given.get(name) for name in ("wallet", "chain", "token", "provider", "start", "end"))
    wanted = set(kinds) or set(EXPORT_KINDS)
    unknown = wanted - set(EXPORT_KINDS)
    if unknown:
        raise InputError(f"unknown kind(s) {', '.join(sorted(unknown))}", field="kind")
    who = None if wallet is None else (
        wallet if isinstance(wallet, Wallet) else Wallet.parse(wallet))
    chain_name = who.chain if who is not None else \
        (None if chain is None else resolve_chain(chain).name)
    tok: Token | None = None
    if token is not None:
        if chain_name is None:
            if not isinstance(token, Token):
                raise InputError("give --chain or --wallet with --token", field="token")
            chain_name = token.chain
        tok = resolve_token(chain_name, token)
    low = None if start is None else to_us(parse_time(start, field="start"))
    high = None if end is None else to_us(parse_time(end, field="end"))
    filters = Filters(wallet=who, chain=chain_name, token=tok, provider=provider,
                      start=low, end=high)
    with archive.storage.read() as r:
        if "coverage" in wanted and tok is None:
            for cov in r.coverage(who):
                if (chain_name is None or cov.wallet.chain == chain_name) and (
                        provider is None or cov.provider == provider):
                    yield cov
        if "balance_change" in wanted:
            yield from (r.export_change_lines(filters) if lines
                        else r.export_changes(filters))
        if "ledger_entry" in wanted and tok is None:
            yield from r.export_ledger(filters)
        if "holdings_point" in wanted and tok is None:
            yield from r.export_holdings(filters)
        if "balance_at" in wanted:
            yield from r.export_answers(filters)


def export(
    archive: Archive,
    out: TextIO,
    *,
    fmt: str = "jsonl",
    kinds: Iterable[str] = (),
    **filters: Any,
) -> int:
    """Write the archive's records (see :func:`records` for ``kinds`` and the filters)
    to ``out``; return how many were written."""
    fmt = detect_format("", fmt)
    wanted = [k for k in EXPORT_KINDS if k in set(kinds)] or list(EXPORT_KINDS)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=csv_header(wanted), lineterminator="\n",
                                restval="")
        writer.writeheader()
        for record in records(archive, kinds=wanted, **filters):
            writer.writerow(_csv_row(record))
            count += 1
        return count
    chunk: list[str] = []
    for item in _records(archive, wanted, filters, lines=True):
        chunk.append(item if isinstance(item, str) else dumps_record(item))
        if len(chunk) >= 1000:
            out.write("\n".join(chunk) + "\n")
            count += len(chunk)
            chunk = []
    if chunk:
        out.write("\n".join(chunk) + "\n")
        count += len(chunk)
    return count
