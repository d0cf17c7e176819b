"""The SQLite backend of the storage protocol (:mod:`asof.archive.backend`).

One file (standard library, no server) in WAL mode: every thread gets its own
connection, readers never wait for the writer, and each write is one ``IMMEDIATE``
transaction, so several processes may share the file. ``":memory:"`` keeps a private
database in memory (one connection, serialised by a lock). Tables and migrations:
:mod:`asof.archive.schema`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import attrs

from asof.archive import schema
from asof.archive.backend import ChangeRow, Filters, Last, StoredAnswer, SyncRow
from asof.archive.coverage import Coverage, Span, from_us, merge_spans, to_us
from asof.archive.lines import ChangeLineEncoder, row_of
from asof.archive.series import Row
from asof.blocktimes import BlockTime
from asof.errors import ArchiveError
from asof.queries import HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    Capability,
    HistoryItem,
    HistoryScope,
    HoldingsPoint,
    LedgerEntry,
    Point,
    Provenance,
    Token,
    TokenHolding,
    Wallet,
)
from asof.wire import from_data, to_data

__all__ = ["SQLiteStorage", "dumps_scope", "loads_scope"]

_T = TypeVar("_T")
_LOW = -(2**63)
_TABLES = ("changes", "streams", "answers", "wallets", "providers", "ledger", "holdings",
           "coverage", "sync_state", "imports", "provenance", "tokens", "block_times")
#: The tables naming what answers refer to by id, and their key columns.
_NAMES = {"wallets": ("chain", "address"), "providers": ("name",)}
_CHANGE_COLUMNS = ("c.id, c.time_us, c.block, c.idx, c.txn, c.block_hash, c.raw, c.decimals, "
                   "c.provenance_id, s.chain, s.wallet, s.token_id, s.token_account")
_LEDGER_COLUMNS = ("provider, chain, account, time_us, sequence, event_type, amount, balance, "
                   "pending, known_type, provenance_id")
_HOLDINGS_COLUMNS = ("provider, chain, wallet, min_liquidity, time_us, usd, breakdown, "
                     "provenance_id")
_ANSWER_COLUMNS = ("w.chain, w.address, a.token_id, a.point_time_us, a.point_block, a.raw, "
                   "a.decimals, a.has_asof, a.asof_block, a.asof_hash, a.asof_time_us, "
                   "a.asof_txn, a.asof_idx, a.provenance_id, a.exact, a.fetched_us, a.echo")
#: Stored answers with their wallets and providers named (rows hold their ids).
_ANSWERS = ("answers a JOIN wallets w ON w.id = a.wallet_id "
            "JOIN providers p ON p.id = a.provider_id")
_INSERT_CHANGE = ("INSERT OR IGNORE INTO changes (stream_id, time_us, block, idx, txn, "
                  "block_hash, raw, decimals, provenance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_COVERAGE_COLUMNS = "capability, provider, chain, wallet, scope, axis, start_pos, end_pos, basis"


def dumps_scope(scope: HistoryScope | None) -> str | None:
    """A history scope as compact JSON text (``None`` stays ``None``)."""
    if scope is None:
        return None
    return json.dumps({"native": scope.native, "opening_balances": scope.opening_balances,
                       "standards": None if scope.standards is None else list(scope.standards),
                       "token_accounts": scope.token_accounts,
                       "tokens": None if scope.tokens is None else list(scope.tokens)},
                      sort_keys=True, separators=(",", ":"))


def loads_scope(text: str | None) -> HistoryScope | None:
    """The history scope of :func:`dumps_scope` text."""
    if text is None:
        return None
    data = json.loads(text)
    standards = data.get("standards")
    tokens = data.get("tokens")
    return HistoryScope(native=bool(data["native"]),
                        standards=None if standards is None else tuple(standards),
                        token_accounts=str(data["token_accounts"]),
                        opening_balances=bool(data["opening_balances"]),
                        tokens=None if tokens is None else tuple(tokens))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _as_of(row: Sequence[Any]) -> BlockRef | None:
    """has_asof, block, hash, time_us, txn, idx -> the block the answer was read at."""
    has, block, block_hash, time_us, txn, idx = row
    if not has:
        return None
    return BlockRef(number=_optional_int(block), hash=block_hash,
                    timestamp=None if time_us is None else from_us(int(time_us)),
                    transaction=txn, index=_optional_int(idx))


def _coverage_from_row(row: Sequence[Any]) -> Coverage:
    capability, provider, chain, wallet, scope, axis, start, end, basis = row
    who = Wallet(chain=chain, address=wallet)
    bounds: dict[str, Any]
    if axis == "time":
        bounds = {"start": None if start is None else from_us(int(start)),
                  "end": from_us(int(end))}
    else:
        bounds = {"start_block": _optional_int(start), "end_block": int(end)}
    return Coverage(capability=Capability(capability), provider=provider, wallet=who,
                    scope=scope, history_scope=loads_scope(basis), **bounds)


def _sync_from_row(row: Sequence[Any]) -> SyncRow:
    provider, cursor, exhausted, done, pages, items, cut, started, updated, basis = row
    return SyncRow(provider=provider, cursor=cursor, exhausted=bool(exhausted),
                   done=bool(done), pages=int(pages), items=int(items), cut_us=int(cut),
                   started_us=int(started), updated_us=int(updated),
                   scope=loads_scope(basis))


_SYNC_COLUMNS = ("provider, cursor, exhausted, done, pages, items, cut_us, started_us, "
                 "updated_us, basis")


def _where(filters: Filters, *, chain: str, wallet: str, time: str,
           provider: str | None = "provider",
           token: str | None = None) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause of an export's filters; ``token`` names the token id column of
    tables that filter by token."""
    parts: list[str] = []
    args: list[Any] = []
    if filters.chain is not None:
        parts.append(f"{chain} = ?")
        args.append(filters.chain)
    if filters.wallet is not None:
        parts.append(f"{wallet} = ?")
        args.append(filters.wallet.address)
    if filters.provider is not None and provider is not None:
        parts.append(f"{provider} = ?")
        args.append(filters.provider)
    if filters.start is not None:
        parts.append(f"{time} >= ?")
        args.append(filters.start)
    if filters.end is not None:
        parts.append(f"{time} < ?")
        args.append(filters.end)
    if filters.token is not None and token is not None:
        parts.append(f"{token} IN (SELECT id FROM tokens WHERE chain = ? AND address = ?)")
        args += [filters.token.chain, filters.token.address]
    return (" WHERE " + " AND ".join(parts) if parts else ""), tuple(args)


