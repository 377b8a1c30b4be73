"""The one view of an intake that the doctor's page, the staff API, the PDF and FHIR share."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from service.clinic import Clinic
from service.intake import intake_for_staff, raised_flags
from service.models import Intake, RedFlag, StatusChange
from service.questionnaire import load_questionnaire
from service.queue import Status
from service.triage import Priority, load_advice, load_rule_set

SUBMITTED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SERVICE = Path(__file__).parents[2] / "service"


def _clinic() -> Clinic:
    questionnaire = load_questionnaire()
    consent_item = questionnaire.consent_item
    assert consent_item is not None
    assert consent_item.consent is not None
    return Clinic(
        questionnaire=questionnaire,
        consent=consent_item.consent,
        rule_set=load_rule_set(),
        advice=load_advice(),
        name="Test clinic",
        phone="+914712345678",
        timezone=ZoneInfo("Asia/Kolkata"),
    )


def _flag(rule_id: str, level: Priority, *, superseded: bool = False) -> RedFlag:
    return RedFlag(
        rule_id=rule_id,
        rule_set_version=1,
        level=level.value,
        triggering_answers={"blood_in_semen": True},
        fired_at=SUBMITTED,
        superseded_at=SUBMITTED + timedelta(days=1) if superseded else None,
    )


def _intake(*flags: RedFlag) -> Intake:
    intake = Intake(
        id=uuid4(),
        reference="K7M-4QX",
        language="en",
        questionnaire_version="2026.11.1",
        answers={"full_name": "A Patient", "birth_date": "1990-01-01"},
        consent_version="1",
        consent_text="I agree",
        submitted_at=SUBMITTED,
        status=Status.CALLED.value,
        rule_set="clinic",
        rule_set_version=1,
        revision=1,
        red_flags=list(flags),
        status_history=[
            StatusChange(from_status=None, to_status=Status.NEW.value, changed_at=SUBMITTED),
            StatusChange(
                from_status=Status.NEW.value,
                to_status=Status.CALLED.value,
                changed_at=SUBMITTED + timedelta(minutes=5),
                changed_by=uuid4(),
            ),
        ],
    )
    intake.set_priorities(Priority.highest([Priority(flag.level) for flag in flags]), None)
    return intake


def test_a_rule_the_clinic_no_longer_has_is_named_by_its_id() -> None:
    clinic = _clinic()
    known = clinic.rule_set.rules[0]
    view = intake_for_staff(
        _intake(_flag("retired_rule", Priority.URGENT), _flag(known.id, known.level)), clinic
    )
    retired, current = view.red_flags
    assert (retired.title, retired.rationale, retired.source) == ("retired_rule", "", "")
    assert retired.titles.ml == "retired_rule"
    assert (current.title, current.rationale, current.source) == (
        known.title.en,
        known.rationale,
        known.source,
    )


def test_superseded_flags_are_kept_apart_from_the_current_ones() -> None:
    clinic = _clinic()
    rules = clinic.rule_set.rules
    soon, emergency = rules[-1], rules[0]
    assert soon.level.rank > emergency.level.rank
    old = _flag(emergency.id, emergency.level, superseded=True)
    intake = _intake(old, _flag(soon.id, soon.level), _flag(emergency.id, emergency.level))
    view = intake_for_staff(intake, clinic)
    # Every flag in the order it was stored, for the API's history of flags.
    assert [(flag.rule_id, flag.current) for flag in view.red_flags] == [
        (emergency.id, False),
        (soon.id, True),
        (emergency.id, True),
    ]
    assert [flag.rule_id for flag in view.superseded_flags] == [emergency.id]
    # What staff act on: only the latest triage's flags, the most urgent first.
    assert [flag.rule_id for flag in view.current_flags] == [emergency.id, soon.id]
    assert raised_flags(intake, clinic) == view.red_flags


def test_no_override_until_a_doctor_sets_one() -> None:
    clinic = _clinic()
    intake = _intake()
    view = intake_for_staff(intake, clinic)
    assert view.override is None
    assert view.priority is view.computed_priority is Priority.ROUTINE

    doctor = uuid4()
    intake.set_priorities(Priority.ROUTINE, Priority.URGENT)
    intake.override_reason = "Pain on the phone"
    intake.override_by = doctor
    intake.overridden_at = SUBMITTED + timedelta(hours=1)
    view = intake_for_staff(intake, clinic)
    assert view.override is not None
    assert (view.override.level, view.override.reason, view.override.by) == (
        Priority.URGENT,
        "Pain on the phone",
        doctor,
    )
    assert view.override.at == SUBMITTED + timedelta(hours=1)
    assert (view.priority, view.computed_priority) == (Priority.URGENT, Priority.ROUTINE)


def test_the_view_is_a_frozen_copy_of_the_row() -> None:
    intake = _intake()
    view = intake_for_staff(intake, _clinic())
    assert view.status is Status.CALLED
    assert [(step.from_status, step.to_status) for step in view.status_history] == [
        (None, Status.NEW),
        (Status.NEW, Status.CALLED),
    ]
    assert view.status_history[0].by is None
    with pytest.raises(FrozenInstanceError):
        view.reference = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.answers["full_name"] = "changed"  # type: ignore[index]
    intake.answers["full_name"] = "changed later"
    assert view.answers["full_name"] == "A Patient"


def test_rules_are_looked_up_and_flags_filtered_in_one_place() -> None:
    """The intake view is the one home of both: a copy elsewhere would drift from it."""
    copies = {
        "rule lookup": re.compile(r"for rule in \w+(\.\w+)*\.rule_set\.rules"),
        "superseded filter": re.compile(r"superseded_at is None"),
    }
    found: dict[str, list[str]] = {name: [] for name in copies}
    for path in sorted(SERVICE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in copies.items():
            if pattern.search(text):
                found[name].append(str(path.relative_to(SERVICE)))
    assert found["rule lookup"] == ["intake/_for_staff.py"]
    # Re-triage marks the current rows superseded: a write on the rows, not a view of them.
    assert found["superseded filter"] == ["intake/_for_staff.py", "intake/retriage.py"]
