"""Renders a `Summary` to PDF bytes with Jinja and WeasyPrint: deterministic, tagged, offline."""

from __future__ import annotations

import atexit
import gc
import shutil
import zlib
from dataclasses import dataclass
from functools import cache
from xml.etree import ElementTree as ET

import cssselect2
import jinja2
import pydyf
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from service.summary._fetcher import SummaryAssetFetcher
from service.summary._rendering import (
    PDF_TEMPLATES,
    TEMPLATES,
    SummaryRenderError,
    renderer_version,
)
from service.summary._view import LEVEL_SIGNS, Summary

TEMPLATE = "pdf/summary.html"
STYLESHEET = PDF_TEMPLATES / "summary.css"
USER_AGENT_STYLESHEET = PDF_TEMPLATES / "user-agent.css"
FONTS = PDF_TEMPLATES / "fonts"


# pydyf deflates every stream at zlib's slowest level, 9. Level 6, zlib's own default, makes a
# typical summary about 10 ms faster to write and under 3% larger. The level is part of the
# bytes: it lives in this file, whose digest is in `renderer_version`.
DEFLATE_LEVEL = 6


class _Deflate:
    """What pydyf sees as its `zlib` module: the same compression, at `DEFLATE_LEVEL`."""

    @staticmethod
    def compressobj(level: int = DEFLATE_LEVEL) -> zlib._Compress:
        return zlib.compressobj(DEFLATE_LEVEL)

    @staticmethod
    def compress(data: bytes) -> bytes:
        return zlib.compress(data, DEFLATE_LEVEL)


pydyf.zlib = _Deflate


class _SummaryHTML(weasyprint.HTML):  # type: ignore[misc]  # WeasyPrint ships no types
    """The summary's HTML, parsed as XML when it can be, styled over our cut of WeasyPrint's
    user-agent stylesheet.

    The template is well-formed XHTML with every value escaped, so Python's C XML parser can
    read it instead of WeasyPrint's pure-Python HTML5 parser (about 5 ms of a render), to the
    same tree and the same PDF bytes (a test compares them); a render is about 4 ms faster.
    Text that XML cannot hold (U+FFFE, say) sends that summary through the HTML5 parser.

    WeasyPrint's own sheet styles every element of the web, and its ::marker, ::footnote-* and
    ::note-* rules make it compute styles nobody prints for each of our elements on every render.
    `_ua_stylesheets` is WeasyPrint's private hook: should a later version drop it, the summary
    is styled over WeasyPrint's own sheet again, which looks the same and is only slower.
    """

    def __init__(
        self, html: str, assets: _Assets, *, user_agent: bool = True, xml: bool = True
    ) -> None:
        self.user_agent = assets.user_agent if user_agent else None
        try:
            # Our own template's output, values escaped: no document type or entity a patient
            # could add, so nothing for an XML attack to work with.
            root = ET.fromstring(html) if xml else None  # noqa: S314
        except ET.ParseError:
            root = None
        if root is None:
            super().__init__(string=html, url_fetcher=assets.fetcher)
            return
        # What WeasyPrint's own __init__ sets once it has parsed a document.
        self.base_url = None
        self.url_fetcher = assets.fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element

    def _ua_stylesheets(self, forms: bool = False) -> list[weasyprint.CSS]:
        if self.user_agent is None:
            return list(super()._ua_stylesheets(forms))
        return [self.user_agent]


@dataclass(frozen=True)
class _Assets:
    template: jinja2.Template
    stylesheet: weasyprint.CSS
    user_agent: weasyprint.CSS
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
    user_agent = weasyprint.CSS(
        string=USER_AGENT_STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher
    )
    return _Assets(environment.get_template(TEMPLATE), stylesheet, user_agent, fonts, fetcher)


def summary_html(summary: Summary) -> str:
    """The summary as HTML: every value escaped by the template engine."""
    return _assets().template.render(summary=summary, signs=LEVEL_SIGNS, version=renderer_version())


def render_summary_pdf(summary: Summary, *, user_agent: bool = True, xml: bool = True) -> bytes:
    """The PDF of `summary`. The same summary gives the same bytes, in any process.

    `user_agent=False` styles it over WeasyPrint's own user-agent sheet instead of our cut of
    it, and `xml=False` parses it with WeasyPrint's HTML5 parser; the tests check that each
    gives the same PDF.
    """
    assets = _assets()
    try:
        document = _SummaryHTML(summary_html(summary), assets, user_agent=user_agent, xml=xml)
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
    """Load the fonts and lay out every script once, so the first real render is a warm one.

    Then freeze what is loaded: the fonts, stylesheets and modules never become garbage, and the
    cycle collector no longer walks them every few renders (its time per render went from
    about 6.5 to 2.7 ms).
    """
    assets = _assets()
    _SummaryHTML(
        "<html><body><p>Aa <b>Bb</b> മലയാളം <b>മല</b> ▲◆●○■▶ <b>▲◆●○■▶</b></p></body></html>", assets
    ).write_pdf(stylesheets=[assets.stylesheet], font_config=assets.fonts)
    gc.collect()
    gc.freeze()
