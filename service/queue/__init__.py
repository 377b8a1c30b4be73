"""The reception queue: where an intake stands between submission and the consultation."""

from service.codes import OPEN_STATUSES, Status, can_move
from service.queue._events import CHANNEL, queue_event
from service.queue._export import COLUMNS, queue_csv
from service.queue._listing import (
    QUEUE_QUERY,
    DayOutOfRangeError,
    QueueEntry,
    day_bounds,
    queue_entries,
    queue_parameters,
)
from service.queue._live import TolerantAsyncPgChannelsBackend, channels_plugin, session_end_notices

__all__ = [
    "CHANNEL",
    "COLUMNS",
    "OPEN_STATUSES",
    "QUEUE_QUERY",
    "DayOutOfRangeError",
    "QueueEntry",
    "Status",
    "TolerantAsyncPgChannelsBackend",
    "can_move",
    "channels_plugin",
    "day_bounds",
    "queue_csv",
    "queue_entries",
    "queue_event",
    "queue_parameters",
    "session_end_notices",
]