_US = 1_000_000
_BLOCK_TIME_COLUMNS = "block, time_us, hash"


def _block_time(row: Sequence[Any] | None) -> BlockTime | None:
    if row is None:
        return None
    block, time_us, block_hash = row
    return BlockTime(number=int(block), timestamp=int(time_us) // _US, hash=block_hash)


#: The most token accounts one statement of :meth:`_Reader.latest` seeks in (SQLite
#: allows 500 terms in a compound SELECT).
_SEEKS = 100


@functools.cache
def _latest_sql(axis: str, streams: int) -> str:
    """One statement for :meth:`_Reader.latest` over ``streams`` token accounts: per
    account (parameters: stream id, ``at``, ``low``) one indexed seek for its last
    change, all of them joined by ``UNION ALL``."""
    column = "time_us" if axis == "time" else "block"
    order = "time_us DESC, block DESC, idx DESC" if axis == "time" else "block DESC, idx DESC"
    one = ("SELECT * FROM (SELECT stream_id, raw, decimals, time_us, block, idx, txn, "
           f"block_hash FROM changes WHERE stream_id = ? AND {column} <= ? AND "
           f"{column} >= ? ORDER BY {order} LIMIT 1) AS seek")
    return " UNION ALL ".join([one] * streams)


#: The most points one statement of :meth:`_Reader.rows_near` seeks at.
_POINTS = 2000


def _near_statements(streams: Sequence[int], last: Sequence[tuple[int | None, int]],
                     first: Sequence[tuple[int, int]]) -> Iterator[tuple[str, list[Any]]]:
    """The statements of :meth:`_Reader.rows_near`'s seeks: each seeks, for every stream
    and every bound of a part of ``last`` (or ``first``), the one change it needs (an
    indexed seek per pair inside SQLite), and returns those changes, each once."""
    columns = "id, stream_id, time_us, block, idx, raw, decimals, txn, block_hash"
    marks = ", ".join("(?)" for _ in streams)
    seek_last = ("SELECT (SELECT c.id FROM changes c WHERE c.stream_id = s.id AND "
                 "c.time_us <= p.hi AND c.time_us >= p.lo ORDER BY c.time_us DESC, "
                 "c.block DESC, c.idx DESC LIMIT 1) FROM s, p")
    seek_first = ("SELECT (SELECT c.id FROM changes c WHERE c.stream_id = s.id AND "
                  "c.time_us >= p.lo AND c.time_us < p.hi ORDER BY c.time_us, c.block, "
                  "c.idx LIMIT 1) FROM s, p")
    parts: list[tuple[str, list[tuple[int, int]]]] = [
        (seek_last, [(_LOW if lo is None else lo, at) for lo, at in last]),
        (seek_first, list(first))]
    for seek, bounds in parts:
        for n in range(0, len(bounds), _POINTS):
            chunk = bounds[n:n + _POINTS]
            values = ", ".join("(?, ?)" for _ in chunk)
            yield (f"WITH s (id) AS (VALUES {marks}), p (lo, hi) AS (VALUES {values}) "
                   f"SELECT {columns} FROM changes WHERE id IN ({seek})",
                   [*streams, *(v for bound in chunk for v in bound)])


class _Seeks:
    """How :meth:`_Reader.latest` reads one provider's token accounts of a wallet and
    token: the statements (each for up to :data:`_SEEKS` streams) and, per stream id,
    its account and its place in the streams' order."""

    def __init__(self, streams: Sequence[tuple[int, str, str]], axis: str) -> None:
        ids = [stream_id for stream_id, _, _ in streams]
        self.parts = [(_latest_sql(axis, len(ids[n:n + _SEEKS])), ids[n:n + _SEEKS])
                      for n in range(0, len(ids), _SEEKS)]
        self.accounts = {stream_id: account for stream_id, account, _ in streams}
        self.position = {stream_id: n for n, stream_id in enumerate(ids)}


class _Cache:
    """What a connection read at one database version: decoded tokens, wallets and
    provenance, and the small per-wallet lists every look-up needs (streams, coverage,
    stored answers). Valid only while the database is at ``version`` (SQLite's
    ``PRAGMA data_version``) and this connection has not written since."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.tokens: dict[int, Token] = {}
        self.ids: dict[tuple[str, str], int | None] = {}
        self.wallets: dict[tuple[str, str], Wallet] = {}
        self.provenance: dict[tuple[int, bool], Provenance] = {}
        self.known: dict[tuple[str, str], tuple[Any, ...] | None] = {}
        self.lists: dict[tuple[Any, ...], Any] = {}

    def full(self) -> bool:
        """Whether the cache has grown past its bound (then it starts afresh)."""
        return len(self.lists) > 4096 or len(self.provenance) > 4096 or \
            len(self.known) > 4096


class _Reader:
    """Reads of one snapshot; turns rows back into records, caching tokens, wallets,
    provenance and per-wallet lists in a :class:`_Cache` valid for the snapshot."""

    def __init__(self, conn: sqlite3.Connection, cache: _Cache | None = None) -> None:
        self.conn = conn
        cache = cache if cache is not None else _Cache(-1)
        self._lists = cache.lists
        self._known = cache.known
        self._tokens = cache.tokens
        self._ids = cache.ids
        self._wallets = cache.wallets
        self._provenance = cache.provenance

    # -- decoding
    def _token(self, token_id: int) -> Token:
        found = self._tokens.get(token_id)
        if found is None:
            chain, address, standard, decimals, symbol = self.conn.execute(
                "SELECT chain, address, standard, decimals, symbol FROM tokens WHERE id = ?",
                (token_id,)).fetchone()
            found = Token(chain=chain, address=address, standard=standard, decimals=decimals,
                          symbol=symbol)
            self._tokens[token_id] = found
        return found

    def _token_id(self, token: Token) -> int | None:
        key = (token.chain, token.address)
        if key not in self._ids:
            row = self.conn.execute("SELECT id FROM tokens WHERE chain = ? AND address = ?",
                                    key).fetchone()
            self._ids[key] = None if row is None else int(row[0])
        return self._ids[key]

    def _wallet(self, chain: str, address: str) -> Wallet:
        key = (chain, address)
        found = self._wallets.get(key)
        if found is None:
            found = self._wallets[key] = Wallet(chain=chain, address=address)
        return found

    def _prov(self, provenance_id: int, archived: bool) -> Provenance:
        key = (provenance_id, archived)
        found = self._provenance.get(key)
        if found is None:
            row = self.conn.execute("SELECT data FROM provenance WHERE id = ?",
                                    (provenance_id,)).fetchone()
            found = from_data(Provenance, json.loads(row[0], parse_float=Decimal))
            if archived:
                found = attrs.evolve(found, archived=True)
            self._provenance[key] = found
        return found

    def _change(self, row: Sequence[Any], archived: bool = True) -> BalanceChange:
        (_, time_us, block, idx, txn, block_hash, raw, decimals, prov, chain, wallet,
         token_id, account) = row
        return BalanceChange(
            wallet=self._wallet(chain, wallet), token=self._token(int(token_id)),
            token_account=account or None,
            balance=Amount(raw=int(raw), decimals=decimals),
            block=BlockRef(number=_optional_int(block), hash=block_hash,
                           timestamp=None if time_us is None else from_us(int(time_us)),
                           transaction=txn, index=_optional_int(idx)),
            provenance=self._prov(int(prov), archived))

    def _ledger(self, row: Sequence[Any], archived: bool = True) -> LedgerEntry:
        (_, chain, account, time_us, sequence, event_type, amount, balance, pending, known,
         prov) = row
        return LedgerEntry(
            account=self._wallet(chain, account), time=from_us(int(time_us)),
            event_type=event_type, amount=Decimal(amount), balance=Decimal(balance),
            pending_balance=None if pending is None else Decimal(pending),
            known_type=bool(known), provenance=self._prov(int(prov), archived),
            sequence=_optional_int(sequence))

    def _holding(self, row: Sequence[Any], archived: bool = True) -> HoldingsPoint:
        _, chain, wallet, _, time_us, usd, breakdown, prov = row
        parts: tuple[TokenHolding, ...] | None = None
        if breakdown is not None:
            parts = tuple(from_data(TokenHolding, item)
                          for item in json.loads(breakdown, parse_float=Decimal))
        return HoldingsPoint(wallet=self._wallet(chain, wallet),
                             timestamp=from_us(int(time_us)), usd=Decimal(usd),
                             breakdown=parts, provenance=self._prov(int(prov), archived))

    def _answer(self, row: Sequence[Any]) -> BalanceAt:
        chain, wallet, token_id, time_us, block, raw, decimals = row[:7]
        point = Point(time=from_us(int(time_us))) if time_us is not None else \
            Point(block=int(block))
        provenance = self._prov(int(row[13]), False)
        fetched_us, echo = row[15], row[16]
        if fetched_us is not None or echo is not None:  # kept out of the shared row
            provenance = attrs.evolve(
                provenance,
                fetched_at=provenance.fetched_at if fetched_us is None
                else from_us(int(fetched_us)),
                echo=provenance.echo if echo is None
                else json.loads(echo, parse_float=Decimal))
        return BalanceAt(wallet=self._wallet(chain, wallet), token=self._token(int(token_id)),
                         amount=Amount(raw=int(raw), decimals=decimals), requested=point,
                         as_of=_as_of(row[7:13]), provenance=provenance)

    # -- the protocol
    def token(self, token: Token) -> Token | None:
        key = (token.chain, token.address)
        if key in self._known:
            row = self._known[key]
        else:
            row = self._known[key] = self.conn.execute(
                "SELECT standard, decimals, symbol FROM tokens WHERE chain = ? AND "
                "address = ?", key).fetchone()
        if row is None:
            return None
        merged = ("token", *key, token.standard, token.decimals, token.symbol)
        found: Token | None = self._lists.get(merged)
        if found is None:
            standard, decimals, symbol = row
            found = self._lists[merged] = Token(
                chain=token.chain, address=token.address,
                standard=token.standard if token.standard != "unknown" else standard,
                decimals=token.decimals if token.decimals is not None else decimals,
                symbol=token.symbol if token.symbol is not None else symbol,
            )
        return found

    def memo(self, key: Hashable, make: Callable[[], _T]) -> _T:
        found: _T | None = self._lists.get(("memo", key))
        if found is None:
            found = self._lists[("memo", key)] = make()
        return found

    def coverage(self, wallet: Wallet | None = None, *, capability: str | None = None,
                 axis: str | None = None) -> list[Coverage]:
        key = ("coverage", None if wallet is None else (wallet.chain, wallet.address),
               capability, axis)
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = self._coverage(wallet, capability, axis)
        return list(found)

    def _coverage(self, wallet: Wallet | None, capability: str | None,
                  axis: str | None) -> list[Coverage]:
        parts, args = [], []
        for column, value in (("chain", None if wallet is None else wallet.chain),
                              ("wallet", None if wallet is None else wallet.address),
                              ("capability", capability), ("axis", axis)):
            if value is not None:
                parts.append(f"{column} = ?")
                args.append(value)
        where = (" WHERE " + " AND ".join(parts)) if parts else ""
        rows = self.conn.execute(
            f"SELECT {_COVERAGE_COLUMNS} FROM coverage{where} ORDER BY chain, wallet, "
            "capability, scope, provider, start_pos", args).fetchall()
        return [_coverage_from_row(row) for row in rows]

    def _streams(self, provider: str | None, wallet: Wallet,
                 token: Token | None) -> list[tuple[int, str, str]]:
        key = ("streams", provider, wallet.chain, wallet.address,
               None if token is None else (token.chain, token.address))
        found: list[tuple[int, str, str]] | None = self._lists.get(key)
        if found is None:
            found = self._lists[key] = self._find_streams(provider, wallet, token)
        return found

    def _find_streams(self, provider: str | None, wallet: Wallet,
                      token: Token | None) -> list[tuple[int, str, str]]:
        sql = "SELECT id, token_account, provider FROM streams WHERE chain = ? AND wallet = ?"
        args: tuple[Any, ...] = (wallet.chain, wallet.address)
        if provider is not None:
            sql += " AND provider = ?"
            args += (provider,)
        if token is not None:
            token_id = self._token_id(token)
            if token_id is None:
                return []
            sql += " AND token_id = ?"
            args += (token_id,)
        return [(int(r[0]), str(r[1]), str(r[2])) for r in self.conn.execute(sql, args)]

    def accounts(self, provider: str, wallet: Wallet, token: Token) -> list[str]:
        return sorted(account for _, account, _ in self._streams(provider, wallet, token))

    def mentioned(self, wallet: Wallet, token: Token) -> set[str]:
        key = ("mentioned", wallet.chain, wallet.address, token.chain, token.address)
        found: set[str] | None = self._lists.get(key)
        if found is None:
            found = self._lists[key] = {
                p for s, _, p in self._streams(None, wallet, token) if self.conn.execute(
                    "SELECT 1 FROM changes WHERE stream_id = ? LIMIT 1", (s,)).fetchone()}
        return set(found)

    def latest(self, provider: str, wallet: Wallet, token: Token, *, axis: str, at: int,
               low: int | None) -> list[Last]:
        key = ("latest", provider, wallet.chain, wallet.address, token.chain, token.address,
               axis)
        plan: _Seeks | None = self._lists.get(key)
        if plan is None:
            plan = self._lists[key] = _Seeks(self._streams(provider, wallet, token), axis)
        bound = _LOW if low is None else low
        rows: list[Sequence[Any]] = []
        for sql, ids in plan.parts:
            rows += self.conn.execute(sql, [v for i in ids for v in (i, at, bound)])
        if len(rows) > 1:  # in the streams' order, whatever order the plan gave
            rows.sort(key=lambda row: plan.position[row[0]])
        accounts = plan.accounts
        return [Last(accounts[row[0]], int(row[1]), *row[2:]) for row in rows]

    def rows(self, provider: str, wallet: Wallet, token: Token, *, low: int | None,
             high: int) -> list[Row]:
        streams = self._streams(provider, wallet, token)
        if not streams:
            return []
        accounts = {s: account for s, account, _ in streams}
        marks = ", ".join("?" for _ in streams)
        found = [
            Row(int(t), _optional_int(b), _optional_int(i), accounts[int(s)], int(raw), d,
                txn, h)
            for s, t, b, i, raw, d, txn, h in self.conn.execute(
                "SELECT stream_id, time_us, block, idx, raw, decimals, txn, block_hash "
                f"FROM changes WHERE stream_id IN ({marks}) AND time_us >= ? AND "
                "time_us <= ?", (*accounts, _LOW if low is None else low, high))
        ]
        found.sort(key=lambda row: row.order)
        return found

    def rows_near(self, provider: str, wallet: Wallet, token: Token, *,
                  last: Sequence[tuple[int | None, int]],
                  first: Sequence[tuple[int, int]]) -> list[Row]:
        streams = self._streams(provider, wallet, token)
        if not streams or not (last or first):
            return []
        low = min([_LOW if lo is None else lo for lo, _ in last] + [lo for lo, _ in first])
        high = max([at for _, at in last] + [hi for _, hi in first])
        seeks = (len(last) + len(first)) * len(streams)
        ids = [s for s, _, _ in streams]
        accounts = {s: account for s, account, _ in streams}
        marks = ", ".join("?" for _ in ids)
        stored = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM changes WHERE stream_id IN ({marks}) "
            "AND time_us >= ? AND time_us <= ? LIMIT ?) AS found",
            (*ids, low, high, seeks)).fetchone()
        if int(stored[0]) < seeks:  # fewer changes than seeks: read them all, in order
            return self.rows(provider, wallet, token, low=low, high=high)
        position = {stream_id: n for n, (stream_id, _, _) in enumerate(streams)}
        found: dict[int, tuple[tuple[int, int, int, int, int], Row]] = {}
        for sql, args in _near_statements(ids, last, first):
            for i, stream_id, t, b, x, raw, d, txn, h in self.conn.execute(sql, args):
                if i not in found:
                    # the as-of order; equal positions keep the streams' order
                    key = (t, -1 if b is None else b, -1 if x is None else x,
                           position[stream_id], i)
                    found[i] = (key, Row(t, b, x, accounts[stream_id], int(raw), d, txn, h))
        return [row for _, row in sorted(found.values(), key=lambda item: item[0])]

    def place(self, provider: str, wallet: Wallet, block: int) -> tuple[int | None, int | None]:
        below: int | None = None
        above: int | None = None
        for stream_id, _, _ in self._streams(provider, wallet, None):
            low = self.conn.execute(
                "SELECT time_us FROM changes WHERE stream_id = ? AND block <= ? AND "
                "time_us IS NOT NULL ORDER BY block DESC, idx DESC LIMIT 1",
                (stream_id, block)).fetchone()
            high = self.conn.execute(
                "SELECT time_us FROM changes WHERE stream_id = ? AND block >= ? AND "
                "time_us IS NOT NULL ORDER BY block, idx LIMIT 1",
                (stream_id, block)).fetchone()
            if low is not None and (below is None or low[0] > below):
                below = int(low[0])
            if high is not None and (above is None or high[0] < above):
                above = int(high[0])
        return below, above

    def answers(self, wallet: Wallet, token: Token) -> list[StoredAnswer]:
        key = ("answers", wallet.chain, wallet.address, token.chain, token.address)
        found: list[StoredAnswer] | None = self._lists.get(key)
        if found is None:
            found = self._lists[key] = self._answers(wallet, token)
        return list(found)

    def answers_for(self, wallet: Wallet, token: Token, point: Point) -> list[StoredAnswer]:
        token_id = self._token_id(token)
        if token_id is None:
            return []
        pos: int | None
        if point.time is not None:  # the key's time, as its index holds it
            column, pos = "a.point_time_us", to_us(point.time)
            later = "coalesce(a.point_time_us, -1) >= ? AND a.point_time_us IS NOT NULL"
        else:
            column, pos = "a.point_block", point.block
            later = "a.point_block >= ?"
        return [StoredAnswer(answer=self._answer(row),
                             exact=None if row[14] is None else bool(row[14]))
                for row in self.conn.execute(
                    f"SELECT * FROM (SELECT {_ANSWER_COLUMNS}, p.name AS provider FROM "
                    f"{_ANSWERS} WHERE w.chain = ? AND w.address = ? AND a.token_id = ? "
                    f"AND {later} "
                    f"UNION ALL SELECT {_ANSWER_COLUMNS}, p.name AS provider FROM answers a "
                    "INDEXED BY answers_exact JOIN wallets w ON w.id = a.wallet_id "
                    "JOIN providers p ON p.id = a.provider_id WHERE w.chain = ? AND "
                    "w.address = ? AND a.token_id = ? AND a.exact = 1 "
                    f"AND ({column} < ? OR {column} IS NULL)) AS found "
                    "ORDER BY point_time_us, point_block, provider",
                    (wallet.chain, wallet.address, token_id, pos) * 2)]

    def _answers(self, wallet: Wallet, token: Token) -> list[StoredAnswer]:
        token_id = self._token_id(token)
        if token_id is None:
            return []
        return [StoredAnswer(answer=self._answer(row),
                             exact=None if row[14] is None else bool(row[14]))
                for row in self.conn.execute(
                    f"SELECT {_ANSWER_COLUMNS} FROM {_ANSWERS} WHERE w.chain = ? AND "
                    "w.address = ? AND a.token_id = ? ORDER BY a.point_time_us, "
                    "a.point_block, p.name", (wallet.chain, wallet.address, token_id))]

    def latest_ledger(self, provider: str, account: Wallet, *, at: int,
                      low: int | None) -> LedgerEntry | None:
        row = self.conn.execute(
            f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE provider = ? AND chain = ? AND "
            "account = ? AND time_us <= ? AND time_us >= ? "
            "ORDER BY time_us DESC, sequence DESC LIMIT 1",
            (provider, account.chain, account.address, at,
             _LOW if low is None else low)).fetchone()
        return None if row is None else self._ledger(row)

    def items(self, query: HistoryQuery, wallet: Wallet, provider: str, start: int | None,
              end: int) -> Iterator[tuple[int, HistoryItem]]:
        low = _LOW if start is None else start
        conn = self.conn
        if query.capability is Capability.BALANCE_HISTORY:
            ids: list[int] | None = None
            if query.tokens:
                ids = [i for i in (self._token_id(t) for t in query.tokens) if i is not None]
            sql = (f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                   "s.id = c.stream_id WHERE s.provider = ? AND s.chain = ? AND s.wallet = ? "
                   "AND c.time_us >= ? AND c.time_us < ?")
            args: tuple[Any, ...] = (provider, wallet.chain, wallet.address, low, end)
            if ids is not None:
                sql += f" AND s.token_id IN ({', '.join('?' for _ in ids)})"
                args += tuple(ids)
            for row in conn.execute(sql + " ORDER BY c.time_us, c.block, c.idx", args):
                yield int(row[1]), self._change(row)
        elif query.capability is Capability.ACCOUNT_LEDGER:
            sql = (f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE provider = ? AND chain = ? "
                   "AND account = ? AND time_us >= ? AND time_us < ?")
            args = (provider, wallet.chain, wallet.address, low, end)
            if query.event_types:
                sql += f" AND event_type IN ({', '.join('?' for _ in query.event_types)})"
                args += tuple(query.event_types)
            for row in conn.execute(sql + " ORDER BY time_us, sequence", args):
                yield int(row[3]), self._ledger(row)
        else:
            liquidity = "" if query.min_liquidity is None else str(query.min_liquidity)
            for row in conn.execute(
                    f"SELECT {_HOLDINGS_COLUMNS} FROM holdings WHERE provider = ? AND "
                    "chain = ? AND wallet = ? AND min_liquidity = ? AND time_us >= ? AND "
                    "time_us < ? ORDER BY time_us",
                    (provider, wallet.chain, wallet.address, liquidity, low, end)):
                item = self._holding(row)
                if not query.breakdown:
                    item = attrs.evolve(item, breakdown=None)
                yield int(row[4]), item

    def sync(self, key: str) -> SyncRow | None:
        row = self.conn.execute(f"SELECT {_SYNC_COLUMNS} FROM sync_state WHERE key = ?",
                                (key,)).fetchone()
        return None if row is None else _sync_from_row(row)

    def syncs(self) -> list[tuple[str, SyncRow]]:
        return [(row[0], _sync_from_row(row[1:])) for row in self.conn.execute(
            f"SELECT key, {_SYNC_COLUMNS} FROM sync_state ORDER BY updated_us")]

    def was_imported(self, digest: str) -> bool:
        return self.conn.execute("SELECT 1 FROM imports WHERE sha256 = ?",
                                 (digest,)).fetchone() is not None

    def counts(self) -> Mapping[str, int]:
        return {table: int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("changes", "ledger", "holdings", "answers", "coverage",
                              "sync_state", "block_times")}

    def schema_version(self) -> int:
        return schema.schema_version(self.conn)

    def export_changes(self, filters: Filters) -> Iterator[BalanceChange]:
        where, args = _where(filters, chain="s.chain", wallet="s.wallet", time="c.time_us",
                             provider="s.provider", token="s.token_id")
        for row in self.conn.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                f"s.id = c.stream_id{where} ORDER BY s.chain, s.wallet, c.time_us, c.block, "
                "c.idx, c.id", args):
            yield self._change(row, archived=False)

    def export_change_lines(self, filters: Filters) -> Iterator[str]:
        where, args = _where(filters, chain="s.chain", wallet="s.wallet", time="c.time_us",
                             provider="s.provider", token="s.token_id")
        encoder = ChangeLineEncoder()
        head, provenance, line = encoder.head, encoder.provenance, encoder.line
        for (_, time_us, block, idx, txn, block_hash, raw, decimals, prov, chain, wallet,
             token_id, account) in self.conn.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM changes c JOIN streams s ON "
                f"s.id = c.stream_id{where} ORDER BY s.chain, s.wallet, c.time_us, c.block, "
                "c.idx, c.id", args):
            start = head((chain, wallet, token_id, account), f"{chain}:{wallet}",
                         partial(self._export_token, int(token_id)),
                         account or None)
            yield line(start, int(raw), decimals, block, block_hash, time_us, txn, idx,
                       provenance(int(prov), self._export_provenance))

    def _export_token(self, token_id: int) -> Any:
        return to_data(self._token(token_id))

    def _export_provenance(self, provenance_id: int) -> Any:
        return to_data(self._prov(provenance_id, False))

    def export_ledger(self, filters: Filters) -> Iterator[LedgerEntry]:
        where, args = _where(filters, chain="chain", wallet="account", time="time_us")
        for row in self.conn.execute(
                f"SELECT {_LEDGER_COLUMNS} FROM ledger{where} ORDER BY chain, account, "
                "time_us, sequence, id", args):
            yield self._ledger(row, archived=False)

    def export_holdings(self, filters: Filters) -> Iterator[HoldingsPoint]:
        where, args = _where(filters, chain="chain", wallet="wallet", time="time_us")
        for row in self.conn.execute(
                f"SELECT {_HOLDINGS_COLUMNS} FROM holdings{where} ORDER BY chain, wallet, "
                "time_us, id", args):
            yield self._holding(row, archived=False)

    def export_answers(self, filters: Filters) -> Iterator[BalanceAt]:
        where, args = _where(filters, chain="w.chain", wallet="w.address",
                             time="a.point_time_us", provider="p.name",
                             token="a.token_id")
        for row in self.conn.execute(
                f"SELECT {_ANSWER_COLUMNS} FROM {_ANSWERS}{where} "
                "ORDER BY w.chain, w.address, a.point_time_us, a.point_block, a.id", args):
            yield self._answer(row)

    # -- block times (asof.blocktimes)
    def block_times_around(self, provider: str, chain: str,
                           second: int) -> tuple[BlockTime | None, BlockTime | None]:
        at = second * _US
        below = self.conn.execute(
            f"SELECT {_BLOCK_TIME_COLUMNS} FROM block_times WHERE provider = ? AND "
            "chain = ? AND time_us <= ? ORDER BY time_us DESC, block DESC LIMIT 1",
            (provider, chain, at)).fetchone()
        above = self.conn.execute(
            f"SELECT {_BLOCK_TIME_COLUMNS} FROM block_times WHERE provider = ? AND "
            "chain = ? AND time_us > ? ORDER BY time_us, block LIMIT 1",
            (provider, chain, at)).fetchone()
        return _block_time(below), _block_time(above)

    def block_times(self, provider: str, chain: str) -> list[BlockTime]:
        rows = self.conn.execute(
            f"SELECT {_BLOCK_TIME_COLUMNS} FROM block_times WHERE provider = ? AND "
            "chain = ? ORDER BY block", (provider, chain)).fetchall()
        return [BlockTime(number=int(b), timestamp=int(t) // _US, hash=h) for b, t, h in rows]

    def export_block_times(self) -> Iterator[tuple[str, str, BlockTime]]:
        for provider, chain, *row in self.conn.execute(
                f"SELECT provider, chain, {_BLOCK_TIME_COLUMNS} FROM block_times "
                "ORDER BY provider, chain, block"):
            found = _block_time(row)
            assert found is not None
            yield str(provider), str(chain), found


class _Ids:
    """Row ids a connection's writes found or created (streams, provenance, tokens
    with the exact information merged into them), valid across its write transactions
    while the database is at ``version`` (``PRAGMA data_version`` read under the write
    lock) and none of them rolled back or cleared anything."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.tokens: dict[tuple[str, str, str, int | None, str | None], int] = {}
        self.streams: dict[tuple[str, str, str, int, str], int] = {}
        self.provenance: dict[str, int] = {}
        self.provenance_objects: dict[Provenance, int] = {}
        self.names: dict[tuple[str, tuple[str, ...]], int] = {}
        self.cleared = False

    def full(self) -> bool:
        """Whether the caches have grown past their bound."""
        return max(len(self.tokens), len(self.streams), len(self.provenance),
                   len(self.provenance_objects), len(self.names)) > 4096


