"""What every staff page's template is given.

The clinic, the signed-in user, and the words and symbols for levels and statuses.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from service.clinic import Clinic
from service.codes import Priority
from service.web.i18n import gettext_for

# Words and a symbol for every level and status: the screen never relies on colour alone.
LEVEL_LABELS = {
    Priority.EMERGENCY: ("‼", "Emergency"),
    Priority.URGENT: ("!", "Urgent"),
    Priority.SOON: ("▲", "Soon"),
    Priority.ROUTINE: ("●", "Routine"),
}


def staff_context(clinic: Clinic, request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    """The staff pages are in English, the clinic's working language."""
    user = request.scope.get("user")
    return {
        "lang": "en",
        "_": gettext_for("en"),
        "clinic_name": clinic.name,
        "clinic_tz": clinic.timezone,
        "user": user,
        **extra,
    }
