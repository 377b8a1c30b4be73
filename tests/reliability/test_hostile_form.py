"""Hostile posts to the patient form: a clear page (never a 500), and nothing stored.

The form's counterpart of tests/reliability/test_hostile_api.py: oversized and repeated fields,
unknown fields, null bytes and control characters, broken encodings, other media types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from tests.counting import count_rows, stored_answers
from tests.web.test_intake_form import form_fields, open_form

Client = AsyncTestClient[Litestar]
FORM = "application/x-www-form-urlencoded"


def _encoded(hidden: dict[str, str], fields: dict[str, Any]) -> bytes:
    return urlencode({**hidden, **fields}, doseq=True).encode()


CASES: dict[str, Any] = {
    "name far over its length": lambda h: _encoded(h, form_fields(full_name="N" * 20_000)),
    "body over 64 KiB": lambda h: _encoded(h, form_fields(concern_details="x" * 70_000)),
    "null byte in the name": lambda h: _encoded(h, form_fields(full_name="Ravi\x00Kumar")),
    "escape character in free text": lambda h: _encoded(h, form_fields(concern_details="a\x1bb")),
    "a yes/no sent twice, differently": lambda h: _encoded(h, form_fields()).replace(
        b"fever=no", b"fever=no&fever=yes"
    ),
    "a yes/no that is neither": lambda h: _encoded(h, form_fields(fever="maybe")),
    "an impossible date": lambda h: _encoded(h, form_fields(birth_date="1990-02-30")),
    "a date far in the future": lambda h: _encoded(h, form_fields(birth_date="9999-12-31")),
    "a choice not offered": lambda h: _encoded(h, form_fields(main_concern="<script>")),
    "percent-encoded null": lambda h: _encoded(h, form_fields()).replace(
        b"full_name=Test+Patient", b"full_name=Test%00Patient"
    ),
    "no consent": lambda h: _encoded(h, form_fields(consent_privacy=False)),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_hostile_form_gets_a_clear_page_and_stores_nothing(
    client: Client, database_url: URL, case: str
) -> None:
    hidden = await open_form(client)
    before = await count_rows(database_url)
    response = await client.post(
        "/", content=CASES[case](hidden), headers={"content-type": FORM}, follow_redirects=False
    )
    assert 400 <= response.status_code < 500, (case, response.status_code)
    assert "<html" in response.text, case  # a page for a person, not a bare error
    assert "Traceback" not in response.text
    assert await count_rows(database_url) == before, case


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"full_name": "x"}'),
        ("text/plain", b"full_name=x"),
        ("multipart/form-data; boundary=zzz", b"--zzz\r\nbroken"),
    ],
)
async def test_the_form_refuses_other_media_types_and_stores_nothing(
    client: Client, database_url: URL, content_type: str, body: bytes
) -> None:
    await open_form(client)
    before = await count_rows(database_url)
    response = await client.post(
        "/", content=body, headers={"content-type": content_type}, follow_redirects=False
    )
    assert 400 <= response.status_code < 500, (content_type, response.status_code)
    assert await count_rows(database_url) == before


async def test_made_up_fields_are_ignored_and_never_stored(
    client: Client, database_url: URL
) -> None:
    hidden = await open_form(client)
    fields = {**form_fields(), "is_admin": "yes", "status": "done", "x" * 500: "1"}
    response = await client.post(
        "/", content=_encoded(hidden, fields), headers={"content-type": FORM}
    )
    assert response.status_code == 200, response.status_code  # the confirmation page
    assert (await count_rows(database_url))["intake"] == 1
    stored = await stored_answers(database_url)
    assert not {"is_admin", "status", "x" * 500} & set(stored)


async def test_invalid_utf8_in_a_field_never_breaks_the_form(
    client: Client, database_url: URL
) -> None:
    hidden = await open_form(client)
    body = _encoded(hidden, form_fields()).replace(b"full_name=Test+Patient", b"full_name=%FF%FE")
    response = await client.post("/", content=body, headers={"content-type": FORM})
    assert response.status_code in {200, 422}, response.status_code
    assert "<html" in response.text
    if response.status_code == 200:  # stored as decoded: replacement characters, never bytes
        assert (await stored_answers(database_url))["full_name"] == "\ufffd\ufffd"
