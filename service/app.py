"""The application factory: `uvicorn --factory service.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar
from litestar.openapi.config import OpenAPIConfig
from sqlalchemy.exc import SQLAlchemyError

from service.database import SchemaBehindError, check_schema, sqlalchemy_config
from service.logs import configure_logging
from service.settings import Settings, get_settings
from service.web.health import health

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app from `settings` (the environment's when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    db = sqlalchemy_config(settings)

    @asynccontextmanager
    async def schema_guard(_app: Litestar) -> AsyncIterator[None]:
        # A database that is down at start is not fatal: /health says 503 until it is back.
        # One that is up but not migrated is: serving it would fail on every request.
        try:
            await check_schema(db.get_engine())
        except SchemaBehindError as error:
            log.error("refusing to start", reason=str(error))  # noqa: TRY400 - no traceback needed
            raise
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            log.warning(
                "database unavailable at start; schema not checked", error=type(error).__name__
            )
        yield

    return Litestar(
        route_handlers=[health],
        plugins=[SQLAlchemyPlugin(config=db)],
        lifespan=[schema_guard],
        openapi_config=OpenAPIConfig(
            title="Clinic intake service",
            version="1.0.0",
            description="Pre-consultation intake, red-flag triage and the reception queue.",
        ),
        logging_config=None,
    )
