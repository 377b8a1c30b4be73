"""The reception queue: where an intake stands between submission and the consultation."""

from service.queue.status import OPEN_STATUSES, Status, can_move

__all__ = ["OPEN_STATUSES", "Status", "can_move"]
