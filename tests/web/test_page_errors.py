"""One error path per surface: pages answer every error with the HTML error page, the API with
problem details. Every route of the app's route table is walked, so a new route is covered.

Each route gets an unknown id in each id of its path, a bad value in each query parameter it
declares, a caller whose role it refuses, a caller not signed in and a method it does not answer.
A route none of these reaches must be listed in `NOTHING_TO_VARY`, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import httpx
import pytest
from litestar import Litestar, get
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.staff import Role
from service.web.access import PUBLIC
from service.web.edge import STATIC_PREFIX
from service.web.problems import is_api, is_fhir
from tests.patients import intake_body
from tests.reliability.test_headers import check_headers
from tests.reliability.test_route_parameters import Operation, operations
from tests.staff.support import Caller, Client, as_caller, callers

UNKNOWN_UUID = "0f0e0d0c-0b0a-4908-8706-050403020100"
# A value of each path parameter's type that names nothing, and one not of its type.
UNKNOWN_IN_PATH = {
    "uuid": [UNKNOWN_UUID, "not-a-uuid"],
    "path": ["no-such-file.css"],
    # A `.json` name: Litestar's OpenAPI router answers other unknown names there with its own
    # HTML 404 page, a response rather than an error (left as it is).
    "str": ["no-such-document.json"],
}
# Each query parameter a route declares, by the name sent: values it must refuse, and the status.
BAD_QUERY = {
    "date": [("2026-02-30", 422), ("yesterday", 422), ("0001-01-01", 422)],
    "status": [("x", 422)],
    # The dashboard's range: a default of 30 days from the other end must fit the calendar.
    "from": [("2026-02-30", 422), ("yesterday", 422), ("9999-12-31", 422)],
    "to": [("2026-02-30", 422), ("yesterday", 422), ("0001-01-01", 422)],
}
# Query parameters with no value to refuse: any value gives an ordinary answer.
LENIENT_QUERY = {
    "url": "any canonical URL: one not served finds nothing (an empty searchset)",
    "lang": "an unknown language falls back to the visit's or the browser's",
    "next": "a place to go after sign-in that is not ours is replaced by the queue",
}
# Routes none of the cases reaches (no id, no query, no refused role), and why. Each still
# gets the 405 of `test_every_path_answers_405_in_its_surfaces_form`.
NOTHING_TO_VARY = {
    ("GET", "/health"): "public, no parameters",
    ("GET", "/schema"): "public, no parameters",
    ("GET", "/schema/openapi.json"): "public, no parameters",
    ("POST", "/api/v1/intakes"): "public; its body's errors are tests/api's",
    ("POST", "/"): "public; the form's errors are shown on the form (tests/web/test_intake_form)",
    ("GET", "/thanks"): "public, no parameters",
    ("POST", "/staff/login"): "public; wrong credentials are tests/staff/test_sign_in's",
    ("GET", "/"): "public; its one query parameter, lang, is lenient",
    ("GET", "/api/v1/questionnaire"): "public; its one query parameter, lang, is lenient",
    ("GET", "/fhir/metadata"): "public, no parameters",
    ("GET", "/fhir/Questionnaire"): "public; its query parameters, url and lang, are lenient",
    ("GET", "/fhir/CodeSystem"): "public; its one query parameter, url, is lenient",
    ("GET", "/fhir/StructureDefinition"): "public; its one query parameter, url, is lenient",
    ("POST", "/fhir/QuestionnaireResponse"): "public; its body's errors are tests/fhir's",
    ("GET", "/staff/login"): "public; its one query parameter, next, is lenient",
}
# Bodies the API accepts, so that an unknown id is what it answers (a body is read first).
API_BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/intakes/{intake_id:uuid}/priority"): {"priority": "urgent", "reason": "x"},
    ("POST", "/api/v1/intakes/{intake_id:uuid}/status"): {"status": "called"},
}
MARKER = 'data-error="{status}"'
PATIENT_TEXT = ("Test Patient", "98765 43210")


@dataclass(frozen=True)
class Case:
    method: str
    url: str
    caller: str
    status: int
    why: str
    query: tuple[tuple[str, str], ...] = ()
    body: tuple[tuple[str, str], ...] = ()


def surface_of(path: str) -> str:
    """Programs' surfaces: `fhir` (OperationOutcome), `api` (problem details); else `page`."""
    return "fhir" if is_fhir(path) else "api" if is_api(path) else "page"


