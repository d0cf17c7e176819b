"""The storage protocol: what the archive's rules need of a database.

The as-of rules (:mod:`asof.archive.rules`), sync state and export are written once
against :class:`Storage`; a backend implements it over one database. SQLite
(:mod:`asof.archive.sqlite`) is the embedded default; a shared backend (PostgreSQL) is
one more module implementing the same protocol, and the archive's tests run against
the protocol through a backend fixture.

A backend stores canonical records and hands them back as records: the rules never
see SQL, ids or rows. Positions on an axis are integers: microseconds since the Unix
epoch (``axis="time"``) or slot / block numbers (``axis="block"``); ranges given to a
backend are inclusive at both ends unless a method says otherwise. Reads happen inside
:meth:`Storage.read` (one consistent snapshot), writes inside :meth:`Storage.write`
(one transaction: all or nothing). Failures are :class:`~asof.errors.ArchiveError`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, Protocol, TypeVar

import attrs

from asof.archive.coverage import Coverage, from_us
from asof.archive.series import Row
from asof.blocktimes import BlockTime
from asof.queries import HistoryQuery
from asof.records import (
    BalanceAt,
    BalanceChange,
    BlockRef,
    HistoryItem,
    HistoryScope,
    HoldingsPoint,
    LedgerEntry,
    Point,
    Provenance,
    Token,
    Wallet,
)

_T = TypeVar("_T")

__all__ = ["ChangeRow", "Filters", "Last", "Storage", "StorageReader", "StorageWriter",
           "StoredAnswer", "SyncRow"]


class ChangeRow(NamedTuple):
    """One balance change in the form a backend stores it (many at a time, see
    :meth:`StorageWriter.changes`): what :meth:`StorageWriter.change` stores of a
    :class:`~asof.records.BalanceChange`, with the block time as microseconds."""

    provider: str  #: the stream's provider
    wallet: Wallet
    token: Token
    token_account: str | None
    time_us: int | None
    block: int | None
    tx_index: int | None
    transaction: str | None
    block_hash: str | None
    raw: int
    decimals: int | None
    provenance: Provenance


class Last(NamedTuple):
    """A token account's last stored change at or before a position, reduced to what
    an answer is built from: the balance after it and where it happened (a look-up
    sums integers; it decodes no record and no provenance)."""

    account: str  #: the token account (``""`` for none)
    raw: int  #: the balance after the change, in base units
    decimals: int | None
    time_us: int | None
    block: int | None
    tx_index: int | None  #: the transaction's index in its block
    transaction: str | None
    hash: str | None

    @property
    def order(self) -> tuple[float, int, int]:
        """The as-of order of :func:`asof.derive.change_order`: time (seconds, as that
        function computes them), then slot or block, then transaction index."""
        return (float("-inf") if self.time_us is None else self.time_us / 1_000_000,
                -1 if self.block is None else self.block,
                -1 if self.tx_index is None else self.tx_index)

    def block_ref(self) -> BlockRef:
        """Where the change happened, as the stored change's ``block``."""
        return BlockRef(number=self.block, hash=self.hash,
                        timestamp=None if self.time_us is None else from_us(self.time_us),
                        transaction=self.transaction, index=self.tx_index)


@attrs.frozen(kw_only=True)
class SyncRow:
    """Where one history fetch stands, as a backend stores it (see
    :mod:`asof.archive.syncstate`)."""

    provider: str
    cursor: str | None
    exhausted: bool
    done: bool
    pages: int
    items: int
    cut_us: int  #: the finality horizon in force when the fetch started
    started_us: int
    updated_us: int
    #: the provider's declared history scope (``None``: undeclared)
    scope: HistoryScope | None = None


@attrs.frozen(kw_only=True)
class StoredAnswer:
    """A provider's balance-at answer as stored, and whether the provider declared its
    method exact (``None``: not known, as for imported answers)."""

    answer: BalanceAt
    exact: bool | None = None


@attrs.frozen(kw_only=True)
class Filters:
    """What an export selects; ``None`` selects everything. ``start``/``end`` are
    microseconds, start inclusive, end exclusive."""

    wallet: Wallet | None = None
    chain: str | None = None
    token: Token | None = None
    provider: str | None = None
    start: int | None = None
    end: int | None = None


