"""The ``[archive]`` table of the configuration, and opening the archive it describes.

Keys (all optional)::

    [archive]
    enabled = true                    # false: no archive; every answer comes from a provider
    path = "~/asof/archive.sqlite"    # default: <data dir>/archive.sqlite; ":memory:" keeps
                                      # it in memory for the life of the process
    url = "postgresql://user@host:5432/asof"  # instead of path: a shared PostgreSQL
                                      # archive (asof[postgres]); "sqlite:///PATH" is a path
    seed = ["history.jsonl"]          # files imported when the archive opens (once each
                                      # per archive file, by content)
    [archive.finality]                # seconds before data counts as final, per chain
    solana = 60
    default = 3600

Relative paths are read from the configuration file's directory. The environment
variables ``ASOF_ARCHIVE_URL``, ``ASOF_ARCHIVE_PATH`` and ``ASOF_ARCHIVE_ENABLED`` override
the file (a URL before a path). The
default data directory is ``$XDG_DATA_HOME/asof`` (else ``~/.local/share/asof``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from asof.archive.finality import Finality
from asof.errors import ArchiveError, ConfigError

if TYPE_CHECKING:
    from asof.archive.backend import Storage
    from asof.archive.store import Archive
    from asof.config import Config

__all__ = ["ARCHIVE_KEYS", "ArchiveSettings", "archive_settings", "damaged", "damaged_error",
           "default_archive_path", "open_archive", "open_storage"]

log = logging.getLogger("asof.archive")

#: The keys the ``[archive]`` table accepts.
ARCHIVE_KEYS = ("enabled", "path", "url", "seed", "finality")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@attrs.frozen(kw_only=True)
class ArchiveSettings:
    """The archive settings resolved from configuration and environment."""

    enabled: bool = True
    path: str = ""  #: an absolute file path, or ``:memory:`` (when ``url`` is empty)
    url: str = ""  #: a PostgreSQL URL (the archive is shared), else empty
    chosen: bool = False  #: the path was configured (not the default)
    seed: tuple[Path, ...] = ()
    finality: Finality = attrs.field(factory=Finality)


def default_archive_path(env: Mapping[str, str] | None = None) -> Path:
    """``<data dir>/archive.sqlite`` (see :func:`asof.config.default_data_dir`)."""
    from asof.config import default_data_dir

    return default_data_dir(env) / "archive.sqlite"


def _where(config: Config) -> str:
    return f"{config.path}: [archive]" if config.path is not None else "[archive]"


def _resolve(text: str, base: Path | None) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.absolute()


def _location(table: Mapping[str, Any], env: Mapping[str, str], base: Path | None,
              where: str) -> tuple[str, Path | None, str]:
    """(path text, the folder it is relative to, PostgreSQL URL) from the environment
    (``ASOF_ARCHIVE_URL``, then ``ASOF_ARCHIVE_PATH``) or the table (``url`` or
    ``path``, not both)."""
    from asof.archive.postgres import is_postgres_url

    raw_url = env.get("ASOF_ARCHIVE_URL", "").strip()
    raw_path = env.get("ASOF_ARCHIVE_PATH", "").strip()
    name = "ASOF_ARCHIVE_URL"
    path_base = None
    if not raw_url and not raw_path:
        raw_url, raw_path, path_base, name = table.get("url", ""), table.get("path", ""), \
            base, f"{where} url"
        if not isinstance(raw_path, str):
            raise ConfigError(f"{where} path: expected a file path, got {raw_path!r}")
        if not isinstance(raw_url, str):
            raise ConfigError(f"{where} url: expected a database URL, got {raw_url!r}")
        if raw_url and raw_path:
            raise ConfigError(f"{where} has both url and path; keep one")
    if not raw_url:
        return raw_path, path_base, ""
    if raw_url.startswith("sqlite:///"):
        return raw_url[len("sqlite:///"):], path_base, ""
    if is_postgres_url(raw_url):
        return "", None, raw_url
    # Only the scheme is shown: the rest may hold a password.
    scheme = raw_url.split("://", 1)[0] + "://..." if "://" in raw_url else "no scheme"
    raise ConfigError(f"{name}: expected postgresql://... or sqlite:///PATH, got {scheme}")


def archive_settings(config: Config) -> ArchiveSettings:
    """Read and check the ``[archive]`` table; raises :class:`~asof.errors.ConfigError`
    naming the key for anything wrong."""
    table: Mapping[str, Any] = config.archive or {}
    where = _where(config)
    unknown = sorted(set(table) - set(ARCHIVE_KEYS))
    if unknown:
        raise ConfigError(f"{where} unknown key(s) {', '.join(unknown)}; the table takes "
                          f"{', '.join(ARCHIVE_KEYS)}")
    env = config.env
    base = config.path.parent if config.path is not None else None

    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where} enabled: expected true or false, got {enabled!r}")
    flag = env.get("ASOF_ARCHIVE_ENABLED", "").strip().lower()
    if flag:
        if flag not in _TRUE | _FALSE:
            raise ConfigError(f"ASOF_ARCHIVE_ENABLED: expected true or false, got {flag!r}")
        enabled = flag in _TRUE

    raw_path, path_base, url = _location(table, env, base, where)
    if raw_path == ":memory:":
        path = ":memory:"
    elif raw_path:
        path = str(_resolve(raw_path, path_base))
    else:
        path = str(default_archive_path(env))

    seeds = table.get("seed", [])
    if isinstance(seeds, str):
        seeds = [seeds]
    if not isinstance(seeds, list) or not all(isinstance(s, str) for s in seeds):
        raise ConfigError(f"{where} seed: expected a list of file paths, got {seeds!r}")

    finality_table = table.get("finality", {})
    if not isinstance(finality_table, Mapping):
        raise ConfigError(f"{where} finality: expected a table of chain = seconds")
    try:
        finality = Finality.from_mapping(finality_table)
    except ConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}" if config.path else str(exc)) from None
    return ArchiveSettings(enabled=enabled, path="" if url else path, url=url,
                           chosen=bool(raw_path or url),
                           seed=tuple(_resolve(s, base) for s in seeds), finality=finality)


def damaged(exc: BaseException) -> bool:
    """Whether an error opening or reading an archive means the file itself is damaged
    (SQLite says it is not a database, or malformed), rather than unreachable."""
    cause = exc.__cause__ if isinstance(exc, ArchiveError) else exc
    return isinstance(cause, sqlite3.DatabaseError) and not isinstance(
        cause, sqlite3.OperationalError)


def damaged_error(path: str, exc: BaseException) -> ArchiveError:
    """The error for a damaged archive file: what SQLite said, where the file is, and
    how to move it aside so that asof starts a new one."""
    cause = exc.__cause__ if isinstance(exc, ArchiveError) and exc.__cause__ else exc
    return ArchiveError(
        f"the archive file {path} is damaged ({cause}); move it aside "
        f"(mv '{path}' '{path}.damaged') and asof starts a new, empty archive there, or "
        "point [archive] path (ASOF_ARCHIVE_PATH) elsewhere")


def open_storage(target: str) -> Storage:
    """The storage a URL (``postgresql://...``, ``sqlite:///PATH``) or a file path
    names, opened (and migrated)."""
    from asof.archive.postgres import PostgresStorage, is_postgres_url
    from asof.archive.sqlite import SQLiteStorage

    if is_postgres_url(target):
        return PostgresStorage(target)
    if target.startswith("sqlite:///"):
        target = target[len("sqlite:///"):]
    elif "://" in target:
        raise ArchiveError(f"{target.split('://', 1)[0]}://...: expected postgresql://..., "
                           "sqlite:///PATH or a file path")
    if not target:
        raise ArchiveError("an empty archive path")
    return SQLiteStorage(target if target == ":memory:" else _resolve(target, None))


def open_archive(config: Config, *, clock: Callable[[], datetime] | None = None,
                 ) -> Archive | None:
    """The archive the configuration describes, opened and seeded; ``None`` when it is
    disabled.

    A configured path that cannot be opened is an :class:`~asof.errors.ArchiveError`;
    when the default path cannot be (a read-only home, say), a warning is logged and
    asof runs without an archive. A file that exists but is damaged (not an SQLite
    database, or a malformed one) is always an ``ArchiveError`` saying where it is and
    how to move it aside, whichever path it is at.
    """
    from asof.archive.io import seed
    from asof.archive.store import Archive

    settings = archive_settings(config)
    if not settings.enabled:
        return None
    try:
        if settings.url:
            from asof.archive.postgres import PostgresStorage

            archive = Archive(storage=PostgresStorage(settings.url),
                              finality=settings.finality, clock=clock)
        else:
            archive = Archive(settings.path, finality=settings.finality, clock=clock)
    except ArchiveError as exc:
        if damaged(exc):
            raise damaged_error(settings.path, exc) from None
        if settings.chosen:
            raise
        log.warning("%s; running without an archive (set [archive] path, or "
                    "ASOF_ARCHIVE_ENABLED=false to silence this)", exc)
        return None
    try:
        for file in settings.seed:
            seed(archive, file)
    except BaseException:
        archive.close()
        raise
    return archive
