"""What the OpenAPI schema says beyond the handlers' types: credentials, errors, headers.

Handlers declare who may call them (`opt`) and which errors they answer; this module turns
both into the schema's words, so `/schema/openapi.json` matches what the server does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.typing import FieldDefinition

from service.staff import Role
from service.web.access import ANONYMOUS, PUBLIC, staff
from service.web.problems import MEDIA_TYPE, Problem

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

BEARER = "apiToken"
SESSION = "staffSession"


def security_schemes(session_cookie: str) -> dict[str, SecurityScheme | Reference]:
    """The two kinds of credentials; the cookie's name is `__Host-` prefixed behind HTTPS."""
    return {
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            description="An API token from `python -m service tokens create NAME --role ROLE`.",
        ),
        SESSION: SecurityScheme(
            type="apiKey",
            name=session_cookie,
            security_scheme_in="cookie",
            description="The session cookie a staff member gets by signing in on /staff/login.",
        ),
    }


# What each error means on this API; a handler may say it in its own words instead.
_MEANINGS = {
    400: "The request could not be read (for example, a body that is not JSON)",
    401: "No credentials: sign in, or send `Authorization: Bearer <token>`",
    403: "The caller's role may not do this",
    404: "No intake with this id",
    409: "Conflict with the intake's current state",
    413: "The body is over the size limit",
    415: "The body is not application/json",
    422: "Parameters or body that need attention: one `errors` entry per field",
    429: "Too many requests from this address; see Retry-After",
    503: "The database is not available just now; see Retry-After",
}
RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
    description="Seconds to wait before trying again",
    required=True,
)
ETAG = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING),
    description="Strong validator of this revision; send it back in If-None-Match",
    required=True,
)
# Headers that error and empty answers carry (handlers document their success headers).
_HEADERS_BY_STATUS = {"304": {"ETag": ETAG}, "429": {"Retry-After": RETRY_AFTER}}


def staff_security(*roles: Role) -> list[SecurityRequirement]:
    """Either credential; the list names the roles that may call (OpenAPI 3.1 allows role names)."""
    names = sorted(role.value for role in roles)
    return [{BEARER: names}, {SESSION: names}]


def problems(*statuses: int, described: Mapping[int, str] | None = None) -> dict[int, ResponseSpec]:
    """Problem-details responses for `statuses`, described in the route's own words if given."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=(described or {}).get(status)
            or _MEANINGS.get(status)
            or HTTPStatus(status).phrase,
            media_type=MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


@dataclass
class DocumentedOperation(Operation):
    """An operation whose 429 and 503 answers document Retry-After, and 304 answers the ETag."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            headers = dict(_HEADERS_BY_STATUS.get(status, {}))
            if status == "503":
                headers["Retry-After"] = RETRY_AFTER
            if headers and isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), **headers}


def public_operation(
    *errors: int, described: Mapping[int, str] | None = None, opt: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Handler keywords for a route anyone may call, with the errors it answers. Nothing in
    the public API depends on who calls, so the caller is not looked up."""
    return {
        "opt": {**PUBLIC, ANONYMOUS: True, **(opt or {})},
        "responses": problems(*errors, described=described),
        "operation_class": DocumentedOperation,
    }


def staff_operation(
    roles: Iterable[Role], *errors: int, described: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """Handler keywords for a staff route: access (`opt`), its credentials in the schema, its
    errors, always with 401 (no credentials), 403 (wrong role) and 503 (database down)."""
    allowed = tuple(roles)
    return {
        "opt": staff(*allowed),
        "security": staff_security(*allowed),
        "responses": problems(401, 403, *errors, 503, described=described),
        "operation_class": DocumentedOperation,
    }


class StrictBodySchemaPlugin(StructSchemaPlugin):
    """A body that refuses unknown fields says so: `additionalProperties: false`.

    Litestar documents every msgspec struct as open; the server answers 422 to an unknown field
    of a `forbid_unknown_fields` struct, and the schema must tell clients that beforehand.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            getattr(field_definition.type_, "__struct_config__", None)
            and field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


def use_strict_body_schemas(plugins: list[Any]) -> None:
    """Put `StrictBodySchemaPlugin` just before Litestar's own struct schema plugin: schema
    plugins are asked in order, and the strict one answers only for the bodies that refuse
    unknown fields. Litestar appends its schema plugins after the app's, so the insert lands
    after the init plugin that calls this, in the list Litestar is still walking."""
    for index, plugin in enumerate(plugins):
        if type(plugin) is StructSchemaPlugin:
            plugins.insert(index, StrictBodySchemaPlugin())
            return
    raise RuntimeError("Litestar's struct schema plugin was not found")