class StorageReader(Protocol):
    """Reads inside one snapshot."""

    def token(self, token: Token) -> Token | None:
        """The stored token (decimals, symbol, standard merged into ``token``), or
        ``None`` when nothing about it is stored."""
        ...

    def memo(self, key: Hashable, make: Callable[[], _T]) -> _T:
        """``make()``, a value the caller derives from this snapshot's reads alone,
        kept under ``key`` for later snapshots while the stored data is unchanged (a
        backend that keeps nothing between snapshots calls ``make`` every time);
        ``None`` is never kept. The caller changes what it gets only to add what it
        reads from the same, unchanged data (a holder of facts learnt so far)."""
        ...

    def coverage(self, wallet: Wallet | None = None, *, capability: str | None = None,
                 axis: str | None = None) -> list[Coverage]:
        """Covered ranges (merged per key), optionally of one wallet, capability and
        axis, ordered by chain, wallet, capability, scope, provider and start."""
        ...

    def accounts(self, provider: str, wallet: Wallet, token: Token) -> list[str]:
        """The token accounts (``""`` for none) of which ``provider`` gave changes."""
        ...

    def mentioned(self, wallet: Wallet, token: Token) -> set[str]:
        """The providers that gave at least one change of ``wallet`` and ``token``."""
        ...

    def latest(self, provider: str, wallet: Wallet, token: Token, *, axis: str, at: int,
               low: int | None) -> list[Last]:
        """Per token account of which ``provider`` gave changes, its last change with
        position in ``[low, at]`` (``low`` ``None``: unbounded) by the as-of order on
        ``axis`` (time: time, then block, then transaction index; block: block, then
        transaction index); an account with none there is left out. The accounts come
        in one order, the same for every call on one snapshot. A backend reads these in
        one statement where it can.
        """
        ...

    def rows(self, provider: str, wallet: Wallet, token: Token, *, low: int | None,
             high: int) -> list[Row]:
        """Every change of ``wallet`` and ``token`` with time in ``[low, high]``, reduced
        to a :class:`~asof.archive.series.Row` (a series reads many), in the as-of
        order."""
        ...

    def rows_near(self, provider: str, wallet: Wallet, token: Token, *,
                  last: Sequence[tuple[int | None, int]],
                  first: Sequence[tuple[int, int]]) -> list[Row]:
        """The changes a series sweep over sparse points needs, as in :meth:`rows`, in
        the as-of order, each once: for every token account, its last change with time
        in ``[low, at]`` for each ``(low, at)`` of ``last`` (``low`` ``None``: from
        the beginning; the same choice as :meth:`latest`), and its first change with
        time in ``[low, high)`` for each ``(low, high)`` of ``first``.

        A backend may return more stored changes than these, as long as it returns
        every change with time between the smallest low and the largest bound (that is
        :meth:`rows` over that range, the simplest correct implementation). Added for
        series whose cost follows points, not stored changes: the SQLite backend seeks
        once per point and account when the range holds more changes than that."""
        ...

    def place(self, provider: str, wallet: Wallet, block: int) -> tuple[int | None, int | None]:
        """The times of the wallet's stored changes (any token) from ``provider`` nearest
        to ``block``: the last at or below it and the first at or above it."""
        ...

    def answers(self, wallet: Wallet, token: Token) -> list[StoredAnswer]:
        """Every stored balance-at answer of ``wallet`` and ``token`` (provenance as
        stored)."""
        ...

    def answers_for(self, wallet: Wallet, token: Token, point: Point) -> list[StoredAnswer]:
        """The stored answers of :meth:`answers` that may bear on ``point``: every
        answer whose method is declared exact (``exact`` true, any point: it may anchor
        a window), and every answer whose requested point is on ``point``'s axis at or
        after it (only those can vouch for it, see :func:`asof.archive.rules.vouches`);
        in the order of :meth:`answers`. A look-up then reads what can matter, not
        every answer ever stored for the wallet and token."""
        ...

    def latest_ledger(self, provider: str, account: Wallet, *, at: int,
                      low: int | None) -> LedgerEntry | None:
        """The last ledger entry with time in ``[low, at]``; provenance marked
        archived."""
        ...

    def items(self, query: HistoryQuery, wallet: Wallet, provider: str, start: int | None,
              end: int) -> Iterator[tuple[int, HistoryItem]]:
        """The stored items of ``query`` for one wallet and provider with time in
        ``[start, end)``, as (time, item), oldest first; provenance marked archived."""
        ...

    def sync(self, key: str) -> SyncRow | None:
        """The state of the fetch with this key."""
        ...

    def syncs(self) -> list[tuple[str, SyncRow]]:
        """Every fetch state, least recently updated first."""
        ...

    def was_imported(self, digest: str) -> bool:
        """Whether a file with this SHA-256 was imported."""
        ...

    def counts(self) -> Mapping[str, int]:
        """How many changes, ledger entries, holdings, answers, coverage ranges, sync
        states and block times are stored."""
        ...

    def schema_version(self) -> int:
        """The stored schema version."""
        ...

    def export_changes(self, filters: Filters) -> Iterator[BalanceChange]:
        """Selected changes, by chain, wallet, then as-of order (provenance as stored)."""
        ...

    def export_change_lines(self, filters: Filters) -> Iterator[str]:
        """The JSONL lines (no newline) of :meth:`export_changes`, in its order: what
        :func:`asof.wire.dumps_line` writes for each record, encoded from the rows."""
        ...

    def export_ledger(self, filters: Filters) -> Iterator[LedgerEntry]:
        """Selected ledger entries, by chain, account, time and sequence."""
        ...

    def export_holdings(self, filters: Filters) -> Iterator[HoldingsPoint]:
        """Selected holdings points, by chain, wallet and time."""
        ...

    def export_answers(self, filters: Filters) -> Iterator[BalanceAt]:
        """Selected balance-at answers, by chain, wallet and requested point."""
        ...

    def block_times_around(self, provider: str, chain: str,
                           second: int) -> tuple[BlockTime | None, BlockTime | None]:
        """The stored block times of ``provider`` on ``chain`` nearest to epoch second
        ``second``: the last stamped at or before it (highest number among equal
        timestamps) and the first stamped after it (see :mod:`asof.blocktimes`)."""
        ...

    def block_times(self, provider: str, chain: str) -> list[BlockTime]:
        """Every stored block time of ``provider`` on ``chain``, by number."""
        ...

    def export_block_times(self) -> Iterator[tuple[str, str, BlockTime]]:
        """Every stored block time as (provider, chain, block), by provider, chain and
        number (for :mod:`asof.archive.copy`)."""
        ...


