"""The archive's SQLite schema, its migrations, and how a database file is opened.

The schema version lives in ``PRAGMA user_version``. :data:`MIGRATIONS` holds one entry
per version; opening a database applies, each in its own transaction, every migration
above the file's version. A file written by a newer asof (a higher version than this
code knows) is refused rather than guessed at.

Storage rules: token amounts are integers of any size, so they are kept as decimal text
(``raw``), never as SQLite ``REAL``; Decimals are kept as their exact text; moments are
integer microseconds since the Unix epoch (UTC); slots and block numbers are integers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from asof.errors import ArchiveError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "connect", "create_file", "migrate", "schema_version"]

_V1: tuple[str, ...] = (
    # Tokens by (chain, address); what providers said about them, merged.
    """CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        chain TEXT NOT NULL,
        address TEXT NOT NULL,
        standard TEXT NOT NULL,
        decimals INTEGER,
        symbol TEXT,
        UNIQUE (chain, address)
    )""",
    # Provenance records, stored once each as their canonical JSON.
    """CREATE TABLE provenance (
        id INTEGER PRIMARY KEY,
        data TEXT NOT NULL UNIQUE
    )""",
    # A stream is one provider's view of one token account of one wallet and token.
    """CREATE TABLE streams (
        id INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        chain TEXT NOT NULL,
        wallet TEXT NOT NULL,
        token_id INTEGER NOT NULL REFERENCES tokens (id),
        token_account TEXT NOT NULL,
        UNIQUE (provider, chain, wallet, token_id, token_account)
    )""",
    "CREATE INDEX streams_wallet ON streams (chain, wallet, token_id)",
    # Balance changes: the balance after each change, where and when it happened.
    """CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL REFERENCES streams (id),
        time_us INTEGER,
        block INTEGER,
        idx INTEGER,
        txn TEXT,
        block_hash TEXT,
        raw TEXT NOT NULL,
        decimals INTEGER,
        provenance_id INTEGER NOT NULL REFERENCES provenance (id)
    )""",
    """CREATE UNIQUE INDEX changes_key ON changes (
        stream_id, ifnull(time_us, -1), ifnull(block, -1), ifnull(idx, -1), ifnull(txn, '')
    )""",
    "CREATE INDEX changes_time ON changes (stream_id, time_us, block, idx)",
    "CREATE INDEX changes_block ON changes (stream_id, block, idx)",
    # Balance-at answers as providers gave them.
    """CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        chain TEXT NOT NULL,
        wallet TEXT NOT NULL,
        token_id INTEGER NOT NULL REFERENCES tokens (id),
        point_time_us INTEGER,
        point_block INTEGER,
        raw TEXT NOT NULL,
        decimals INTEGER,
        has_asof INTEGER NOT NULL,
        asof_block INTEGER,
        asof_hash TEXT,
        asof_time_us INTEGER,
        asof_txn TEXT,
        asof_idx INTEGER,
        provenance_id INTEGER NOT NULL REFERENCES provenance (id)
    )""",
    """CREATE UNIQUE INDEX answers_key ON answers (
        chain, wallet, token_id, provider, ifnull(point_time_us, -1), ifnull(point_block, -1)
    )""",
    "CREATE INDEX answers_time ON answers (chain, wallet, token_id, point_time_us)",
    "CREATE INDEX answers_block ON answers (chain, wallet, token_id, point_block)",
    # Exchange ledger entries.
    """CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        chain TEXT NOT NULL,
        account TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        sequence INTEGER,
        event_type TEXT NOT NULL,
        amount TEXT NOT NULL,
        balance TEXT NOT NULL,
        pending TEXT,
        known_type INTEGER NOT NULL,
        provenance_id INTEGER NOT NULL REFERENCES provenance (id)
    )""",
    """CREATE UNIQUE INDEX ledger_key ON ledger (
        provider, chain, account, time_us, ifnull(sequence, -1), event_type, amount, balance
    )""",
    # Holdings points (USD value of a wallet at a grid time).
    """CREATE TABLE holdings (
        id INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        chain TEXT NOT NULL,
        wallet TEXT NOT NULL,
        min_liquidity TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        usd TEXT NOT NULL,
        breakdown TEXT,
        provenance_id INTEGER NOT NULL REFERENCES provenance (id),
        UNIQUE (provider, chain, wallet, min_liquidity, time_us)
    )""",
    # Coverage: ranges known to be complete, per provider, wallet and scope.
    """CREATE TABLE coverage (
        id INTEGER PRIMARY KEY,
        capability TEXT NOT NULL,
        provider TEXT NOT NULL,
        chain TEXT NOT NULL,
        wallet TEXT NOT NULL,
        scope TEXT NOT NULL,
        axis TEXT NOT NULL CHECK (axis IN ('time', 'block')),
        start_pos INTEGER,
        end_pos INTEGER NOT NULL,
        recorded_us INTEGER NOT NULL
    )""",
    "CREATE INDEX coverage_key ON coverage (chain, wallet, capability, axis, scope, provider)",
    # Where each history fetch stands, so that an interrupted sync resumes.
    """CREATE TABLE sync_state (
        key TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        query TEXT NOT NULL,
        cursor TEXT,
        exhausted INTEGER NOT NULL,
        done INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        items INTEGER NOT NULL,
        cut_us INTEGER NOT NULL,
        started_us INTEGER NOT NULL,
        updated_us INTEGER NOT NULL
    )""",
    # Files imported as seeds, by content hash, so they are imported once.
    """CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        records INTEGER NOT NULL,
        imported_us INTEGER NOT NULL
    )""",
)

_V2: tuple[str, ...] = (
    # What a covered balance history includes (a HistoryScope as JSON); NULL: undeclared.
    "ALTER TABLE coverage ADD COLUMN basis TEXT",
    # The declared history scope of a fetch in progress, recorded on completion.
    "ALTER TABLE sync_state ADD COLUMN basis TEXT",
    # Whether the provider declared its balance-at method exact: 1, 0, NULL unknown.
    "ALTER TABLE answers ADD COLUMN exact INTEGER",
)

_V3: tuple[str, ...] = (
    # Settled block times a provider read (block number -> timestamp, hash), kept for
    # its time searches (asof.blocktimes); only final blocks are stored.
    """CREATE TABLE block_times (
        provider TEXT NOT NULL,
        chain TEXT NOT NULL,
        block INTEGER NOT NULL,
        time_us INTEGER NOT NULL,
        hash TEXT,
        recorded_us INTEGER NOT NULL,
        PRIMARY KEY (provider, chain, block)
    )""",
    "CREATE INDEX block_times_time ON block_times (provider, chain, time_us, block)",
)

_V4: tuple[str, ...] = (
    # A stored answer's own fetch time and echo, so that its provenance row (the rest)
    # is shared by every answer of the same provider, source and caveats. NULL: kept
    # in the provenance row (answers stored before version 4) or absent.
    "ALTER TABLE answers ADD COLUMN fetched_us INTEGER",
    "ALTER TABLE answers ADD COLUMN echo TEXT",
    # Look-ups by wallet and token use the key's prefix; by time, answers_time.
    "DROP INDEX answers_block",
    # The exact answers of a wallet and token (they may anchor any point), found
    # without reading the others.
    "CREATE INDEX answers_exact ON answers (chain, wallet, token_id) WHERE exact = 1",
)

_V5: tuple[str, ...] = (
    # Stored answers by the million: each wallet and provider is named once, and an
    # answer's row and its one index hold their integer ids.
    """CREATE TABLE wallets (
        id INTEGER PRIMARY KEY,
        chain TEXT NOT NULL,
        address TEXT NOT NULL,
        UNIQUE (chain, address)
    )""",
    """CREATE TABLE providers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    )""",
    "INSERT INTO wallets (chain, address) "
    "SELECT DISTINCT chain, wallet FROM answers ORDER BY chain, wallet",
    "INSERT INTO providers (name) SELECT DISTINCT provider FROM answers ORDER BY provider",
    """CREATE TABLE answers_v5 (
        id INTEGER PRIMARY KEY,
        wallet_id INTEGER NOT NULL REFERENCES wallets (id),
        token_id INTEGER NOT NULL REFERENCES tokens (id),
        provider_id INTEGER NOT NULL REFERENCES providers (id),
        point_time_us INTEGER,
        point_block INTEGER,
        raw TEXT NOT NULL,
        decimals INTEGER,
        has_asof INTEGER NOT NULL,
        asof_block INTEGER,
        asof_hash TEXT,
        asof_time_us INTEGER,
        asof_txn TEXT,
        asof_idx INTEGER,
        provenance_id INTEGER NOT NULL REFERENCES provenance (id),
        exact INTEGER,
        fetched_us INTEGER,
        echo TEXT
    )""",
    "INSERT INTO answers_v5 (id, wallet_id, token_id, provider_id, point_time_us, "
    "point_block, raw, decimals, has_asof, asof_block, asof_hash, asof_time_us, asof_txn, "
    "asof_idx, provenance_id, exact, fetched_us, echo) "
    "SELECT a.id, w.id, a.token_id, p.id, a.point_time_us, a.point_block, a.raw, "
    "a.decimals, a.has_asof, a.asof_block, a.asof_hash, a.asof_time_us, a.asof_txn, "
    "a.asof_idx, a.provenance_id, a.exact, a.fetched_us, a.echo FROM answers a "
    "JOIN wallets w ON w.chain = a.chain AND w.address = a.wallet "
    "JOIN providers p ON p.name = a.provider",
    "DROP TABLE answers",
    "ALTER TABLE answers_v5 RENAME TO answers",
    # One key, ordered by time within a wallet's token, so look-ups by time use it too
    # (answers_time is gone); a point's absent time or block counts as -1 in it (the
    # same expression on both backends, so that queries written with it use it).
    """CREATE UNIQUE INDEX answers_key ON answers (
        wallet_id, token_id, coalesce(point_time_us, -1), provider_id,
        coalesce(point_block, -1)
    )""",
    "CREATE INDEX answers_exact ON answers (wallet_id, token_id) WHERE exact = 1",
)

#: Migration ``i`` (0-based) takes a database from version ``i`` to ``i + 1``.
MIGRATIONS: list[Sequence[str]] = [_V1, _V2, _V3, _V4, _V5]

#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


def create_file(path: Path) -> None:
    """Create an empty database file readable and writable by its owner only.

    Missing parent directories are created (mode 0700). SQLite gives the ``-wal`` and
    ``-shm`` files the same permissions as the database file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def connect(target: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with WAL, foreign
    keys and a busy timeout so that a reader never fails while a writer works.

    ``":memory:"`` opens a private in-memory database (no WAL there)."""
    memory = target == ":memory:"
    conn = sqlite3.connect(target, timeout=30.0, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        if not memory:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ArchiveError(f"{target}: cannot switch the archive to WAL mode ({mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, name: str = "archive") -> int:
    """Bring the database up to :data:`SCHEMA_VERSION`; return the version it had.

    Each step runs in one ``IMMEDIATE`` transaction, so concurrent openers wait for each
    other and a failed step leaves the file at the previous version.
    """
    start = schema_version(conn)
    if start > SCHEMA_VERSION:
        raise ArchiveError(
            f"{name} has schema version {start}, written by a newer asof; this version "
            f"reads up to {SCHEMA_VERSION}: upgrade asof or use another archive path"
        )
    version = start
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)  # another process may have migrated meanwhile
            if current > version:
                conn.execute("COMMIT")
                version = current
                continue
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version += 1
    return start