def check_error(response: httpx.Response, case: Case, *, surface: str) -> None:
    """The surface's form, the case's status, the edge's headers, and no patient's data."""
    seen = f"{case.caller} {case.method} {response.request.url} ({case.why})"
    seen += f" -> {response.status_code} {response.headers.get('content-type')}"
    assert response.status_code == case.status, f"{seen}: {response.text[:300]}"
    if case.status == HTTP_303_SEE_OTHER:
        assert response.headers["location"].startswith("/staff/login?next="), seen
        return
    content_type = response.headers.get("content-type", "")
    if surface == "api":
        assert content_type.startswith("application/problem+json"), seen
        assert response.json()["status"] == case.status, seen
    elif surface == "fhir":
        assert content_type.startswith("application/fhir+json"), seen
        assert response.json()["resourceType"] == "OperationOutcome", seen
    else:
        assert content_type.startswith("text/html"), f"{seen}: {response.text[:300]}"
        assert MARKER.format(status=case.status) in response.text, seen
    static = response.request.url.path.startswith(STATIC_PREFIX)
    check_headers(dict(response.headers), behind_https=False, outcome=seen, static=static)
    assert response.headers.get("x-request-id"), seen
    for text in PATIENT_TEXT:
        assert text not in response.text, seen
    assert "Traceback" not in response.text, seen


def _url(operation: Operation, values: dict[str, str]) -> str:
    path = operation.path
    for name, kind in operation.path_parameters:
        path = path.replace(f"{{{name}:{kind}}}", values.get(name, ""))
    return path


def _signed_in(operation: Operation, *, api: bool) -> list[str]:
    """The callers a route admits, signed in as people (pages) or programs (the API)."""
    people = [name for name in operation.callers if name in {role.value for role in Role}]
    programs = [name for name in operation.callers if name.endswith("-token")]
    anyone = ["anonymous"] if "anonymous" in operation.callers else []
    return anyone + (programs if api else people)


def cases(operation: Operation, intake_id: str) -> Iterator[Case]:
    """The error cases of one route: unknown ids, bad query values, refused roles, no sign-in."""
    api = surface_of(operation.path) != "page"  # a program's surface
    caller = _signed_in(operation, api=api)[0]
    ordinary = {
        name: intake_id if kind == "uuid" else "screen.css"
        for name, kind in operation.path_parameters
    }
    body: tuple[tuple[str, str], ...] = ()
    if api and operation.method == "POST" and operation.path_parameters:
        assert operation.key in API_BODIES, f"{operation.key}: no accepted body in API_BODIES"
        body = tuple(API_BODIES[operation.key].items())
    for name, kind in operation.path_parameters:
        for value in UNKNOWN_IN_PATH[kind]:
            url = _url(operation, {**ordinary, name: value})
            yield Case(operation.method, url, caller, 404, f"unknown {name}", body=body)
    for name, _repeats in operation.query:
        if name in LENIENT_QUERY:
            continue
        assert name in BAD_QUERY, f"{operation.key}: no bad value for `{name}` in BAD_QUERY"
        for value, status in BAD_QUERY[name]:
            url = _url(operation, ordinary)
            yield Case(operation.method, url, caller, status, f"{name}={value}", ((name, value),))
    if "anonymous" not in operation.callers:
        refused = [role for role in Role if role.value not in operation.callers]
        for role in refused:
            name = f"{role}-token" if api else role.value
            yield Case(operation.method, _url(operation, ordinary), name, 403, "role refused")
        # A person not signed in is taken to sign in (and back): a program is told 401.
        status = 401 if api else 303
        yield Case(operation.method, _url(operation, ordinary), "anonymous", status, "no sign-in")


