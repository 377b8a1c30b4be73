"""CSV that a spreadsheet opens as plain text: no cell is ever taken for a formula (OWASP)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV without a byte order mark in the machine's legacy code page, which garbles
# Malayalam names; with it, Excel and LibreOffice both read UTF-8.
BYTE_ORDER_MARK = "\ufeff"


def neutralise(value: str) -> str:
    """Make a cell plain text for spreadsheets: a leading formula character gets a quote."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def to_csv(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])
    return buffer.getvalue()
