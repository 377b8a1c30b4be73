"""The staff side of the API: the queue, one intake, status moves and priority overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.channels import ChannelsPlugin
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.clinic import Clinic
from service.control_characters import refused_characters
from service.intake.override import MAX_REASON, OverrideError, override_priority
from service.intake.status import IllegalMoveError, change_status
from service.models import Intake
from service.queue import (
    CHANNEL,
    QueueEntry,
    Status,
    queue_csv,
    queue_entries,
    queue_event,
)
from service.settings import Settings
from service.staff import Role
from service.summary import SummaryRenderer, summary_of
from service.triage import Priority
from service.web.access import ALL_STAFF, audit_read, principal_of
from service.web.api.bodies import json_only
from service.web.api.openapi import staff_operation
from service.web.dependencies import AppSettings
from service.web.inputs import parse_statuses
from service.web.problems import FieldError, problem


class QueueRow(msgspec.Struct):
    id: str
    reference: str
    full_name: str
    phone: str
    priority: Priority
    status: Status
    submitted_at: datetime
    waiting_minutes: int
    long_wait: bool


class StatusChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Status


class StatusChanged(msgspec.Struct):
    id: str
    status: Status


_REFUSED = refused_characters(multi_line=True)
# Some words, and nothing `has_control_characters` refuses: the schema states the rule.
_WORDS_WITHOUT_CONTROLS = rf"^[^{_REFUSED}]*[^{_REFUSED}\s][^{_REFUSED}]*$"


class PriorityOverrideIn(msgspec.Struct, forbid_unknown_fields=True):
    priority: Priority
    reason: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_REASON,
            pattern=_WORDS_WITHOUT_CONTROLS,
            description="Why the doctor changes the level: words, not only spaces, and no "
            "control characters",
        ),
    ]


class PriorityOverridden(msgspec.Struct):
    id: str
    priority: Priority
    computed_priority: Priority


class RedFlagDetail(msgspec.Struct):
    rule: str
    level: Priority
    title: str
    rationale: str
    triggering_answers: dict[str, Any]
    rule_set_version: int
    current: bool


class OverrideDetail(msgspec.Struct):
    priority: Priority
    reason: str
    by: str | None
    at: datetime | None


class StatusHistoryEntry(msgspec.Struct):
    from_status: Status | None
    to_status: Status
    at: datetime
    by: str | None


class IntakeDetail(msgspec.Struct):
    id: str
    reference: str
    language: str
    submitted_at: datetime
    status: Status
    priority: Priority
    computed_priority: Priority
    override: OverrideDetail | None
    red_flags: list[RedFlagDetail]
    answers: dict[str, Any]
    status_history: list[StatusHistoryEntry]
    questionnaire_version: str
    rule_set: str
    rule_set_version: int
    consent_version: str


EXPORTED = "queue.exported"


async def load_intake(session: AsyncSession, intake_id: UUID) -> Intake:
    statement = (
        select(Intake)
        .where(Intake.id == intake_id)
        .options(selectinload(Intake.red_flags), selectinload(Intake.status_history))
    )
    intake = await session.scalar(statement)
    if intake is None:
        raise problem(HTTP_404_NOT_FOUND, "No intake with this id.")
    return intake


def intake_detail(intake: Intake, clinic: Clinic) -> IntakeDetail:
    rules = {rule.id: rule for rule in clinic.rule_set.rules}
    override = None
    if intake.override_priority:
        override = OverrideDetail(
            priority=Priority(intake.override_priority),
            reason=intake.override_reason or "",
            by=str(intake.override_by) if intake.override_by else None,
            at=intake.overridden_at,
        )
    return IntakeDetail(
        id=str(intake.id),
        reference=intake.reference,
        language=intake.language,
        submitted_at=intake.submitted_at,
        status=Status(intake.status),
        priority=intake.priority,
        computed_priority=Priority(intake.computed_priority),
        override=override,
        red_flags=[
            RedFlagDetail(
                rule=flag.rule_id,
                level=Priority(flag.level),
                title=rules[flag.rule_id].title.en if flag.rule_id in rules else flag.rule_id,
                rationale=rules[flag.rule_id].rationale if flag.rule_id in rules else "",
                triggering_answers=dict(flag.triggering_answers),
                rule_set_version=flag.rule_set_version,
                current=flag.superseded_at is None,
            )
            for flag in intake.red_flags
        ],
        answers=dict(intake.answers),
        status_history=[
            StatusHistoryEntry(
                from_status=Status(change.from_status) if change.from_status else None,
                to_status=Status(change.to_status),
                at=change.changed_at,
                by=str(change.changed_by) if change.changed_by else None,
            )
            for change in intake.status_history
        ],
        questionnaire_version=intake.questionnaire_version,
        rule_set=intake.rule_set,
        rule_set_version=intake.rule_set_version,
        consent_version=intake.consent_version,
    )


IntakeId = Annotated[UUID, PathParameter(description="The intake's id, as returned on submission")]


QueueDay = Annotated[
    date | None,
    QueryParameter(name="date", description="Clinic-local day, YYYY-MM-DD; default today"),
]
_STATUS_NAME = "|".join(status.value for status in Status)
QueueStatuses = Annotated[
    str | None,
    QueryParameter(
        description="Comma-separated statuses, e.g. `new,called`; default the open ones",
        pattern=rf"^\s*({_STATUS_NAME})?\s*(,\s*({_STATUS_NAME})?\s*)*$",
    ),
]


async def _queue(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    clinic: Clinic,
    settings: Settings,
    day: date | None,
    status: str | None,
    action: str,
) -> list[QueueEntry]:
    """The queue's rows, with the read on the audit trail (`action`: viewed or exported)."""
    now = datetime.now(UTC)
    shown_day = day or clinic.today(now)
    entries = await queue_entries(
        db_session,
        day=shown_day,
        timezone=clinic.timezone,
        statuses=parse_statuses(status),
        now=now,
        long_wait_minutes=settings.long_wait_minutes,
    )
    detail: dict[str, str | int] = {"rows": len(entries), "day": str(shown_day)}
    if action == EXPORTED:
        # The file leaves the service: the trail says whose names and phones went with it.
        detail["references"] = " ".join(entry.reference for entry in entries)
    await audit_read(db_session, request, action, None, **detail)
    return entries


