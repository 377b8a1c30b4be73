"""The application factory: `uvicorn --factory service.app:create_app`."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins import InitPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.database import SchemaBehindError, check_schema, sqlalchemy_config
from service.intake import IntakeNotFoundError, IntakeService, IntakeSubmissions, IntakeWriter
from service.logs import configure_logging
from service.questionnaire import QuestionnaireError
from service.queue import DayOutOfRangeError, channels_plugin, session_end_notices
from service.settings import ROOT, Settings, get_settings
from service.staff.sessions import SessionKeeper, SessionLimits
from service.summary import AreasError, LabelsError, SummaryRenderer, check_areas, check_labels
from service.triage import RuleSetError
from service.web.access import (
    PUBLIC,
    StaffAuthenticationMiddleware,
    guard,
)
from service.web.api.fhir import intake_fhir
from service.web.api.fhir_rest import FHIR_ROUTES
from service.web.api.intakes import IntakeController
from service.web.api.openapi import security_schemes, use_strict_body_schemas
from service.web.api.questionnaire import questionnaire
from service.web.api.staff import QueueController, StaffIntakeController
from service.web.api.stats import stats
from service.web.api.summaries import summary_pdf
from service.web.cookies import CookieNames
from service.web.edge import ServiceEdge
from service.web.health import health
from service.web.intake_effects import intake_effects
from service.web.origins import SameOriginMiddleware
from service.web.pages.intake_form import intake_form, submit_intake_form, thanks
from service.web.pages.staff_audit import audit_csv, audit_page
from service.web.pages.staff_dashboard import dashboard_csv, dashboard_page
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
    API_PATHS,
    FHIR_PATH,
    day_out_of_range_handler,
    http_exception_handler,
    intake_not_found_handler,
    unexpected_error_handler,
)
from service.web.proxies import ProxiedConnection
from service.web.rate_limits import rate_limit_middleware, rate_limit_stores
from service.web.static_files import StaticFolder
from service.web.submission_lane import SubmissionLane
from service.webhooks import DeliveryWorker, WorkerSettings

STATIC_DIR = ROOT / "service" / "web" / "static"
# Machine clients send no cookies and so need (and get) no CSRF token.
CSRF_EXEMPT = [*API_PATHS, f"^{FHIR_PATH}/"]

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
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
    stats,
    *FHIR_ROUTES,
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
    dashboard_page,
    dashboard_csv,
    webhooks_page,
    sessions_page,
    end_session,
    end_other_sessions,
]

log = structlog.get_logger(__name__)


class StartupError(RuntimeError):
    """The service must not start; the message says why and what to do."""


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app from `settings` (the environment's when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = Litestar(plugins=[ClinicCore(settings)], logging_config=None)
    # Around the router and the app's outermost exception handler: every answer, the router's
    # 404 and 405 and the error answers too, passes the same guards (service.web.edge). The
    # trusted-proxy rules go outside it, so the edge sees the client and scheme they decide.
    # Inside both, the ordinary intake submission is answered ahead of the router
    # (service.web.submission_lane), by the route's own code.
    lane = SubmissionLane(
        app.asgi_handler,
        app,
        _parts(app).submissions,
        rate_limit_middleware(settings),
    )
    app.asgi_handler = ProxiedConnection(
        ServiceEdge(lane), settings.trusted_proxies, behind_https=settings.behind_https
    )
    return app


def load_clinic(settings: Settings) -> Clinic:
    """The questionnaire, rule set and advice, checked; the service refuses to start without."""
    try:
        clinic = Clinic.load(settings)
        check_areas(clinic.questionnaire)
        check_labels(clinic.questionnaire)
    except (QuestionnaireError, RuleSetError, AreasError, LabelsError) as error:
        # A questionnaire or rule set that fails its checks must never triage a patient.
        log.error("refusing to start", reason=str(error))  # noqa: TRY400 - no traceback needed
        raise StartupError(str(error)) from None
    return clinic


@dataclass(frozen=True, slots=True)
class Parts:
    """What the app makes once at start and hands to handlers and lifespans (`app.state.parts`)."""

    settings: Settings
    clinic: Clinic
    db: SQLAlchemyAsyncConfig
    summaries: SummaryRenderer
    writer: IntakeWriter
    submissions: IntakeSubmissions
    channels: ChannelsPlugin
    staff_sessions: SessionKeeper

    @classmethod
    def make(cls, settings: Settings) -> Parts:
        db = sqlalchemy_config(settings)
        clinic = load_clinic(settings)
        writer = IntakeWriter(db.get_session)
        return cls(
            settings=settings,
            clinic=clinic,
            db=db,
            summaries=SummaryRenderer(
                settings.summary_dir,
                workers=settings.summary_workers,
                timeout=settings.summary_timeout_seconds,
                prerender=settings.summary_prerender,
            ),
            writer=writer,
            submissions=IntakeSubmissions(clinic, writer, db.get_session),
            channels=channels_plugin(settings),
            staff_sessions=SessionKeeper(db.get_session, SessionLimits.of(settings)),
        )

    def intakes(self, db_session: NamedDependency[AsyncSession]) -> IntakeService:
        # One dependency on the request's session: Litestar resolves the dependencies of one
        # level concurrently, a task each, which cost the busiest route more than its work.
        return IntakeService(db_session, self.clinic)


def _parts(app: Litestar) -> Parts:
    parts: Parts = app.state.parts
    return parts


@asynccontextmanager
async def database_engine(app: Litestar) -> AsyncIterator[None]:
    """The engine's connections are closed at shutdown, after every other part has used them.

    Advanced Alchemy's own lifespan closes them only for the first config a process makes: it
    numbers the state key of each later one (db_engine_1, ...) and then looks for the engine
    under the unnumbered key. An app made again in the same process (each test's) kept its
    pooled connections open until the garbage collector found them."""
    try:
        yield
    finally:
        await _parts(app).db.get_engine().dispose()


@asynccontextmanager
async def schema_guard(app: Litestar) -> AsyncIterator[None]:
    """A database that is down at start is not fatal: /health says 503 until it is back. One
    that is up but not migrated is: serving it would fail on every request."""
    try:
        await check_schema(_parts(app).db.get_engine())
    except SchemaBehindError as error:
        log.error("refusing to start", reason=str(error))  # noqa: TRY400 - no traceback needed
        raise
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("database unavailable at start; schema not checked", error=type(error).__name__)
    yield


@asynccontextmanager
async def summary_workers(app: Litestar) -> AsyncIterator[None]:
    """Render workers start with the first render (the prerender after the first intake), so
    start-up waits for nothing; shutdown stops them."""
    async with _parts(app).summaries:
        yield


@asynccontextmanager
async def intake_writer(app: Litestar) -> AsyncIterator[None]:
    """New intakes share commits (group commit); those handed over are stored before exit."""
    async with _parts(app).writer:
        yield


@asynccontextmanager
async def webhook_worker(app: Litestar) -> AsyncIterator[None]:
    """Sends the outbox's events; on PostgreSQL several processes may each run one."""
    parts = _parts(app)
    if not parts.settings.webhook_worker:
        yield
        return
    async with DeliveryWorker(parts.db.get_session, WorkerSettings.of(parts.settings)):
        yield


@asynccontextmanager
async def live_queue_and_summaries(app: Litestar) -> AsyncIterator[None]:
    """What follows each committed intake change in this process: the live queue, the PDF."""
    parts = _parts(app)
    async with intake_effects(parts.channels, parts.summaries, parts.clinic, parts.settings)(app):
        yield


@asynccontextmanager
async def session_ends(app: Litestar) -> AsyncIterator[None]:
    """Ended staff sessions close their open live-queue streams (service.queue)."""
    parts = _parts(app)
    async with session_end_notices(parts.channels, parts.settings)(app):
        yield


class ClinicCore(InitPlugin):
    """The application, one concern per function: what it serves, to whom, and how it fails."""

    __slots__ = ("settings",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        parts = Parts.make(self.settings)
        app_config.state = State({"parts": parts, "clinic": parts.clinic})
        _configure_routes(app_config)
        _configure_dependencies(app_config, parts)
        _configure_database(app_config, parts)
        _configure_access(app_config, parts)
        _configure_errors(app_config)
        _configure_templates(app_config)
        _configure_openapi(app_config, parts)
        _configure_live_queue(app_config, parts)
        app_config.stores = rate_limit_stores(self.settings)
        app_config.lifespan.extend(
            [
                database_engine,  # first in, so last out
                schema_guard,
                summary_workers,
                # Outlives the writer, whose last commits at shutdown still reach the queue.
                live_queue_and_summaries,
                intake_writer,
                webhook_worker,
                session_ends,
            ]
        )
        return app_config


def _configure_routes(app_config: AppConfig) -> None:
    app_config.route_handlers.extend(
        [
            *ROUTE_HANDLERS,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                name="static",
                opt=PUBLIC,
                file_system=StaticFolder(),
            ),
        ]
    )


def _configure_dependencies(app_config: AppConfig, parts: Parts) -> None:
    def once(value: object) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    app_config.dependencies.update(
        {
            "clinic": once(parts.clinic),
            "settings": once(parts.settings),
            "summaries": once(parts.summaries),
            "intakes": Provide(parts.intakes, sync_to_thread=False),
            # Submitting takes no session of the request's: the intake writer stores it.
            "submissions": once(parts.submissions),
            "staff_sessions": once(parts.staff_sessions),
        }
    )


def _configure_database(app_config: AppConfig, parts: Parts) -> None:
    # Appended plugins still have their own on_app_init called (Litestar walks the same list).
    app_config.plugins.append(SQLAlchemyPlugin(config=parts.db))


def _configure_access(app_config: AppConfig, parts: Parts) -> None:
    """Who may do what: same-origin writes, the two sessions, rate limits, CSRF, role guards."""
    settings = parts.settings
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
        # Only the patient's pages read it: machine clients and static files carry none.
        exclude=[*CSRF_EXEMPT, "^/static/"],
    )
    app_config.middleware.extend(
        [
            SameOriginMiddleware(public_base_url=settings.public_base_url),
            patient_session.middleware,
            DefineMiddleware(
                StaffAuthenticationMiddleware,
                db=parts.db,
                sessions=parts.staff_sessions,
                cookie=cookies.staff_session,
            ),
            *rate_limit_middleware(settings),
        ]
    )
    app_config.csrf_config = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=cookies.csrf,
        cookie_secure=settings.behind_https,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=CSRF_EXEMPT,
    )
    app_config.guards.append(guard)


