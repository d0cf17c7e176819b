"""SQLite's own integrity check of an archive file, read-only.

:func:`check_integrity` opens the file read-only (never creating or migrating it) and
runs ``PRAGMA integrity_check`` (or the faster ``quick_check``). ``asof archive check``
runs the full check; ``asof archive info`` the quick one before it reports anything.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

__all__ = ["check_integrity"]

#: Problems reported at most (SQLite lists one line per damaged page or index entry).
MAX_PROBLEMS = 20


def check_integrity(path: str | Path, *, quick: bool = False) -> list[str]:
    """The problems SQLite finds in the archive file at ``path``; empty when it is sound.

    A file SQLite cannot read at all (not a database) is one problem saying so.
    """
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
    pragma = "quick_check" if quick else "integrity_check"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        return [f"cannot open the file: {exc}"]
    try:
        rows = conn.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found
