"""The clinic dashboard's figures: how many came, how urgent, how they left, how long the
patients waited for the doctor, which red flags fired; for a range of clinic-local days."""

from service.stats._figures import (
    DEFAULT_DAYS,
    MAX_DAYS,
    Counted,
    RangeError,
    Waited,
    figures,
    figures_csv,
    percentile,
    stats_range,
)
from service.stats._read import clinic_figures, read_counts, stats_statements

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "Counted",
    "RangeError",
    "Waited",
    "clinic_figures",
    "figures",
    "figures_csv",
    "percentile",
    "read_counts",
    "stats_range",
    "stats_statements",
]
