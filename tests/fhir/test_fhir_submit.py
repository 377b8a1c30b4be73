"""`POST /fhir/QuestionnaireResponse` and `GET /fhir/QuestionnaireResponse/{id}`: one way in for
any SDC form filler, stored exactly as `POST /api/v1/intakes` stores the same answers, and every
refusal an OperationOutcome naming the linkId, with nothing stored."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.models import AuditEvent
from tests.counting import count_rows
from tests.databases import in_database
from tests.fhir.responses import CREATE, FHIR_JSON, JsonObject, item_of, response_to, served
from tests.fhir.test_independent_validator import errors, validate
from tests.patients import patient_json
from tests.staff.support import Caller, Client, as_caller, callers

# Patients whose answers go in both ways: plain; several red flags; Malayalam with medicines and
# leakage (a group enabled by an answer, a multi-choice); an emergency kept on a disabled item.
PATIENTS: list[tuple[str, dict[str, object]]] = [
    ("en", {}),
    (
        "en",
        {
            "erection_over_4h": True,
            "urethral_discharge": True,
            "spine_injury": True,
            "blood_in_semen": True,
            "blood_in_semen_episodes": 3,
            "blood_in_semen_since": "gt_1_month",
        },
    ),
    (
        "ml",
        {
            "full_name": "അനിൽ കുമാർ",
            "main_concern": "semen_leakage",
            "leakage_when": ["arousal", "sleep"],
            "leakage_frequency": "weekly",
            "concern_details": "രാത്രിയിൽ ചോർച്ച ഉണ്ടാകുന്നു",
            "takes_medicines": True,
            "medicines_list": "sertraline 50 mg",
            "antidepressant": True,
            "symptoms_after_new_medicine": False,
            "self_harm_thoughts": False,
            "trying_to_conceive": True,
            "trying_months": 14,
        },
    ),
    (
        "en",
        {
            "takes_medicines": True,
            "antidepressant": False,
            "symptoms_after_new_medicine": False,
            "self_harm_thoughts": True,  # not asked after "no", but an emergency: it counts
        },
    ),
]


async def create(client: Client, resource: object, status: int = 201, **headers: str) -> Any:
    response = await client.post(
        CREATE, json=resource, headers={"content-type": FHIR_JSON, **headers}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    return response


async def detail(client: Client, doctor: Caller, intake_id: str) -> JsonObject:
    found = await as_caller(client, doctor, "GET", f"/api/v1/intakes/{intake_id}")
    assert found.status_code == 200, found.text
    body: JsonObject = found.json()
    return body


def triaged(intake: JsonObject) -> tuple[Any, ...]:
    """What the clinic acts on: level, red flags, the stored answers, language, versions."""
    flags = sorted((flag["rule"], flag["level"], flag["current"]) for flag in intake["red_flags"])
    return (
        intake["priority"],
        flags,
        intake["answers"],
        intake["language"],
        intake["questionnaire_version"],
        intake["consent_version"],
    )


@pytest.mark.parametrize(("language", "changes"), PATIENTS)
async def test_a_response_is_stored_as_the_json_api_stores_the_same_answers(
    client: Client, database_url: URL, language: str, changes: dict[str, object]
) -> None:
    doctor = (await callers(client, database_url))["doctor"]
    answers = patient_json(**changes)
    start = await count_rows(database_url)
    by_json = await client.post("/api/v1/intakes", json={"language": language, "answers": answers})
    assert by_json.status_code == 201, by_json.text
    middle = await count_rows(database_url)

    resource = response_to(await served(client, language), answers, language)
    created = await create(client, resource)
    stored = created.json()
    # The same rows each way: the intake, its red flags, status, audit event, outbox notices.
    end = await count_rows(database_url)
    assert {t: end[t] - middle[t] for t in end} == {t: middle[t] - start[t] for t in end}
    intake_id = stored["id"]
    assert created.headers["location"] == f"/fhir/QuestionnaireResponse/{intake_id}"
    assert triaged(await detail(client, doctor, intake_id)) == triaged(
        await detail(client, doctor, by_json.json()["id"])
    )
    # The answer is the response as stored, valid R4 to the independent validator.
    assert stored["resourceType"] == "QuestionnaireResponse"
    assert stored["questionnaire"] == resource["questionnaire"]
    assert stored["status"] == "completed"
    [issues] = validate([stored])
    assert errors(stored, issues) == []


async def test_an_emergency_is_told_by_its_level_and_read_back_by_doctors(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    questionnaire = await served(client)
    answers = patient_json(erection_over_4h=True)
    created = await create(client, response_to(questionnaire, answers))
    intake_id = created.json()["id"]
    assert (await detail(client, who["doctor"], intake_id))["priority"] == "emergency"

    path = f"/fhir/QuestionnaireResponse/{intake_id}"
    for caller in ("doctor", "admin", "doctor-token"):
        read = await as_caller(client, who[caller], "GET", path)
        assert read.status_code == 200, (caller, read.text)
        assert read.headers["content-type"].startswith(FHIR_JSON)
        assert read.json() == created.json()
    assert item_of(read.json(), "erection_over_4h")["answer"] == [{"valueBoolean": True}]
    # Each read is on the audit trail, by whom.
    reads = await in_database(
        database_url,
        select(AuditEvent.actor_kind).where(
            AuditEvent.intake_id == UUID(intake_id),
            AuditEvent.action == "intake.questionnaire_response_viewed",
        ),
    )
    assert sorted(kind for (kind,) in reads) == ["staff", "staff", "token"]
    # Reception, the anonymous and an unknown id: OperationOutcomes, nothing read.
    for caller, status, code in [
        ("reception", 403, "forbidden"),
        ("anonymous", 401, "login"),
    ]:
        refused = await as_caller(client, who[caller], "GET", path)
        assert refused.status_code == status, refused.text
        assert [issue["code"] for issue in refused.json()["issue"]] == [code]
    missing = await as_caller(
        client, who["doctor"], "GET", "/fhir/QuestionnaireResponse/" + str(UUID(int=7))
    )
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"


async def test_a_response_naming_no_language_is_in_the_language_it_was_shown_in(
    client: Client, database_url: URL
) -> None:
    """LHC-Forms sets no QuestionnaireResponse.language, but copies the texts of the form it
    showed: their language is the intake's (so the consent text stored is the one shown). A
    response without texts is in the patient's preferred_language, else English."""
    doctor = (await callers(client, database_url))["doctor"]
    malayalam_form = await served(client, "ml")
    for preferred, texts, stored in [
        ("en", True, "ml"),
        (None, True, "ml"),
        ("ml", False, "ml"),
        ("en", False, "en"),
        (None, False, "en"),
    ]:
        resource = response_to(malayalam_form, patient_json(preferred_language=preferred))
        del resource["language"]
        if not texts:
            for group in resource["item"]:
                del group["text"]
                for item in group["item"]:
                    del item["text"]
        intake_id = (await create(client, resource)).json()["id"]
        intake = await detail(client, doctor, intake_id)
        assert intake["language"] == stored, (preferred, texts)


