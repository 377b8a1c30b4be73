"""CPU per intake of a submission's domain work alone, step by step: no HTTP, no database.

Run: python bench/domain_bench.py [--rounds N]
The 500 varied bodies of bench/submissions.py, each taken through the steps of
`service.intake.submit_intake` before it stores anything: the body's decode, the request digest,
`validate_answers`, `evaluate`, `patient_advice`, the `NewIntake` with its rows, and the receipt.
Each line is the process CPU time per intake of every step up to it (median of the rounds), so
the difference between two lines is one step's cost. This is what issue 17's CPU target is
measured against: the whole service must do this and everything around it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.submissions import varied_bodies
from service.clinic import Clinic
from service.intake.new import NewIntake
from service.intake.stored import advice_to_json, answers_to_json, red_flags_of
from service.intake.submit import Assessed, assess, request_digest
from service.models import new_reference
from service.settings import get_settings
from service.web.api.intakes import IntakeSubmission, receipt

STEPS = ["decode", "+ digest", "+ validate, triage, advice", "+ NewIntake and rows", "+ receipt"]
DECODER = msgspec.json.Decoder(IntakeSubmission)


def one(clinic: Clinic, body: bytes, steps: int) -> None:
    """The first `steps` steps for one body."""
    submission = DECODER.decode(body)
    if steps == 1:
        return
    now = datetime.now(UTC)
    digest = request_digest(submission.language, submission.answers)
    if steps == 2:
        return
    assessed = assess(clinic, submission.language, submission.answers, clinic.today(now))
    if steps == 3 or not isinstance(assessed, Assessed):
        return
    intake = NewIntake(
        id=uuid4(),
        reference=new_reference(),
        language=submission.language,
        questionnaire_version=clinic.questionnaire.version,
        answers=answers_to_json(assessed.answers),
        consent_version=clinic.consent.version,
        consent_text=clinic.consent.text.get(submission.language),
        submitted_at=now,
        submitted_day=clinic.today(now),
        computed_priority=assessed.triage.level.value,
        rule_set=assessed.triage.rule_set,
        rule_set_version=assessed.triage.rule_set_version,
        advice=advice_to_json(assessed.advice),
        idempotency_key=None,
        request_digest=digest,
        red_flags=red_flags_of(assessed.triage, now),
    )
    intake.row(), intake.red_flag_rows(), intake.status_row()
    if steps == 4:
        return
    msgspec.json.encode(receipt(intake, clinic))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clinic = Clinic.load(get_settings())
    bodies = [msgspec.json.encode(body) for body in varied_bodies()]
    for steps, name in enumerate(STEPS, start=1):
        for body in bodies:  # warm
            one(clinic, body, steps)
        per_intake = []
        for _ in range(args.rounds):
            started = time.process_time()
            for body in bodies:
                one(clinic, body, steps)
            per_intake.append((time.process_time() - started) / len(bodies) * 1000)
        print(f"{name:30s} {statistics.median(per_intake):.3f} ms per intake")
    return 0


if __name__ == "__main__":
    sys.exit(main())
