"""The archive: an embedded SQLite store of canonical records that answers offline.

:class:`Archive` implements what the router asks of an archive (``lookup_balance``,
``record_balance``, ``lookup_history``, ``record_page``, ``complete_history``) and adds
balance series, coverage, sync state, import/export helpers and housekeeping.

Concurrency: every thread gets its own connection to the file; the database runs in WAL
mode, so readers never wait for the writer and each write is one ``IMMEDIATE``
transaction. Several processes may share one file. ``":memory:"`` keeps a private
database in memory (one connection, serialised by a lock), used for seeded examples.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from asof.archive import schema
from asof.archive.coverage import (
    ALL,
    Coverage,
    Span,
    find_span,
    from_us,
    holdings_scope,
    ledger_scope,
    merge_spans,
    to_us,
)
from asof.archive.finality import Finality
from asof.archive.series import Anchor, Known, Row, SeriesPoint, grid, sweep
from asof.chains import resolve_chain
from asof.derive import balance_from_changes, balance_from_ledger
from asof.errors import ArchiveError, InputError
from asof.exact import to_raw
from asof.points import PointLike, TimeLike, parse_point, parse_time
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    Capability,
    HistoryItem,
    HoldingsPoint,
    LedgerEntry,
    Page,
    Point,
    Provenance,
    Token,
    TokenHolding,
    Wallet,
)
from asof.tokens import resolve_token
from asof.wire import from_data, to_data

__all__ = ["Archive", "ArchiveInfo", "BatchWriter", "Record", "SyncState", "query_key"]

#: What the archive stores and exports.
Record = BalanceChange | LedgerEntry | HoldingsPoint | BalanceAt | Coverage

_DERIVED_CAVEAT = "derived from balance changes stored in the archive"
_ANCHOR_CAVEAT = "read off a stored balance answer and the archive's coverage"
_TABLES = ("changes", "streams", "answers", "ledger", "holdings", "coverage", "sync_state",
           "imports", "provenance", "tokens")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def query_key(query: HistoryQuery) -> str:
    """A canonical text for a history query (its page size left out): the key of its
    sync state."""
    data = {
        "capability": query.capability.value,
        "wallets": sorted(str(w) for w in query.wallets),
        "start": None if query.start is None else to_us(query.start),
        "end": None if query.end is None else to_us(query.end),
        "tokens": sorted(t.address for t in query.tokens),
        "granularity": query.granularity,
        "breakdown": query.breakdown,
        "min_liquidity": None if query.min_liquidity is None else str(query.min_liquidity),
        "event_types": sorted(query.event_types),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@attrs.frozen(kw_only=True)
class SyncState:
    """Where a history fetch stands: the provider, the cursor of the next page (``None``
    before the first page or after the last), and whether the range is complete."""

    provider: str
    cursor: str | None
    exhausted: bool  #: the last page has been stored
    done: bool  #: the range is recorded as covered
    pages: int
    items: int
    started: datetime
    updated: datetime


@attrs.frozen(kw_only=True)
class ArchiveInfo:
    """What an archive holds."""

    path: str
    size: int | None  #: bytes on disk (database and WAL), ``None`` in memory
    schema_version: int
    counts: Mapping[str, int]
    coverage: tuple[Coverage, ...]
    syncs: tuple[tuple[str, SyncState], ...]  #: (query key, state)


def _wallet(value: Wallet | str) -> Wallet:
    return value if isinstance(value, Wallet) else Wallet.parse(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


class _Batch:
    """Writes inside one transaction, with id caches for tokens, streams, provenance."""

    def __init__(self, conn: sqlite3.Connection, now_us: int) -> None:
        self.conn = conn
        self.now_us = now_us
        self._tokens: dict[tuple[str, str], int] = {}
        self._streams: dict[tuple[str, str, str, int, str], int] = {}
        self._provenance: dict[str, int] = {}
        self._provenance_objects: dict[Provenance, int] = {}
        self.stored = 0

    # -- ids
    def token_id(self, token: Token) -> int:
        key = (token.chain, token.address)
        found = self._tokens.get(key)
        if found is not None:
            return found
        conn = self.conn
        row = conn.execute("SELECT id, standard, decimals, symbol FROM tokens "
                           "WHERE chain = ? AND address = ?", key).fetchone()
        if row is None:
            cur = conn.execute(
                "INSERT INTO tokens (chain, address, standard, decimals, symbol) "
                "VALUES (?, ?, ?, ?, ?)",
                (*key, token.standard, token.decimals, token.symbol))
            token_id = int(cur.lastrowid or 0)
        else:
            token_id, standard, decimals, symbol = row
            merged = (
                token.standard if standard == "unknown" else standard,
                token.decimals if decimals is None else decimals,
                token.symbol if symbol is None else symbol,
            )
            if merged != (standard, decimals, symbol):
                conn.execute("UPDATE tokens SET standard = ?, decimals = ?, symbol = ? "
                             "WHERE id = ?", (*merged, token_id))
        self._tokens[key] = token_id
        return token_id

    def provenance_id(self, provenance: Provenance) -> int:
        try:
            known = self._provenance_objects.get(provenance)
        except TypeError:  # an echo holding something unhashable
            known = None
        if known is not None:
            return known
        text = json.dumps(to_data(provenance), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
        found = self._provenance.get(text)
        if found is None:
            self.conn.execute("INSERT OR IGNORE INTO provenance (data) VALUES (?)", (text,))
            row = self.conn.execute("SELECT id FROM provenance WHERE data = ?",
                                    (text,)).fetchone()
            found = self._provenance[text] = int(row[0])
        with contextlib.suppress(TypeError):
            self._provenance_objects[provenance] = found
        return found

    def stream_id(self, provider: str, wallet: Wallet, token_id: int,
                  account: str | None) -> int:
        key = (provider, wallet.chain, wallet.address, token_id, account or "")
        found = self._streams.get(key)
        if found is not None:
            return found
        self.conn.execute("INSERT OR IGNORE INTO streams (provider, chain, wallet, token_id, "
                          "token_account) VALUES (?, ?, ?, ?, ?)", key)
        row = self.conn.execute(
            "SELECT id FROM streams WHERE provider = ? AND chain = ? AND wallet = ? AND "
            "token_id = ? AND token_account = ?", key).fetchone()
        self._streams[key] = int(row[0])
        return int(row[0])

    # -- records
    def change(self, change: BalanceChange, provider: str | None = None) -> None:
        provider = provider or change.provenance.provider
        stream = self.stream_id(provider, change.wallet, self.token_id(change.token),
                                change.token_account)
        block = change.block
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO changes (stream_id, time_us, block, idx, txn, block_hash, "
            "raw, decimals, provenance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (stream, None if block.timestamp is None else to_us(block.timestamp),
             block.number, block.index, block.transaction, block.hash,
             str(change.balance.raw), change.balance.decimals,
             self.provenance_id(change.provenance)))
        self.stored += cur.rowcount

    def ledger(self, entry: LedgerEntry, provider: str | None = None) -> None:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO ledger (provider, chain, account, time_us, sequence, "
            "event_type, amount, balance, pending, known_type, provenance_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (provider or entry.provenance.provider, entry.account.chain,
             entry.account.address, to_us(entry.time), entry.sequence, entry.event_type,
             str(entry.amount), str(entry.balance),
             None if entry.pending_balance is None else str(entry.pending_balance),
             int(entry.known_type), self.provenance_id(entry.provenance)))
        self.stored += cur.rowcount

    def holding(self, point: HoldingsPoint, provider: str | None = None,
                min_liquidity: Decimal | None = None) -> None:
        breakdown = None if point.breakdown is None else json.dumps(
            to_data(list(point.breakdown)), separators=(",", ":"))
        key = (provider or point.provenance.provider, point.wallet.chain,
               point.wallet.address, "" if min_liquidity is None else str(min_liquidity),
               to_us(point.timestamp))
        cur = self.conn.execute(
            "INSERT INTO holdings (provider, chain, wallet, min_liquidity, time_us, usd, "
            "breakdown, provenance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (provider, chain, wallet, min_liquidity, time_us) DO UPDATE SET "
            "usd = excluded.usd, provenance_id = excluded.provenance_id, "
            "breakdown = coalesce(excluded.breakdown, holdings.breakdown)",
            (*key, str(point.usd), breakdown, self.provenance_id(point.provenance)))
        self.stored += cur.rowcount

    def answer(self, answer: BalanceAt) -> None:
        as_of = answer.as_of
        self.conn.execute(
            "INSERT OR REPLACE INTO answers (provider, chain, wallet, token_id, point_time_us, "
            "point_block, raw, decimals, has_asof, asof_block, asof_hash, asof_time_us, "
            "asof_txn, asof_idx, provenance_id) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (answer.provenance.provider, answer.wallet.chain, answer.wallet.address,
             self.token_id(answer.token),
             None if answer.requested.time is None else to_us(answer.requested.time),
             answer.requested.block, str(answer.amount.raw), answer.amount.decimals,
             int(as_of is not None or answer.read_at is not None),
             None if as_of is None else as_of.number,
             None if as_of is None else as_of.hash,
             None if as_of is None or as_of.timestamp is None else to_us(as_of.timestamp),
             None if as_of is None else as_of.transaction,
             None if as_of is None else as_of.index,
             self.provenance_id(answer.provenance)))
        self.stored += 1

    def coverage(self, capability: Capability, provider: str, wallet: Wallet, scope: str,
                 axis: str, start: int | None, end: int) -> None:
        """Add a covered range, merged with the stored ranges it touches or overlaps."""
        conn = self.conn
        key = (capability.value, provider, wallet.chain, wallet.address, scope, axis)
        where = ("capability = ? AND provider = ? AND chain = ? AND wallet = ? AND "
                 "scope = ? AND axis = ?")
        rows = conn.execute(f"SELECT start_pos, end_pos FROM coverage WHERE {where}",
                            key).fetchall()
        merged = merge_spans([Span(start, end), *(Span(a, b) for a, b in rows)])
        conn.execute(f"DELETE FROM coverage WHERE {where}", key)
        conn.executemany(
            "INSERT INTO coverage (capability, provider, chain, wallet, scope, axis, "
            "start_pos, end_pos, recorded_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*key, span.start, span.end, self.now_us) for span in merged])


class BatchWriter:
    """Stores records inside one transaction (see :meth:`Archive.batch`)."""

    def __init__(self, archive: Archive, batch: _Batch) -> None:
        self._archive = archive
        self._batch = batch

    def __call__(self, record: Record) -> None:
        """Store one record."""
        self._archive._add_record(self._batch, record)

    @property
    def stored(self) -> int:
        """How many records were new so far."""
        return self._batch.stored


class Archive:
    """An embedded archive in one SQLite file.

    ``path`` is the database file (created mode 0600 with its directories) or
    ``":memory:"``. ``finality`` is a :class:`~asof.archive.finality.Finality` or a
    mapping of chain to seconds (see :mod:`asof.archive.finality`); ``clock`` returns the
    current UTC time (tests replace it). Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        finality: Finality | Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.memory = str(path) == ":memory:"
        self.path: Path | None = None if self.memory else Path(path).expanduser()
        self.finality = finality if isinstance(finality, Finality) else \
            Finality.from_mapping(finality)
        self._clock = clock or _utcnow
        self._lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        try:
            if self.path is not None:
                if self.path.is_dir():
                    raise ArchiveError(f"archive path {self.path} is a directory")
                schema.create_file(self.path)
            conn = self._conn()
            schema.migrate(conn, name=f"archive {self.name}")
        except sqlite3.Error as exc:
            self.close()
            raise ArchiveError(f"cannot open archive {self.name}: {exc}") from exc
        except OSError as exc:
            self.close()
            raise ArchiveError(f"cannot create archive {self.name}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    # -- lifecycle --------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The database path, or ``:memory:``."""
        return ":memory:" if self.path is None else str(self.path)

    def __repr__(self) -> str:
        return f"Archive({self.name!r})"

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this archive opened (in any thread)."""
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def now(self) -> datetime:
        """The current time as the archive sees it."""
        return self._clock()

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise ArchiveError(f"archive {self.name} is closed")
        if self.memory:
            if not self._connections:
                self._connections.append(schema.connect(":memory:"))
            return self._connections[0]
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self.path is not None
            conn = schema.connect(str(self.path))
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        if self.memory:
            with self._lock:
                yield
        else:
            yield

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several reads."""
        with self._guard():
            conn = self._conn()
            try:
                conn.execute("BEGIN")
            except sqlite3.Error as exc:
                raise ArchiveError(f"cannot read archive {self.name}: {exc}") from exc
            try:
                yield conn
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise ArchiveError(f"cannot read archive {self.name}: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[_Batch]:
        """One write transaction: everything inside is stored, or nothing is."""
        with self._guard():
            conn = self._conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise ArchiveError(f"cannot write archive {self.name}: {exc}") from exc
            try:
                yield _Batch(conn, to_us(self.now()))
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise ArchiveError(f"cannot write archive {self.name}: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    # -- the router's protocol ----------------------------------------------------------

    def lookup_balance(self, query: BalanceQuery) -> BalanceAt | None:
        """The balance as of the query's point when the archive can vouch for it, else
        ``None`` (the router then asks a provider). ``provenance.archived`` is true and
        ``provenance.provider`` names the original source."""
        with self._read() as conn:
            # A token never stored has id -1: nothing matches it, but coverage from the
            # beginning still says its balance is zero.
            token = self._stored_token(conn, query.token) or (-1, query.token)
            found = self._from_answers(conn, query, token)
            if found is None:
                found = self._from_changes(conn, query, token)
            if found is None and resolve_chain(query.chain).venue:
                found = self._from_ledger(conn, query, token)
            return found

    def record_balance(self, answer: BalanceAt) -> None:
        """Keep a provider's answer when its point is final on its chain; an answer read
        from the archive, or too fresh to be final, is not stored."""
        if answer.provenance.archived:
            return
        chain = answer.wallet.chain
        now = self.now()
        point = answer.requested
        if point.time is not None:
            final = self.finality.is_final(chain, point.time, now)
        else:
            as_of = answer.as_of or answer.read_at
            final = (as_of is not None and as_of.number == point.block
                     and as_of.timestamp is not None
                     and self.finality.is_final(chain, as_of.timestamp, now))
        if not final:
            return
        with self._write() as batch:
            batch.answer(answer)

    def lookup_history(self, query: HistoryQuery) -> Sequence[HistoryItem] | None:
        """Every stored item of the query when the archive covers its whole range for
        every wallet (from one provider per wallet), sorted by time; else ``None``."""
        if query.end is None:
            return None
        start = None if query.start is None else to_us(query.start)
        end = to_us(query.end)
        found: list[tuple[int, int, HistoryItem]] = []
        with self._read() as conn:
            for n, wallet in enumerate(query.wallets):
                provider = self._covering_provider(conn, query, wallet, start, end)
                if provider is None:
                    return None
                for time_us, item in self._history_items(conn, query, wallet, provider,
                                                         start, end):
                    found.append((time_us, n, item))
        found.sort(key=lambda entry: (entry[0], entry[1]))
        return [item for _, _, item in found]

    def record_page(
        self, query: HistoryQuery, provider: str, page: Page[Any], cursor: str | None
    ) -> None:
        """Store the final items of one fetched page and where the fetch stands, in one
        transaction. ``cursor`` is the cursor the page was fetched with (``None`` for
        the first page, which starts the fetch afresh)."""
        now = self.now()
        cut = to_us(self.finality.cut(query.chain, now))
        key = query_key(query)
        with self._write() as batch:
            for item in page.items:
                self._store_item(batch, item, provider, query, cut)
            row = batch.conn.execute(
                "SELECT provider, pages, items, cut_us, started_us FROM sync_state "
                "WHERE key = ?", (key,)).fetchone()
            fresh = cursor is None or row is None or row[0] != provider
            pages, items, cut_us, started = (
                (1, len(page.items), cut, batch.now_us) if fresh
                else (row[1] + 1, row[2] + len(page.items), min(row[3], cut), row[4]))
            batch.conn.execute(
                "INSERT OR REPLACE INTO sync_state (key, provider, query, cursor, exhausted, "
                "done, pages, items, cut_us, started_us, updated_us) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                (key, provider, key, page.cursor, int(page.cursor is None), pages, items,
                 cut_us, started, batch.now_us))

    def complete_history(self, query: HistoryQuery, provider: str) -> None:
        """Record the query's range, up to the finality horizon in force when its first
        page was stored, as covered by ``provider`` for each of its wallets."""
        key = query_key(query)
        with self._write() as batch:
            row = batch.conn.execute("SELECT provider, cut_us FROM sync_state WHERE key = ?",
                                     (key,)).fetchone()
            if row is not None and row[0] == provider:
                cut = int(row[1])
            else:
                cut = to_us(self.finality.cut(query.chain, self.now()))
            end = cut if query.end is None else min(to_us(query.end), cut)
            start = None if query.start is None else to_us(query.start)
            if start is None or end > start:
                for wallet in query.wallets:
                    for scope in _scopes(query):
                        batch.coverage(query.capability, provider, wallet, scope, "time",
                                       start, end)
            batch.conn.execute("UPDATE sync_state SET done = 1, exhausted = 1, cursor = NULL, "
                               "updated_us = ? WHERE key = ?", (batch.now_us, key))

    # -- more questions -----------------------------------------------------------------

    def balance_at(self, wallet: Wallet | str, token: Token | str,
                   at: PointLike) -> BalanceAt | None:
        """The archive's answer for a wallet's balance of a token (a symbol, address or
        :class:`~asof.records.Token`) as of a point, or ``None`` when it cannot vouch
        for one."""
        who = _wallet(wallet)
        query = BalanceQuery(wallet=who, token=resolve_token(who.chain, token),
                             point=parse_point(at))
        return self.lookup_balance(query)

    def series(
        self,
        wallet: Wallet | str,
        token: Token | str,
        *,
        start: TimeLike,
        end: TimeLike,
        every: str | int | timedelta = "1d",
    ) -> list[SeriesPoint]:
        """A wallet's balance of a token at every grid point in ``[start, end)``
        (see :mod:`asof.archive.series`), forward-filled from the stored changes.

        A point the archive does not cover has ``amount`` ``None``. Where several
        providers cover a point, the first by name answers.
        """
        who = _wallet(wallet)
        tok = resolve_token(who.chain, token)
        times = grid(parse_time(start, field="start"), parse_time(end, field="end"), every)
        positions = [to_us(t) for t in times]
        answers: list[Known | None] = [None] * len(times)
        if times:
            with self._read() as conn:
                stored = self._stored_token(conn, tok) or (-1, tok)
                answers = self._series(conn, who, stored, positions)
        return [
            SeriesPoint(time=t, amount=None if k is None else k.amount,
                        as_of=None if k is None else k.as_of,
                        provider=None if k is None else k.provider)
            for t, k in zip(times, answers, strict=True)
        ]

    def token(self, wallet: Wallet | str, token: Token | str) -> Token:
        """``token`` resolved on the wallet's chain, with decimals and symbol filled in
        from what the archive knows."""
        who = _wallet(wallet)
        tok = resolve_token(who.chain, token)
        with self._read() as conn:
            stored = self._stored_token(conn, tok)
        return tok if stored is None else stored[1]

    # -- coverage, sync state ------------------------------------------------------------

    def add_coverage(self, coverage: Coverage) -> None:
        """Declare a range complete (clipped at the chain's finality horizon)."""
        with self._write() as batch:
            self._add_coverage(batch, coverage)

    def coverage(self, wallet: Wallet | str | None = None) -> list[Coverage]:
        """Every covered range, or a wallet's."""
        sql = ("SELECT capability, provider, chain, wallet, scope, axis, start_pos, end_pos "
               "FROM coverage")
        args: tuple[Any, ...] = ()
        if wallet is not None:
            who = _wallet(wallet)
            sql += " WHERE chain = ? AND wallet = ?"
            args = (who.chain, who.address)
        sql += " ORDER BY chain, wallet, capability, scope, provider, start_pos"
        with self._read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [_coverage_from_row(row) for row in rows]

    def sync_state(self, query: HistoryQuery) -> SyncState | None:
        """Where the fetch of ``query`` stands, or ``None`` if it never started."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT provider, cursor, exhausted, done, pages, items, started_us, "
                "updated_us FROM sync_state WHERE key = ?", (query_key(query),)).fetchone()
        return None if row is None else _sync_from_row(row)

    def forget_sync(self, query: HistoryQuery) -> None:
        """Drop the sync state of ``query`` so that the next fetch starts afresh."""
        with self._write() as batch:
            batch.conn.execute("DELETE FROM sync_state WHERE key = ?", (query_key(query),))

    # -- bulk ----------------------------------------------------------------------------

    def add(self, records: Iterable[Record]) -> int:
        """Store records as given (an import), all in one transaction; return how many
        were new. Coverage is clipped at the finality horizon; records are trusted."""
        with self._write() as batch:
            for record in records:
                self._add_record(batch, record)
            return batch.stored

    @contextmanager
    def batch(self) -> Iterator[BatchWriter]:
        """A writer that stores one record per call; everything given to it inside the
        block is stored in one transaction when the block ends without an error, else
        nothing is."""
        with self._write() as batch:
            yield BatchWriter(self, batch)

    def _add_record(self, batch: _Batch, record: Record) -> None:
        if isinstance(record, BalanceChange):
            batch.change(record)
        elif isinstance(record, LedgerEntry):
            batch.ledger(record)
        elif isinstance(record, HoldingsPoint):
            batch.holding(record)
        elif isinstance(record, BalanceAt):
            batch.answer(record)
        elif isinstance(record, Coverage):
            self._add_coverage(batch, record)
        else:
            raise InputError(f"the archive does not store {type(record).__name__}")

    def was_imported(self, digest: str) -> bool:
        """Whether a file with this SHA-256 was imported as a seed."""
        with self._read() as conn:
            row = conn.execute("SELECT 1 FROM imports WHERE sha256 = ?", (digest,)).fetchone()
        return row is not None

    def mark_imported(self, name: str, digest: str, records: int) -> None:
        """Remember that a seed file was imported."""
        with self._write() as batch:
            batch.conn.execute(
                "INSERT OR REPLACE INTO imports (name, sha256, records, imported_us) "
                "VALUES (?, ?, ?, ?)", (name, digest, records, batch.now_us))

    def records(
        self,
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
        wanted = set(kinds) or {"coverage", "balance_change", "ledger_entry",
                                "holdings_point", "balance_at"}
        unknown = wanted - {"coverage", "balance_change", "ledger_entry", "holdings_point",
                            "balance_at"}
        if unknown:
            raise InputError(f"unknown kind(s) {', '.join(sorted(unknown))}", field="kind")
        who = None if wallet is None else _wallet(wallet)
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
        filters = _Filters(who, chain_name, tok, provider, low, high)
        with self._read() as conn:
            reader = _Reader(conn)
            if "coverage" in wanted and tok is None:
                yield from _export_coverage(conn, filters)
            if "balance_change" in wanted:
                yield from reader.export_changes(filters)
            if "ledger_entry" in wanted and tok is None:
                yield from reader.export_ledger(filters)
            if "holdings_point" in wanted and tok is None:
                yield from reader.export_holdings(filters)
            if "balance_at" in wanted:
                yield from reader.export_answers(filters)

    def info(self) -> ArchiveInfo:
        """Where the archive is, how big, and what it holds."""
        size: int | None = None
        if self.path is not None:
            size = sum(p.stat().st_size for p in (
                self.path, self.path.with_name(self.path.name + "-wal")) if p.exists())
        with self._read() as conn:
            counts = {table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                      for table in ("changes", "ledger", "holdings", "answers", "coverage",
                                    "sync_state")}
            version = schema.schema_version(conn)
            syncs = tuple(
                (row[0], _sync_from_row(row[1:])) for row in conn.execute(
                    "SELECT key, provider, cursor, exhausted, done, pages, items, started_us, "
                    "updated_us FROM sync_state ORDER BY updated_us"))
        return ArchiveInfo(path=self.name, size=size, schema_version=version, counts=counts,
                           coverage=tuple(self.coverage()), syncs=syncs)

    def clear(self, wallet: Wallet | str | None = None) -> int:
        """Delete everything (or everything about one wallet); return the rows removed.
        The file stays, with its schema."""
        removed = 0
        with self._write() as batch:
            conn = batch.conn
            if wallet is None:
                for table in _TABLES:
                    removed += conn.execute(f"DELETE FROM {table}").rowcount
            else:
                who = _wallet(wallet)
                args = (who.chain, who.address)
                removed += conn.execute(
                    "DELETE FROM changes WHERE stream_id IN (SELECT id FROM streams WHERE "
                    "chain = ? AND wallet = ?)", args).rowcount
                for table, column in (("streams", "wallet"), ("answers", "wallet"),
                                      ("ledger", "account"), ("holdings", "wallet"),
                                      ("coverage", "wallet")):
                    removed += conn.execute(
                        f"DELETE FROM {table} WHERE chain = ? AND {column} = ?", args).rowcount
                removed += conn.execute(
                    "DELETE FROM sync_state WHERE query LIKE ?",
                    (f'%{json.dumps(str(who))[1:-1]}"%',)).rowcount
        if wallet is None and not self.memory:
            with self._guard():
                self._conn().execute("VACUUM")
        return removed

    # -- internals: lookups -------------------------------------------------------------

    def _stored_token(self, conn: sqlite3.Connection,
                      token: Token) -> tuple[int, Token] | None:
        row = conn.execute("SELECT id, standard, decimals, symbol FROM tokens "
                           "WHERE chain = ? AND address = ?",
                           (token.chain, token.address)).fetchone()
        if row is None:
            return None
        token_id, standard, decimals, symbol = row
        merged = Token(
            chain=token.chain, address=token.address,
            standard=token.standard if token.standard != "unknown" else standard,
            decimals=token.decimals if token.decimals is not None else decimals,
            symbol=token.symbol if token.symbol is not None else symbol,
        )
        return int(token_id), merged

    def _from_answers(self, conn: sqlite3.Connection, query: BalanceQuery,
                      token: tuple[int, Token]) -> BalanceAt | None:
        """A stored answer for a point at or after this one whose last change is at or
        before it: the balance did not move in between."""
        point = query.point
        base = ("SELECT provider, point_time_us, point_block, raw, decimals, has_asof, "
                "asof_block, asof_hash, asof_time_us, asof_txn, asof_idx, provenance_id "
                "FROM answers WHERE chain = ? AND wallet = ? AND token_id = ? AND ")
        args: tuple[Any, ...] = (query.wallet.chain, query.wallet.address, token[0])
        if point.time is not None:
            pos = to_us(point.time)
            row = conn.execute(
                base + "point_time_us >= ? AND (point_time_us = ? OR has_asof = 0 OR "
                "asof_time_us <= ?) ORDER BY point_time_us, provider LIMIT 1",
                (*args, pos, pos, pos)).fetchone()
            same = row is not None and row[1] == pos
        else:
            assert point.block is not None
            pos = point.block
            row = conn.execute(
                base + "point_block >= ? AND (point_block = ? OR has_asof = 0 OR "
                "asof_block <= ?) ORDER BY point_block, provider LIMIT 1",
                (*args, pos, pos, pos)).fetchone()
            same = row is not None and row[2] == pos
        if row is None:
            return None
        stored = _Reader(conn).provenance(int(row[11]))
        as_of = _as_of(row[5:11])
        provenance = attrs.evolve(stored, archived=True, derived=stored.derived or not same)
        return BalanceAt(wallet=query.wallet, token=token[1],
                         amount=Amount(raw=int(row[3]), decimals=row[4]),
                         requested=point, as_of=as_of, provenance=provenance)

    def _spans(self, conn: sqlite3.Connection, capability: Capability, wallet: Wallet,
               scopes: Sequence[str], axis: str) -> dict[str, list[Span]]:
        marks = ", ".join("?" for _ in scopes)
        rows = conn.execute(
            "SELECT provider, start_pos, end_pos FROM coverage WHERE chain = ? AND "
            f"wallet = ? AND capability = ? AND axis = ? AND scope IN ({marks}) "
            "ORDER BY provider",
            (wallet.chain, wallet.address, capability.value, axis, *scopes)).fetchall()
        found: dict[str, list[Span]] = {}
        for provider, start, end in rows:
            found.setdefault(provider, []).append(Span(start, end, provider))
        return {p: merge_spans(spans) for p, spans in found.items()}

    def _streams(self, conn: sqlite3.Connection, provider: str, wallet: Wallet,
                 token_id: int | None) -> list[tuple[int, str]]:
        sql = "SELECT id, token_account FROM streams WHERE provider = ? AND chain = ? AND " \
              "wallet = ?"
        args: tuple[Any, ...] = (provider, wallet.chain, wallet.address)
        if token_id is not None:
            sql += " AND token_id = ?"
            args += (token_id,)
        return [(int(r[0]), str(r[1])) for r in conn.execute(sql, args)]

    def _from_changes(self, conn: sqlite3.Connection, query: BalanceQuery,
                      token: tuple[int, Token]) -> BalanceAt | None:
        point = query.point
        if point.time is not None:
            return self._changes_at_time(conn, query, token, to_us(point.time))
        assert point.block is not None
        found = self._changes_at_block_by_blocks(conn, query, token, point.block)
        if found is None:
            found = self._changes_at_block_by_time(conn, query, token, point.block)
        return found

    def _answer(self, query: BalanceQuery, token: Token, provider: str,
                latest: list[BalanceChange], zero: bool) -> BalanceAt | None:
        if latest:
            amount, as_of = balance_from_changes(latest, query.point, decimals=token.decimals)
        elif zero:
            amount, as_of = Amount(raw=0, decimals=token.decimals), None
        else:
            return None
        return BalanceAt(
            wallet=query.wallet, token=token, amount=amount, requested=query.point,
            as_of=as_of,
            provenance=Provenance(provider=provider, derived=True, archived=True,
                                  caveats=(_DERIVED_CAVEAT,)))

    def _changes_at_time(self, conn: sqlite3.Connection, query: BalanceQuery,
                         token: tuple[int, Token], pos: int) -> BalanceAt | None:
        spans = self._spans(conn, Capability.BALANCE_HISTORY, query.wallet,
                            (ALL, token[1].address), "time")
        reader = _Reader(conn)
        for provider, provider_spans in spans.items():
            span = find_span(provider_spans, pos)
            if span is None:
                continue
            streams = self._streams(conn, provider, query.wallet, token[0])
            latest: list[BalanceChange] = []
            for stream_id, _ in streams:
                row = conn.execute(
                    f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                    "s.id = c.stream_id WHERE c.stream_id = ? AND c.time_us <= ? AND "
                    "c.time_us >= ? ORDER BY c.time_us DESC, c.block DESC, c.idx DESC LIMIT 1",
                    (stream_id, pos, -(2**63) if span.start is None else span.start),
                ).fetchone()
                if row is not None:
                    latest.append(reader.change(row))
            answer = self._answer(query, token[1], provider, latest, span.start is None)
            if answer is not None:
                return answer
            assert span.start is not None
            first = None
            for stream_id, _ in streams:
                row = conn.execute(
                    "SELECT min(time_us) FROM changes WHERE stream_id = ? AND time_us > ? "
                    "AND time_us < ?", (stream_id, pos, span.end)).fetchone()
                if row[0] is not None and (first is None or row[0] < first):
                    first = int(row[0])
            anchor = self._anchor(conn, query, token, span.start,
                                  span.end if first is None else first)
            if anchor is not None:
                return anchor
        return None

    def _anchor(self, conn: sqlite3.Connection, query: BalanceQuery,
                token: tuple[int, Token], start: int, limit: int) -> BalanceAt | None:
        row = conn.execute(
            "SELECT provider, point_time_us, point_block, raw, decimals, has_asof, "
            "asof_block, asof_hash, asof_time_us, asof_txn, asof_idx, provenance_id "
            "FROM answers WHERE chain = ? AND wallet = ? AND token_id = ? AND "
            "point_time_us >= ? AND point_time_us < ? ORDER BY point_time_us DESC LIMIT 1",
            (query.wallet.chain, query.wallet.address, token[0], start, limit)).fetchone()
        if row is None:
            return None
        stored = _Reader(conn).provenance(int(row[11]))
        return BalanceAt(
            wallet=query.wallet, token=token[1],
            amount=Amount(raw=int(row[3]), decimals=row[4]), requested=query.point,
            as_of=_as_of(row[5:11]),
            provenance=attrs.evolve(stored, archived=True, derived=True,
                                    caveats=(*stored.caveats, _ANCHOR_CAVEAT)))

    def _changes_at_block_by_blocks(self, conn: sqlite3.Connection, query: BalanceQuery,
                                    token: tuple[int, Token], pos: int) -> BalanceAt | None:
        spans = self._spans(conn, Capability.BALANCE_HISTORY, query.wallet,
                            (ALL, token[1].address), "block")
        reader = _Reader(conn)
        for provider, provider_spans in spans.items():
            span = find_span(provider_spans, pos)
            if span is None:
                continue
            latest = []
            for stream_id, _ in self._streams(conn, provider, query.wallet, token[0]):
                row = conn.execute(
                    f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                    "s.id = c.stream_id WHERE c.stream_id = ? AND c.block <= ? AND "
                    "c.block >= ? ORDER BY c.block DESC, c.idx DESC LIMIT 1",
                    (stream_id, pos, -(2**63) if span.start is None else span.start),
                ).fetchone()
                if row is not None:
                    latest.append(reader.change(row))
            answer = self._answer(query, token[1], provider, latest, span.start is None)
            if answer is not None:
                return answer
        return None

    def _changes_at_block_by_time(self, conn: sqlite3.Connection, query: BalanceQuery,
                                  token: tuple[int, Token], pos: int) -> BalanceAt | None:
        """A slot/block point inside a covered time range: the wallet's own stored
        changes (any token) on both sides of the block place it in time."""
        spans = self._spans(conn, Capability.BALANCE_HISTORY, query.wallet,
                            (ALL, token[1].address), "time")
        reader = _Reader(conn)
        for provider, provider_spans in spans.items():
            below: int | None = None
            above: int | None = None
            for stream_id, _ in self._streams(conn, provider, query.wallet, None):
                low = conn.execute(
                    "SELECT time_us FROM changes WHERE stream_id = ? AND block <= ? AND "
                    "time_us IS NOT NULL ORDER BY block DESC, idx DESC LIMIT 1",
                    (stream_id, pos)).fetchone()
                high = conn.execute(
                    "SELECT time_us FROM changes WHERE stream_id = ? AND block >= ? AND "
                    "time_us IS NOT NULL ORDER BY block, idx LIMIT 1",
                    (stream_id, pos)).fetchone()
                if low is not None and (below is None or low[0] > below):
                    below = int(low[0])
                if high is not None and (above is None or high[0] < above):
                    above = int(high[0])
            if above is None:
                continue  # nothing stored at or after the block: cannot place it
            span = find_span(provider_spans, above if below is None else below)
            if span is None or not span.contains(above) or (below is None and
                                                          span.start is not None):
                continue
            latest = []
            for stream_id, _ in self._streams(conn, provider, query.wallet, token[0]):
                row = conn.execute(
                    f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                    "s.id = c.stream_id WHERE c.stream_id = ? AND c.block <= ? "
                    "ORDER BY c.block DESC, c.idx DESC LIMIT 1", (stream_id, pos)).fetchone()
                if row is not None and row[1] is not None and (
                        span.start is None or row[1] >= span.start):
                    latest.append(reader.change(row))
            answer = self._answer(query, token[1], provider, latest, span.start is None)
            if answer is not None:
                return answer
        return None

    def _from_ledger(self, conn: sqlite3.Connection, query: BalanceQuery,
                     token: tuple[int, Token]) -> BalanceAt | None:
        """A venue account's balance from its stored ledger (time points only)."""
        point = query.point
        if point.time is None:
            return None
        tok = token[1]
        decimals = tok.decimals if tok.decimals is not None else \
            resolve_chain(query.chain).native_decimals
        if decimals is None:
            return None
        pos = to_us(point.time)
        spans = self._spans(conn, Capability.ACCOUNT_LEDGER, query.wallet, (ALL,), "time")
        reader = _Reader(conn)
        for provider, provider_spans in spans.items():
            span = find_span(provider_spans, pos)
            if span is None:
                continue
            rows = conn.execute(
                f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE provider = ? AND chain = ? AND "
                "account = ? AND time_us <= ? AND time_us >= ? "
                "ORDER BY time_us DESC, sequence DESC LIMIT 1",
                (provider, query.wallet.chain, query.wallet.address, pos,
                 -(2**63) if span.start is None else span.start)).fetchall()
            if not rows and span.start is not None:
                continue
            entries = [reader.ledger(row) for row in rows]
            balance, entry = balance_from_ledger(entries, point)
            try:
                raw = to_raw(balance, decimals)
            except InputError:
                continue
            return BalanceAt(
                wallet=query.wallet, token=tok, amount=Amount(raw=raw, decimals=decimals),
                requested=point,
                as_of=None if entry is None else BlockRef(timestamp=entry.time),
                provenance=Provenance(provider=provider, derived=True, archived=True,
                                      caveats=("derived from the account ledger stored in "
                                               "the archive",)))
        return None

    def _series(self, conn: sqlite3.Connection, wallet: Wallet, token: tuple[int, Token],
                positions: list[int]) -> list[Known | None]:
        spans = self._spans(conn, Capability.BALANCE_HISTORY, wallet,
                            (ALL, token[1].address), "time")
        end = positions[-1]
        reader = _Reader(conn)
        anchors = [
            Anchor(int(row[1]), Amount(raw=int(row[3]), decimals=row[4]), _as_of(row[5:11]),
                   str(row[0]))
            for row in conn.execute(
                "SELECT provider, point_time_us, point_block, raw, decimals, has_asof, "
                "asof_block, asof_hash, asof_time_us, asof_txn, asof_idx FROM answers "
                "WHERE chain = ? AND wallet = ? AND token_id = ? AND "
                "point_time_us IS NOT NULL ORDER BY point_time_us",
                (wallet.chain, wallet.address, token[0]))
        ]
        result: list[Known | None] = [None] * len(positions)
        for provider, provider_spans in spans.items():
            relevant = [s for s in provider_spans
                        if (s.start is None or s.start <= end) and s.end > positions[0]]
            if not relevant:
                continue
            streams = self._streams(conn, provider, wallet, token[0])
            usable = [a for a in anchors if self._before_first_change(conn, streams, relevant,
                                                                       a.time_us)]
            low = relevant[0].start
            rows = reader.rows(streams, -(2**63) if low is None else low, end)
            found = sweep(rows, relevant, positions, provider=provider, anchors=usable,
                          decimals=token[1].decimals)
            result = [old if old is not None else new
                      for old, new in zip(result, found, strict=True)]
        return result

    @staticmethod
    def _before_first_change(conn: sqlite3.Connection, streams: Sequence[tuple[int, str]],
                             spans: Sequence[Span], pos: int) -> bool:
        """Whether ``pos`` lies in a span with no stored change of ``streams`` between the
        span's start and ``pos`` (both included)."""
        span = find_span(spans, pos)
        if span is None or span.start is None:
            return False
        return all(conn.execute(
            "SELECT 1 FROM changes WHERE stream_id = ? AND time_us >= ? AND time_us <= ? "
            "LIMIT 1", (stream_id, span.start, pos)).fetchone() is None
            for stream_id, _ in streams)

    def _covering_provider(self, conn: sqlite3.Connection, query: HistoryQuery,
                           wallet: Wallet, start: int | None, end: int) -> str | None:
        needed: list[tuple[str, ...]]
        if query.capability is Capability.BALANCE_HISTORY and query.tokens:
            needed = [(ALL, t.address) for t in query.tokens]
        else:
            needed = [(_scopes(query)[0],)]
        providers: set[str] | None = None
        for scopes in needed:
            spans = self._spans(conn, query.capability, wallet, scopes, "time")
            covering = {p for p, found in spans.items() if any(
                (s.start is None or (start is not None and s.start <= start)) and end <= s.end
                for s in found)}
            providers = covering if providers is None else providers & covering
        return min(providers) if providers else None

    def _history_items(self, conn: sqlite3.Connection, query: HistoryQuery, wallet: Wallet,
                       provider: str, start: int | None,
                       end: int) -> Iterator[tuple[int, HistoryItem]]:
        low = -(2**63) if start is None else start
        reader = _Reader(conn, archived=True)
        if query.capability is Capability.BALANCE_HISTORY:
            ids: list[int] | None = None
            if query.tokens:
                ids = []
                for token in query.tokens:
                    stored = self._stored_token(conn, token)
                    if stored is not None:
                        ids.append(stored[0])
            sql = (f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                   "s.id = c.stream_id WHERE s.provider = ? AND s.chain = ? AND s.wallet = ? "
                   "AND c.time_us >= ? AND c.time_us < ?")
            args: tuple[Any, ...] = (provider, wallet.chain, wallet.address, low, end)
            if ids is not None:
                sql += f" AND s.token_id IN ({', '.join('?' for _ in ids)})"
                args += tuple(ids)
            for row in conn.execute(sql + " ORDER BY c.time_us, c.block, c.idx", args):
                yield int(row[1]), reader.change(row)
        elif query.capability is Capability.ACCOUNT_LEDGER:
            sql = (f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE provider = ? AND chain = ? "
                   "AND account = ? AND time_us >= ? AND time_us < ?")
            args = (provider, wallet.chain, wallet.address, low, end)
            if query.event_types:
                sql += f" AND event_type IN ({', '.join('?' for _ in query.event_types)})"
                args += tuple(query.event_types)
            for row in conn.execute(sql + " ORDER BY time_us, sequence", args):
                yield int(row[3]), reader.ledger(row)
        else:
            liquidity = "" if query.min_liquidity is None else str(query.min_liquidity)
            for row in conn.execute(
                    f"SELECT {_HOLDINGS_COLUMNS} FROM holdings WHERE provider = ? AND "
                    "chain = ? AND wallet = ? AND min_liquidity = ? AND time_us >= ? AND "
                    "time_us < ? ORDER BY time_us",
                    (provider, wallet.chain, wallet.address, liquidity, low, end)):
                item = reader.holding(row)
                if not query.breakdown:
                    item = attrs.evolve(item, breakdown=None)
                yield int(row[4]), item

    # -- internals: writes ---------------------------------------------------------------

    def _store_item(self, batch: _Batch, item: Any, provider: str, query: HistoryQuery,
                    cut: int) -> None:
        if isinstance(item, BalanceChange):
            stamp = item.block.timestamp
            if stamp is not None and to_us(stamp) <= cut:
                batch.change(item, provider)
        elif isinstance(item, LedgerEntry) and to_us(item.time) <= cut:
            batch.ledger(item, provider)
        elif isinstance(item, HoldingsPoint) and to_us(item.timestamp) <= cut:
            batch.holding(item, provider, query.min_liquidity)

    def _add_coverage(self, batch: _Batch, coverage: Coverage) -> None:
        scope = coverage.scope
        if coverage.capability is Capability.BALANCE_HISTORY and scope != ALL:
            scope = resolve_token(coverage.wallet.chain, scope).address
        start, end = coverage.bounds
        if coverage.axis == "time":
            end = min(end, to_us(self.finality.cut(coverage.wallet.chain, self.now())))
            if start is not None and end <= start:
                return
        batch.coverage(coverage.capability, coverage.provider, coverage.wallet, scope,
                       coverage.axis, start, end)


def _scopes(query: HistoryQuery) -> list[str]:
    if query.capability is Capability.BALANCE_HISTORY:
        return [t.address for t in query.tokens] or [ALL]
    if query.capability is Capability.ACCOUNT_LEDGER:
        return [ledger_scope(query.event_types)]
    return [holdings_scope(query.granularity, query.breakdown, query.min_liquidity)]


def _as_of(row: Sequence[Any]) -> BlockRef | None:
    """has_asof, block, hash, time_us, txn, idx -> the block the answer was read at."""
    has, block, block_hash, time_us, txn, idx = row
    if not has or all(part is None for part in row[1:]):  # none: read at a block only
        return None
    return BlockRef(number=_optional_int(block), hash=block_hash,
                    timestamp=None if time_us is None else from_us(int(time_us)),
                    transaction=txn, index=_optional_int(idx))


def _coverage_from_row(row: Sequence[Any]) -> Coverage:
    capability, provider, chain, wallet, scope, axis, start, end = row
    who = Wallet(chain=chain, address=wallet)
    if axis == "time":
        return Coverage(capability=Capability(capability), provider=provider, wallet=who,
                        scope=scope, start=None if start is None else from_us(int(start)),
                        end=from_us(int(end)))
    return Coverage(capability=Capability(capability), provider=provider, wallet=who,
                    scope=scope, start_block=_optional_int(start), end_block=int(end))


def _sync_from_row(row: Sequence[Any]) -> SyncState:
    provider, cursor, exhausted, done, pages, items, started, updated = row
    return SyncState(provider=provider, cursor=cursor, exhausted=bool(exhausted),
                     done=bool(done), pages=int(pages), items=int(items),
                     started=from_us(int(started)), updated=from_us(int(updated)))


_CHANGE_COLUMNS = ("c.id, c.time_us, c.block, c.idx, c.txn, c.block_hash, c.raw, c.decimals, "
                   "c.provenance_id, s.chain, s.wallet, s.token_id, s.token_account")
_LEDGER_COLUMNS = ("provider, chain, account, time_us, sequence, event_type, amount, balance, "
                   "pending, known_type, provenance_id")
_HOLDINGS_COLUMNS = ("provider, chain, wallet, min_liquidity, time_us, usd, breakdown, "
                     "provenance_id")


@attrs.frozen
class _Filters:
    wallet: Wallet | None
    chain: str | None
    token: Token | None
    provider: str | None
    start: int | None
    end: int | None

    def where(self, *, chain: str, wallet: str, time: str,
              provider: str | None = "provider") -> tuple[str, tuple[Any, ...]]:
        parts: list[str] = []
        args: list[Any] = []
        if self.chain is not None:
            parts.append(f"{chain} = ?")
            args.append(self.chain)
        if self.wallet is not None:
            parts.append(f"{wallet} = ?")
            args.append(self.wallet.address)
        if self.provider is not None and provider is not None:
            parts.append(f"{provider} = ?")
            args.append(self.provider)
        if self.start is not None:
            parts.append(f"{time} >= ?")
            args.append(self.start)
        if self.end is not None:
            parts.append(f"{time} < ?")
            args.append(self.end)
        return (" WHERE " + " AND ".join(parts) if parts else ""), tuple(args)


def _export_coverage(conn: sqlite3.Connection, filters: _Filters) -> Iterator[Coverage]:
    where, args = attrs.evolve(filters, start=None, end=None).where(
        chain="chain", wallet="wallet", time="end_pos")
    for row in conn.execute(
            "SELECT capability, provider, chain, wallet, scope, axis, start_pos, end_pos "
            f"FROM coverage{where} ORDER BY chain, wallet, capability, scope, provider, "
            "start_pos", args).fetchall():
        yield _coverage_from_row(row)


class _Reader:
    """Turns rows back into records, caching tokens, wallets and provenance."""

    def __init__(self, conn: sqlite3.Connection, *, archived: bool = False) -> None:
        self.conn = conn
        self.archived = archived
        self._tokens: dict[int, Token] = {}
        self._wallets: dict[tuple[str, str], Wallet] = {}
        self._provenance: dict[int, Provenance] = {}

    def token(self, token_id: int) -> Token:
        found = self._tokens.get(token_id)
        if found is None:
            chain, address, standard, decimals, symbol = self.conn.execute(
                "SELECT chain, address, standard, decimals, symbol FROM tokens WHERE id = ?",
                (token_id,)).fetchone()
            found = Token(chain=chain, address=address, standard=standard, decimals=decimals,
                          symbol=symbol)
            self._tokens[token_id] = found
        return found

    def wallet(self, chain: str, address: str) -> Wallet:
        key = (chain, address)
        found = self._wallets.get(key)
        if found is None:
            found = Wallet(chain=chain, address=address)
            self._wallets[key] = found
        return found

    def provenance(self, provenance_id: int) -> Provenance:
        found = self._provenance.get(provenance_id)
        if found is None:
            row = self.conn.execute("SELECT data FROM provenance WHERE id = ?",
                                    (provenance_id,)).fetchone()
            found = from_data(Provenance, json.loads(row[0], parse_float=Decimal))
            if self.archived:
                found = attrs.evolve(found, archived=True)
            self._provenance[provenance_id] = found
        return found

    def change(self, row: Sequence[Any]) -> BalanceChange:
        (_, time_us, block, idx, txn, block_hash, raw, decimals, prov, chain, wallet,
         token_id, account) = row
        return BalanceChange(
            wallet=self.wallet(chain, wallet), token=self.token(int(token_id)),
            token_account=account or None,
            balance=Amount(raw=int(raw), decimals=decimals),
            block=BlockRef(number=_optional_int(block), hash=block_hash,
                           timestamp=None if time_us is None else from_us(int(time_us)),
                           transaction=txn, index=_optional_int(idx)),
            provenance=self.provenance(int(prov)))

    def ledger(self, row: Sequence[Any]) -> LedgerEntry:
        (_, chain, account, time_us, sequence, event_type, amount, balance, pending, known,
         prov) = row
        return LedgerEntry(
            account=self.wallet(chain, account), time=from_us(int(time_us)),
            event_type=event_type, amount=Decimal(amount), balance=Decimal(balance),
            pending_balance=None if pending is None else Decimal(pending),
            known_type=bool(known), provenance=self.provenance(int(prov)),
            sequence=_optional_int(sequence))

    def holding(self, row: Sequence[Any]) -> HoldingsPoint:
        _, chain, wallet, _, time_us, usd, breakdown, prov = row
        parts: tuple[TokenHolding, ...] | None = None
        if breakdown is not None:
            parts = tuple(from_data(TokenHolding, item)
                          for item in json.loads(breakdown, parse_float=Decimal))
        return HoldingsPoint(wallet=self.wallet(chain, wallet), timestamp=from_us(int(time_us)),
                             usd=Decimal(usd), breakdown=parts,
                             provenance=self.provenance(int(prov)))

    def rows(self, streams: Sequence[tuple[int, str]], low: int, end: int) -> list[Row]:
        """The changes of ``streams`` with times in ``[low, end]``, in as-of order."""
        if not streams:
            return []
        accounts = dict(streams)
        marks = ", ".join("?" for _ in streams)
        found = [
            Row(int(t), _optional_int(b), _optional_int(i), accounts[int(s)], int(raw), d,
                txn, h)
            for s, t, b, i, raw, d, txn, h in self.conn.execute(
                "SELECT stream_id, time_us, block, idx, raw, decimals, txn, block_hash "
                f"FROM changes WHERE stream_id IN ({marks}) AND time_us >= ? AND "
                "time_us <= ?", (*accounts, low, end))
        ]
        found.sort(key=lambda row: row.order)
        return found

    # -- export
    def export_changes(self, filters: _Filters) -> Iterator[BalanceChange]:
        where, args = filters.where(chain="s.chain", wallet="s.wallet", time="c.time_us",
                                    provider="s.provider")
        if filters.token is not None:
            where += (" AND " if where else " WHERE ") + \
                "s.token_id IN (SELECT id FROM tokens WHERE chain = ? AND address = ?)"
            args += (filters.token.chain, filters.token.address)
        for row in self.conn.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                f"s.id = c.stream_id{where} ORDER BY s.chain, s.wallet, c.time_us, c.block, "
                "c.idx, c.id", args):
            yield self.change(row)

    def export_ledger(self, filters: _Filters) -> Iterator[LedgerEntry]:
        where, args = filters.where(chain="chain", wallet="account", time="time_us")
        for row in self.conn.execute(
                f"SELECT {_LEDGER_COLUMNS} FROM ledger{where} ORDER BY chain, account, "
                "time_us, sequence, id", args):
            yield self.ledger(row)

    def export_holdings(self, filters: _Filters) -> Iterator[HoldingsPoint]:
        where, args = filters.where(chain="chain", wallet="wallet", time="time_us")
        for row in self.conn.execute(
                f"SELECT {_HOLDINGS_COLUMNS} FROM holdings{where} ORDER BY chain, wallet, "
                "time_us, id", args):
            yield self.holding(row)

    def export_answers(self, filters: _Filters) -> Iterator[BalanceAt]:
        where, args = filters.where(chain="a.chain", wallet="a.wallet",
                                    time="a.point_time_us", provider="a.provider")
        if filters.token is not None:
            where += (" AND " if where else " WHERE ") + \
                "a.token_id IN (SELECT id FROM tokens WHERE chain = ? AND address = ?)"
            args += (filters.token.chain, filters.token.address)
        for row in self.conn.execute(
                "SELECT a.chain, a.wallet, a.token_id, a.point_time_us, a.point_block, a.raw, "
                "a.decimals, a.has_asof, a.asof_block, a.asof_hash, a.asof_time_us, "
                f"a.asof_txn, a.asof_idx, a.provenance_id FROM answers a{where} "
                "ORDER BY a.chain, a.wallet, a.point_time_us, a.point_block, a.id", args):
            chain, wallet, token_id, time_us, block, raw, decimals = row[:7]
            point = Point(time=from_us(int(time_us))) if time_us is not None else \
                Point(block=int(block))
            yield BalanceAt(wallet=self.wallet(chain, wallet), token=self.token(int(token_id)),
                            amount=Amount(raw=int(raw), decimals=decimals), requested=point,
                            as_of=_as_of(row[7:13]), provenance=self.provenance(int(row[13])))
