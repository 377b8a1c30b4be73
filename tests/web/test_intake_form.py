"""The patient form over HTTP (server side): language, errors kept, PRG, one intake per key."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from service.app import create_app
from service.settings import get_settings
from tests.counting import count_rows
from tests.patients import patient_json

Client = AsyncTestClient[Litestar]
MALAYALAM = re.compile("[\u0d00-\u0d7f]")


def form_fields(**changes: object) -> dict[str, Any]:
    """The base patient as a browser would post it: yes/no radios, text, dates as text."""
    fields: dict[str, Any] = {}
    for link_id, value in patient_json(**changes).items():
        if value is None:
            continue
        if isinstance(value, bool):
            fields[link_id] = "yes" if value else "no"
        else:
            fields[link_id] = value
    return fields


async def open_form(client: Client, lang: str = "en") -> dict[str, str]:
    page = await client.get(f"/?lang={lang}")
    assert page.status_code == 200
    hidden = dict(
        re.findall(r'name="(_csrf_token|submission_key|form_language)" value="([^"]*)"', page.text)
    )
    assert set(hidden) == {"_csrf_token", "submission_key", "form_language"}
    return hidden


async def send(client: Client, hidden: dict[str, str], fields: dict[str, Any]):  # type: ignore[no-untyped-def]
    return await client.post("/", data={**hidden, **fields}, follow_redirects=False)


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("?lang=ml", None, None, "ml"),
        ("", None, "ml-IN,ml;q=0.9,en;q=0.5", "ml"),
        ("", None, "fr-FR, en;q=0.5", "en"),
        ("", None, None, "en"),
        ("", "ml", "en", "ml"),  # the visit's earlier choice wins over the browser
    ],
)
async def test_the_form_comes_in_the_chosen_language(
    client: Client, query: str, cookie: str | None, accept: str | None, expected: str
) -> None:
    headers = {"accept-language": accept} if accept else {}
    if cookie:
        client.cookies.set("lang", cookie)
    page = await client.get(f"/{query}", headers=headers)
    assert page.status_code == 200
    assert f'<html lang="{expected}">' in page.text
    heading = page.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert bool(MALAYALAM.search(heading)) == (expected == "ml")


async def test_the_choice_of_language_is_kept_for_the_visit(client: Client) -> None:
    await client.get("/?lang=ml")
    again = await client.get("/")
    assert '<html lang="ml">' in again.text


async def test_a_valid_form_redirects_to_a_confirmation_with_the_reference(
    client: Client, database_url: URL
) -> None:
    response = await send(client, await open_form(client), form_fields())
    assert response.status_code == 303
    assert response.headers["location"] == "/thanks"
    thanks = await client.get("/thanks")
    assert thanks.status_code == 200
    assert re.search(r"[2-9A-HJ-NP-TV-Z]{3}-[2-9A-HJ-NP-TV-Z]{3}", thanks.text)
    assert "RF-" not in thanks.text
    assert thanks.headers["cache-control"] == "no-store"
    assert (await count_rows(database_url))["intake"] == 1


async def test_the_confirmation_is_only_for_the_browser_that_sent_the_form(client: Client) -> None:
    assert (await send(client, await open_form(client), form_fields())).status_code == 303
    assert (await client.get("/thanks")).status_code == 200
    client.cookies.clear()  # another browser: same address, no session
    response = await client.get("/thanks", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_sending_the_same_form_twice_stores_one_intake(
    client: Client, database_url: URL
) -> None:
    hidden = await open_form(client)
    first = await send(client, hidden, form_fields())
    second = await send(client, hidden, form_fields())
    assert first.status_code == second.status_code == 303
    assert (await count_rows(database_url))["intake"] == 1


async def test_a_changed_resend_of_a_sent_form_shows_the_first_confirmation(
    client: Client, database_url: URL
) -> None:
    hidden = await open_form(client)
    assert (await send(client, hidden, form_fields())).status_code == 303
    changed = await send(client, hidden, form_fields(fever="yes"))
    assert changed.status_code == 303
    assert (await count_rows(database_url))["intake"] == 1


async def test_errors_rerender_the_form_with_every_value_kept(
    client: Client, database_url: URL
) -> None:
    words = "രാത്രിയിൽ ചോർച്ച <b>bold</b>"
    fields = form_fields(phone="12", concern_details=words, main_concern="semen_leakage")
    del fields["chest_pain"]
    fields["leakage_when"] = ["arousal", "sleep"]
    response = await send(client, await open_form(client, "ml"), fields)
    assert response.status_code == 422
    page = response.text
    assert 'id="error-summary"' in page
    assert 'href="#chest_pain"' in page
    assert 'href="#phone"' in page
    assert 'id="phone-error"' in page
    assert 'aria-describedby="phone-hint phone-error"' in page or 'phone-error"' in page
    assert "രാത്രിയിൽ ചോർച്ച &lt;b&gt;bold&lt;/b&gt;" in page  # kept, and escaped
    assert 'value="Test Patient"' in page
    assert re.search(r'name="leakage_when" value="arousal" checked', page)
    assert re.search(r'name="leakage_when" value="sleep" checked', page)
    assert MALAYALAM.search(page.split('id="error-summary"', 1)[1][:2000])
    assert (await count_rows(database_url))["intake"] == 0


async def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(
    client: Client, database_url: URL
) -> None:
    hidden = await open_form(client)
    del hidden["_csrf_token"]
    response = await send(client, hidden, form_fields())
    assert response.status_code == 403
    assert "<html" in response.text
    assert (await count_rows(database_url))["intake"] == 0


async def test_a_database_outage_keeps_the_answers_and_says_nothing_was_saved(
    service_env: dict[str, str],
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'gone' / 'clinic.sqlite3'}")
    get_settings.cache_clear()
    async with AsyncTestClient(app=create_app()) as client:
        response = await send(
            client, await open_form(client, "ml"), form_fields(concern_details="ചോർച്ച")
        )
    assert response.status_code == 503
    assert 'id="not-saved"' in response.text
    assert "ചോർച്ച" in response.text
    assert 'value="Test Patient"' in response.text


async def test_pages_for_people_get_html_errors_in_their_language(client: Client) -> None:
    client.cookies.set("lang", "ml")
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert MALAYALAM.search(response.text)