class _Writer:
    """Writes inside one transaction, with id caches for tokens, streams, provenance
    (kept across transactions in an :class:`_Ids`)."""

    def __init__(self, conn: sqlite3.Connection, now_us: int, ids: _Ids | None = None) -> None:
        self.conn = conn
        self.now_us = now_us
        self.ids = ids if ids is not None else _Ids(-1)
        self._tokens: dict[tuple[str, str], int] = {}
        self._merged = self.ids.tokens
        self._streams = self.ids.streams
        self._provenance = self.ids.provenance
        self._provenance_objects = self.ids.provenance_objects
        self._stored = 0
        #: the (chain, wallet, token chain, token address) of every answer written, or
        #: ``None`` once anything else is written (a token row included): then a
        #: reader's cache is dropped whole, else only those answers' lists
        self.answered: set[tuple[str, str, str, str]] | None = set()

    @property
    def stored(self) -> int:
        return self._stored

    # -- ids
    def _token_id(self, token: Token) -> int:
        key = (token.chain, token.address)
        found = self._tokens.get(key)
        if found is not None:
            return found
        full = (token.chain, token.address, token.standard, token.decimals, token.symbol)
        found = self._merged.get(full)
        if found is not None:  # this exact information is merged into its row already
            self._tokens[key] = found
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
            self.answered = None
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
                self.answered = None
        self._tokens[key] = token_id
        self._merged[full] = token_id
        return token_id

    def _provenance_id(self, provenance: Provenance) -> int:
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

    def _name_id(self, table: str, key: tuple[str, ...]) -> int:
        """The id of a wallet (``(chain, address)``) or a provider (``(name,)``) in
        ``wallets`` or ``providers``, made on first use."""
        found = self.ids.names.get((table, key))
        if found is None:
            found = self.ids.names[(table, key)] = self._make_name(table, key)
        return found

    def _make_name(self, table: str, key: tuple[str, ...]) -> int:
        columns = _NAMES[table]
        marks = ", ".join("?" for _ in columns)
        self.conn.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) "
                          f"VALUES ({marks})", key)
        row = self.conn.execute(
            f"SELECT id FROM {table} WHERE "
            + " AND ".join(f"{c} = ?" for c in columns), key).fetchone()
        return int(row[0])

    def _stream_id(self, provider: str, wallet: Wallet, token_id: int,
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
        self.answered = None
        cur = self.conn.execute(_INSERT_CHANGE,
                                self._change_tuples([row_of(change, provider)])[0])
        self._stored += cur.rowcount

    def changes(self, rows: Sequence[ChangeRow]) -> None:
        self.answered = None
        cur = self.conn.executemany(_INSERT_CHANGE, self._change_tuples(rows))
        self._stored += cur.rowcount

    def _change_tuples(self, rows: Sequence[ChangeRow]) -> list[tuple[Any, ...]]:
        """The ``changes`` columns of ``rows``. Streams and provenance are looked up
        once per distinct object in the batch (the rows keep them alive, so their ids
        are unique while this runs)."""
        streams: dict[tuple[str, int, int, str | None], int] = {}
        provenance: dict[int, int] = {}
        out: list[tuple[Any, ...]] = []
        append = out.append
        for (provider, wallet, token, account, time_us, block, index, transaction,
             block_hash, raw, decimals, source) in rows:
            key = (provider, id(wallet), id(token), account)
            stream = streams.get(key)
            if stream is None:
                stream = streams[key] = self._stream_id(
                    provider, wallet, self._token_id(token), account)
            prov = provenance.get(id(source))
            if prov is None:
                prov = provenance[id(source)] = self._provenance_id(source)
            append((stream, time_us, block, index, transaction, block_hash, str(raw),
                    decimals, prov))
        return out

    def ledger(self, entry: LedgerEntry, provider: str | None = None) -> None:
        self.answered = None
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO ledger (provider, chain, account, time_us, sequence, "
            "event_type, amount, balance, pending, known_type, provenance_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (provider or entry.provenance.provider, entry.account.chain,
             entry.account.address, to_us(entry.time), entry.sequence, entry.event_type,
             str(entry.amount), str(entry.balance),
             None if entry.pending_balance is None else str(entry.pending_balance),
             int(entry.known_type), self._provenance_id(entry.provenance)))
        self._stored += cur.rowcount

    def holding(self, point: HoldingsPoint, provider: str | None = None,
                min_liquidity: Decimal | None = None) -> None:
        self.answered = None
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
            (*key, str(point.usd), breakdown, self._provenance_id(point.provenance)))
        self._stored += cur.rowcount

    def answer(self, answer: BalanceAt, exact: bool | None = None) -> None:
        """Store one answer. Its fetch time and echo (what the provider said it was
        asked) go in the answer's own row, the rest of its provenance in a shared row,
        so identical provenance is stored once."""
        as_of = answer.as_of
        prov = answer.provenance
        if self.answered is not None:
            self.answered.add((answer.wallet.chain, answer.wallet.address,
                               answer.token.chain, answer.token.address))
        fetched = prov.fetched_at
        echo = None if prov.echo is None else json.dumps(
            to_data(prov.echo), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        shared = prov if fetched is None and echo is None else attrs.evolve(
            prov, fetched_at=None, echo=None)
        self.conn.execute(
            "INSERT OR REPLACE INTO answers (provider_id, wallet_id, token_id, point_time_us, "
            "point_block, raw, decimals, has_asof, asof_block, asof_hash, asof_time_us, "
            "asof_txn, asof_idx, provenance_id, exact, fetched_us, echo) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self._name_id("providers", (answer.provenance.provider,)),
             self._name_id("wallets", (answer.wallet.chain, answer.wallet.address)),
             self._token_id(answer.token),
             None if answer.requested.time is None else to_us(answer.requested.time),
             answer.requested.block, str(answer.amount.raw), answer.amount.decimals,
             int(as_of is not None),
             None if as_of is None else as_of.number,
             None if as_of is None else as_of.hash,
             None if as_of is None or as_of.timestamp is None else to_us(as_of.timestamp),
             None if as_of is None else as_of.transaction,
             None if as_of is None else as_of.index,
             self._provenance_id(shared),
             None if exact is None else int(exact),
             None if fetched is None else to_us(fetched), echo))
        self._stored += 1

    def coverage(self, coverage: Coverage) -> None:
        self.answered = None
        conn = self.conn
        wallet = coverage.wallet
        basis = dumps_scope(coverage.history_scope)
        key = (coverage.capability.value, coverage.provider, wallet.chain, wallet.address,
               coverage.scope, coverage.axis)
        where = ("capability = ? AND provider = ? AND chain = ? AND wallet = ? AND "
                 "scope = ? AND axis = ? AND basis IS ?")
        rows = conn.execute(f"SELECT start_pos, end_pos FROM coverage WHERE {where}",
                            (*key, basis)).fetchall()
        start, end = coverage.bounds
        merged = merge_spans([Span(start, end), *(Span(a, b) for a, b in rows)])
        conn.execute(f"DELETE FROM coverage WHERE {where}", (*key, basis))
        conn.executemany(
            "INSERT INTO coverage (capability, provider, chain, wallet, scope, axis, "
            "start_pos, end_pos, recorded_us, basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*key, span.start, span.end, self.now_us, basis) for span in merged])

    def sync(self, key: str) -> SyncRow | None:
        row = self.conn.execute(f"SELECT {_SYNC_COLUMNS} FROM sync_state WHERE key = ?",
                                (key,)).fetchone()
        return None if row is None else _sync_from_row(row)

    def put_sync(self, key: str, row: SyncRow) -> None:
        self.answered = None
        self.conn.execute(
            "INSERT OR REPLACE INTO sync_state (key, provider, query, cursor, exhausted, "
            "done, pages, items, cut_us, started_us, updated_us, basis) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, row.provider, key, row.cursor, int(row.exhausted), int(row.done),
             row.pages, row.items, row.cut_us, row.started_us, row.updated_us,
             dumps_scope(row.scope)))

    def forget_sync(self, key: str) -> None:
        self.answered = None
        self.conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))

    def mark_imported(self, name: str, digest: str, records: int) -> None:
        self.answered = None
        self.conn.execute(
            "INSERT OR REPLACE INTO imports (name, sha256, records, imported_us) "
            "VALUES (?, ?, ?, ?)", (name, digest, records, self.now_us))

    def clear(self, wallet: Wallet | None) -> int:
        self.answered = None
        conn = self.conn
        self.ids.cleared = True
        removed = 0
        if wallet is None:
            for table in _TABLES:
                removed += conn.execute(f"DELETE FROM {table}").rowcount
            return removed
        args = (wallet.chain, wallet.address)
        removed += conn.execute(
            "DELETE FROM changes WHERE stream_id IN (SELECT id FROM streams WHERE "
            "chain = ? AND wallet = ?)", args).rowcount
        removed += conn.execute(
            "DELETE FROM answers WHERE wallet_id IN (SELECT id FROM wallets WHERE "
            "chain = ? AND address = ?)", args).rowcount
        for table, column in (("streams", "wallet"),
                              ("ledger", "account"), ("holdings", "wallet"),
                              ("coverage", "wallet")):
            removed += conn.execute(
                f"DELETE FROM {table} WHERE chain = ? AND {column} = ?", args).rowcount
        removed += conn.execute(
            "DELETE FROM sync_state WHERE query LIKE ?",
            (f'%{json.dumps(str(wallet))[1:-1]}"%',)).rowcount
        return removed

    def block_time(self, provider: str, chain: str, block: BlockTime) -> None:
        self.answered = None
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO block_times (provider, chain, block, time_us, hash, "
            "recorded_us) VALUES (?, ?, ?, ?, ?, ?)",
            (provider, chain, block.number, block.timestamp * _US, block.hash, self.now_us))
        self._stored += cur.rowcount


