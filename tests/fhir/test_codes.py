"""The level and queue-status mappings: complete, and the values FHIR R4 Task allows."""

from __future__ import annotations

from dataclasses import replace

from service.fhir import TASK_PRIORITY, TASK_STATUS, Systems
from service.questionnaire import load_questionnaire, questionnaire_url
from service.queue import Status
from service.triage import Priority

# FHIR R4 value sets task-status and request-priority (required bindings). The fhir.resources
# models do not check codes against them, so the test does.
R4_TASK_STATUS = {
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
    "in-progress", "on-hold", "failed", "completed", "entered-in-error",
}  # fmt: skip
R4_REQUEST_PRIORITY = {"routine", "urgent", "asap", "stat"}


def test_each_level_maps_to_the_briefs_task_priority() -> None:
    assert dict(TASK_PRIORITY) == {
        Priority.EMERGENCY: "stat",
        Priority.URGENT: "asap",
        Priority.SOON: "urgent",
        Priority.ROUTINE: "routine",
    }
    assert set(TASK_PRIORITY.values()) == R4_REQUEST_PRIORITY


def test_each_queue_status_maps_to_a_task_status_fhir_allows() -> None:
    assert set(TASK_STATUS) == set(Status)
    assert set(TASK_STATUS.values()) <= R4_TASK_STATUS
    assert len(set(TASK_STATUS.values())) == len(Status)  # no two statuses look the same
    # Only the queue's end states end the task.
    finished = {"completed", "failed", "cancelled"}
    assert {s for s, f in TASK_STATUS.items() if f in finished} == {
        Status.DONE,
        Status.NO_SHOW,
        Status.CANCELLED,
    }


def test_systems_hang_under_the_configured_base() -> None:
    systems = Systems("urn:example:clinic/")
    assert systems.intake == "urn:example:clinic/intake"
    assert systems.answer("main_concern") == "urn:example:clinic/answer/main_concern"
    assert systems.consent_version == "urn:example:clinic/StructureDefinition/consent-version"
    unnamed = replace(load_questionnaire(), url=None, name="clinic_intake")
    assert questionnaire_url(unnamed, "urn:example:clinic/") == (
        "urn:example:clinic/Questionnaire/clinic_intake"
    )


def test_the_questionnaire_canonical_is_the_definitions_own_when_it_names_one() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire_url(questionnaire, "https://clinic.example/fhir") == (
        questionnaire.url or "https://clinic.example/fhir/Questionnaire/clinic_intake"
    )
    published = replace(questionnaire, url="https://forms.example.org/Questionnaire/intake")
    assert questionnaire_url(published, "https://clinic.example/fhir") == (
        "https://forms.example.org/Questionnaire/intake"
    )
