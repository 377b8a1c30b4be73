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
    resources = [*questionnaires, *bundles]
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
