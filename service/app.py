"""The application factory: `uvicorn --factory service.app:create_app`."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import SchemaBehindError, check_schema, sqlalchemy_config
from service.intake import Clinic, IntakeNotFoundError, IntakeService, IntakeWriter
from service.logs import configure_logging
from service.questionnaire import QuestionnaireError
from service.queue.listing import DayOutOfRangeError
from service.queue.live import channels_plugin, session_end_notices
from service.settings import ROOT, Settings, get_settings
from service.staff.sessions import SessionKeeper, SessionLimits
from service.summary import AreasError, LabelsError, SummaryRenderer, check_areas, check_labels
from service.triage import RuleSetError
from service.web.access import (
    PUBLIC,
    StaffAuthenticationMiddleware,
    check_access,
    check_session_csrf,
)
from service.web.api.fhir import intake_fhir
from service.web.api.intakes import IntakeController
from service.web.api.openapi import StrictBodySchemaPlugin, security_schemes
from service.web.api.questionnaire import questionnaire
from service.web.api.staff import QueueController, StaffIntakeController
from service.web.api.summaries import summary_pdf
from service.web.cookies import CookieNames
from service.web.edge import ServiceEdge
from service.web.health import health
from service.web.intake_effects import intake_effects
from service.web.origins import SameOriginMiddleware
from service.web.pages.intake_form import intake_form, submit_intake_form, thanks
from service.web.pages.staff_audit import audit_csv, audit_page
from service.web.pages.staff_intake import intake_page, override_form
from service.web.pages.staff_login import login, login_form, logout
from service.web.pages.staff_queue import (
    acknowledge_form,
    queue_events,
    queue_page,
    queue_rows,
    status_form,
)
from service.web.pages.staff_sessions import end_other_sessions, end_session, sessions_page
from service.web.pages.staff_webhooks import webhooks_page
from service.web.problems import (
    day_out_of_range_handler,
    http_exception_handler,
    intake_not_found_handler,
    unexpected_error_handler,
)
from service.web.proxies import ProxiedConnection
from service.web.rate_limits import rate_limit_middleware, rate_limit_stores
from service.web.static_files import StaticFolder
from service.webhooks.worker import DeliveryWorker, WorkerSettings

STATIC_DIR = ROOT / "service" / "web" / "static"
# Machine clients send no cookies and so need (and get) no CSRF token.
CSRF_EXEMPT = ["/api/", "/health", "/schema"]

log = structlog.get_logger(__name__)


class StartupError(RuntimeError):
    """The service must not start; the message says why and what to do."""


def _configure_jinja(engine: JinjaTemplateEngine) -> None:
    engine.engine.autoescape = True
    engine.engine.trim_blocks = True
    engine.engine.lstrip_blocks = True


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app from `settings` (the environment's when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    try:
        clinic = Clinic.load(settings)
        check_areas(clinic.questionnaire)
        check_labels(clinic.questionnaire)
    except (QuestionnaireError, RuleSetError, AreasError, LabelsError) as error:
        # A questionnaire or rule set that fails its checks must never triage a patient.
        log.error("refusing to start", reason=str(error))  # noqa: TRY400 - no traceback needed
        raise StartupError(str(error)) from None
    db = sqlalchemy_config(settings)

    summaries = SummaryRenderer(
        settings.summary_dir,
        workers=settings.summary_workers,
        timeout=settings.summary_timeout_seconds,
        prerender=settings.summary_prerender,
    )

    @asynccontextmanager
    async def summary_workers(_app: Litestar) -> AsyncIterator[None]:
        # Workers start with the first render (the prerender after the first intake), so
        # start-up waits for nothing; shutdown stops them.
        async with summaries:
            yield

    writer = IntakeWriter(db.get_session)
    channels = channels_plugin(settings)

    def intakes(db_session: NamedDependency[AsyncSession]) -> IntakeService:
        # One dependency on the request's session: Litestar resolves the dependencies of one
        # level concurrently, a task each, which cost the busiest route more than its work.
        return IntakeService(db_session, clinic, writer)

    @asynccontextmanager
    async def intake_writer(_app: Litestar) -> AsyncIterator[None]:
        # New intakes share commits (group commit); those handed over are stored before exit.
        async with writer:
            yield

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

    @asynccontextmanager
    async def webhook_worker(_app: Litestar) -> AsyncIterator[None]:
        # Sends the outbox's events; on PostgreSQL several processes may each run one.
        if not settings.webhook_worker:
            yield
            return
        async with DeliveryWorker(db.get_session, WorkerSettings.of(settings)):
            yield

    cookies = CookieNames.of(behind_https=settings.behind_https)
    # Staff sessions live in the database; this signed cookie only remembers a patient's own
    # recent intakes for the thanks page, in the patient's browser.
    patient_session = CookieBackendConfig(
        secret=hashlib.sha256(f"session:{settings.secret_key}".encode()).digest(),
        key=cookies.patient_session,
        httponly=True,
        samesite="lax",
        secure=settings.behind_https,
        max_age=12 * 3600,
    )
    staff_sessions = SessionKeeper(db.get_session, SessionLimits.of(settings))
    app = Litestar(
        route_handlers=[
            health,
            questionnaire,
            IntakeController,
            intake_form,
            submit_intake_form,
            thanks,
            QueueController,
            StaffIntakeController,
            summary_pdf,
            intake_fhir,
            login_form,
            login,
            logout,
            queue_page,
            queue_rows,
            queue_events,
            status_form,
            acknowledge_form,
            intake_page,
            override_form,
            audit_page,
            audit_csv,
            webhooks_page,
            sessions_page,
            end_session,
            end_other_sessions,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                name="static",
                opt=PUBLIC,
                file_system=StaticFolder(),
            ),
        ],
        guards=[check_access, check_session_csrf],
        dependencies={
            "clinic": Provide(lambda: clinic, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "summaries": Provide(lambda: summaries, use_cache=True, sync_to_thread=False),
            "intakes": Provide(intakes, sync_to_thread=False),
            "staff_sessions": Provide(lambda: staff_sessions, use_cache=True, sync_to_thread=False),
        },
        state=State({"clinic": clinic}),
        stores=rate_limit_stores(settings),
        plugins=[
            SQLAlchemyPlugin(config=db),
            ProblemDetailsPlugin(ProblemDetailsConfig()),
            StrictBodySchemaPlugin(),
            channels,
        ],
        middleware=[
            SameOriginMiddleware(public_base_url=settings.public_base_url),
            patient_session.middleware,
            DefineMiddleware(
                StaffAuthenticationMiddleware,
                db=db,
                sessions=staff_sessions,
                cookie=cookies.staff_session,
            ),
            *rate_limit_middleware(settings),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name=cookies.csrf,
            cookie_secure=settings.behind_https,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=CSRF_EXEMPT,
        ),
        template_config=TemplateConfig(
            directory=ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_configure_jinja,
        ),
        exception_handlers={
            HTTPException: http_exception_handler,
            DayOutOfRangeError: day_out_of_range_handler,
            IntakeNotFoundError: intake_not_found_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=[
            schema_guard,
            summary_workers,
            # Outlives the writer, whose last commits at shutdown still reach the queue.
            intake_effects(channels, summaries, clinic, settings),
            intake_writer,
            webhook_worker,
            session_end_notices(channels, settings),
        ],
        openapi_config=OpenAPIConfig(
            title="Clinic intake service",
            version="1.0.0",
            description="Pre-consultation intake, red-flag triage and the reception queue.",
            # The JSON document only: the documentation UIs would load scripts from a CDN.
            render_plugins=[JsonRenderPlugin()],
            openapi_router=Router(
                path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False
            ),
            components=Components(security_schemes=security_schemes(cookies.staff_session)),
        ),
        logging_config=None,
    )
    # Around the router and the app's outermost exception handler: every answer, the router's
    # 404 and 405 and the error answers too, passes the same guards (service.web.edge). The
    # trusted-proxy rules go outside it, so the edge sees the client and scheme they decide.
    app.asgi_handler = ProxiedConnection(
        ServiceEdge(app.asgi_handler), settings.trusted_proxies, behind_https=settings.behind_https
    )
    return app