def _configure_errors(app_config: AppConfig) -> None:
    # One handler per kind of error, each answering by the request's surface (API: problem
    # details; pages: the error page). No ProblemDetailsPlugin: the handler it adds for
    # ProblemDetailsException (raised by code both surfaces share) would win over these,
    # being for the more specific class, and answer pages in JSON.
    app_config.exception_handlers.update(
        {
            HTTPException: http_exception_handler,
            DayOutOfRangeError: day_out_of_range_handler,
            IntakeNotFoundError: intake_not_found_handler,
            Exception: unexpected_error_handler,
        }
    )


def _configure_templates(app_config: AppConfig) -> None:
    def configure_jinja(engine: JinjaTemplateEngine) -> None:
        engine.engine.autoescape = True
        engine.engine.trim_blocks = True
        engine.engine.lstrip_blocks = True

    app_config.template_config = TemplateConfig(
        directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=configure_jinja
    )


def _configure_openapi(app_config: AppConfig, parts: Parts) -> None:
    cookies = CookieNames.of(behind_https=parts.settings.behind_https)
    app_config.openapi_config = OpenAPIConfig(
        title="Clinic intake service",
        version="1.0.0",
        description="Pre-consultation intake, red-flag triage and the reception queue.",
        # The JSON document only: the documentation UIs would load scripts from a CDN.
        render_plugins=[JsonRenderPlugin()],
        openapi_router=Router(
            path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False
        ),
        components=Components(security_schemes=security_schemes(cookies.staff_session)),
    )
    use_strict_body_schemas(app_config.plugins)


def _configure_live_queue(app_config: AppConfig, parts: Parts) -> None:
    app_config.plugins.append(parts.channels)
