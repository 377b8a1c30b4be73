"""`GET /health`: is the service up, and can it reach its database."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncEngine

from service.database import database_is_up
from service.web.access import PUBLIC
from service.web.api.openapi import DocumentedOperation


class Health(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


@get(
    "/health",
    operation_id="getHealth",
    tags=["health"],
    summary="Service and database health",
    responses={
        503: ResponseSpec(
            data_container=Health, description="Database unavailable; see Retry-After"
        )
    },
    operation_class=DocumentedOperation,
    cache=False,
    opt=PUBLIC,
)
async def health(db_engine: NamedDependency[AsyncEngine]) -> Response[Health]:
    """Load balancers and monitors poll this; it touches no patient data."""
    if await database_is_up(db_engine):
        return Response(Health(status="ok", database="ok"), status_code=HTTP_200_OK)
    return Response(
        Health(status="degraded", database="unavailable"),
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )
