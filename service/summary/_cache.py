"""Rendered PDFs on disk, one folder per intake, named by revision and renderer version."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from service.summary._view import Summary

_PDF_START = b"%PDF-"
_PDF_END = b"%%EOF"
_NAME = re.compile(r"r(\d+)-[0-9a-f]+\.pdf\Z")
# A part file this old was left by a process that died mid-write.
_STALE_PART_SECONDS = 600


@dataclass(frozen=True, slots=True)
class SummaryPdf:
    """A rendered summary: its bytes, its strong ETag (quoted) and a download name."""

    content: bytes
    etag: str
    filename: str


@dataclass(frozen=True, slots=True)
class CacheEntry:
    path: Path
    etag: str


class SummaryCache:
    """Rendered summaries under `directory`; every name comes from our own ids, never a request.

    A file appears only whole (written aside, then renamed), so a crash mid-write leaves no half
    a PDF; a damaged file counts as absent and is rendered again.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def entry(self, summary: Summary, version: str) -> CacheEntry:
        """Where the PDF of this revision and version lives, and its ETag."""
        key = hashlib.sha256(f"{version}:{summary.edition}".encode()).hexdigest()[:20]
        name = f"r{summary.revision}-{key}"
        return CacheEntry(self._folder(summary.intake_id) / f"{name}.pdf", f'"{name}"')

    def read(self, entry: CacheEntry) -> bytes | None:
        """The cached bytes, or None when absent or not a whole PDF."""
        try:
            content = entry.path.read_bytes()
        except FileNotFoundError:
            return None
        if content.startswith(_PDF_START) and _PDF_END in content[-32:]:
            return content
        entry.path.unlink(missing_ok=True)
        return None

    def write(self, entry: CacheEntry, content: bytes) -> None:
        """Store `content` atomically and drop this intake's older revisions and versions."""
        folder = entry.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            Path(temporary).replace(entry.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._tidy(folder, entry.path)

    def forget(self, intake_id: str) -> None:
        """Delete every cached PDF of one intake (erasure, purge)."""
        shutil.rmtree(self._folder(intake_id), ignore_errors=True)

    def _tidy(self, folder: Path, kept: Path) -> None:
        """Drop superseded files. A newer revision stays: another process may just have made it."""
        revision = _revision(kept)
        for other in folder.glob("*.pdf"):
            if other != kept and _revision(other) <= revision:
                other.unlink(missing_ok=True)
        now = time.time()
        for part in folder.glob(".*.part"):
            try:
                if now - part.stat().st_mtime > _STALE_PART_SECONDS:
                    part.unlink()
            except FileNotFoundError:
                continue

    def _folder(self, intake_id: str) -> Path:
        # Parsed as a UUID, so that no id can name a path outside the cache.
        return self.directory / str(UUID(intake_id))


def _revision(path: Path) -> int:
    match = _NAME.match(path.name)
    return int(match[1]) if match else -1
