"""Every route, every path and query parameter, extreme values, every caller who may call it:
never a 500, never a stack trace.

The routes and their parameters come from the app itself (each route's handlers and the query
and path parameters Litestar reads for them), so a new route or parameter is driven without
editing this test. First each parameter gets each extreme value (the calendar's ends, huge
numbers, long strings, control characters, other scripts, nothing at all), then hypothesis mixes
them with generated ones. Runs the app in-process on this test's own database.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient, TestClient
from sqlalchemy.engine import URL

from service.app import create_app
from service.web.access import allowed_roles
from tests.patients import intake_body
from tests.staff.support import Caller, callers
from tests.staff.test_access_matrix import CALLER_ROLES

EXTREMES = [
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "10000-01-01",
    "2026-02-30",
    "-1",
    "0",
    str(2**63),
    "9" * 400,
    "1e309",
    "NaN",
    "",
    " ",
    ",",
    "new,,called",
    "x" * 5000,
    "\x00",
    "a\x1bb\x7f\x85",
    "\ufffe\uffff",
    "ക്ഷ്മ 😀 \u202eevil",
    "%00%0d%0a",
    "../../etc/passwd",
    "null",
    "[]",
]
UUIDS = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "not-a-uuid",
    "0" * 400,
]
# Characters httpx can send: any but lone surrogates, which UTF-8 cannot encode.
SENDABLE = st.characters(exclude_categories=("Cs",))
VALUES = st.one_of(
    st.sampled_from(EXTREMES),
    st.text(SENDABLE, max_size=300),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.dates().map(lambda day: day.isoformat()),
)
# The session ends with this route: it runs last, so every other route has a signed-in caller.
LAST = ("POST", "/staff/logout")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[tuple[str, bool], ...]  # (name sent, whether it may repeat)
    path_parameters: tuple[tuple[str, str], ...]  # (name, type) as in the route's path
    callers: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def varies(self) -> bool:
        """Whether it has any parameter to vary."""
        return bool(self.query or self.path_parameters)


def operations(app: Litestar) -> list[Operation]:
    """Every method of every route, with the parameters Litestar reads for it."""
    found = []
    for route in app.routes:
        assert isinstance(route, HTTPRoute), f"a route this test cannot drive: {route.path}"
        for method, (handler, kwargs_model) in route.route_handler_map.items():
            if method in {"HEAD", "OPTIONS"}:
                continue
            declared = allowed_roles(handler)
            assert declared is not None, f"{method} {route.path} declares no access"
            allowed = tuple(
                name
                for name, role in CALLER_ROLES.items()
                if declared == "public" or (role is not None and role in declared)
            )
            found.append(
                Operation(
                    method=method,
                    path=route.path,
                    query=tuple(
                        sorted(
                            (p.field_alias, p.is_sequence)
                            for p in kwargs_model.expected_query_params
                        )
                    ),
                    path_parameters=_path_parameters(route.path, kwargs_model.expected_path_params),
                    callers=allowed,
                )
            )
    unreachable = [f"{op.method} {op.path}" for op in found if not op.callers]
    assert not unreachable, f"routes no caller of this test may call: {unreachable}"
    return sorted(found, key=lambda op: (op.key == LAST, op.path, op.method))


def _path_parameters(path: str, expected: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """(name, type) of each `{name:type}` in the path: all the parameters Litestar reads."""
    found = tuple(re.findall(r"\{(\w+):(\w+)\}", path))
    assert {name for name, _ in found} == {p.field_name for p in expected}, path
    return found


def url_of(operation: Operation, values: dict[str, str]) -> str:
    path = operation.path
    for name, kind in operation.path_parameters:
        path = path.replace(f"{{{name}:{kind}}}", quote(values[name], safe=""))
    return path


class Driver:
    """Sends one request as one caller and checks the answer."""

    def __init__(self, client: TestClient[Litestar], who: dict[str, Caller]) -> None:
        self.client = client
        self.who = who
        self.sent: dict[tuple[str, str], int] = {}

    def send(
        self, operation: Operation, caller: str, path: dict[str, str], query: dict[str, object]
    ) -> None:
        person = self.who[caller]
        self.client.cookies = httpx.Cookies(person.cookies)
        body: dict[str, object] = (
            {"json": {}}
            if operation.path.startswith("/api/")
            else {"data": {"_csrf_token": person.csrf}}
        )
        response = self.client.request(
            operation.method,
            url_of(operation, path),
            params=query,  # type: ignore[arg-type]
            headers=person.headers(),
            follow_redirects=False,
            **(body if operation.method == "POST" else {}),  # type: ignore[arg-type]
        )
        seen = f"{caller} {operation.method} {response.request.url} -> {response.status_code}"
        assert response.status_code < 500, f"{seen}: {response.text[:500]}"
        assert "Traceback" not in response.text, seen
        assert 'File "' not in response.text, seen
        self.sent[operation.key] = self.sent.get(operation.key, 0) + 1


def _sweep(
    operation: Operation, intake_id: str
) -> Iterator[tuple[dict[str, str], dict[str, object]]]:
    """Each path value with the others ordinary; each query parameter with each extreme value."""
    ordinary = {
        name: intake_id if kind == "uuid" else "screen.css"
        for name, kind in operation.path_parameters
    }
    yield ordinary, {}
    for name, kind in operation.path_parameters:
        for value in UUIDS + EXTREMES if kind == "uuid" else EXTREMES:
            yield {**ordinary, name: value}, {}
    for name, repeats in operation.query:
        for value in EXTREMES:
            yield ordinary, {name: [value, value] if repeats else value}


def _examples(
    operation: Operation, intake_id: str
) -> st.SearchStrategy[tuple[str, dict[str, str], dict[str, object]]]:
    path = st.fixed_dictionaries(
        {
            name: (st.sampled_from([intake_id, *UUIDS]) | st.uuids().map(str) | VALUES)
            if kind == "uuid"
            else VALUES
            for name, kind in operation.path_parameters
        }
    )
    query = st.fixed_dictionaries(
        {},
        optional={
            name: st.lists(VALUES, max_size=3) if repeats else VALUES
            for name, repeats in operation.query
        },
    )
    return st.tuples(st.sampled_from(operation.callers), path, query)


def _explore(driver: Driver, operation: Operation, intake_id: str) -> None:
    """Generated mixes of values and callers for one operation, the same ones on every run."""

    @settings(
        max_examples=15,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(example=_examples(operation, intake_id))
    def explore(example: tuple[str, dict[str, str], dict[str, object]]) -> None:
        caller, path, query = example
        driver.send(operation, caller, path, query)

    explore()


@pytest.mark.database
def test_no_route_answers_500_to_extreme_parameters(app: Litestar, database_url: URL) -> None:
    async def prepare() -> tuple[dict[str, Caller], str]:
        # A second app on the same database signs everyone in (the helpers are async).
        async with AsyncTestClient(app=create_app()) as setup:
            who = await callers(setup, database_url)
            created = await setup.post("/api/v1/intakes", json=intake_body(chest_pain=True))
            return who, str(UUID(created.json()["id"]))

    who, intake_id = asyncio.run(prepare())
    found = operations(app)
    assert len(found) >= 25, [f"{op.method} {op.path}" for op in found]
    with TestClient(app=app) as client:
        driver = Driver(client, who)
        for operation in found:
            turns = itertools.cycle(operation.callers)
            for path, query in _sweep(operation, intake_id):
                driver.send(operation, next(turns), path, query)
            if operation.varies and operation.key != LAST:
                _explore(driver, operation, intake_id)
    skipped = [f"{op.method} {op.path}" for op in found if op.key not in driver.sent]
    assert not skipped, f"routes never driven: {skipped}"
