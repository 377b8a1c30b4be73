"""Builds the FHIR R4 export of one stored intake: pure, no database, no web, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir.resources.R4B.task import Task

from service.clinic import Clinic
from service.fhir._codes import (
    BCP47,
    FLAG_CATEGORY,
    FLAG_DETAIL,
    FLAG_PRIORITY,
    LEVEL_DISPLAY,
    TASK_PRIORITY,
    TASK_STATUS,
    Systems,
)
from service.fhir._response import answered_resource
from service.intake import IntakeForStaff, RaisedFlag, answers_from_json, intake_for_staff
from service.models import Intake
from service.questionnaire import Language, is_language
from service.triage import Priority

JsonObject = dict[str, Any]


def summary_pdf_path(intake_id: UUID) -> str:
    return f"/api/v1/intakes/{intake_id}/summary.pdf"


def intake_bundle(
    intake: Intake,
    clinic: Clinic,
    *,
    identifier_system: str,
    service_url: str = "",
) -> Bundle:
    """The intake as a `collection` Bundle (its red flags and status history must be loaded).

    Every resource has a `urn:uuid` fullUrl derived from the intake id, and every time in it is
    one of the intake's own (the Bundle's and the document's: its last change), so exporting an
    unchanged intake twice gives the same bytes. `service_url` (PUBLIC_BASE_URL, never the request's
    `Host`) makes the PDF's link absolute, so a system that imports the Bundle can fetch it;
    without it the link is relative to the service (`/api/v1/intakes/{id}/summary.pdf`).
    """
    pdf_url = service_url.rstrip("/") + summary_pdf_path(intake.id)
    view = intake_for_staff(intake, clinic)
    return _Export(view, clinic, Systems(identifier_system), pdf_url).bundle()


@dataclass(frozen=True)
class _Entry:
    url: str
    resource: Any

    @property
    def reference(self) -> JsonObject:
        return {"reference": self.url}


class _Export:
    def __init__(
        self, intake: IntakeForStaff, clinic: Clinic, systems: Systems, pdf_url: str
    ) -> None:
        self.intake = intake
        self.clinic = clinic
        self.systems = systems
        self.pdf_url = pdf_url
        self.changed = intake.last_changed_at
        self.language: Language = intake.language if is_language(intake.language) else "en"
        self.answers = answers_from_json(clinic.questionnaire, intake.answers)
        self.flags = intake.current_flags

    def url(self, name: str) -> str:
        return f"urn:uuid:{uuid5(self.intake.id, name)}"

    def bundle(self) -> Bundle:
        patient = _Entry(self.url("Patient"), self.patient())
        response = _Entry(self.url("QuestionnaireResponse"), self.response(patient))
        flags = [
            _Entry(self.url(f"Flag/{flag.rule_id}"), self.flag(flag, patient, response))
            for flag in self.flags
        ]
        risk = _Entry(self.url("RiskAssessment"), self.risk(patient, response, flags))
        task = _Entry(self.url("Task"), self.task(patient, response, risk))
        document = _Entry(self.url("DocumentReference"), self.document(patient, response))
        entries = [patient, response, risk, *flags, task, document]
        return Bundle.model_validate(
            {
                "type": "collection",
                "timestamp": self.changed.isoformat(),
                "entry": [{"fullUrl": entry.url, "resource": entry.resource} for entry in entries],
            }
        )

    def intake_identifier(self) -> JsonObject:
        return {"system": self.systems.intake, "value": str(self.intake.id)}

    def patient(self) -> Patient:
        answers = self.answers
        resource: JsonObject = {
            # The service keeps no patient register: the intake id names the patient here.
            "identifier": [{**self.intake_identifier(), "use": "temp"}],
        }
        if isinstance(name := answers.get("full_name"), str) and name:
            # As the patient wrote it, in any script: not split into given and family names.
            resource["name"] = [{"text": name}]
        telecom = []
        if isinstance(phone := answers.get("phone"), str):
            telecom.append({"system": "phone", "value": phone, "use": "mobile"})
        if isinstance(email := answers.get("email"), str) and email:
            telecom.append({"system": "email", "value": email})
        if telecom:
            resource["telecom"] = telecom
        if isinstance(birth_date := answers.get("birth_date"), date):
            resource["birthDate"] = birth_date.isoformat()
        preferred = answers.get("preferred_language", self.language)
        resource["communication"] = [
            {"language": {"coding": [{"system": BCP47, "code": str(preferred)}]}, "preferred": True}
        ]
        return Patient.model_validate(resource)

    def response(self, patient: _Entry) -> QuestionnaireResponse:
        answered = answered_resource(self.intake, self.clinic.questionnaire, self.systems)
        return QuestionnaireResponse.model_validate({**answered, "subject": patient.reference})

    def level(self, level: Priority) -> JsonObject:
        coding = {"system": self.systems.priority, "code": level.value}
        return {"coding": [{**coding, "display": LEVEL_DISPLAY[level]}], "text": level.value}

    def flag(self, flag: RaisedFlag, patient: _Entry, response: _Entry) -> Flag:
        title = flag.title
        because = ", ".join(sorted(flag.triggering_answers))
        level = self.level(flag.level)
        return Flag.model_validate(
            {
                "extension": [
                    {"url": FLAG_PRIORITY, "valueCodeableConcept": level},
                    # The answers that raised the flag, by linkId, in the QuestionnaireResponse.
                    {
                        "url": FLAG_DETAIL,
                        "valueReference": {**response.reference, "display": because},
                    },
                ],
                "status": "active",
                "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "clinical"}]}],
                "code": {
                    "coding": [
                        {
                            "system": self.systems.red_flag_rule,
                            "version": str(flag.rule_set_version),
                            "code": flag.rule_id,
                            "display": title,
                        }
                    ],
                    "text": title,
                },
                "subject": patient.reference,
                "period": {"start": flag.fired_at.isoformat()},
            }
        )

    def risk(self, patient: _Entry, response: _Entry, flags: list[_Entry]) -> RiskAssessment:
        intake = self.intake
        override = intake.override
        acting: JsonObject = {
            "outcome": {"text": "The level the clinic acts on"},
            "qualitativeRisk": self.level(intake.priority),
        }
        predictions = [acting]
        if override is not None:
            acting["rationale"] = f"Doctor's override: {override.reason}".strip()
            predictions.append(
                {
                    "outcome": {"text": "The level the red-flag rules computed"},
                    "qualitativeRisk": self.level(intake.computed_priority),
                }
            )
        # Assessed when a doctor overrode the level, else when the rules ran on submission.
        assessed = override.at if override and override.at else intake.submitted_at
        method = {"system": self.systems.rule_set, "code": intake.rule_set}
        return RiskAssessment.model_validate(
            {
                "identifier": [self.intake_identifier()],
                # An overridden level is the computed assessment amended by a doctor.
                "status": "amended" if override is not None else "final",
                "method": {
                    "coding": [{**method, "version": str(intake.rule_set_version)}],
                    "text": f"Red-flag rules {intake.rule_set} v{intake.rule_set_version}",
                },
                "subject": patient.reference,
                "occurrenceDateTime": assessed.isoformat(),
                "basis": [response.reference, *(flag.reference for flag in flags)],
                "prediction": predictions,
            }
        )

    def task(self, patient: _Entry, response: _Entry, risk: _Entry) -> Task:
        intake = self.intake
        status = intake.status
        changes = [step.at for step in intake.status_history]
        return Task.model_validate(
            {
                "identifier": [
                    self.intake_identifier(),
                    {"system": self.systems.reference, "value": intake.reference},
                ],
                "status": TASK_STATUS[status],
                "businessStatus": {
                    "coding": [{"system": self.systems.queue_status, "code": status.value}],
                    "text": status.value,
                },
                "intent": "order",
                "priority": TASK_PRIORITY[intake.priority],
                "description": "See the patient for the pre-consultation visit",
                "focus": response.reference,
                "for": patient.reference,
                "authoredOn": intake.submitted_at.isoformat(),
                "lastModified": max(changes, default=intake.submitted_at).isoformat(),
                "reasonReference": risk.reference,
            }
        )

    def document(self, patient: _Entry, response: _Entry) -> DocumentReference:
        return DocumentReference.model_validate(
            {
                "status": "current",
                "type": {"text": "Pre-consultation summary"},
                "subject": patient.reference,
                "date": self.changed.isoformat(),
                "description": f"Pre-consultation summary {self.intake.reference}",
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "url": self.pdf_url,
                        }
                    }
                ],
                "context": {"related": [response.reference]},
            }
        )
