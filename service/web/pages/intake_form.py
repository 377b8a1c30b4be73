"""The patient's pages: the intake form at `/`, and the confirmation after sending it.

Post/Redirect/Get: a sent form redirects to `/thanks`, which finds the intake through this
browser's session only, so its address shows nothing to anyone else.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

import structlog
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from service.clinic import Clinic
from service.intake import (
    Accepted,
    IdempotencyConflictError,
    IntakeSubmissions,
    advice_from_json,
    request_digest,
)
from service.models import Intake
from service.questionnaire import (
    EnableWhen,
    Language,
    Questionnaire,
    answers_from_form,
    is_language,
)
from service.web import language as languages
from service.web.access import PUBLIC
from service.web.dependencies import AppSettings
from service.web.i18n import gettext_for
from service.web.inputs import MAX_BODY

log = structlog.get_logger(__name__)
SESSION_INTAKES = "intakes"  # [{"id", "digest"}] of what this browser sent, newest last
REMEMBERED_INTAKES = 5


@cache
def _conditions(questionnaire: Questionnaire) -> dict[str, str]:
    """enableWhen of every conditional section and item, as JSON for the page's script."""

    def encode(rules: tuple[EnableWhen, ...], behaviour: str) -> str:
        return json.dumps(
            {
                "behavior": behaviour,
                "rules": [
                    {"question": r.question, "operator": r.operator, "answer": r.answer}
                    for r in rules
                ],
            }
        )

    conditions = {
        section.link_id: encode(section.enable_when, section.enable_behavior)
        for section in questionnaire.sections
        if section.enable_when
    }
    conditions.update(
        (item.link_id, encode(item.enable_when, item.enable_behavior))
        for item in questionnaire.items.values()
        if item.enable_when
    )
    return conditions


def page_context(clinic: Clinic, language: Language) -> dict[str, Any]:
    """What every page's layout needs."""
    return {"lang": language, "_": gettext_for(language), "clinic_name": clinic.name}


