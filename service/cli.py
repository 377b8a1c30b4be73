"""Command line: the server, staff accounts, tokens, maintenance. Bad input: one line, exit 1."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.backup import BackupError, backup_sqlite
from service.clinic import Clinic
from service.database import SchemaBehindError, check_schema, sqlalchemy_config
from service.intake import IntakeService
from service.intake.retriage import RetriageReport, count_open
from service.questionnaire import QuestionnaireError, load_questionnaire
from service.retention import (
    RetentionError,
    erase_intake,
    normalised_reference,
    purge_intakes,
    sweep_summaries,
)
from service.settings import SettingsError, get_settings
from service.staff import (
    AccountError,
    Role,
    create_token,
    create_user,
    disable_user,
    reset_password,
    revoke_token,
    sign_out_everywhere,
)
from service.summary import SummaryCache
from service.triage import RuleSetError, check_rule_file
from service.webhooks import (
    DeliveryStatus,
    WebhookAdminError,
    add_endpoint,
    disable_endpoint,
    list_endpoints,
    recent_deliveries,
    requeue_dead_deliveries,
    requeue_delivery,
)

T = TypeVar("T")
# _LAZY: the server (uvicorn and the app) is imported by `serve` only, so that the other
# commands (accounts, tokens, webhooks: scripted, run often) start faster.


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` on a migrated database and commit; failures become one line (exit 1)."""

    async def run() -> T:
        config = sqlalchemy_config(get_settings())
        engine = config.get_engine()
        try:
            await check_schema(engine)
            async with config.get_session() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (
        AccountError,
        RetentionError,
        SchemaBehindError,
        SettingsError,
        QuestionnaireError,
        RuleSetError,
        WebhookAdminError,
    ) as error:
        raise click.ClickException(str(error)) from None
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        message = f"cannot reach the database ({type(error).__name__}); check DATABASE_URL"
        raise click.ClickException(message) from None


def _role(_ctx: click.Context, _param: click.Parameter, value: str) -> Role:
    try:
        return Role.parse(value)
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Clinic intake service: staff accounts, tokens and maintenance."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the service as in production; its limits and WORKERS come from the settings."""
    try:
        settings = get_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    from service.server import serve as run_server  # noqa: PLC0415 - see _LAZY

    run_server(settings, host, port)


@main.group()
def users() -> None:
    """Staff user accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, callback=_role, help="reception, doctor or admin")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, role: Role, *, password_stdin: bool) -> None:
    """Create a staff user who signs in with EMAIL."""
    password = _password(password_stdin=password_stdin)

    async def work(session: AsyncSession) -> str:
        user = await create_user(session, email, role, password, clinic_name=_clinic_name())
        audit.record(session, audit.SYSTEM, "staff_user.created", user_id=str(user.id), role=role)
        return user.email

    click.echo(f"Created {role} user {_run(work)}.")


@users.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Stop EMAIL from signing in and end their sessions (the account and its history stay)."""

    async def work(session: AsyncSession) -> str:
        user = await disable_user(session, email, datetime.now(UTC))
        audit.record(session, audit.SYSTEM, "staff_user.disabled", user_id=str(user.id))
        return user.email

    click.echo(f"Disabled {_run(work)}.")


@users.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_reset_password(email: str, *, password_stdin: bool) -> None:
    """Set a new password for EMAIL and end their sessions; this also lifts a lockout and
    re-enables the account."""
    password = _password(password_stdin=password_stdin)

    async def work(session: AsyncSession) -> str:
        user = await reset_password(
            session, email, password, datetime.now(UTC), clinic_name=_clinic_name()
        )
        audit.record(session, audit.SYSTEM, "staff_user.password_reset", user_id=str(user.id))
        return user.email

    click.echo(f"New password set for {_run(work)}.")


def _clinic_name() -> str:
    """The clinic's name, a word no staff password may be built on."""
    return get_settings().clinic_name


@users.command("sign-out-everywhere")
@click.argument("email")
def users_sign_out_everywhere(email: str) -> None:
    """End every session of EMAIL, on every browser, at once (they can sign in again)."""

    async def work(session: AsyncSession) -> tuple[str, int]:
        user, ended = await sign_out_everywhere(session, email, datetime.now(UTC))
        audit.record(
            session,
            audit.SYSTEM,
            "staff_user.signed_out_everywhere",
            user_id=str(user.id),
            sessions=len(ended),
        )
        return user.email, len(ended)

    address, count = _run(work)
    click.echo(f"Ended {count} session{'' if count == 1 else 's'} of {address}.")