async def test_a_form_filler_can_ask_what_the_patient_is_to_be_told(
    client: Client, database_url: URL
) -> None:
    """`Prefer: return=OperationOutcome`: for an emergency, the instruction not to wait comes
    first, as a warning; then the reference code. The same as the JSON API's receipt says."""
    questionnaire = await served(client, "ml")
    answers = patient_json(erection_over_4h=True)
    told = await create(
        client,
        response_to(questionnaire, answers, "ml"),
        prefer="return=OperationOutcome",
    )
    by_json = await client.post("/api/v1/intakes", json={"language": "ml", "answers": answers})
    receipt = by_json.json()
    outcome = told.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [advice, reference] = outcome["issue"]
    assert (advice["severity"], advice["details"]["text"]) == ("warning", "emergency")
    assert advice["diagnostics"] == receipt["advice"]  # in Malayalam, the emergency first
    assert reference["diagnostics"].startswith("Reference code ")
    assert reference["details"]["text"] != receipt["reference"]  # each intake has its own
    [issues] = validate([outcome])
    assert errors(outcome, issues) == []
    routine = await create(
        client, response_to(questionnaire, patient_json(), "ml"), prefer="return=OperationOutcome"
    )
    assert routine.json()["issue"][0]["severity"] == "information"
    minimal = await create(
        client, response_to(questionnaire, patient_json(), "ml"), prefer="return=minimal"
    )
    assert minimal.content == b""
    assert minimal.headers["location"].startswith("/fhir/QuestionnaireResponse/")