class StorageWriter(Protocol):
    """Writes inside one transaction."""

    @property
    def stored(self) -> int:
        """How many records were new so far."""
        ...

    def change(self, change: BalanceChange, provider: str | None = None) -> None:
        """Store a change once (by token account, position and transaction)."""
        ...

    def changes(self, rows: Sequence[ChangeRow]) -> None:
        """Store many changes at once, each as :meth:`change` stores it, in order."""
        ...

    def ledger(self, entry: LedgerEntry, provider: str | None = None) -> None:
        """Store a ledger entry once."""
        ...

    def holding(self, point: HoldingsPoint, provider: str | None = None,
                min_liquidity: Decimal | None = None) -> None:
        """Store (or refresh) a holdings point."""
        ...

    def answer(self, answer: BalanceAt, exact: bool | None = None) -> None:
        """Store (or replace) a provider's balance-at answer."""
        ...

    def coverage(self, coverage: Coverage) -> None:
        """Add a covered range, merged with the stored ranges of the same key (the
        coverage fields but the bounds) that it touches or overlaps."""
        ...

    def sync(self, key: str) -> SyncRow | None:
        """The state of the fetch with this key, read inside the transaction."""
        ...

    def put_sync(self, key: str, row: SyncRow) -> None:
        """Store the state of a fetch."""
        ...

    def forget_sync(self, key: str) -> None:
        """Drop the state of a fetch."""
        ...

    def mark_imported(self, name: str, digest: str, records: int) -> None:
        """Remember an imported file."""
        ...

    def clear(self, wallet: Wallet | None) -> int:
        """Delete everything, or everything about one wallet; return rows removed."""
        ...

    def block_time(self, provider: str, chain: str, block: BlockTime) -> None:
        """Store a settled block time once (a block already stored keeps its first
        record); the caller has checked finality."""
        ...


class Storage(Protocol):
    """A database the archive keeps its records in."""

    @property
    def name(self) -> str:
        """Where the data lives, for messages (a path, ``:memory:``, a server)."""
        ...

    def read(self) -> AbstractContextManager[StorageReader]:
        """A consistent snapshot for several reads."""
        ...

    def write(self, now: datetime) -> AbstractContextManager[StorageWriter]:
        """One write transaction; ``now`` stamps what it records."""
        ...

    def about(self) -> Mapping[str, str]:
        """What the data lives in: ``backend`` (``sqlite``, ``postgresql``) and
        ``server`` (its name and version), for ``asof archive info``."""
        ...

    def claim(self, key: str, holder: str, seconds: float) -> bool:
        """Take or renew the claim on ``key`` (a history being pulled) for ``holder``,
        for ``seconds``; false while another holder's unexpired claim stands. A backend
        that only one machine uses may grant every claim."""
        ...

    def release(self, key: str, holder: str) -> None:
        """Give up ``holder``'s claim on ``key`` (nothing when it holds none)."""
        ...

    def size(self) -> int | None:
        """Bytes on disk, when the backend can tell."""
        ...

    def compact(self) -> None:
        """Give back space after a full clear (may do nothing)."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...