def _password(*, password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@main.group()
def tokens() -> None:
    """API tokens for other clinic systems."""


@tokens.command("create")
@click.argument("name")
@click.option("--role", required=True, callback=_role, help="reception, doctor or admin")
def tokens_create(name: str, role: Role) -> None:
    """Create a token; it is printed once, as the last line, and only its hash is kept."""

    async def work(session: AsyncSession) -> str:
        token = await create_token(session, name, role)
        audit.record(session, audit.SYSTEM, "api_token.created", name=name, role=role)
        return token

    token = _run(work)
    click.echo(f"Token {name!r} ({role}). Store it now; it cannot be shown again:")
    click.echo(token)


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke the token called NAME; calls with it answer 401 from now on."""

    async def work(session: AsyncSession) -> str:
        token = await revoke_token(session, name, datetime.now(UTC))
        audit.record(session, audit.SYSTEM, "api_token.revoked", token_id=str(token.id))
        return token.name

    click.echo(f"Revoked token {_run(work)!r}.")


@main.group()
def rules() -> None:
    """Red-flag rule sets."""


@rules.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--questionnaire",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check against this questionnaire (default: the one the service uses).",
)
def rules_check(file: Path, questionnaire: Path | None) -> None:
    """Validate a rule-set FILE: names, types, levels and ids; exit 1 naming the rule at fault."""
    try:
        against = load_questionnaire(questionnaire or get_settings().questionnaire_file)
        for line in check_rule_file(file, against):
            click.echo(line)
    except (QuestionnaireError, RuleSetError, SettingsError) as error:
        raise click.ClickException(str(error)) from None


@main.command()
def retriage() -> None:
    """Re-evaluate open intakes under the current rule set; safe to run again."""
    clinic = _clinic()

    async def work(session: AsyncSession) -> RetriageReport:
        total = await count_open(session)
        with click.progressbar(
            length=total, label="Re-triaging open intakes", file=sys.stderr
        ) as bar:
            return await IntakeService(session, clinic).retriage(datetime.now(UTC), bar.update)

    report = _run(work)
    click.echo(
        f"{report.examined} open intakes examined, {report.reevaluated} re-evaluated, "
        f"{report.level_changed} changed level."
    )


def _clinic() -> Clinic:
    try:
        return Clinic.load(get_settings())
    except (QuestionnaireError, RuleSetError, SettingsError) as error:
        raise click.ClickException(str(error)) from None


@main.group()
def webhooks() -> None:
    """Webhook endpoints of other clinic systems, and the deliveries to them."""


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    help="intake.created, intake.priority_changed or intake.status_changed; repeat for more.",
)
def webhooks_add(url: str, events: tuple[str, ...]) -> None:
    """Register URL for the events named; its signing secret is printed once, as the last line."""

    async def work(session: AsyncSession) -> tuple[str, str, str]:
        endpoint = await add_endpoint(session, url, events, datetime.now(UTC))
        audit.record(
            session, audit.SYSTEM, "webhook_endpoint.created", endpoint_id=str(endpoint.id)
        )
        return str(endpoint.id), ", ".join(endpoint.event_types), endpoint.secret

    endpoint_id, kinds, secret = _run(work)
    click.echo(f"Webhook endpoint {endpoint_id} ({kinds}).")
    click.echo("Its signing secret; store it now, it is not shown again:")
    click.echo(secret)


@webhooks.command("list")
def webhooks_list() -> None:
    """The registered endpoints: id, state, URL and events."""

    async def work(session: AsyncSession) -> list[str]:
        return [
            f"{endpoint.id}  {'active' if endpoint.is_active else 'disabled'}  {endpoint.url}  "
            f"{','.join(endpoint.event_types)}"
            for endpoint in await list_endpoints(session)
        ]

    for line in _run(work) or ["No webhook endpoints."]:
        click.echo(line)


@webhooks.command("disable")
@click.argument("endpoint_id")
def webhooks_disable(endpoint_id: str) -> None:
    """Stop sending to ENDPOINT_ID; what is still pending for it turns dead."""

    async def work(session: AsyncSession) -> str:
        endpoint = await disable_endpoint(session, endpoint_id)
        audit.record(
            session, audit.SYSTEM, "webhook_endpoint.disabled", endpoint_id=str(endpoint.id)
        )
        return str(endpoint.id)

    click.echo(f"Disabled webhook endpoint {_run(work)}.")


@webhooks.command("deliveries")
@click.option(
    "--status",
    type=click.Choice([status.value for status in DeliveryStatus]),
    help="Only deliveries in this state.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def webhooks_deliveries(status: str | None, limit: int) -> None:
    """Recent deliveries, newest first, each with its attempts."""

    async def work(session: AsyncSession) -> list[str]:
        lines = []
        chosen = DeliveryStatus(status) if status else None
        for delivery in await recent_deliveries(session, chosen, limit):
            lines.append(
                f"{delivery.id}  {delivery.status}  {delivery.event.type}  "
                f"event {delivery.event_id}  endpoint {delivery.endpoint_id}  "
                f"attempts {delivery.attempts}"
            )
            lines.extend(
                f"    {attempt.attempted_at:%Y-%m-%d %H:%M:%S}Z  "
                f"{f'HTTP {attempt.status_code}' if attempt.status_code else attempt.error}  "
                f"{attempt.duration_ms} ms"
                for attempt in delivery.attempt_log
            )
        return lines

    for line in _run(work) or ["No webhook deliveries."]:
        click.echo(line)


@webhooks.command("retry")
@click.argument("delivery_id")
def webhooks_retry(delivery_id: str) -> None:
    """Re-queue the dead delivery DELIVERY_ID, with a full set of attempts."""

    async def work(session: AsyncSession) -> int:
        delivery = await requeue_delivery(session, delivery_id, datetime.now(UTC))
        audit.record(session, audit.SYSTEM, "webhook_delivery.requeued", delivery_id=delivery.id)
        return delivery.id

    click.echo(f"Re-queued webhook delivery {_run(work)}.")


@webhooks.command("retry-dead")
@click.option("--endpoint", "endpoint_id", help="Only the deliveries to this endpoint.")
def webhooks_retry_dead(endpoint_id: str | None) -> None:
    """Re-queue every dead delivery (after a receiver's outage), each with all its attempts."""

    async def work(session: AsyncSession) -> list[int]:
        requeued = await requeue_dead_deliveries(session, datetime.now(UTC), endpoint_id)
        for delivery_id in requeued:
            audit.record(
                session, audit.SYSTEM, "webhook_delivery.requeued", delivery_id=delivery_id
            )
        return requeued

    click.echo(f"Re-queued {len(_run(work))} dead webhook deliveries.")


@main.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def backup(path: Path) -> None:
    """Copy the SQLite database to PATH, consistently, while the service runs."""
    settings = get_settings()
    if not settings.is_sqlite or not settings.database_url.database:
        message = "backup copies the embedded SQLite database; for PostgreSQL use pg_dump"
        raise click.ClickException(f"{message} (see the README)")
    try:
        report = backup_sqlite(Path(settings.database_url.database), path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None

    async def work(session: AsyncSession) -> None:
        audit.record(session, audit.SYSTEM, "database.backed_up", intakes=report.intakes)

    _run(work)
    click.echo(f"Backed up {report.intakes} intakes ({report.size_bytes} bytes) to {path}")


def _days(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value < 1:
        raise click.ClickException(f"--older-than must be 1 day or more, not {value}")
    return value


@main.command()
@click.option("--older-than", "days", type=int, required=True, callback=_days, metavar="DAYS")
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
def purge(days: int, *, yes: bool) -> None:
    """Delete intakes submitted more than DAYS days ago, with their PDFs; the audit trail stays."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    if not yes:
        click.confirm(
            f"Delete every intake submitted before {cutoff:%Y-%m-%d %H:%M} UTC?", abort=True
        )
    cache = SummaryCache(get_settings().summary_dir)

    async def work(session: AsyncSession) -> int:
        return len(await purge_intakes(session, cutoff, audit.SYSTEM))

    purged = _run(work)
    swept = _run(lambda session: sweep_summaries(session, cache))
    click.echo(
        f"Purged {purged} intakes submitted before {cutoff:%Y-%m-%d %H:%M} UTC; "
        f"removed the PDFs of {swept}."
    )


@main.command()
@click.argument("reference")
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
def erase(reference: str, *, yes: bool) -> None:
    """Delete one patient's intake (by its reference) and its PDF; the audit trail stays."""
    try:
        wanted = normalised_reference(reference)
    except RetentionError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(f"Erase intake {wanted} for good?", abort=True)

    async def work(session: AsyncSession) -> UUID:
        return await erase_intake(session, wanted, audit.SYSTEM)

    intake_id = _run(work)
    cache = SummaryCache(get_settings().summary_dir)
    cache.forget(str(intake_id))
    _run(lambda session: sweep_summaries(session, cache))
    click.echo(
        f"Erased intake {wanted}: its answers, red flags, history and PDF. "
        "The audit trail keeps its id."
    )
