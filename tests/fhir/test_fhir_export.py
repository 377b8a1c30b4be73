"""The FHIR R4 export over HTTP: valid R4 resources, every answer, the queue's Task, access."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir.resources.R4B.task import Task
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.app import create_app
from service.models import AuditEvent
from service.settings import DEFAULT_FHIR_IDENTIFIER_SYSTEM, get_settings
from tests.databases import in_database
from tests.patients import intake_body
from tests.staff.support import Caller, Client, as_caller, callers

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "QuestionnaireResponse": QuestionnaireResponse,
    "RiskAssessment": RiskAssessment,
    "Flag": Flag,
    "Task": Task,
    "DocumentReference": DocumentReference,
}
MALAYALAM_WORDS = "രാത്രിയിൽ ചോർച്ച ഉണ്ടാകുന്നു; ഡോക്ടറോട് സംസാരിക്കണം"
MALAYALAM_NAME = "അനിൽ കുമാർ"


async def submit(client: Client, language: str = "en", **answers: object) -> str:
    created = await client.post("/api/v1/intakes", json=intake_body(language, **answers))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def export(client: Client, caller: Caller, intake_id: str) -> dict[str, Any]:
    response = await as_caller(client, caller, "GET", f"/api/v1/intakes/{intake_id}/fhir")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    return body


async def move_along(client: Client, caller: Caller, intake_id: str, status: str) -> None:
    path = f"/api/v1/intakes/{intake_id}/status"
    moved = await as_caller(client, caller, "POST", path, json={"status": status})
    assert moved.status_code == 200, moved.text


async def override(client: Client, caller: Caller, intake_id: str, level: str, why: str) -> None:
    path = f"/api/v1/intakes/{intake_id}/priority"
    changed = await as_caller(client, caller, "POST", path, json={"priority": level, "reason": why})
    assert changed.status_code == 200, changed.text


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def only(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    [resource] = resources(bundle, kind)
    return resource


def response_items(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from response_items(item.get("item", []))


def answered_link_ids(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    response = only(bundle, "QuestionnaireResponse")
    return {
        item["linkId"]: item["answer"]
        for item in response_items(response["item"])
        if "answer" in item
    }


async def intake_json(client: Client, doctor: Caller, intake_id: str) -> dict[str, Any]:
    detail = await as_caller(client, doctor, "GET", f"/api/v1/intakes/{intake_id}")
    assert detail.status_code == 200
    body: dict[str, Any] = detail.json()
    return body


async def fhir_reads(url: URL, intake_id: str) -> list[Any]:
    return await in_database(
        url,
        select(AuditEvent).where(
            AuditEvent.intake_id == UUID(intake_id), AuditEvent.action == "intake.fhir_viewed"
        ),
    )


async def test_the_bundle_round_trips_through_the_fhir_r4_models(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(
        client,
        erection_over_4h=True,
        urethral_discharge=True,
        spine_injury=True,
        concern_details="Started after a new tablet",
        email="patient@example.org",
    )
    bundle = await export(client, who["doctor"], intake_id)

    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert parsed.model_dump(mode="json") == bundle  # nothing lost or added by the models
    kinds = [entry.resource.get_resource_type() for entry in parsed.entry]
    assert sorted(set(kinds)) == sorted(MODELS)
    assert kinds.count("Flag") == 3
    for entry in bundle["entry"]:
        assert entry["fullUrl"].startswith("urn:uuid:")
        UUID(entry["fullUrl"].removeprefix("urn:uuid:"))
        resource = MODELS[entry["resource"]["resourceType"]].model_validate(entry["resource"])
        assert resource.model_dump(mode="json") == entry["resource"]

    # Internal references resolve inside the bundle.
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    patient_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    for kind in ("QuestionnaireResponse", "RiskAssessment", "Flag", "DocumentReference"):
        for resource in resources(bundle, kind):
            assert resource["subject"]["reference"] == patient_url
    task = only(bundle, "Task")
    assert task["for"]["reference"] == patient_url
    risk = only(bundle, "RiskAssessment")
    references = [
        task["focus"]["reference"],
        task["reasonReference"]["reference"],
        *(basis["reference"] for basis in risk["basis"]),
    ]
    assert set(references) <= full_urls
    assert len(risk["basis"]) == 1 + 3  # the answers and each flag

    # The same intake exported again names its resources the same way.
    again = await export(client, who["doctor"], intake_id)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]


async def test_identifiers_questionnaire_link_patient_and_pdf(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client, email="patient@example.org")
    detail = await intake_json(client, who["doctor"], intake_id)
    bundle = await export(client, who["doctor"], intake_id)
    system = DEFAULT_FHIR_IDENTIFIER_SYSTEM

    response = only(bundle, "QuestionnaireResponse")
    questionnaire = FhirQuestionnaire.model_validate(
        (await client.get("/api/v1/questionnaire?lang=en")).json()
    )
    canonical, version = response["questionnaire"].split("|")
    assert version == questionnaire.version == detail["questionnaire_version"]
    # One definition: the served Questionnaire carries the canonical URL the responses cite.
    assert canonical == questionnaire.url == f"{system}/Questionnaire/clinic_intake"
    assert response["status"] == "completed"
    assert response["identifier"] == {"system": f"{system}/intake", "value": intake_id}
    assert [group["linkId"] for group in response["item"]] == [
        "patient", "concern", "warning_signs", "nerves", "medicines", "fertility", "consent",
    ]  # fmt: skip

    patient = only(bundle, "Patient")
    assert patient["name"] == [{"text": "Test Patient"}]
    assert patient["birthDate"] == "1990-05-15"
    assert {"system": "phone", "value": "+919876543210", "use": "mobile"} in patient["telecom"]
    assert {"system": "email", "value": "patient@example.org"} in patient["telecom"]
    assert patient["identifier"][0]["system"] == f"{system}/intake"

    task = only(bundle, "Task")
    assert {"system": f"{system}/intake-reference", "value": detail["reference"]} in task[
        "identifier"
    ]

    document = only(bundle, "DocumentReference")
    [content] = document["content"]
    # Without PUBLIC_BASE_URL the link is relative to the service (never made from `Host`).
    assert content["attachment"] == {
        "contentType": "application/pdf",
        "url": f"/api/v1/intakes/{intake_id}/summary.pdf",
    }
    pdf = await as_caller(client, who["doctor"], "GET", content["attachment"]["url"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize("public_base_url", [None, "https://intake.clinic.example"])
async def test_the_host_header_never_makes_the_pdf_link(
    service_env: dict[str, str],
    database_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    public_base_url: str | None,
) -> None:
    if public_base_url:
        monkeypatch.setenv("PUBLIC_BASE_URL", public_base_url)
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app()) as client:
        who = await callers(client, database_url)
        intake_id = await submit(client)
        response = await as_caller(
            client,
            who["doctor"],
            "GET",
            f"/api/v1/intakes/{intake_id}/fhir",
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        )
    assert response.status_code == 200, response.text
    assert "evil.example" not in response.text
    [content] = only(response.json(), "DocumentReference")["content"]
    path = f"/api/v1/intakes/{intake_id}/summary.pdf"
    assert content["attachment"]["url"] == f"{public_base_url or ''}{path}"


async def test_every_answered_link_id_is_in_the_questionnaire_response(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    doctor = who["doctor"]
    plain = await submit(client)
    malayalam = await submit(
        client,
        "ml",
        full_name=MALAYALAM_NAME,
        concern_details=MALAYALAM_WORDS,
        main_concern="semen_leakage",
        leakage_when=["arousal", "sleep"],
        leakage_frequency="weekly",
        preferred_language="ml",
    )
    emergency = await submit(
        client,
        erection_over_4h=True,
        chest_pain=True,
        blood_in_semen=True,
        blood_in_semen_episodes=4,
        blood_in_semen_since="gt_1_month",
        takes_medicines=True,
        medicines_list="Sertraline 50 mg",
        antidepressant=True,
        symptoms_after_new_medicine=False,
        self_harm_thoughts=True,
        trying_to_conceive=True,
        trying_months=18,
        consent_contact=True,
    )
    overridden = await submit(client, testicular_lump=True)
    await override(client, doctor, overridden, "urgent", "Lump grew this week")
    moved = await submit(client, urination_pain=True)
    for status in ("called", "arrived"):
        path = f"/api/v1/intakes/{moved}/status"
        step = await as_caller(client, who["reception"], "POST", path, json={"status": status})
        assert step.status_code == 200

    for intake_id in (plain, malayalam, emergency, overridden, moved):
        stored = (await intake_json(client, doctor, intake_id))["answers"]
        exported = answered_link_ids(await export(client, doctor, intake_id))
        assert set(exported) == set(stored), intake_id
        for link_id, value in stored.items():
            values = [next(iter(answer.values())) for answer in exported[link_id]]
            if isinstance(value, list):
                assert [coding["code"] for coding in values] == value
            elif isinstance(values[0], dict):
                assert [coding["code"] for coding in values] == [value]
            else:
                assert values == [value], link_id

    bundle = await export(client, doctor, malayalam)
    response = only(bundle, "QuestionnaireResponse")
    assert response["language"] == "ml"
    answers = answered_link_ids(bundle)
    assert answers["concern_details"] == [{"valueString": MALAYALAM_WORDS}]
    assert answers["full_name"] == [{"valueString": MALAYALAM_NAME}]
    assert only(bundle, "Patient")["name"] == [{"text": MALAYALAM_NAME}]
    assert [answer["valueCoding"]["code"] for answer in answers["leakage_when"]] == [
        "arousal",
        "sleep",
    ]
    assert only(bundle, "Patient")["communication"][0]["language"]["coding"][0]["code"] == "ml"
    leakage = next(group for group in response["item"] if group["linkId"] == "leakage")
    assert [item["linkId"] for item in leakage["item"]] == ["leakage_when", "leakage_frequency"]


async def test_answers_are_typed_as_the_questionnaire_items(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(
        client,
        blood_in_semen=True,
        blood_in_semen_episodes=2,
        blood_in_semen_since="lt_1_month",
        concern_details="In my own words",
        main_concern="semen_leakage",
        leakage_when=["random"],
    )
    answers = answered_link_ids(await export(client, who["doctor"], intake_id))
    assert answers["blood_in_semen"] == [{"valueBoolean": True}]
    assert answers["fever"] == [{"valueBoolean": False}]
    assert answers["blood_in_semen_episodes"] == [{"valueInteger": 2}]
    assert answers["birth_date"] == [{"valueDate": "1990-05-15"}]
    assert answers["concern_details"] == [{"valueString": "In my own words"}]
    assert answers["phone"] == [{"valueString": "+919876543210"}]
    [main_concern] = answers["main_concern"]
    assert main_concern["valueCoding"]["code"] == "semen_leakage"
    assert main_concern["valueCoding"]["display"]
    assert answers["leakage_when"][0]["valueCoding"]["code"] == "random"
    assert answers["blood_in_semen_since"][0]["valueCoding"]["code"] == "lt_1_month"


async def test_red_flags_risk_and_an_override(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client, erection_over_4h=True, spine_injury=True)
    bundle = await export(client, who["doctor"], intake_id)
    flags = resources(bundle, "Flag")
    assert [flag["code"]["coding"][0]["code"] for flag in flags] == [
        "RF-PRIAPISM",
        "RF-NERVE-HISTORY",
    ]
    priapism = flags[0]
    assert priapism["status"] == "active"
    assert priapism["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "emergency"
    assert priapism["extension"][1]["valueReference"]["display"] == "erection_over_4h"
    risk = only(bundle, "RiskAssessment")
    assert risk["status"] == "final"
    [acting] = risk["prediction"]
    assert acting["qualitativeRisk"]["coding"][0]["code"] == "emergency"
    assert only(bundle, "Task")["priority"] == "stat"

    changed = await as_caller(
        client,
        who["doctor"],
        "POST",
        f"/api/v1/intakes/{intake_id}/priority",
        json={"priority": "soon", "reason": "Resolved on the phone"},
    )
    assert changed.status_code == 200
    bundle = await export(client, who["admin"], intake_id)
    risk = only(bundle, "RiskAssessment")
    assert risk["status"] == "amended"
    acting, computed = risk["prediction"]
    assert acting["qualitativeRisk"]["coding"][0]["code"] == "soon"
    assert "Resolved on the phone" in acting["rationale"]
    assert computed["qualitativeRisk"]["coding"][0]["code"] == "emergency"
    assert only(bundle, "Task")["priority"] == "urgent"
    assert len(resources(bundle, "Flag")) == 2  # the rules still fired


@pytest.mark.parametrize(
    ("answers", "level", "task_priority"),
    [
        ({"testicular_pain_sudden": True}, "emergency", "stat"),
        ({"genital_sores": True}, "urgent", "asap"),
        ({"semen_bad_smell": True}, "soon", "urgent"),
        ({}, "routine", "routine"),
    ],
)
async def test_task_priority_maps_each_level(
    client: Client,
    database_url: URL,
    answers: dict[str, object],
    level: str,
    task_priority: str,
) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client, **answers)
    bundle = await export(client, who["doctor"], intake_id)
    assert only(bundle, "Task")["priority"] == task_priority
    risk = only(bundle, "RiskAssessment")
    assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == level


async def test_task_status_follows_the_queue(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)

    async def task_of(intake_id: str) -> dict[str, Any]:
        return only(await export(client, who["doctor"], intake_id), "Task")

    async def move(intake_id: str, status: str) -> None:
        await move_along(client, who["doctor"], intake_id, status)

    along = await submit(client)
    task = await task_of(along)
    assert (task["status"], task["businessStatus"]["text"]) == ("requested", "new")
    for status, fhir_status in [
        ("called", "accepted"),
        ("arrived", "ready"),
        ("with_doctor", "in-progress"),
        ("done", "completed"),
    ]:
        await move(along, status)
        task = await task_of(along)
        assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == (
            fhir_status,
            status,
        )
    assert task["lastModified"] >= task["authoredOn"]
    for status, fhir_status in [("no_show", "failed"), ("cancelled", "cancelled")]:
        intake_id = await submit(client)
        await move(intake_id, status)
        assert (await task_of(intake_id))["status"] == fhir_status


async def test_an_unchanged_intake_exports_the_same_bytes(
    client: Client, database_url: URL
) -> None:
    """Every time in the Bundle is the intake's own: exported twice it is the same document, and
    a change (a status move) moves the Bundle's and the document's time to that change."""
    who = await callers(client, database_url)
    intake_id = await submit(client, fever=True, pelvic_pain=True)
    path = f"/api/v1/intakes/{intake_id}/fhir"
    first = await as_caller(client, who["doctor"], "GET", path)
    second = await as_caller(client, who["doctor"], "GET", path)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    bundle = first.json()
    submitted = (await intake_json(client, who["doctor"], intake_id))["submitted_at"]
    assert _moment(bundle["timestamp"]) == _moment(submitted)
    assert only(bundle, "DocumentReference")["date"] == bundle["timestamp"]

    await move_along(client, who["doctor"], intake_id, "called")
    after = (await as_caller(client, who["doctor"], "GET", path)).json()
    assert _moment(after["timestamp"]) > _moment(bundle["timestamp"])
    assert after["timestamp"] == only(after, "Task")["lastModified"]
    assert only(after, "DocumentReference")["date"] == after["timestamp"]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_who_may_export_and_each_read_is_audited(client: Client, database_url: URL) -> None:
    who = await callers(client, database_url)
    intake_id = await submit(client, fever=True, pelvic_pain=True)
    path = f"/api/v1/intakes/{intake_id}/fhir"
    before = datetime.now(UTC)
    for name in ("doctor", "admin", "doctor-token", "admin-token"):
        response = await as_caller(client, who[name], "GET", path)
        assert response.status_code == 200, name
    events = await fhir_reads(database_url, intake_id)
    assert len(events) == 4
    assert [event.actor_kind for event in events] == ["staff", "staff", "token", "token"]
    assert all(event.actor_id for event in events)
    assert all(
        before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC) for event in events
    )

    for name, status in [("reception", 403), ("reception-token", 403), ("anonymous", 401)]:
        response = await as_caller(client, who[name], "GET", path)
        assert response.status_code == status, name
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "Test Patient" not in response.text
    unknown = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{uuid4()}/fhir")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    for malformed in ("not-an-id", "1", f"{intake_id}x"):
        path = f"/api/v1/intakes/{malformed}/fhir"
        response = await as_caller(client, who["doctor"], "GET", path)
        assert 400 <= response.status_code < 500, malformed
    # Refused reads record nothing; only the four reads above are on the trail.
    assert len(await fhir_reads(database_url, intake_id)) == 4
