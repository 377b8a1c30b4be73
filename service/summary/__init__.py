"""The sexologist's PDF summary of an intake: built, rendered off the event loop, and cached."""

from service.summary._areas import AreasError, check_areas, load_areas
from service.summary._build import edition_of, summary_of
from service.summary._pdf import (
    SummaryRenderError,
    SummaryRenderTimeoutError,
    render_summary_pdf,
    renderer_version,
    summary_html,
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

__all__ = [
    "LEVEL_SIGNS",
    "Answer",
    "AnswerGroup",
    "AreaToExplore",
    "AreasError",
    "Banner",
    "FlaggedRule",
    "LevelSign",
    "Patient",
    "Summary",
    "SummaryRenderError",
    "SummaryRenderTimeoutError",
    "check_areas",
    "edition_of",
    "load_areas",
    "render_summary_pdf",
    "renderer_version",
    "summary_html",
    "summary_of",
]