async def test_an_emergency_is_taken_although_a_hidden_question_was_answered(
    client: Client, database_url: URL
) -> None:
    """A hidden question's answer is refused, but never at the cost of an emergency: with one,
    the answer is dropped as the form drops it and the intake is stored (clinical brief)."""
    doctor = (await callers(client, database_url))["doctor"]
    questionnaire = await served(client)
    hidden = _add("fertility", {"linkId": "trying_months", "answer": [{"valueInteger": 12}]})
    routine = response_to(questionnaire, patient_json())
    hidden(routine)
    before = await count_rows(database_url)
    await create(client, routine, 422)
    assert await count_rows(database_url) == before
    emergency = response_to(questionnaire, patient_json(erection_over_4h=True))
    hidden(emergency)
    intake_id = (await create(client, emergency)).json()["id"]
    stored = await detail(client, doctor, intake_id)
    assert stored["priority"] == "emergency"
    assert "trying_months" not in stored["answers"]


def _set(link_id: str, answer: list[JsonObject]) -> Callable[[JsonObject], None]:
    def change(resource: JsonObject) -> None:
        item_of(resource, link_id)["answer"] = answer

    return change


def _add(group: str, item: JsonObject) -> Callable[[JsonObject], None]:
    def change(resource: JsonObject) -> None:
        item_of(resource, group)["item"].append(item)

    return change


def _field(name: str, value: object) -> Callable[[JsonObject], None]:
    def change(resource: JsonObject) -> None:
        if value is None:
            resource.pop(name, None)
        else:
            resource[name] = value

    return change


def _url_version(
    url: str | None = None, version: str | None = None
) -> Callable[[JsonObject], None]:
    def change(resource: JsonObject) -> None:
        canonical, _, served_version = resource["questionnaire"].partition("|")
        resource["questionnaire"] = (url or canonical) + (
            "" if version == "" else f"|{version or served_version}"
        )

    return change


# (why, change to a valid response, the expressions of the issues expected)
REFUSALS: list[tuple[str, Callable[[JsonObject], None], list[str]]] = [
    ("status in progress", _field("status", "in-progress"), ["QuestionnaireResponse.status"]),
    ("no status", _field("status", None), ["QuestionnaireResponse.status"]),
    ("no questionnaire", _field("questionnaire", None), ["QuestionnaireResponse.questionnaire"]),
    (
        "another questionnaire",
        _url_version(url="https://elsewhere.example/Questionnaire/phq-9"),
        ["QuestionnaireResponse.questionnaire"],
    ),
    ("no version", _url_version(version=""), ["QuestionnaireResponse.questionnaire"]),
    ("an old version", _url_version(version="2025.1.0"), ["QuestionnaireResponse.questionnaire"]),
    ("a language not offered", _field("language", "fr"), ["QuestionnaireResponse.language"]),
    ("another resource", _field("resourceType", "Patient"), ["resourceType"]),
    (
        "an unknown linkId",
        _add("warning_signs", {"linkId": "hiv_status", "answer": [{"valueBoolean": True}]}),
        ["hiv_status"],
    ),
    (
        "an item in another group",
        _add("patient", {"linkId": "fever", "answer": [{"valueBoolean": False}]}),
        ["fever"],
    ),
    ("a valueString for a yes/no", _set("fever", [{"valueString": "no"}]), ["fever"]),
    ("a coding for a yes/no", _set("chest_pain", [{"valueCoding": {"code": "N"}}]), ["chest_pain"]),
    (
        "text in a valueBoolean",
        _set("blood_in_semen", [{"valueBoolean": "true"}]),
        ["blood_in_semen"],
    ),
    (
        "two answers to a one-answer question",
        _set("fever", [{"valueBoolean": True}, {"valueBoolean": False}]),
        ["fever"],
    ),
    (
        "a code from another system",
        _set(
            "main_concern",
            [{"valueCoding": {"system": "http://snomed.info/sct", "code": "erectile_difficulty"}}],
        ),
        ["main_concern"],
    ),
    (
        "a code that is not an option",
        _set("symptom_duration", [{"valueCoding": {"code": "forever"}}]),
        ["symptom_duration"],
    ),
    (
        "an answer to a question not asked",
        _add("fertility", {"linkId": "trying_months", "answer": [{"valueInteger": 12}]}),
        ["trying_months"],
    ),
    (
        "a group not asked",
        lambda resource: resource["item"].insert(
            2,
            {
                "linkId": "leakage",
                "item": [
                    {
                        "linkId": "leakage_frequency",
                        "answer": [{"valueCoding": {"code": "daily"}}],
                    }
                ],
            },
        ),
        ["leakage_frequency"],
    ),
    ("consent refused", _set("consent_privacy", [{"valueBoolean": False}]), ["consent_privacy"]),
    ("a required answer missing", _set("fever", []), ["fever"]),
]


