"""The PostgreSQL backend of the storage protocol: one archive shared by many processes.

Needs the ``asof[postgres]`` extra (psycopg 3 and psycopg-pool). Tables and migrations:
:mod:`asof.archive.pgschema`, the twin of the SQLite schema.

The storage protocol is synchronous, so this backend uses psycopg's synchronous API
and a thread-safe :class:`psycopg_pool.ConnectionPool`: it works the same under asyncio
and trio (psycopg's async API is asyncio-only). Each read is one ``REPEATABLE READ
READ ONLY`` transaction (a consistent snapshot), each write one ``READ COMMITTED``
transaction.

The reads and writes are the SQLite backend's (:mod:`asof.archive.sqlite`), whose SQL
is turned into PostgreSQL's on the way: ``?`` placeholders, ``INSERT OR IGNORE`` into
``ON CONFLICT DO NOTHING``, ``INSERT OR REPLACE`` into an upsert on the table's unique
key, ``IS ?`` into ``IS NOT DISTINCT FROM``. So both backends store the same rows and
give the same answers by construction. What differs is concurrency:

- every record is stored by its unique key with ``INSERT ... ON CONFLICT``: writers that
  store the same record at once store it once, and nothing is read and then written;
- tokens and provenance, shared by every wallet, are stored on a second connection in
  their own short transactions, so that two writers never wait on each other's
  uncommitted tokens (which could deadlock);
- merging a coverage range with the stored ranges of its key runs under a transaction
  advisory lock;
- :meth:`PostgresStorage.claim` keeps a row per in-flight pull, with an expiry taken from
  the server's clock, so that two processes do not both pull (and pay for) one history.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from asof.archive import pgschema
from asof.archive.backend import ChangeRow
from asof.archive.coverage import Coverage, to_us
from asof.archive.lines import row_of
from asof.archive.sqlite import _NAMES, _Reader, _Writer
from asof.errors import ArchiveError
from asof.records import BalanceChange, Provenance, Token, Wallet

if TYPE_CHECKING:
    import sqlite3

    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStorage", "is_postgres_url", "redact_url"]

#: The advisory lock held while a coverage range is merged.
_COVERAGE_LOCK = 0x636F7665  # "cove"

#: The conflict target of each table written with ``INSERT OR REPLACE``.
_REPLACE_KEYS = {
    "answers": "(wallet_id, token_id, coalesce(point_time_us, -1), provider_id, "
               "coalesce(point_block, -1))",
    "sync_state": "(md5(key))",
    "imports": "(sha256)",
}
_REPLACE = re.compile(r"INSERT OR REPLACE INTO (\w+) \(([^)]*)\)(.*)", re.S)
_translated: dict[str, str] = {}

#: Changes sent per batch.
_BATCH = 2000
_INSERT_CHANGE = (
    "INSERT INTO changes (stream_id, time_us, block, idx, txn, block_hash, raw, decimals, "
    "provenance_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")


_INDEX_HINT = re.compile(r" (?:INDEXED BY \w+|NOT INDEXED)\b")


def translate(sql: str) -> str:
    """The PostgreSQL text of one statement of the SQLite backend."""
    found = _translated.get(sql)
    if found is not None:
        return found
    text = sql.replace("%", "%%")
    match = _REPLACE.fullmatch(text)
    if match is not None:
        table, columns, rest = match.groups()
        names = [c.strip() for c in columns.split(",")]
        updates = ", ".join(f"{c} = excluded.{c}" for c in names)
        text = (f"INSERT INTO {table} ({columns}){rest} ON CONFLICT {_REPLACE_KEYS[table]} "
                f"DO UPDATE SET {updates}")
    elif text.startswith("INSERT OR IGNORE INTO "):
        text = "INSERT INTO " + text[len("INSERT OR IGNORE INTO "):] + " ON CONFLICT DO NOTHING"
    text = text.replace(" IS ?", " IS NOT DISTINCT FROM ?").replace("?", "%s")
    text = _INDEX_HINT.sub("", text)  # SQLite's index hints; PostgreSQL plans alone
    _translated[sql] = text
    return text


def is_postgres_url(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return text.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """``url`` without its password (for messages and ``asof archive info``)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return url.split("://", 1)[0] + "://..."
    user = parts.get("user")
    host = parts.get("host") or "localhost"
    port = parts.get("port")
    db = parts.get("dbname") or ""
    who = f"{user}@" if user else ""
    where = f"{host}:{port}" if port else str(host)
    return f"postgresql://{who}{where}/{db}"


