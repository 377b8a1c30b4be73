"""The roles of shared/contract.md, pinned: a route's declared access must match the contract.

tests/staff/test_access_matrix.py checks that each route answers as it *declares*; this test
checks that what the contract's routes declare is what the contract says.
"""

from __future__ import annotations

from litestar import Litestar

from service.staff import Role
from service.web.access import allowed_roles
from tests.staff.test_access_matrix import routes

ANYONE = "public"
CONTRACT: dict[tuple[str, str], object] = {
    ("GET", "/"): ANYONE,
    ("GET", "/api/v1/questionnaire"): ANYONE,
    ("POST", "/api/v1/intakes"): ANYONE,
    ("GET", "/health"): ANYONE,
    ("GET", "/api/v1/queue"): {Role.RECEPTION, Role.DOCTOR, Role.ADMIN},
    ("GET", "/api/v1/intakes/{intake_id:uuid}"): {Role.DOCTOR},
    ("GET", "/api/v1/intakes/{intake_id:uuid}/summary.pdf"): {Role.DOCTOR},
    ("POST", "/api/v1/intakes/{intake_id:uuid}/status"): {Role.RECEPTION, Role.DOCTOR},
    ("POST", "/api/v1/intakes/{intake_id:uuid}/priority"): {Role.DOCTOR},
    ("GET", "/api/v1/intakes/{intake_id:uuid}/fhir"): {Role.DOCTOR, Role.ADMIN},
}


def test_the_contracts_routes_declare_the_contracts_roles(app: Litestar) -> None:
    declared = {
        (method, path): allowed_roles(handler)  # type: ignore[arg-type]
        for method, path, handler in routes(app)
    }
    for route, roles in CONTRACT.items():
        assert route in declared, f"{route} is missing"
        found = declared[route]
        assert (found if found == ANYONE else set(found or ())) == roles, route