class QueueController(Controller):
    path = "/api/v1"

    @get(
        "/queue",
        operation_id="listQueue",
        tags=["staff"],
        summary="Open intakes in queue order",
        **staff_operation(ALL_STAFF, 400, 422),
    )
    async def list_queue(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clinic: NamedDependency[Clinic],
        settings: AppSettings,
        date_: QueueDay = None,
        status: QueueStatuses = None,
    ) -> list[QueueRow]:
        """Level first, then the oldest submission first. No clinical answers, no rule titles."""
        entries = await _queue(request, db_session, clinic, settings, date_, status, "queue.viewed")
        return [
            QueueRow(
                id=str(entry.id),
                reference=entry.reference,
                full_name=entry.full_name,
                phone=entry.phone,
                priority=entry.priority,
                status=entry.status,
                submitted_at=entry.submitted_at,
                waiting_minutes=entry.waiting_minutes,
                long_wait=entry.long_wait,
            )
            for entry in entries
        ]

    @get(
        "/queue.csv",
        operation_id="exportQueueCsv",
        tags=["staff"],
        summary="A day's queue as CSV, for reception",
        media_type="text/csv",
        response_headers=[
            ResponseHeader(
                name="Content-Disposition",
                description='attachment; filename="queue-YYYY-MM-DD.csv"',
                documentation_only=True,
                required=True,
            )
        ],
        **staff_operation(ALL_STAFF, 400, 422),
    )
    async def export_queue(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        clinic: NamedDependency[Clinic],
        settings: AppSettings,
        date_: QueueDay = None,
        status: QueueStatuses = None,
    ) -> Response[str]:
        """The same rows as the queue, for a spreadsheet: reference, name, phone, priority,
        status, submission time on the clinic's clock, minutes waiting. UTF-8 with a byte order
        mark; cells that a spreadsheet would take for a formula start with a quote. Audited."""
        entries = await _queue(request, db_session, clinic, settings, date_, status, EXPORTED)
        day = date_ or clinic.today(datetime.now(UTC))
        return Response(
            queue_csv(entries, clinic.timezone),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="queue-{day.isoformat()}.csv"'},
        )


