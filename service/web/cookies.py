"""The service's cookie names, one place for each.

Behind HTTPS the cookies that carry a credential or a secret (staff session, CSRF, the patient's
session) are named `__Host-...`: browsers then accept such a cookie only with
Secure, Path=/ and no Domain, so neither a plain-HTTP page nor a sibling subdomain can plant
or overwrite it (a planted CSRF or session cookie is how fixation attacks begin). The prefix
needs HTTPS, so over plain HTTP (development, tests) the names go without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie

STAFF_SESSION = "staff_session"
"""The staff member's session: an opaque random id (service.staff.sessions)."""
CSRF = "csrftoken"
PATIENT_SESSION = "patient_session"
"""A patient's own recent intakes, for the thanks page: signed, kept by the browser only."""


@dataclass(frozen=True, slots=True)
class CookieNames:
    staff_session: str
    csrf: str
    patient_session: str

    @classmethod
    def of(cls, *, behind_https: bool) -> CookieNames:
        prefix = "__Host-" if behind_https else ""
        return cls(prefix + STAFF_SESSION, prefix + CSRF, prefix + PATIENT_SESSION)


def staff_session_cookie(secret: str | None, *, behind_https: bool) -> Cookie:
    """The staff session cookie holding `secret`, or, with None, the one that deletes it.

    No Max-Age: it goes when the browser's session goes, like the CSRF cookie it is bound to;
    a session cookie kept across a browser restart without its CSRF cookie would have every
    form refused. The server ends it anyway after the idle and absolute limits.
    """
    return Cookie(
        key=CookieNames.of(behind_https=behind_https).staff_session,
        value=secret or "",
        path="/",
        secure=behind_https,  # also on the deleting one: a `__Host-` cookie needs it
        httponly=True,
        samesite="lax",
        max_age=None if secret else 0,
    )


def csrf_cookie(config: CSRFConfig, token: str) -> Cookie:
    """A CSRF cookie exactly as Litestar's CSRF middleware sets it, for a token we issue."""
    return Cookie(
        key=config.cookie_name,
        value=token,
        path=config.cookie_path,
        secure=config.cookie_secure,
        httponly=config.cookie_httponly,
        samesite=config.cookie_samesite,
        domain=config.cookie_domain,
    )