def _form_context(
    clinic: Clinic,
    language: Language,
    *,
    values: Mapping[str, str | list[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    not_saved: bool = False,
) -> dict[str, Any]:
    questionnaire = clinic.questionnaire

    def question_text(link_id: str) -> str:
        item = questionnaire.items.get(link_id)
        return item.text.get(language) if item else link_id

    def answer_text(rule: EnableWhen) -> str:
        if rule.answer is True:
            return questionnaire.yes.get(language)
        if rule.answer is False:
            return questionnaire.no.get(language)
        item = questionnaire.items.get(rule.question)
        option = next((o for o in item.options if o.code == rule.answer), None) if item else None
        return option.text.get(language) if option else str(rule.answer)

    return {
        **page_context(clinic, language),
        "questionnaire": questionnaire,
        "conditions": _conditions(questionnaire),
        "values": values or {"preferred_language": language},
        "errors": errors or {},
        "not_saved": not_saved,
        # One key per rendering of the form: a double click or a resend is one intake.
        "submission_key": secrets.token_urlsafe(24),
        "yes_text": questionnaire.yes.get(language),
        "no_text": questionnaire.no.get(language),
        "question_text": question_text,
        "answer_text": answer_text,
    }


def _form(context: dict[str, Any], status_code: int = 200) -> Template:
    return Template("intake/form.html", context=context, status_code=status_code)


@get("/", operation_id="intakeForm", include_in_schema=False, opt=PUBLIC)
async def intake_form(
    request: Request[Any, Any, Any],
    clinic: NamedDependency[Clinic],
    settings: AppSettings,
    lang: FromQuery[str | None] = None,
) -> Template:
    """The form in the visit's language; `?lang=` switches it for the rest of the visit."""
    language = languages.choose(request, lang)
    response = _form(_form_context(clinic, language))
    response.set_cookie(
        languages.COOKIE,
        language,
        httponly=True,
        samesite="lax",
        secure=settings.behind_https,
        path="/",
    )
    return response


@post(
    "/",
    operation_id="submitIntakeForm",
    include_in_schema=False,
    request_max_body_size=MAX_BODY,
    opt={**PUBLIC, "rate_limit": "intake"},
)
async def submit_intake_form(
    request: Request[Any, Any, Any],
    submissions: NamedDependency[IntakeSubmissions],
) -> Response[Any]:
    clinic = submissions.clinic
    form = await request.form()
    fields: dict[str, str | list[str]] = {key: form.getall(key) for key in form}
    form_language = form.get("form_language")
    language: Language = (
        form_language if is_language(form_language) else languages.choose(request, None)
    )
    key = str(form.get("submission_key") or "")[:200] or None
    raw_answers = answers_from_form(clinic.questionnaire, fields)
    digest = request_digest(language, raw_answers)
    if sent_before(request, digest):
        # The same answers again from this browser (back, then send): it has them already.
        return Redirect("/thanks", status_code=HTTP_303_SEE_OTHER)
    values = {
        link_id: (value if clinic.questionnaire.items[link_id].type == "multi-choice" else value[0])
        for link_id, value in fields.items()
        if link_id in clinic.questionnaire.items and isinstance(value, list) and value
    }
    try:
        outcome = await submissions.submit(
            language=language,
            raw_answers=raw_answers,
            now=datetime.now(UTC),
            idempotency_key=key,
        )
    except IdempotencyConflictError as conflict:
        if sent_ids(request) and str(conflict.existing.id) in sent_ids(request):
            # This browser sent this form already, then changed it: show what was received.
            return Redirect("/thanks", status_code=HTTP_303_SEE_OTHER)
        return _form(_form_context(clinic, language, values=values), HTTP_409_CONFLICT)
    except (SQLAlchemyError, OSError) as error:
        log.warning("intake form not saved: database unavailable", error=type(error).__name__)
        context = _form_context(clinic, language, values=values, not_saved=True)
        return _form(context, HTTP_503_SERVICE_UNAVAILABLE)
    if not isinstance(outcome, Accepted):
        errors: dict[str, str] = {}
        for problem in outcome.errors:
            errors.setdefault(problem.field, problem.message_in(language))
        context = _form_context(clinic, language, values=values, errors=errors)
        return _form(context, HTTP_422_UNPROCESSABLE_ENTITY)
    remember_sent(request, str(outcome.intake.id), digest)
    return Redirect("/thanks", status_code=HTTP_303_SEE_OTHER)


def _sent(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    entries = request.session.get(SESSION_INTAKES, []) if request.session else []
    return [entry for entry in entries if isinstance(entry, dict) and "id" in entry]


def sent_ids(request: Request[Any, Any, Any]) -> list[str]:
    """The intakes this browser sent during the visit, oldest first."""
    return [entry["id"] for entry in _sent(request)]


def sent_before(request: Request[Any, Any, Any], digest: str) -> bool:
    """Whether this browser already sent exactly these answers; if so it becomes the latest."""
    entries = _sent(request)
    match = next((entry for entry in entries if entry.get("digest") == digest), None)
    if match is None:
        return False
    rest = [entry for entry in entries if entry is not match]
    request.set_session({**request.session, SESSION_INTAKES: [*rest, match]})
    return True


def remember_sent(request: Request[Any, Any, Any], intake_id: str, digest: str) -> None:
    entries = [e for e in _sent(request) if e["id"] != intake_id] + [
        {"id": intake_id, "digest": digest}
    ]
    request.set_session({**request.session, SESSION_INTAKES: entries[-REMEMBERED_INTAKES:]})


@get("/thanks", operation_id="intakeThanks", include_in_schema=False, opt=PUBLIC)
async def thanks(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    clinic: NamedDependency[Clinic],
) -> Response[Any]:
    """The reference code and what happens next, for the intake this browser sent last."""
    sent = sent_ids(request)
    if not sent:
        return Redirect("/", status_code=HTTP_303_SEE_OTHER)
    intake = await db_session.scalar(select(Intake).where(Intake.id == UUID(sent[-1])))
    if intake is None:  # erased since
        return Redirect("/", status_code=HTTP_303_SEE_OTHER)
    language: Language = "ml" if intake.language == "ml" else "en"
    context = {
        **page_context(clinic, language),
        "reference": intake.reference,
        "advice": advice_from_json(intake.advice),
    }
    return Template("intake/thanks.html", context=context)
