"""How the clinic's words map to FHIR R4 codes: levels, queue statuses and code systems."""

from __future__ import annotations

from types import MappingProxyType

from service.codes import Status
from service.questionnaire import answer_system, consent_version_extension
from service.triage import Priority

# Clinical brief, "Priority levels": the FHIR `Task.priority` of each level.
TASK_PRIORITY = MappingProxyType(
    {
        Priority.EMERGENCY: "stat",
        Priority.URGENT: "asap",
        Priority.SOON: "urgent",
        Priority.ROUTINE: "routine",
    }
)

# Where the queue entry stands, as FHIR Task.status (the exact queue status also travels in
# Task.businessStatus). The clinic is the performer: `requested` until it calls the patient,
# `accepted` once called, `ready` when the patient is in the waiting room, `in-progress` with
# the doctor; a patient who never came is a `failed` attempt.
TASK_STATUS = MappingProxyType(
    {
        Status.NEW: "requested",
        Status.CALLED: "accepted",
        Status.ARRIVED: "ready",
        Status.WITH_DOCTOR: "in-progress",
        Status.DONE: "completed",
        Status.NO_SHOW: "failed",
        Status.CANCELLED: "cancelled",
    }
)

# The patient-facing words of each level are the clinic's own; FHIR readers get these.
LEVEL_DISPLAY = {
    Priority.EMERGENCY: "Emergency: do not wait for an appointment",
    Priority.URGENT: "Urgent: the clinic calls the patient today",
    Priority.SOON: "Soon: appointment within 2 weeks",
    Priority.ROUTINE: "Routine: normal booking",
}

BCP47 = "urn:ietf:bcp:47"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"


class Systems:
    """The clinic's identifier and code systems, all under one base URI from the settings."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.intake = f"{self.base}/intake"
        self.reference = f"{self.base}/intake-reference"
        self.priority = f"{self.base}/priority"
        self.queue_status = f"{self.base}/queue-status"
        self.red_flag_rule = f"{self.base}/red-flag-rule"
        self.rule_set = f"{self.base}/rule-set"
        self.consent_version = consent_version_extension(self.base)

    def answer(self, link_id: str) -> str:
        """The code system of a choice item's answer options."""
        return answer_system(self.base, link_id)
