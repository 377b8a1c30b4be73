"""What the app's process needs of rendering: its errors and the renderer's version.

WeasyPrint itself (`_pdf`) is imported only where PDFs are made, the render workers: its import
takes most of a second (it loads its C libraries), which every server start and command paid.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from functools import cache
from pathlib import Path

from service.settings import ROOT

TEMPLATES = ROOT / "templates"
PDF_TEMPLATES = TEMPLATES / "pdf"
_PACKAGE = Path(__file__).parent
# Everything whose change changes the bytes: WeasyPrint and its PDF writer, and our own files.
_LIBRARIES = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "fonttools")


class SummaryRenderError(RuntimeError):
    """The summary PDF could not be made. Nothing is stored; asking again retries."""


class SummaryRenderTimeoutError(SummaryRenderError):
    """A render ran over its time limit and its worker was stopped."""


@cache
def renderer_version() -> str:
    """A digest of the template, stylesheet, fonts, this package's code and the libraries.

    It is part of every cache key and ETag, so a deploy that changes any of them can never
    serve a PDF made by the old one.
    """
    digest = hashlib.sha256()
    files = sorted([*PDF_TEMPLATES.rglob("*"), *_PACKAGE.glob("*.py"), *_PACKAGE.glob("*.toml")])
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}={importlib.metadata.version(library)}\0".encode())
    return digest.hexdigest()[:16]
