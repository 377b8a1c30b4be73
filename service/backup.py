"""An online, consistent copy of the embedded SQLite database.

SQLite's backup API copies the database page by page under a read transaction, so the copy is
one consistent snapshot even while the service keeps writing (WAL mode lets it). The copy is
written beside the target, checked with `PRAGMA integrity_check`, flushed to disk and only then
renamed into place: a target path either holds a whole, checked backup or nothing.
PostgreSQL is backed up with its own tool, `pg_dump` (see the README).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    """The backup was not made; the message says why."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    intakes: int
    size_bytes: int


def backup_sqlite(database: Path, target: Path) -> BackupReport:
    if target.exists():
        raise BackupError(f"{target} already exists; name a new file")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the copy failed its integrity check: {verdict}")
            (intakes,) = copy.execute("SELECT count(*) FROM intake").fetchone()
        finally:
            copy.close()
            source.close()
        _flush(partial)
        partial.rename(target)
        _flush(target.parent)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(target, int(intakes), target.stat().st_size)


def _flush(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
