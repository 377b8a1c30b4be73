"""The sexologist's PDF summary of an intake: built, rendered off the event loop, and cached.

`summary_of(intake, clinic)` gives the view; a `SummaryRenderer` turns it into a cached PDF.
The names that need WeasyPrint are loaded when first used (`__getattr__`): the app's process
renders in workers and never imports it (most of a second at every start).
"""

import importlib
import typing

from service.summary._areas import AreasError, check_areas, load_areas
from service.summary._build import edition_of, summary_of
from service.summary._cache import SummaryCache, SummaryPdf
from service.summary._labels import LabelsError, check_labels, load_labels
from service.summary._renderer import SummaryRenderer
from service.summary._rendering import (
    SummaryRenderError,
    SummaryRenderTimeoutError,
    renderer_version,
)
from service.summary._view import (
    LEVEL_SIGNS,
    Answer,
    AnswerGroup,
    AreaToExplore,
    Banner,
    FlaggedRule,
    LevelSign,
    Patient,
    Summary,
)

if typing.TYPE_CHECKING:
    from service.summary._fetcher import RefusedAssetError, SummaryAssetFetcher
    from service.summary._pdf import render_summary_pdf, summary_html, warm_up

_WITH_WEASYPRINT = {
    "RefusedAssetError": "_fetcher",
    "SummaryAssetFetcher": "_fetcher",
    "render_summary_pdf": "_pdf",
    "summary_html": "_pdf",
    "warm_up": "_pdf",
}


def __getattr__(name: str) -> object:
    if module := _WITH_WEASYPRINT.get(name):
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LEVEL_SIGNS",
    "Answer",
    "AnswerGroup",
    "AreaToExplore",
    "AreasError",
    "Banner",
    "FlaggedRule",
    "LabelsError",
    "LevelSign",
    "Patient",
    "RefusedAssetError",
    "Summary",
    "SummaryAssetFetcher",
    "SummaryCache",
    "SummaryPdf",
    "SummaryRenderError",
    "SummaryRenderTimeoutError",
    "SummaryRenderer",
    "check_areas",
    "check_labels",
    "edition_of",
    "load_areas",
    "load_labels",
    "render_summary_pdf",
    "renderer_version",
    "summary_html",
    "summary_of",
    "warm_up",
]
