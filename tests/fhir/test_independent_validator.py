"""The served Questionnaire and the export Bundles pass an independent FHIR R4 validator.

Medplum's `validateResource` with the FHIR 4.0.1 definitions (tests/fhir/validator, installed by
scripts/test from its npm lock), run in Node.js on what the service serves: not our own models.
Its one finding we keep is documented in the README: `ras-2` on a RiskAssessment prediction that
carries only `qualitativeRisk`, which R4 allows (the invariant's own expression does not).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from service.settings import DEFAULT_FHIR_IDENTIFIER_SYSTEM
from tests.fhir.test_fhir_export import (
    MALAYALAM_NAME,
    MALAYALAM_WORDS,
    export,
    move_along,
    override,
    submit,
)
from tests.staff.support import Client, callers

VALIDATOR = Path(__file__).parent / "validator"
# Medplum reads ras-2 as requiring probability or qualitativeRisk to hold a decimal; R4's
# RiskAssessment allows a qualitativeRisk alone, which is what a level is.
DOCUMENTED = {("RiskAssessment", "ras-2")}


def validate(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each resource's issues, in order, from the independent validator."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the FHIR validator: run scripts/test"
    assert (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir(), (
        "the FHIR validator is not installed: run scripts/test (npm ci in tests/fhir/validator)"
    )
    done = subprocess.run(
        [node, str(VALIDATOR / "validate.mjs")],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results: list[list[dict[str, Any]]] = json.loads(done.stdout)
    assert len(results) == len(resources)
    return results


def errors(resource: dict[str, Any], issues: list[dict[str, Any]]) -> list[str]:
    """The errors of one resource (and, for a Bundle, of each entry), but the documented one."""
    found = []
    for issue in issues:
        if issue["severity"] not in {"error", "fatal"}:
            continue
        kind = _kind_at(resource, issue["expression"])
        if any(kind == k and f"Constraint {c} " in issue["message"] for k, c in DOCUMENTED):
            continue
        found.append(f"{kind}: {issue['message']} at {issue['expression']}")
    return found


def _kind_at(resource: dict[str, Any], expression: list[str]) -> str:
    """The resource an issue is in: a Bundle's entry for `Bundle.entry[n].resource...`."""
    match = re.match(r"Bundle\.entry\[(\d+)\]\.resource", expression[0] if expression else "")
    if resource["resourceType"] == "Bundle" and match:
        kind: str = resource["entry"][int(match.group(1))]["resource"]["resourceType"]
        return kind
    return str(resource["resourceType"])


def test_the_validator_catches_what_it_should() -> None:
    """It can fail: the Questionnaire shape an earlier version served (que-11) is refused."""
    questionnaire = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [
            {
                "linkId": "preferred_language",
                "type": "choice",
                "answerOption": [{"valueCoding": {"code": "en"}}],
                "initial": [{"valueCoding": {"code": "en"}}],
            }
        ],
    }
    [issues] = validate([questionnaire])
    assert any("que-11" in issue["message"] for issue in issues), issues


async def test_the_questionnaire_and_the_bundles_of_varied_intakes_are_valid(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    doctor = who["doctor"]
    questionnaires = [
        (await client.get(f"/api/v1/questionnaire?lang={language}")).json()
        for language in ("en", "ml")
    ]
    plain = await submit(client)
    several_flags = await submit(client, erection_over_4h=True, spine_injury=True, fever=True)
    malayalam = await submit(
        client, "ml", full_name=MALAYALAM_NAME, concern_details=MALAYALAM_WORDS, fever=True
    )
    medicines = await submit(
        client,
        takes_medicines=True,
        medicines_list="Tamsulosin 0.4 mg at night",
        antidepressant=True,
        symptoms_after_new_medicine=True,
        self_harm_thoughts=False,
    )
    overridden = await submit(client, testicular_pain_sudden=True)
    await override(client, doctor, overridden, "urgent", "Seen in casualty this morning")
    moved = await submit(client, genital_sores=True)
    for status in ("called", "arrived", "with_doctor", "done"):
        await move_along(client, doctor, moved, status)
    bundles = [
        await export(client, doctor, intake_id)
        for intake_id in (plain, several_flags, malayalam, medicines, overridden, moved)
    ]
    code_systems = await searched(client, "/fhir/CodeSystem")
    definitions = await searched(client, "/fhir/StructureDefinition")
    assert len(code_systems) >= 5
    assert len(definitions) == 1
    resources = [*questionnaires, *bundles, *code_systems, *definitions]
    found = [
        error
        for resource, issues in zip(resources, validate(resources), strict=True)
        for error in errors(resource, issues)
    ]
    assert found == []
    # What the Bundles hold was checked, not just their envelope: every kind is in them.
    kinds = {entry["resource"]["resourceType"] for bundle in bundles for entry in bundle["entry"]}
    assert kinds == {
        "Patient",
        "QuestionnaireResponse",
        "RiskAssessment",
        "Flag",
        "Task",
        "DocumentReference",
    }
    # A system on every Coding; each of the clinic's own resolves to a served CodeSystem that
    # holds the code, and each of its extensions to the served StructureDefinition.
    served_codes = {cs["url"]: {c["code"] for c in cs["concept"]} for cs in code_systems}
    base = DEFAULT_FHIR_IDENTIFIER_SYSTEM
    seen_systems = set()
    for resource in [*questionnaires, *bundles]:
        for coding in codings(resource):
            assert coding.get("system"), (resource["resourceType"], coding)
            if coding["system"].startswith(f"{base}/"):
                assert coding["code"] in served_codes[coding["system"]], coding
                seen_systems.add(coding["system"])
        for url in extension_urls(resource):
            if url.startswith(f"{base}/"):
                assert url in {definition["url"] for definition in definitions}
    assert seen_systems == set(served_codes)  # and every CodeSystem served is used


async def searched(client: Client, path: str) -> list[dict[str, Any]]:
    found = await client.get(path)
    assert found.status_code == 200, found.text
    return [entry["resource"] for entry in found.json()["entry"]]


def codings(value: object, key: str = "") -> list[dict[str, Any]]:
    """Every FHIR Coding in a JSON resource: the `valueCoding`s, `answerCoding`s and the members
    of every `coding` list."""
    if isinstance(value, dict):
        here = [value] if key in {"valueCoding", "answerCoding", "coding"} else []
        return here + [c for k, v in value.items() for c in codings(v, k)]
    if isinstance(value, list):
        return [c for v in value for c in codings(v, key)]
    return []


def extension_urls(value: object) -> list[str]:
    if isinstance(value, dict):
        own = [e["url"] for e in value.get("extension", []) if isinstance(e, dict)]
        return own + [u for v in value.values() for u in extension_urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in extension_urls(v)]
    return []