async def _send(client: Client, caller: Caller, case: Case) -> httpx.Response:
    body: dict[str, object] = {}
    if case.method == "POST":
        form = {"_csrf_token": caller.csrf}
        body = {"json": dict(case.body)} if surface_of(case.url) != "page" else {"data": form}
    return await as_caller(client, caller, case.method, case.url, params=dict(case.query), **body)


async def test_every_route_answers_its_errors_in_its_surfaces_form(
    app: Litestar, client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    created = await client.post("/api/v1/intakes", json=intake_body())
    intake_id = str(UUID(created.json()["id"]))
    found = operations(app)
    pages = {op.key for op in found if surface_of(op.path) == "page"}
    assert {
        ("GET", "/"),
        ("GET", "/staff/queue"),
        ("GET", "/staff/intakes/{intake_id:uuid}"),
    } <= pages
    assert not {("GET", "/api/v1/queue"), ("GET", "/health"), ("GET", "/schema")} & pages
    exercised: set[tuple[str, str]] = set()
    failures = []
    for operation in found:
        for case in cases(operation, intake_id):
            response = await _send(client, who[case.caller], case)
            try:
                check_error(response, case, surface=surface_of(operation.path))
            except AssertionError as failure:  # all of them at once: one reading of the list
                failures.append(str(failure).splitlines()[0])
            exercised.add(operation.key)
    assert not failures, "\n".join(failures)
    unlisted = sorted({op.key for op in found} - exercised - set(NOTHING_TO_VARY))
    assert not unlisted, f"routes no error case reached, not in NOTHING_TO_VARY: {unlisted}"
    stale = sorted(set(NOTHING_TO_VARY) & exercised)
    assert not stale, f"routes in NOTHING_TO_VARY that the cases reach: {stale}"


@pytest.mark.parametrize(
    ("path", "surface"),
    [
        ("/staff/no-such-page", "page"),
        ("/no-such-page", "page"),
        ("/staff/intakes", "page"),
        ("/api/v1/no-such-thing", "api"),
        ("/api/v1/intakes/not-a-uuid/fhir", "api"),
        ("/fhir/Patient/123", "fhir"),
        ("/fhir", "fhir"),
    ],
)
async def test_unknown_paths_answer_404_in_their_surfaces_form(
    client: Client, path: str, surface: str
) -> None:
    assert surface_of(path) == surface
    case = Case("GET", path, "anonymous", 404, "no such route")
    check_error(await client.get(path, follow_redirects=False), case, surface=surface)


async def test_every_path_answers_405_in_its_surfaces_form(app: Litestar, client: Client) -> None:
    paths = {op.path: op for op in operations(app)}
    for path, operation in paths.items():
        url = _url(operation, {name: UNKNOWN_UUID for name, _kind in operation.path_parameters})
        case = Case("PUT", url, "anonymous", 405, "method not answered")
        check_error(await client.put(url, follow_redirects=False), case, surface=surface_of(path))


@get("/staff/broken-page", include_in_schema=False, opt=PUBLIC, sync_to_thread=False)
def _broken_page() -> str:
    raise RuntimeError("a bug, whose text must not reach anyone: Test Patient")


@get("/api/v1/broken", include_in_schema=False, opt=PUBLIC, sync_to_thread=False)
def _broken_api() -> str:
    raise RuntimeError("a bug, whose text must not reach anyone: Test Patient")


@get("/fhir/Broken", include_in_schema=False, opt=PUBLIC, sync_to_thread=False)
def _broken_fhir() -> str:
    raise RuntimeError("a bug, whose text must not reach anyone: Test Patient")


@pytest.mark.parametrize("path", ["/staff/broken-page", "/api/v1/broken", "/fhir/Broken"])
async def test_a_bug_answers_500_in_its_surfaces_form(app: Litestar, path: str) -> None:
    app.register(_broken_page)
    app.register(_broken_api)
    app.register(_broken_fhir)
    async with AsyncTestClient(app=app) as client:
        response = await client.get(path)
    check_error(response, Case("GET", path, "anonymous", 500, "a bug"), surface=surface_of(path))
    assert "a bug" not in response.text