class _Snapshot(contextlib.AbstractContextManager["_Reader"]):
    """One read transaction of :meth:`SQLiteStorage.read` (a class rather than a
    generator: a look-up opens one per call)."""

    __slots__ = ("conn", "lock", "storage")

    def __init__(self, storage: SQLiteStorage) -> None:
        self.storage = storage
        self.lock = storage._lock if storage.memory else None

    def __enter__(self) -> _Reader:
        storage = self.storage
        if self.lock is not None:
            self.lock.acquire()
        try:
            conn = self.conn = storage._conn()
            try:
                conn.execute("BEGIN")
                version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise ArchiveError(f"cannot read archive {storage.name}: {exc}") from exc
        except BaseException:
            if self.lock is not None:
                self.lock.release()
            raise
        return _Reader(conn, storage._cache(conn, version))

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.conn.execute("COMMIT")
                return
            self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise ArchiveError(f"cannot read archive {self.storage.name}: {exc}") from exc
        finally:
            if self.lock is not None:
                self.lock.release()


class SQLiteStorage:
    """The storage protocol over one SQLite file (or ``":memory:"``)."""

    def __init__(self, path: str | Path) -> None:
        self.memory = str(path) == ":memory:"
        self.path: Path | None = None if self.memory else Path(path).expanduser()
        self._lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._caches: dict[sqlite3.Connection, _Cache] = {}
        self._ids: dict[sqlite3.Connection, _Ids] = {}
        self._closed = False
        try:
            if self.path is not None:
                if self.path.is_dir():
                    raise ArchiveError(f"archive path {self.path} is a directory")
                schema.create_file(self.path)
            schema.migrate(self._conn(), name=f"archive {self.name}")
        except sqlite3.Error as exc:
            self.close()
            raise ArchiveError(f"cannot open archive {self.name}: {exc}") from exc
        except OSError as exc:
            self.close()
            raise ArchiveError(f"cannot create archive {self.name}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    @property
    def name(self) -> str:
        """The database path, or ``:memory:``."""
        return ":memory:" if self.path is None else str(self.path)

    def close(self) -> None:
        """Close every connection this backend opened (in any thread)."""
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._caches.clear()
            self._ids.clear()

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
    def _transaction(self, begin: str, what: str) -> Iterator[sqlite3.Connection]:
        with self._guard():
            conn = self._conn()
            try:
                conn.execute(begin)
            except sqlite3.Error as exc:
                raise ArchiveError(f"cannot {what} archive {self.name}: {exc}") from exc
            try:
                yield conn
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise ArchiveError(f"cannot {what} archive {self.name}: {exc}") from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def read(self) -> _Snapshot:
        """A consistent snapshot for several reads.

        What the reads decode (tokens, provenance, per-wallet coverage, streams,
        stored answers, what the rules derive from them) is kept per connection for
        the next snapshot while the database has not changed: ``PRAGMA data_version``,
        read as the snapshot's first statement (it starts the read transaction), must
        equal the version the cache was filled at. The version changes whenever
        another connection commits and never returns to an earlier value, so no
        commit can fall between the cached state and the snapshot; this connection's
        own writes drop its cache."""
        return _Snapshot(self)

    def _cache(self, conn: sqlite3.Connection, version: int) -> _Cache:
        cache = self._caches.get(conn)
        if cache is None or cache.version != version or cache.full():
            cache = self._caches[conn] = _Cache(version)
        return cache

    @contextmanager
    def write(self, now: datetime) -> Iterator[_Writer]:
        """One write transaction: everything inside is stored, or nothing is.

        The row ids the writes find or create are kept for this connection's next
        write while ``PRAGMA data_version`` (read under the write lock) is unchanged;
        a rollback, a failed commit or a clear drops them. The read cache of this
        connection is dropped, except after a transaction that wrote only answers:
        then only what may depend on stored answers is."""
        conn: sqlite3.Connection | None = None
        kept: _Cache | None = None
        writer: _Writer | None = None
        ids: _Ids | None = None
        committed = False
        try:
            with self._transaction("BEGIN IMMEDIATE", "write") as conn:
                kept = self._caches.pop(conn, None)
                version = int(conn.execute("PRAGMA data_version").fetchone()[0])
                ids = self._ids.get(conn)
                if ids is None or ids.version != version or ids.full():
                    ids = self._ids[conn] = _Ids(version)
                writer = _Writer(conn, to_us(now), ids)
                try:
                    yield writer
                finally:
                    self._caches.pop(conn, None)
            committed = True
            if kept is not None and writer is not None and writer.answered is not None:
                # only answers were written: the decoded tokens, wallets and provenance
                # and the kinds of lists that read no stored answer (coverage, streams,
                # which providers mention a token, seek plans over streams, merged
                # tokens) stay as they are; every other entry (stored answers, and
                # anything derived from them) is read afresh. The version checks of
                # the next snapshot still apply.
                for key in [k for k in kept.lists if k[0] not in {
                        "coverage", "streams", "mentioned", "latest", "token"}]:
                    del kept.lists[key]
                self._caches[conn] = kept
        finally:
            if conn is not None and (not committed or ids is None or ids.cleared):
                self._ids.pop(conn, None)

    def about(self) -> Mapping[str, str]:
        """The backend and the SQLite library's version."""
        return {"backend": "sqlite", "server": f"SQLite {sqlite3.sqlite_version}"}

    def claim(self, key: str, holder: str, seconds: float) -> bool:
        """Every claim is granted: an SQLite file is one machine's archive."""
        return True

    def release(self, key: str, holder: str) -> None:
        """Nothing to release (see :meth:`claim`)."""

    def size(self) -> int | None:
        """Bytes on disk (database and WAL), ``None`` in memory."""
        if self.path is None:
            return None
        return sum(p.stat().st_size for p in (
            self.path, self.path.with_name(self.path.name + "-wal")) if p.exists())

    def compact(self) -> None:
        """``VACUUM`` the file, then checkpoint and truncate its WAL (nothing in
        memory): in WAL mode, ``VACUUM`` writes the whole rebuilt database into the WAL,
        which would otherwise stay on disk as large as the database until the next
        checkpoint."""
        if not self.memory:
            with self._guard():
                conn = self._conn()
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
