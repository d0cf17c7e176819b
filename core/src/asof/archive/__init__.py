"""The embedded archive: fetch a history once, answer any moment offline.

A database (an SQLite file by default: standard library, no server) of canonical
records: balance changes, exchange ledger entries, holdings points and balance-at
answers, each with its provenance, plus coverage (which ranges of which histories are
complete, and of what scope) and the state of interrupted fetches. The router asks it
first; where it proves an answer it answers, naming the original provider with
``provenance.archived`` set; elsewhere the answer of a remote provider is stored once
final (see :mod:`asof.archive.finality`).

Modules: :mod:`~asof.archive.store` (:class:`Archive`, what the router asks),
:mod:`~asof.archive.rules` (what stored records prove: coverage, scope, precedence),
:mod:`~asof.archive.backend` (the storage protocol), :mod:`~asof.archive.sqlite` (its
SQLite backend) with :mod:`~asof.archive.schema` (tables, migrations),
:mod:`~asof.archive.syncstate` (resumable fetches), :mod:`~asof.archive.coverage`,
:mod:`~asof.archive.finality`, :mod:`~asof.archive.series`, :mod:`~asof.archive.io`
(import/export), :mod:`~asof.archive.settings` (the ``[archive]`` configuration),
:mod:`~asof.archive.blocktimes` (providers' settled block times, a cache of facts).
"""

from __future__ import annotations

from asof.archive.backend import Storage, StorageReader, StorageWriter
from asof.archive.coverage import ALL, Coverage
from asof.archive.finality import DEFAULT_FINALITY, DEFAULT_HORIZON, Finality
from asof.archive.schema import SCHEMA_VERSION
from asof.archive.series import SeriesPoint, grid, parse_every
from asof.archive.settings import (
    ArchiveSettings,
    archive_settings,
    default_archive_path,
    open_archive,
)
from asof.archive.sqlite import SQLiteStorage
from asof.archive.store import Archive, ArchiveInfo, BatchWriter, Record, SyncState, query_key

__all__ = [
    "ALL",
    "DEFAULT_FINALITY",
    "DEFAULT_HORIZON",
    "SCHEMA_VERSION",
    "Archive",
    "ArchiveInfo",
    "ArchiveSettings",
    "BatchWriter",
    "Coverage",
    "Finality",
    "Record",
    "SQLiteStorage",
    "SeriesPoint",
    "Storage",
    "StorageReader",
    "StorageWriter",
    "SyncState",
    "archive_settings",
    "default_archive_path",
    "grid",
    "open_archive",
    "parse_every",
    "query_key",
]
