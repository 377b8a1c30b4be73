"""Render functions that fail the way a worker can, then render for real: they run in real
worker processes, so they live in an importable module and are bound with `partial`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from service.summary import Summary, render_summary_pdf


def crash_first(marker: Path, summary: Summary) -> bytes:
    """The first call kills its worker outright, as a crash in a C library would."""
    if not marker.exists():
        marker.touch()
        os._exit(70)
    return render_summary_pdf(summary)


def stall_once_each(folder: Path, stalls: dict[str, float], summary: Summary) -> bytes:
    """The first render of each summary hangs for its number of seconds (by reference)."""
    marker = folder / f"stalled-{summary.reference}"
    if not marker.exists():
        marker.touch()
        time.sleep(stalls.get(summary.reference, 0))
    return render_summary_pdf(summary)


def counted(folder: Path, summary: Summary) -> bytes:
    """Renders, leaving one file in `folder` per render, so a test can count them."""
    (folder / f"{os.getpid()}-{time.monotonic_ns()}").touch()
    return render_summary_pdf(summary)


def always_crash(_summary: Summary) -> bytes:
    os._exit(70)
