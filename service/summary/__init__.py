"""The sexologist's PDF summary of an intake: built, rendered off the event loop, and cached.

`summary_of(intake, clinic)` gives the view; a `SummaryRenderer` turns it into a cached PDF.
"""

from service.summary._areas import AreasError, check_areas, load_areas
from service.summary._build import edition_of, summary_of
from service.summary._cache import SummaryCache, SummaryPdf
from service.summary._fetcher import RefusedAssetError, SummaryAssetFetcher
from service.summary._labels import LabelsError, check_labels, load_labels
from service.summary._pdf import (
    SummaryRenderError,
    SummaryRenderTimeoutError,
    render_summary_pdf,
    renderer_version,
    summary_html,
    warm_up,
)
from service.summary._renderer import SummaryRenderer
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