class StaffIntakeController(Controller):
    path = "/api/v1/intakes"

    @get(
        "/{intake_id:uuid}",
        operation_id="getIntake",
        tags=["staff"],
        summary="The whole intake, for a doctor",
        **staff_operation([Role.DOCTOR], 400, 404),
    )
    async def get_intake(
        self,
        *,
        request: Request[Any, Any, Any],
        intake_id: IntakeId,
        db_session: NamedDependency[AsyncSession],
        clinic: NamedDependency[Clinic],
    ) -> IntakeDetail:
        """Answers, computed priority, red flags with their triggering answers, the override
        and the status history. The read is audited."""
        intake = await load_intake(db_session, intake_id)
        await audit_read(db_session, request, "intake.viewed", intake.id)
        return intake_detail(intake, clinic)

    @post(
        "/{intake_id:uuid}/status",
        operation_id="changeIntakeStatus",
        tags=["staff"],
        summary="Move an intake along the queue",
        status_code=HTTP_200_OK,
        before_request=json_only,
        **staff_operation(
            [Role.RECEPTION, Role.DOCTOR],
            400,
            404,
            409,
            415,
            422,
            described={409: "Not a legal move from the intake's current status"},
        ),
    )
    async def change_intake_status(
        self,
        *,
        request: Request[Any, Any, Any],
        intake_id: IntakeId,
        data: JSONBody[StatusChangeIn],
        db_session: NamedDependency[AsyncSession],
        channels: NamedDependency[ChannelsPlugin],
    ) -> StatusChanged:
        """new -> called -> arrived -> with_doctor -> done; also no_show and cancelled.
        Any other move answers 409."""
        intake = await load_intake(db_session, intake_id)
        try:
            await change_status(
                db_session, intake, data.status, principal_of(request), datetime.now(UTC)
            )
        except IllegalMoveError as error:
            raise problem(HTTP_409_CONFLICT, str(error)) from None
        await db_session.commit()
        channels.publish(queue_event("intake.status_changed", intake), CHANNEL)
        return StatusChanged(id=str(intake.id), status=Status(intake.status))

    @post(
        "/{intake_id:uuid}/priority",
        operation_id="overrideIntakePriority",
        tags=["staff"],
        summary="A doctor's priority override, with a reason",
        status_code=HTTP_200_OK,
        before_request=json_only,
        **staff_operation(
            [Role.DOCTOR], 400, 404, 415, 422, described={422: "The override needs a reason"}
        ),
    )
    async def override_intake_priority(
        self,
        *,
        request: Request[Any, Any, Any],
        intake_id: IntakeId,
        data: JSONBody[PriorityOverrideIn],
        db_session: NamedDependency[AsyncSession],
        channels: NamedDependency[ChannelsPlugin],
        clinic: NamedDependency[Clinic],
        summaries: NamedDependency[SummaryRenderer],
    ) -> Response[PriorityOverridden]:
        """The computed level stays beside the override; the queue follows the override."""
        intake = await load_intake(db_session, intake_id)
        by = principal_of(request)
        try:
            await override_priority(
                db_session,
                intake,
                data.priority,
                data.reason,
                actor=by.actor,
                staff_user_id=by.staff_user_id,
                now=datetime.now(UTC),
            )
        except OverrideError as error:
            raise problem(
                HTTP_422_UNPROCESSABLE_ENTITY, str(error), errors=[FieldError("reason", str(error))]
            ) from None
        await db_session.commit()
        channels.publish(queue_event("intake.priority_changed", intake), CHANNEL)
        body = PriorityOverridden(
            id=str(intake.id),
            priority=intake.priority,
            computed_priority=Priority(intake.computed_priority),
        )
        # The summary shows the override: render the new revision before the doctor asks.
        return Response(
            body, background=BackgroundTask(summaries.prerender, summary_of(intake, clinic))
        )
