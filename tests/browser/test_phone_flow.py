"""A patient on a phone fills in the whole form, makes mistakes, corrects them and sends it once.

In English and, switched with the link at the top, in Malayalam. The mistakes: a required yes/no
question left blank (blank is never "no") and a phone number that is not one. Every value typed
must come back, Malayalam text included, and nothing may be stored until the form is right.
Then the confirmation, its reload and a network retry of the same post: still one intake.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import (
    MALAYALAM,
    REFERENCE,
    Counter,
    Site,
    assert_first_party_only,
    assert_values_kept,
    form_values,
    new_context,
    stored_intake,
    submit,
    switch_language,
)
from tests.chromium import fill_form, screenshot
from tests.patients import patient_json

pytestmark = pytest.mark.browser

DETAILS = {
    "en": "Leaks at night. രാത്രിയിൽ ചോർച്ച",
    "ml": "രാത്രിയിൽ ചോർച്ച, രണ്ടു മാസമായി.",
}
NAMES = {"en": "Ramesh Kumar", "ml": "രമേശ് കുമാർ"}


def the_patient(lang: str) -> dict[str, object]:
    """Every section answered, its follow-ups included: what the patient means to send."""
    return patient_json(
        full_name=NAMES[lang],
        email="ramesh@example.com",
        preferred_language=lang,
        main_concern="semen_leakage",
        concern_details=DETAILS[lang],
        leakage_when=["arousal", "sleep"],
        leakage_frequency="weekly",
        takes_medicines=True,
        medicines_list="Tab. Metformin 500 mg",
        antidepressant=False,
        symptoms_after_new_medicine=False,
        trying_to_conceive=True,
        trying_months=14,
        consent_contact=True,
    )


def assert_errors_shown(page: Page, lang: str, fields: set[str]) -> None:
    """The summary at the top links to each field; each field carries its own message."""
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # read out first by a screen reader, and scrolled to
    assert summary.evaluate(
        "el => el.compareDocumentPosition(document.querySelector('form.intake-form'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING"
    ), "the error summary is not above the form"
    links = summary.locator("a")
    assert {href.lstrip("#") for href in links.evaluate_all("as => as.map(a => a.hash)")} == fields
    for link_id in fields:
        message = page.locator(f"#{link_id}-error")
        expect(message).to_be_visible()
        if lang == "ml":
            assert MALAYALAM.search(message.inner_text()), "error message not in Malayalam"
        # next to its field, and tied to it for a screen reader
        expect(page.locator(f"#item-{link_id}")).to_contain_text(message.inner_text())
        described = page.locator(f"#item-{link_id} [aria-describedby~='{link_id}-error']")
        expect(described).to_have_count(1)
        expect(page.locator(f"#{link_id}")).to_have_attribute("aria-invalid", "true")
    # "Error:" (or its translation) leads the title, as the hidden prefix of each message says
    prefix = page.locator(f"#{next(iter(fields))}-error .visually-hidden").inner_text().strip()
    assert page.title().startswith(prefix), page.title()
    # each link in the summary takes the patient to the field itself
    for link_id in sorted(fields):
        links.and_(page.locator(f'[href="#{link_id}"]')).tap()
        expect(page.locator(f"#{link_id}")).to_be_focused()
        expect(page.locator(f"#{link_id}")).to_be_in_viewport()


def assert_confirmation(page: Page, site: Site, lang: str) -> str:
    """The confirmation in the patient's language, with the reference of what was stored."""
    assert page.url == site.url("/thanks")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    reference = page.locator(".reference-code").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    expect(page.locator("h1")).to_contain_text(MALAYALAM if lang == "ml" else "Thank you")
    assert "RF-" not in page.content()
    stored = stored_intake(site.database_url, reference)
    assert stored["language"] == lang
    assert stored["answers"]["concern_details"] == DETAILS[lang]
    assert stored["answers"]["full_name"] == NAMES[lang]
    assert stored["answers"]["phone"] == "+919876543210"
    return reference


def assert_sent_again_is_one_intake(
    page: Page, site: Site, counter: Counter, reference: str, post: bytes
) -> None:
    # A refresh of the confirmation shows the same intake and stores nothing.
    page.reload()
    expect(page.locator(".reference-code")).to_have_text(reference)
    assert counter.intakes() == 1

    # The same post sent again (a network retry, "resend" after a time-out), with this
    # browser's cookies: the one-time key in the form makes it the same intake.
    response = page.context.request.post(
        site.url("/"),
        data=post,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )
    assert response.status == 303, response.text()
    assert response.headers["location"] == "/thanks"
    page.goto("/thanks")
    expect(page.locator(".reference-code")).to_have_text(reference)
    assert counter.intakes() == 1


@pytest.mark.parametrize("lang", ["en", "ml"])
def test_a_phone_user_corrects_mistakes_and_sends_once(
    browser: Browser, site: Site, lang: str
) -> None:
    counter = Counter(site.database_url)
    context, requests = new_context(browser, site.base_url)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    if lang == "ml":
        switch_language(page, "ml")
        expect(page.locator("h1")).to_contain_text(MALAYALAM)
    screenshot(page, f"{lang}-1-form")
    assert_first_party_only(page, requests)

    meant = the_patient(lang)
    typed = {key: value for key, value in meant.items() if key != "chest_pain"}
    typed["phone"] = "12345"
    fill_form(page, typed)
    assert_values_kept(page, typed)
    submit(page)

    assert page.url == site.url("/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_errors_shown(page, lang, {"phone", "chest_pain"})
    assert_values_kept(page, typed)
    assert form_values(page)["chest_pain"] == "", "a blank yes/no must stay blank, never 'no'"
    assert counter.added()["intake"] == 0, "a form with errors stored an intake"
    page.locator("#error-summary").scroll_into_view_if_needed()
    screenshot(page, f"{lang}-2-errors")
    page.locator("#item-chest_pain").scroll_into_view_if_needed()
    screenshot(page, f"{lang}-2-error-at-its-field")
    assert_first_party_only(page, requests)

    posts: list[bytes] = []
    page.on(
        "request", lambda r: posts.append(r.post_data_buffer or b"") if r.method == "POST" else None
    )
    fill_form(page, {"phone": meant["phone"], "chest_pain": meant["chest_pain"]})
    assert_values_kept(page, meant)
    submit(page)

    reference = assert_confirmation(page, site, lang)
    assert counter.intakes() == 1
    screenshot(page, f"{lang}-3-confirmation")
    assert_first_party_only(page, requests)
    assert_sent_again_is_one_intake(page, site, counter, reference, posts[-1])
    assert_first_party_only(page, requests)
    context.close()


def test_back_from_the_confirmation_and_send_again_stores_no_second_intake(
    browser: Browser, site: Site
) -> None:
    counter = Counter(site.database_url)
    context, _ = new_context(browser, site.base_url)
    page = context.new_page()
    page.goto("/")
    fill_form(page, the_patient("en"))
    submit(page)
    if page.url != site.url("/thanks") or counter.intakes() != 1:
        pytest.fail("precondition: the first sending should store one intake")

    page.go_back()
    if page.url != site.url("/") or form_values(page).get("full_name") != NAMES["en"]:
        pytest.fail("precondition: back should show the form with the answers restored")
    submit(page)
    assert counter.intakes() == 1, "sending the same answers again stored a second intake"
    context.close()
