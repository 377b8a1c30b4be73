"""Error pages for people: in their language, saying what to do, never a stack trace."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Template

from service.web import language as languages
from service.web.i18n import gettext_for


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Marks a message for the catalogue without translating it here."""
    return message


# (title, what to do), as gettext message ids.
_NO_PAGE = (N_("Page not found"), N_("There is no page at this address."))
_PAGES: dict[int | str, tuple[str, str]] = {
    "denied": (N_("No access"), N_("Your role does not allow this page.")),
    403: (N_("This page has expired"), N_("Please go back, reload the page and try again.")),
    "day": (N_("That day cannot be shown"), N_("Please choose a day from the calendar.")),
    409: (N_("That change is not possible"), N_("Please reload the page to see the latest.")),
    404: _NO_PAGE,
    405: _NO_PAGE,
    # A query the page cannot take (`?status=x`, a date that does not exist): a bad address.
    400: _NO_PAGE,
    422: _NO_PAGE,
    413: (
        N_("Too much to send"),
        N_("What you wrote is too long to send. Please shorten it and try again."),
    ),
    429: (N_("Too many attempts"), N_("Please wait a minute, then try again.")),
    503: (N_("Not available just now"), N_("Please try again in a minute.")),
}
_FALLBACK = (N_("Something went wrong"), N_("Please try again in a minute."))


def error_page(
    request: Request[Any, Any, Any],
    status: int,
    headers: dict[str, str] | None = None,
    kind: str | None = None,
) -> Response[Any]:
    language = languages.choose(request, None)
    _ = gettext_for(language)
    title, message = _PAGES.get(kind or status, _PAGES.get(status, _FALLBACK))
    clinic = request.app.state.get("clinic")
    context = {
        "lang": language,
        "_": _,
        "clinic_name": clinic.name if clinic else "",
        "status": status,
        "title": _(title),
        "message": _(message),
    }
    return Template("error.html", context=context, status_code=status, headers=headers)
