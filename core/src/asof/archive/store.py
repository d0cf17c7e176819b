"""The archive: canonical records that answer offline, over a storage backend.

:class:`Archive` implements what the router asks of an archive (``lookup_balance``,
``record_balance``, ``lookup_history``, ``record_page``, ``complete_history``,
``explain_balance``) and adds balance series, coverage, sync state, imports and
housekeeping. The rules of what a stored record proves live in
:mod:`asof.archive.rules`, the fetch state in :mod:`asof.archive.syncstate`, export in
:mod:`asof.archive.io`; the database behind it is any backend of the storage protocol
(:mod:`asof.archive.backend`), SQLite (:mod:`asof.archive.sqlite`) by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from asof.archive import rules, syncstate
from asof.archive.backend import ChangeRow, Storage, StorageReader, StorageWriter
from asof.archive.blocktimes import ArchiveBlockTimes
from asof.archive.coverage import ALL, Coverage, Span, merge_spans, to_us
from asof.archive.finality import Finality
from asof.archive.series import SeriesPoint, grid
from asof.archive.sqlite import SQLiteStorage
from asof.archive.syncstate import SyncState, query_key
from asof.blocktimes import BlockTimes
from asof.errors import InputError
from asof.points import PointLike, TimeLike, parse_point, parse_time
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    BalanceAt,
    BalanceChange,
    Capability,
    HistoryItem,
    HistoryScope,
    HoldingsPoint,
    LedgerEntry,
    Page,
    Token,
    Wallet,
)
from asof.tokens import resolve_token

__all__ = ["Archive", "ArchiveInfo", "BatchWriter", "Record", "SyncState", "query_key"]

#: What the archive stores and exports.
Record = BalanceChange | LedgerEntry | HoldingsPoint | BalanceAt | Coverage


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


class BatchWriter:
    """Stores records inside one transaction (see :meth:`Archive.batch`)."""

    def __init__(self, archive: Archive, writer: StorageWriter) -> None:
        self._archive = archive
        self._writer = writer

    def __call__(self, record: Record) -> None:
        """Store one record."""
        self._archive._add_record(self._writer, record)

    def changes(self, rows: Sequence[ChangeRow]) -> None:
        """Store many balance changes in storage form (trusted, as records are)."""
        self._writer.changes(rows)

    @property
    def stored(self) -> int:
        """How many records were new so far."""
        return self._writer.stored


class Archive:
    """An archive of canonical records.

    ``path`` is an SQLite database file (created mode 0600 with its directories) or
    ``":memory:"``, or a URL (``postgresql://...``, ``sqlite:///PATH``); ``storage``
    gives another backend of the storage protocol instead.
    ``finality`` is a :class:`~asof.archive.finality.Finality` or a mapping of chain to
    seconds (see :mod:`asof.archive.finality`); ``clock`` returns the current UTC time
    (tests replace it). Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        finality: Finality | Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        storage: Storage | None = None,
    ) -> None:
        if storage is None:
            if path is None:
                raise InputError("give an archive path or a storage backend", field="path")
            if isinstance(path, str) and "://" in path:  # postgresql://, sqlite:///
                from asof.archive.settings import open_storage

                storage = open_storage(path)
            else:
                storage = SQLiteStorage(path)
        self.storage = storage
        self.memory = isinstance(storage, SQLiteStorage) and storage.memory
        self.path: Path | None = storage.path if isinstance(storage, SQLiteStorage) else None
        self.finality = finality if isinstance(finality, Finality) else \
            Finality.from_mapping(finality)
        self._clock = clock or _utcnow

    # -- lifecycle --------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Where the archive lives: the database path, or ``:memory:``."""
        return self.storage.name

    @property
    def _connections(self) -> list[Any]:
        return list(getattr(self.storage, "_connections", []))

    def __repr__(self) -> str:
        return f"Archive({self.name!r})"

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this archive opened (in any thread)."""
        self.storage.close()

    def now(self) -> datetime:
        """The current time as the archive sees it."""
        return self._clock()

    def _cut(self, chain: str) -> int:
        return to_us(self.finality.cut(chain, self.now()))

    @contextmanager
    def _write(self) -> Iterator[StorageWriter]:
        with self.storage.write(self.now()) as writer:
            yield writer

    # -- the router's protocol ----------------------------------------------------------

    def lookup_balance(self, query: BalanceQuery) -> BalanceAt | None:
        """The balance as of the query's point when the archive proves it (see
        :mod:`asof.archive.rules`), else ``None`` (the router then asks a provider).
        ``provenance.archived`` is true and ``provenance.provider`` names the original
        source."""
        with self.storage.read() as r:
            return rules.balance(r, query.wallet, query.token, query.point)

    def explain_balance(self, query: BalanceQuery) -> tuple[bool, list[str]]:
        """Whether the archive answers ``query``, and why (or why not): coverage,
        scope and stored answers, one line each."""
        with self.storage.read() as r:
            found = rules.balance(r, query.wallet, query.token, query.point)
            lines = rules.explain(r, query.wallet, query.token, query.point)
        cut = self.finality.cut(query.chain, self.now())
        if query.point.time is not None and query.point.time > cut:
            lines.append(f"{query.point} is newer than the {query.chain} finality horizon "
                         f"({cut.isoformat().replace('+00:00', 'Z')}): nothing that fresh "
                         "is archived")
        return found is not None, lines

    def record_balance(self, answer: BalanceAt, *, exact: bool | None = None) -> None:
        """Keep a provider's answer when its point is final on its chain; an answer read
        from the archive, or too fresh to be final, is not stored. ``exact`` is what the
        provider declared of its method (:attr:`~asof.records.ChainSupport.balance_at_exact`)."""
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
        with self._write() as w:
            w.answer(answer, exact)

    def lookup_history(self, query: HistoryQuery) -> Sequence[HistoryItem] | None:
        """Every stored item of the query when the archive covers its whole range for
        every wallet (from one provider per wallet), else ``None``. Balance changes and
        ledger entries come oldest first; holdings points newest first, the order
        holdings providers answer in."""
        if query.end is None:
            return None
        start = None if query.start is None else to_us(query.start)
        end = to_us(query.end)
        found: list[tuple[int, int, HistoryItem]] = []
        with self.storage.read() as r:
            for n, wallet in enumerate(query.wallets):
                provider = self._covering_provider(r, query, wallet, start, end)
                if provider is None:
                    return None
                for time_us, item in r.items(query, wallet, provider, start, end):
                    found.append((time_us, n, item))
        if query.capability is Capability.HOLDINGS_HISTORY:
            found.sort(key=lambda entry: (-entry[0], entry[1]))
        else:
            found.sort(key=lambda entry: (entry[0], entry[1]))
        return [item for _, _, item in found]

    def record_page(
        self, query: HistoryQuery, provider: str, page: Page[Any], cursor: str | None,
        *, scope: HistoryScope | None = None,
    ) -> None:
        """Store the final items of one fetched page and where the fetch stands, in one
        transaction. ``cursor`` is the cursor the page was fetched with (``None`` for
        the first page, which starts the fetch afresh); ``scope`` is the provider's
        declared history scope."""
        with self._write() as w:
            syncstate.record_page(w, query, provider, page, cursor,
                                  now_us=to_us(self.now()), cut=self._cut(query.chain),
                                  scope=scope)

    def complete_history(self, query: HistoryQuery, provider: str, *,
                         scope: HistoryScope | None = None) -> None:
        """Record the query's range, up to the finality horizon in force when its first
        page was stored, as covered by ``provider`` for each of its wallets, with the
        history scope the provider declared."""
        with self._write() as w:
            syncstate.complete(w, query, provider, now_us=to_us(self.now()),
                               cut=self._cut(query.chain), scope=scope)

    def block_times(self, provider: str) -> BlockTimes:
        """``provider``'s settled block times, kept in this archive (the core hands them
        to the provider as :attr:`ProviderContext.block_times
        <asof.context.ProviderContext.block_times>`); only blocks final by this
        archive's finality horizons are stored."""
        return ArchiveBlockTimes(self.storage, provider, finality=self.finality, now=self.now)

    # -- more questions -----------------------------------------------------------------

    def balance_at(self, wallet: Wallet | str, token: Token | str,
                   at: PointLike) -> BalanceAt | None:
        """The archive's answer for a wallet's balance of a token (a symbol, address or
        :class:`~asof.records.Token`) as of a point, or ``None`` when it cannot prove
        one."""
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
        (see :mod:`asof.archive.series`), by the same rules as :meth:`balance_at` at
        each point. A point the archive does not prove has ``amount`` ``None``."""
        who = _wallet(wallet)
        tok = resolve_token(who.chain, token)
        times = grid(parse_time(start, field="start"), parse_time(end, field="end"), every)
        if not times:
            return []
        with self.storage.read() as r:
            return rules.series_points(r, who, tok, times)

    def lookup_series(self, wallet: Wallet, token: Token,
                      times: Sequence[datetime]) -> list[BalanceAt | None]:
        """The proven answer at each of ``times`` (ascending), ``None`` where the archive
        proves none: :meth:`lookup_balance` at every point, in one sweep."""
        if not times:
            return []
        with self.storage.read() as r:
            return rules.series(r, wallet, token, [to_us(t) for t in times])

    def token(self, wallet: Wallet | str, token: Token | str) -> Token:
        """``token`` resolved on the wallet's chain, with decimals and symbol filled in
        from what the archive knows."""
        who = _wallet(wallet)
        tok = resolve_token(who.chain, token)
        with self.storage.read() as r:
            stored = r.token(tok)
        return tok if stored is None else stored

    # -- coverage, sync state ------------------------------------------------------------

    def add_coverage(self, coverage: Coverage) -> None:
        """Declare a range complete (clipped at the chain's finality horizon)."""
        with self._write() as w:
            self._add_coverage(w, coverage)

    def coverage(self, wallet: Wallet | str | None = None) -> list[Coverage]:
        """Every covered range, or a wallet's."""
        with self.storage.read() as r:
            return r.coverage(None if wallet is None else _wallet(wallet))

    def sync_state(self, query: HistoryQuery) -> SyncState | None:
        """Where the fetch of ``query`` stands, or ``None`` if it never started."""
        with self.storage.read() as r:
            row = r.sync(query_key(query))
        return None if row is None else syncstate.sync_state(row)

    def forget_sync(self, query: HistoryQuery) -> None:
        """Drop the sync state of ``query`` so that the next fetch starts afresh."""
        with self._write() as w:
            w.forget_sync(query_key(query))

    # -- bulk ----------------------------------------------------------------------------

    def add(self, records: Iterable[Record]) -> int:
        """Store records as given (an import), all in one transaction; return how many
        were new. Coverage is clipped at the finality horizon; records are trusted."""
        with self._write() as w:
            for record in records:
                self._add_record(w, record)
            return w.stored

    @contextmanager
    def batch(self) -> Iterator[BatchWriter]:
        """A writer that stores one record per call; everything given to it inside the
        block is stored in one transaction when the block ends without an error, else
        nothing is."""
        with self._write() as w:
            yield BatchWriter(self, w)

    def _add_record(self, w: StorageWriter, record: Record) -> None:
        if isinstance(record, BalanceChange):
            w.change(record)
        elif isinstance(record, LedgerEntry):
            w.ledger(record)
        elif isinstance(record, HoldingsPoint):
            w.holding(record)
        elif isinstance(record, BalanceAt):
            w.answer(record)
        elif isinstance(record, Coverage):
            self._add_coverage(w, record)
        else:
            raise InputError(f"the archive does not store {type(record).__name__}")

    def _add_coverage(self, w: StorageWriter, coverage: Coverage) -> None:
        if coverage.capability is Capability.BALANCE_HISTORY and coverage.scope != ALL:
            address = resolve_token(coverage.wallet.chain, coverage.scope).address
            coverage = attrs.evolve(coverage, scope=address)
        if coverage.axis == "time":
            assert coverage.end is not None
            cut = self.finality.cut(coverage.wallet.chain, self.now())
            end = min(coverage.end, cut)
            if coverage.start is not None and end <= coverage.start:
                return
            coverage = attrs.evolve(coverage, end=end)
        w.coverage(coverage)

    def was_imported(self, digest: str) -> bool:
        """Whether a file with this SHA-256 was imported as a seed."""
        with self.storage.read() as r:
            return r.was_imported(digest)

    def mark_imported(self, name: str, digest: str, records: int) -> None:
        """Remember that a seed file was imported."""
        with self._write() as w:
            w.mark_imported(name, digest, records)

    def records(self, **filters: Any) -> Iterator[Record]:
        """Stored records for export (see :func:`asof.archive.io.records`)."""
        from asof.archive.io import records

        return records(self, **filters)

    def info(self) -> ArchiveInfo:
        """Where the archive is, how big, and what it holds."""
        with self.storage.read() as r:
            counts = r.counts()
            version = r.schema_version()
            syncs = tuple((key, syncstate.sync_state(row)) for key, row in r.syncs())
            coverage = tuple(r.coverage())
        return ArchiveInfo(path=self.name, size=self.storage.size(), schema_version=version,
                           counts=counts, coverage=coverage, syncs=syncs)

    def clear(self, wallet: Wallet | str | None = None) -> int:
        """Delete everything (or everything about one wallet); return the rows removed.
        The storage stays, with its schema."""
        with self._write() as w:
            removed = w.clear(None if wallet is None else _wallet(wallet))
        if wallet is None:
            self.storage.compact()
        return removed

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _covering_provider(r: StorageReader, query: HistoryQuery, wallet: Wallet,
                           start: int | None, end: int) -> str | None:
        """The first provider (by name) whose coverage holds the whole range; for a
        history of chosen tokens, coverage whose declared scope includes each token."""
        covs = r.coverage(wallet, capability=query.capability.value, axis="time")
        needed: list[tuple[Token | None, tuple[str, ...]]]
        if query.capability is Capability.BALANCE_HISTORY and query.tokens:
            needed = [(t, (ALL, t.address)) for t in query.tokens]
        else:
            needed = [(None, (syncstate.scopes(query)[0],))]
        providers: set[str] | None = None
        for token, wanted in needed:
            mentioned = set() if token is None else r.mentioned(wallet, token)
            spans: dict[str, list[tuple[int | None, int]]] = {}
            for cov in covs:
                if cov.scope not in wanted or (token is not None and not cov.proves(
                        token, mentioned=cov.provider in mentioned)):
                    continue
                spans.setdefault(cov.provider, []).append(cov.bounds)
            covering = set()
            for provider, bounds in spans.items():
                merged = merge_spans(Span(a, b) for a, b in bounds)
                if any((s.start is None or (start is not None and s.start <= start))
                       and end <= s.end for s in merged):
                    covering.add(provider)
            providers = covering if providers is None else providers & covering
        return min(providers) if providers else None
