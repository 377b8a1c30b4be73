"""Text a patient may type, however hostile or unusual, is stored verbatim and shown escaped.

Each string goes in as the name and the free text of an intake. It must come back unchanged
from the API, appear escaped (never as markup) on the reception queue, the doctor's page and the
form shown again after a mistake, as text in reception's CSV, and literally in the doctor's PDF.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy.engine import URL

from service.spreadsheet import neutralise
from tests.patients import intake_body
from tests.staff.support import Caller, as_caller, callers
from tests.web.test_intake_form import form_fields, open_form, send

Client = AsyncTestClient[Litestar]

MARKUP = {
    "script": "<script>alert('x')</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "attribute break-out": "\"'><svg/onload=alert(1)>",
    "css url": "<style>@import url(http://evil.example/x.css)</style>",
}
PLAIN = {
    "template syntax": "{{ 7*7 }} {% raw %} ${7*7}",  # shown literally, never evaluated
    "sql": "Robert'); DROP TABLE intake;--",
    "formula equals": '=HYPERLINK("http://evil.example","click")',
    "formula plus": "+1+2 cmd",
    "formula minus": "-2+3 cmd",
    "formula at": "@SUM(A1:A9)",
    "path": "../../etc/passwd",
    "file url": "file:///etc/passwd",
    "metadata url": "http://169.254.169.254/latest/meta-data",
    "format string": "%s%n %(x)s {0}",
    "malayalam conjuncts": "ക്ഷ്മ ന്റെ ശ്രീ സ്ത്രീ",
}
UNICODE = {
    "right-to-left override": "Ravi \u202eevil\u202c Kumar",
    "zero-width joiner": "Ra\u200dvi Ku\u200cmar",
    "emoji": "Ravi 👨\u200d👩\u200d👧 😀",
    "combining marks": "Ravi e\u0301\u0302\u0303",
}
CORPUS = {**MARKUP, **PLAIN, **UNICODE}


async def _summary_text(client: Client, doctor: Caller, intake_id: str) -> str:
    for _ in range(120):
        pdf = await as_caller(client, doctor, "GET", f"/api/v1/intakes/{intake_id}/summary.pdf")
        if pdf.status_code != 503:
            break
        await asyncio.sleep(0.5)
    assert pdf.status_code == 200, pdf.text
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    return re.sub(r"\s+", " ", text)


async def test_hostile_text_is_stored_verbatim_and_shown_escaped_everywhere(
    client: Client, database_url: URL
) -> None:
    who = await callers(client, database_url)
    for case, text in CORPUS.items():
        created = await client.post(
            "/api/v1/intakes", json=intake_body(full_name=text, concern_details=text)
        )
        assert created.status_code == 201, (case, created.text)
        intake_id = created.json()["id"]

        stored = await as_caller(client, who["doctor"], "GET", f"/api/v1/intakes/{intake_id}")
        # Verbatim up to Unicode's canonical form (NFC), which the service stores all text in.
        kept = unicodedata.normalize("NFC", text).strip()
        assert stored.json()["answers"]["full_name"] == kept, case
        assert stored.json()["answers"]["concern_details"] == kept, case

        queue = await as_caller(client, who["reception"], "GET", "/staff/queue")
        page = await as_caller(client, who["doctor"], "GET", f"/staff/intakes/{intake_id}")
        for shown in (queue.text, page.text):
            assert str(escape(kept)) in shown, case
            if case in MARKUP:
                assert text not in shown, f"{case}: shown as markup"

        # Reception's CSV: the name as typed, a formula made text with a leading apostrophe.
        export = await as_caller(client, who["reception"], "GET", "/api/v1/queue.csv")
        rows = csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")))
        [row] = [row for row in rows if row["reference"] == created.json()["reference"]]
        assert row["full_name"] == neutralise(kept), case
        assert row["full_name"].removeprefix("'") == kept, case

        if case in PLAIN or case in MARKUP:
            summary = await _summary_text(client, who["doctor"], intake_id)
            assert kept in summary, (case, summary[:400])


@pytest.mark.parametrize("case", list(CORPUS))
async def test_the_form_shows_hostile_text_back_escaped_after_a_mistake(
    client: Client, case: str
) -> None:
    text = CORPUS[case]
    fields = form_fields(full_name=text, concern_details=text)
    fields["birth_date"] = "not a date"
    response = await send(client, await open_form(client), fields)
    assert response.status_code == 422
    assert str(escape(text)) in response.text, case
    if case in MARKUP:
        assert text not in response.text


def test_the_corpus_really_holds_what_it_claims() -> None:
    # Guard against an editor "fixing" the invisible characters out of this file.
    invisible = "".join(UNICODE.values())
    assert "\u202e" in invisible
    assert "\u200d" in invisible
    assert any(unicodedata.combining(character) for character in invisible)