@pytest.mark.parametrize(
    ("change", "expressions"),
    [pytest.param(change, where, id=why) for why, change, where in REFUSALS],
)
async def test_each_refusal_names_the_item_and_stores_nothing(
    client: Client,
    database_url: URL,
    change: Callable[[JsonObject], None],
    expressions: list[str],
) -> None:
    resource = response_to(await served(client), patient_json())
    await create(client, copy.deepcopy(resource), 201)  # the unchanged response is taken
    before = await count_rows(database_url)
    change(resource)
    refused = await create(client, resource, 422)
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [issue["expression"] for issue in outcome["issue"]] == [[e] for e in expressions]
    assert all(issue["severity"] == "error" and issue["diagnostics"] for issue in outcome["issue"])
    assert await count_rows(database_url) == before
    [issues] = validate([outcome])
    assert errors(outcome, issues) == []


async def test_bodies_that_are_not_a_response_are_refused(
    client: Client, database_url: URL
) -> None:
    before = await count_rows(database_url)
    resource = response_to(await served(client), patient_json())
    cases: list[tuple[dict[str, str], bytes, int]] = [
        ({"content-type": FHIR_JSON}, b"{not json", 400),
        ({"content-type": FHIR_JSON}, b"\xff\xfe", 400),
        ({"content-type": FHIR_JSON}, b"[" * 5000 + b"]" * 5000, 400),
        ({"content-type": FHIR_JSON}, b"[]", 422),
        ({"content-type": "application/json"}, b'"QuestionnaireResponse"', 422),
        ({"content-type": "application/xml"}, b"<QuestionnaireResponse/>", 415),
        (
            {"content-type": FHIR_JSON},
            b'{"resourceType": "QuestionnaireResponse"' + b" " * 70_000 + b"}",
            413,
        ),
    ]
    for headers, body, status in cases:
        answered = await client.post(CREATE, content=body, headers=headers)
        assert answered.status_code == status, (body[:40], answered.text)
        assert answered.json()["resourceType"] == "OperationOutcome"
    # What a client sent is echoed only in part.
    long_status = {**resource, "status": "x" * 20_000, "questionnaire": "y" * 20_000}
    echoed = (await create(client, long_status, 422)).json()["issue"]
    assert [len(issue["diagnostics"]) < 300 for issue in echoed] == [True, True]
    # Made-up items by the hundred: a short answer, the first problems and a count.
    resource["item"].extend({"linkId": f"made_up_{n}", "answer": []} for n in range(300))
    crowded = await create(client, resource, 422)
    issues = crowded.json()["issue"]
    assert len(issues) <= 41
    assert issues[-1]["diagnostics"] == "260 more problems."
    assert await count_rows(database_url) == before


async def test_the_same_idempotency_key_answers_the_first_response_again(
    client: Client, database_url: URL
) -> None:
    resource = response_to(await served(client), patient_json(fever=True))
    first = await create(client, resource, 201, **{"idempotency-key": "portal-7f3a9c"})
    before = await count_rows(database_url)
    again = await create(client, resource, 201, **{"idempotency-key": "portal-7f3a9c"})
    assert again.headers["location"] == first.headers["location"]
    assert again.json() == first.json()
    other = response_to(await served(client), patient_json(fever=False))
    conflict = await create(client, other, 409, **{"idempotency-key": "portal-7f3a9c"})
    assert conflict.json()["issue"][0]["code"] == "conflict"
    assert await count_rows(database_url) == before


async def test_the_json_api_and_fhir_share_one_rate_limit(
    app_with: Callable[..., Any], database_url: URL
) -> None:
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app_with(INTAKE_RATE_LIMIT_PER_MINUTE="2")) as client:
        resource = response_to(await served(client), patient_json())
        assert (
            await client.post("/api/v1/intakes", json={"language": "en", "answers": patient_json()})
        ).status_code == 201
        await create(client, resource, 201)
        before = await count_rows(database_url)
        limited = await create(client, resource, 429)
        assert limited.headers["retry-after"]
        assert limited.json()["issue"][0]["code"] == "throttled"
        assert await count_rows(database_url) == before
