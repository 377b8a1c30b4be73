"""Renders a `Summary` to PDF bytes with Jinja and WeasyPrint: deterministic, tagged, offline."""

from __future__ import annotations

import atexit
import hashlib
import importlib.metadata
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from service.settings import ROOT
from service.summary._fetcher import SummaryAssetFetcher
from service.summary._view import LEVEL_SIGNS, Summary

TEMPLATES = ROOT / "templates"
PDF_TEMPLATES = TEMPLATES / "pdf"
TEMPLATE = "pdf/summary.html"
STYLESHEET = PDF_TEMPLATES / "summary.css"
FONTS = PDF_TEMPLATES / "fonts"
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


@dataclass(frozen=True)
class _Assets:
    template: jinja2.Template
    stylesheet: weasyprint.CSS
    fonts: FontConfiguration
    fetcher: SummaryAssetFetcher


@cache
def _assets() -> _Assets:
    """The template, stylesheet and fonts, once per process: loading the fonts for every render
    would cost more than the render."""
    # The summary's own environment: autoescape on every template, whatever its file name, and
    # an undefined name is an error rather than an empty string on a clinical document.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    fetcher = SummaryAssetFetcher(FONTS)
    fonts = FontConfiguration()
    stylesheet = weasyprint.CSS(
        string=STYLESHEET.read_text(encoding="utf-8"),
        url_fetcher=fetcher,
        font_config=fonts,
    )
    # WeasyPrint copies each @font-face file into a folder it removes only when the font
    # configuration is collected, which never happens to this cached one: remove it at exit.
    copies = getattr(fonts, "_folder", None)
    if copies is not None:
        atexit.register(shutil.rmtree, copies, ignore_errors=True)
    return _Assets(environment.get_template(TEMPLATE), stylesheet, fonts, fetcher)


def summary_html(summary: Summary) -> str:
    """The summary as HTML: every value escaped by the template engine."""
    return _assets().template.render(summary=summary, signs=LEVEL_SIGNS, version=renderer_version())


def render_summary_pdf(summary: Summary) -> bytes:
    """The PDF of `summary`. The same summary gives the same bytes, in any process."""
    assets = _assets()
    try:
        document = weasyprint.HTML(string=summary_html(summary), url_fetcher=assets.fetcher)
        pdf = document.write_pdf(
            stylesheets=[assets.stylesheet],
            font_config=assets.fonts,
            pdf_tags=True,
            # The document's permanent id: pydyf adds an MD5 of the content as the second part.
            pdf_identifier=summary.intake_id.encode(),
        )
    except FatalURLFetchingError as error:
        # A BaseException in WeasyPrint; made an ordinary error so that callers can catch it.
        raise SummaryRenderError("the summary asked for a resource it may not load") from error
    if not isinstance(pdf, bytes):
        raise SummaryRenderError("WeasyPrint returned no PDF")
    return pdf


def warm_up() -> None:
    """Load the fonts and lay out every script once, so the first real render is a warm one."""
    assets = _assets()
    weasyprint.HTML(
        string='<p>Aa <b>Bb</b> മലയാളം <b>മല</b> <span class="symbol">▲◆●○■▶</span></p>',
        url_fetcher=assets.fetcher,
    ).write_pdf(stylesheets=[assets.stylesheet], font_config=assets.fonts)