class _Conn:
    """A psycopg connection as the SQLite backend's reader and writer use one:
    ``execute`` and ``executemany`` with ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.raw.execute(translate(sql), tuple(args))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(translate(sql), [tuple(r) for r in rows])


class _Rows:
    """The rows of one statement, fetched."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None


class _Autocommit:
    """Statements on their own, each on a connection of ``pool`` held for it alone
    (so a writer never holds two connections of the main pool at once)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Rows:
        with self.pool.connection() as conn:
            cur = conn.execute(translate(sql), tuple(args))
            return _Rows(cur.fetchall() if cur.description is not None else [])


def _sqlite_view(conn: _Conn | _Autocommit) -> sqlite3.Connection:
    # _Conn offers the part of sqlite3.Connection that _Reader and _Writer call.
    return cast("sqlite3.Connection", conn)


class _PgReader(_Reader):
    def schema_version(self) -> int:
        return pgschema.schema_version(cast(_Conn, self.conn).raw)


class _PgWriter(_Writer):
    """The SQLite writer, with tokens and provenance stored on a side connection in
    autocommit mode and coverage merged under an advisory lock."""

    def __init__(self, conn: _Conn, side: _Autocommit, now_us: int) -> None:
        super().__init__(_sqlite_view(conn), now_us)
        self._side = side
        self._pg = conn
        self._changes: list[tuple[Any, ...]] = []

    @property
    def stored(self) -> int:
        self.flush()
        return self._stored

    def flush(self) -> None:
        """Send the buffered changes (one batch, pipelined)."""
        if not self._changes:
            return
        rows, self._changes = self._changes, []
        with self._pg.raw.cursor() as cur:
            cur.executemany(_INSERT_CHANGE, rows)
            self._stored += max(cur.rowcount, 0)

    def change(self, change: BalanceChange, provider: str | None = None) -> None:
        self.changes([row_of(change, provider)])

    def changes(self, rows: Sequence[ChangeRow]) -> None:
        self._changes += self._change_tuples(rows)
        if len(self._changes) >= _BATCH:
            self.flush()

    def clear(self, wallet: Wallet | None) -> int:
        self.flush()
        return super().clear(wallet)

    def _token_id(self, token: Token) -> int:
        key = (token.chain, token.address)
        found = self._tokens.get(key)
        if found is not None:
            return found
        side = self._side
        row = side.execute(
            "INSERT INTO tokens (chain, address, standard, decimals, symbol) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chain, address) DO NOTHING RETURNING id",
            (*key, token.standard, token.decimals, token.symbol)).fetchone()
        if row is None:
            # Known already: fill in what was missing, in one statement (no read first).
            new = (token.standard, token.decimals, token.symbol)
            row = side.execute(
                "UPDATE tokens SET "
                "standard = CASE WHEN standard = 'unknown' THEN ? ELSE standard END, "
                "decimals = coalesce(decimals, ?), symbol = coalesce(symbol, ?) "
                "WHERE chain = ? AND address = ? AND ((standard = 'unknown' AND "
                "? <> 'unknown') OR (decimals IS NULL AND ?::integer IS NOT NULL) OR "
                "(symbol IS NULL AND ?::text IS NOT NULL)) RETURNING id",
                (*new, *key, *new)).fetchone() or side.execute(
                "SELECT id FROM tokens WHERE chain = ? AND address = ?", key).fetchone()
        found = int(_row(row, "token")[0])
        self._tokens[key] = found
        return found

    def _provenance_id(self, provenance: Provenance) -> int:
        # The SQLite writer's (INSERT OR IGNORE, then SELECT), on the side connection.
        main, self.conn = self.conn, _sqlite_view(self._side)
        try:
            return super()._provenance_id(provenance)
        finally:
            self.conn = main

    def _make_name(self, table: str, key: tuple[str, ...]) -> int:
        # The wallets and providers that answers name by id, on the side connection:
        # made or found in one statement (found again alone when another writer made
        # the row while this statement waited for it).
        columns = _NAMES[table]
        match = " AND ".join(f"{c} = ?" for c in columns)
        row = self._side.execute(
            f"WITH made AS (INSERT INTO {table} ({', '.join(columns)}) VALUES "
            f"({', '.join('?' for _ in columns)}) ON CONFLICT DO NOTHING RETURNING id) "
            f"SELECT id FROM made UNION ALL SELECT id FROM {table} WHERE {match} LIMIT 1",
            (*key, *key)).fetchone() or self._side.execute(
            f"SELECT id FROM {table} WHERE {match}", key).fetchone()
        return int(_row(row, table)[0])

    def coverage(self, coverage: Coverage) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(?)", (_COVERAGE_LOCK,))
        super().coverage(coverage)


class PostgresStorage:
    """The storage protocol over one PostgreSQL database.

    ``url`` is a libpq connection URL (``postgresql://user:password@host:5432/asof``);
    the password is never shown (:attr:`name` leaves it out). ``pool_size`` bounds the
    connections of reads and writes this process opens (each uses one at a time);
    tokens and provenance use up to two more, one statement at a time.
    """

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise ArchiveError("a PostgreSQL archive needs psycopg: pip install "
                               "'asof[postgres]'") from None
        self.url = url
        self._name = redact_url(url)
        self._psycopg = psycopg
        self._lock = threading.Lock()
        self._server = ""
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                pgschema.migrate(conn, name=f"archive {self._name}")
                version = conn.execute("SHOW server_version").fetchone()
                self._server = str(_row(version, "server version")[0])
        except psycopg.Error as exc:
            raise ArchiveError(f"cannot open archive {self._name}: {_message(exc)}") from None
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url, min_size=1, max_size=max(1, pool_size), open=True,
            kwargs={"autocommit": True}, name="asof-archive")
        # Tokens and provenance: one statement at a time, never waiting on the main pool.
        self._side = _Autocommit(ConnectionPool(
            url, min_size=1, max_size=2, open=True, kwargs={"autocommit": True},
            name="asof-archive-side"))

    @property
    def name(self) -> str:
        """The server and database, without the password."""
        return self._name

    def about(self) -> Mapping[str, str]:
        """The backend and the server's version."""
        return {"backend": "postgresql", "server": f"PostgreSQL {self._server}"}

    def close(self) -> None:
        """Close the connection pools."""
        self._pool.close()
        self._side.pool.close()

    @contextmanager
    def _connection(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        if self._pool.closed:
            raise ArchiveError(f"archive {self._name} is closed")
        try:
            with self._pool.connection() as conn:
                yield conn
        except self._psycopg.Error as exc:
            raise ArchiveError(f"cannot {what} archive {self._name}: {_message(exc)}") \
                from exc

    @contextmanager
    def read(self) -> Iterator[_Reader]:
        """A consistent snapshot for several reads."""
        with self._connection("read") as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield _PgReader(_sqlite_view(_Conn(conn)))
            except BaseException:
                with contextlib.suppress(Exception):  # a broken connection: the pool drops it
                    conn.execute("ROLLBACK")
                raise
            conn.execute("ROLLBACK")  # read only: nothing to commit

    @contextmanager
    def write(self, now: datetime) -> Iterator[_Writer]:
        """One write transaction: everything inside is stored, or nothing is (tokens
        and provenance, stored on their own, may stay)."""
        with self._connection("write") as conn, conn.transaction():
            writer = _PgWriter(_Conn(conn), self._side, to_us(now))
            yield writer
            writer.flush()

    def claim(self, key: str, holder: str, seconds: float) -> bool:
        """Take or renew the claim on ``key`` for ``holder`` for ``seconds`` (by the
        server's clock); false while another holder's claim stands."""
        with self._connection("write") as conn:
            row = conn.execute(
                "INSERT INTO claims (key, holder, until) VALUES "
                "(%s, %s, clock_timestamp() + make_interval(secs => %s)) "
                "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, "
                "until = excluded.until WHERE claims.holder = excluded.holder "
                "OR claims.until < clock_timestamp() RETURNING holder",
                (key, holder, float(seconds))).fetchone()
        return row is not None

    def release(self, key: str, holder: str) -> None:
        """Give up ``holder``'s claim on ``key`` (nothing if it holds none)."""
        with self._connection("write") as conn:
            conn.execute("DELETE FROM claims WHERE key = %s AND holder = %s", (key, holder))

    def size(self) -> int | None:
        """Bytes the database takes on the server."""
        with self._connection("read") as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(_row(row, "size")[0])

    def compact(self) -> None:
        """Nothing: PostgreSQL's autovacuum gives space back."""


def _row(row: Sequence[Any] | None, what: str) -> Sequence[Any]:
    """``row``, which a statement that always returns one row gave."""
    if row is None:  # a concurrent clear removed it between two statements
        raise ArchiveError(f"the archive's {what} row vanished meanwhile; try again")
    return row


def _message(exc: Exception) -> str:
    """The first line of a psycopg error (never the connection string)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
