"""The doctor's intake page: red flags first, every answer in words, history, and the override."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from service import audit
from service.clinic import Clinic
from service.codes import STATUS_LABELS
from service.intake import IntakeForStaff, IntakeService, intake_for_staff
from service.intake.override import OverrideError
from service.models import Intake
from service.questionnaire import age_on, answer_in_words, question_in_words
from service.staff import Role
from service.triage import Priority
from service.web.access import principal_of, staff
from service.web.pages.staff_layout import LEVEL_LABELS, staff_context


def _age(intake: IntakeForStaff, clinic: Clinic) -> int | None:
    """Age on the clinic-local day of submission, as the rules saw it."""
    born = intake.answers.get("birth_date")
    if not isinstance(born, str):
        return None
    return age_on(date.fromisoformat(born), clinic.today(intake.submitted_at))


def _intake_context(
    request: Request[Any, Any, Any], intake: Intake, clinic: Clinic, **extra: Any
) -> dict[str, Any]:
    questionnaire = clinic.questionnaire
    view = intake_for_staff(intake, clinic)

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
                words(i.link_id, view.answers[i.link_id])
                for i in section.items
                if i.link_id in view.answers
            ],
        )
        for section in questionnaire.sections
    ]
    flags = [
        {
            "title": flag.title,
            "rationale": flag.rationale,
            "level": flag.level,
            "because": [
                words(link_id, value)
                if link_id in questionnaire.items
                else (link_id, str(value), False)
                for link_id, value in flag.triggering_answers.items()
            ],
        }
        for flag in view.current_flags
    ]
    return staff_context(
        clinic,
        request,
        intake=view,
        sections=[(title, rows) for title, rows in sections if rows],
        flags=flags,
        level_labels=LEVEL_LABELS,
        status_labels=STATUS_LABELS,
        priorities=list(Priority),
        computed=view.computed_priority,
        age=_age(view, clinic),
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
    intakes: NamedDependency[IntakeService],
) -> Template:
    intake = await intakes.load(intake_id)
    audit.record(intakes.session, principal_of(request).actor, "intake.viewed", intake.id)
    await intakes.session.commit()
    return Template("staff/intake.html", context=_intake_context(request, intake, intakes.clinic))


@post(
    "/staff/intakes/{intake_id:uuid}/priority",
    operation_id="overrideForm",
    include_in_schema=False,
    opt=staff(Role.DOCTOR),
)
async def override_form(
    request: Request[Any, Any, Any],
    intake_id: FromPath[UUID],
    intakes: NamedDependency[IntakeService],
) -> Response[Any]:
    form = await request.form()
    intake = await intakes.load(intake_id)
    reason = str(form.get("reason") or "")
    try:
        level = Priority(str(form.get("priority")))
        await intakes.override(intake, level, reason, principal_of(request), datetime.now(UTC))
    except (ValueError, OverrideError) as error:
        message = str(error) if isinstance(error, OverrideError) else "choose a level"
        context = _intake_context(
            request,
            intake,
            intakes.clinic,
            override_error=message[:1].upper() + message[1:] + ".",
            reason=reason,
            chosen=str(form.get("priority") or ""),
        )
        return Template(
            "staff/intake.html",
            context=context,
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Redirect(f"/staff/intakes/{intake.id}", status_code=HTTP_303_SEE_OTHER)
