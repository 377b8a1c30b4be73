"""Errors from `/api/` as RFC 9457 problem details, in the contract's shape; pages get HTML.

`{"type", "title", "status", "detail", "errors": [{"field", "message"}]}`. No stack traces, SQL
or other patients' data ever reach a response: unexpected errors are logged by class only.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from service.fhir import FHIR_JSON, operation_outcome
from service.intake import IntakeNotFoundError
from service.logs import raised_at
from service.queue import DayOutOfRangeError
from service.web.error_pages import error_page

log = structlog.get_logger(__name__)

# The API's paths: programs' surface, answered with problem details. Every other path is a page,
# for a person, answered with the HTML error page. The one home of that decision.
API_PATHS = ("/api/", "/health", "/schema")
# The FHIR REST surface: programs too, answered with FHIR OperationOutcomes.
FHIR_PATH = "/fhir"
PROBLEM_TYPE_BASE = "https://clinic-intake.invalid/problems/"
MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct):
    """The body of every `/api/` error response (documented in the OpenAPI schema)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


def problem(
    status: int,
    detail: str,
    *,
    errors: Iterable[FieldError] = (),
    headers: dict[str, str] | None = None,
    slug: str | None = None,
) -> ProblemDetailsException:
    """An exception that answers with a problem document; raise it from a handler or service."""
    title = HTTPStatus(status).phrase
    return ProblemDetailsException(
        detail=detail,
        status_code=status,
        headers=headers,
        type_=PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        title=title,
        extra={"errors": [msgspec.to_builtins(error) for error in errors]},
    )


def _sent_name(request: Request[Any, Any, Any], key: str) -> str:
    """The name the caller used (`date`, `Idempotency-Key`) for a handler's parameter (`date_`)."""
    handler = request.scope.get("route_handler")
    field = handler.parsed_fn_signature.parameters.get(key) if handler is not None else None
    kwarg = getattr(field, "kwarg_definition", None)
    names = (getattr(kwarg, attribute, None) for attribute in ("name", "query", "header"))
    return next((str(name) for name in names if name), key)


def _from_http_exception(
    exc: HTTPException, request: Request[Any, Any, Any]
) -> ProblemDetailsException:
    if isinstance(exc, ProblemDetailsException):
        return exc
    if isinstance(exc, ValidationException) and exc.status_code == HTTP_400_BAD_REQUEST:
        # The body or a parameter did not have the documented shape (contract: 422).
        errors = [
            FieldError(
                field=_sent_name(request, str(item.get("key") or "body")),
                message=str(item.get("message")),
            )
            for item in (exc.extra if isinstance(exc.extra, list) else [])
            if isinstance(item, dict)
        ] or [FieldError(field="body", message=exc.detail)]
        return problem(HTTP_422_UNPROCESSABLE_ENTITY, "The request is not valid.", errors=errors)
    headers = dict(exc.headers or {})
    if exc.status_code == HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in headers:
        # Litestar's limiter says when its window resets; HTTP clients read Retry-After.
        headers["Retry-After"] = str(max(1, int(headers.get("RateLimit-Reset", "60"))))
    return problem(exc.status_code, exc.detail, headers=headers)


def is_api(path: str) -> bool:
    """Whether `path` is on the API's surface (problem details), not a page (the error page)."""
    return path.startswith(API_PATHS)


def is_fhir(path: str) -> bool:
    """Whether `path` is on the FHIR surface (OperationOutcome)."""
    return path == FHIR_PATH or path.startswith(f"{FHIR_PATH}/")


def _for_programs(
    request: Request[Any, Any, Any], details: ProblemDetailsException
) -> Response[Any] | None:
    """The answer on a program's surface: an OperationOutcome on `/fhir`, problem details on the
    API; None on pages (a person's, answered with the error page)."""
    path = request.scope["path"]
    if is_fhir(path):
        extra = details.extra if isinstance(details.extra, dict) else {}
        fields = [
            (str(error.get("field", "")), str(error.get("message", "")))
            for error in extra.get("errors", [])
            if isinstance(error, dict)
        ]
        return Response(
            operation_outcome(details.status_code, details.detail, fields),
            status_code=details.status_code,
            headers=details.headers,
            media_type=FHIR_JSON,
        )
    if is_api(path):
        return details.to_response(request)
    return None


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    details = _from_http_exception(exc, request)
    if (answer := _for_programs(request, details)) is not None:
        return answer
    if isinstance(exc, NotAuthorizedException):
        # A person, not a program: take them to sign in, and back here afterwards.
        return Redirect(f"/staff/login?next={quote(request.scope['path'])}", status_code=303)
    # Litestar's CSRF check also answers 403: that one means "reload", not "no access".
    denied = isinstance(exc, PermissionDeniedException) and "CSRF" not in exc.detail
    kind = "denied" if denied else None
    return error_page(request, details.status_code, details.headers, kind)


def day_out_of_range_handler(
    request: Request[Any, Any, Any], exc: DayOutOfRangeError
) -> Response[Any]:
    """A `date` at the calendar's very ends: the caller's mistake (422), never a 500."""
    if is_api(request.scope["path"]):
        errors = [FieldError(field="date", message=str(exc))]
        return problem(HTTP_422_UNPROCESSABLE_ENTITY, str(exc), errors=errors).to_response(request)
    return error_page(request, HTTP_422_UNPROCESSABLE_ENTITY, kind="day")


def intake_not_found_handler(
    request: Request[Any, Any, Any], _exc: IntakeNotFoundError
) -> Response[Any]:
    answer = _for_programs(request, problem(HTTP_404_NOT_FOUND, "No intake with this id."))
    return answer or error_page(request, HTTP_404_NOT_FOUND)


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The class, the place and the route only: an exception's text can quote answers or SQL.
    log.error(
        "unexpected error",
        error=type(exc).__name__,
        path=request.scope["path"],
        where=raised_at(exc),
    )
    details = (
        problem(
            HTTP_503_SERVICE_UNAVAILABLE,
            "The database is not available just now. Nothing was stored; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        if _database_unavailable(exc)
        else problem(
            HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again."
        )
    )
    answer = _for_programs(request, details)
    return answer or error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


def _database_unavailable(exc: Exception) -> bool:
    """A lost or refused connection, a locked SQLite file: worth a retry, not a bug (503)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, ConnectionError, TimeoutError))
