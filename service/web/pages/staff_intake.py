"""The doctor's intake page: red flags first, every answer in words, history, and the override."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncSession

from service import audit
from service.clinic import Clinic
from service.intake.override import OverrideError, override_priority
from service.models import Intake
from service.questionnaire import age_on, answer_in_words, question_in_words
from service.queue import CHANNEL, queue_event
from service.staff import Role
from service.summary import SummaryRenderer
from service.triage import Priority
from service.web.access import principal_of, staff
from service.web.api.staff import load_intake
from service.web.api.summaries import prerender
from service.web.pages.staff_layout import LEVEL_LABELS, STATUS_LABELS, staff_context


def _age(intake: Intake, clinic: Clinic) -> int | None:
    """Age on the clinic-local day of submission, as the rules saw it."""
    born = intake.answers.get("birth_date")
    if not isinstance(born, str):
        return None
    return age_on(date.fromisoformat(born), clinic.today(intake.submitted_at))


def _intake_context(
    request: Request[Any, Any, Any], intake: Intake, clinic: Clinic, **extra: Any
) -> dict[str, Any]:
    questionnaire = clinic.questionnaire
    rules = {rule.id: rule for rule in clinic.rule_set.rules}

    def words(link_id: str, value: object) -> tuple[str, str, bool]:
        return (
            question_in_words(questionnaire, link_id, "en"),
            answer_in_words(questionnaire, link_id, value, "en"),
            value is True,
        )

    sections = [
        (
            section.title.en,
            [
                words(i.link_id, intake.answers[i.link_id])
                for i in section.items
                if i.link_id in intake.answers
            ],
        )
        for section in questionnaire.sections
    ]
    flags = [
        {
            "title": rules[flag.rule_id].title.en if flag.rule_id in rules else flag.rule_id,
            "rationale": rules[flag.rule_id].rationale if flag.rule_id in rules else "",
            "level": Priority(flag.level),
            "because": [
                words(link_id, value)
                if link_id in questionnaire.items
                else (link_id, str(value), False)
                for link_id, value in flag.triggering_answers.items()
            ],
        }
        for flag in intake.red_flags
        if flag.superseded_at is None
    ]
    return staff_context(
        clinic,
        request,
        intake=intake,
        sections=[(title, rows) for title, rows in sections if rows],
        flags=sorted(flags, key=lambda flag: flag["level"].rank),
        level_labels=LEVEL_LABELS,
        status_labels=STATUS_LABELS,
        priorities=list(Priority),
        computed=Priority(intake.computed_priority),
        age=_age(intake, clinic),
        **extra,
    )


@get(
    "/staff/intakes/{intake_id:uuid}",
    operation_id="intakePage",
    include_in_schema=False,
    opt=staff(Role.DOCTOR),
)
async def intake_page(
    request: Request[Any, Any, Any],
    intake_id: FromPath[UUID],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
) -> Template:
    intake = await load_intake(db_session, intake_id)
    audit.record(db_session, principal_of(request).actor, "intake.viewed", intake.id)
    await db_session.commit()
    return Template("staff/intake.html", context=_intake_context(request, intake, clinic))


@post(
    "/staff/intakes/{intake_id:uuid}/priority",
    operation_id="overrideForm",
    include_in_schema=False,
    opt=staff(Role.DOCTOR),
)
async def override_form(
    request: Request[Any, Any, Any],
    intake_id: FromPath[UUID],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
    channels: NamedDependency[ChannelsPlugin],
    summaries: NamedDependency[SummaryRenderer],
) -> Response[Any]:
    form = await request.form()
    intake = await load_intake(db_session, intake_id)
    by = principal_of(request)
    reason = str(form.get("reason") or "")
    try:
        level = Priority(str(form.get("priority")))
        await override_priority(
            db_session,
            intake,
            level,
            reason,
            actor=by.actor,
            staff_user_id=by.staff_user_id,
            now=datetime.now(UTC),
        )
    except (ValueError, OverrideError) as error:
        message = str(error) if isinstance(error, OverrideError) else "choose a level"
        context = _intake_context(
            request,
            intake,
            clinic,
            override_error=message[:1].upper() + message[1:] + ".",
            reason=reason,
            chosen=str(form.get("priority") or ""),
        )
        return Template(
            "staff/intake.html",
            context=context,
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )
    await db_session.commit()
    channels.publish(queue_event("intake.priority_changed", intake), CHANNEL)
    return Redirect(
        f"/staff/intakes/{intake.id}",
        status_code=HTTP_303_SEE_OTHER,
        background=prerender(summaries, intake, clinic),
    )
