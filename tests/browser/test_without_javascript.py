"""The same flow with JavaScript turned off: everything shows, and the server decides.

Every section and follow-up question is on the page, each conditional one with its note
("answer this only if..."). The patient answers some that do not apply to them; the server
drops those answers before triage and does not store them. A double tap on "send" is one intake.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.support import (
    REFERENCE,
    Counter,
    Site,
    assert_first_party_only,
    assert_values_kept,
    new_context,
    stored_intake,
)
from tests.chromium import fill_form, screenshot
from tests.patients import patient_json

pytestmark = pytest.mark.browser

# Answers to questions that do not apply to this patient (their condition is not met).
NOT_APPLICABLE = {
    "leakage_when": ["random"],  # main_concern is not semen_leakage
    "leakage_frequency": "daily",
    "blood_in_semen_episodes": 5,  # blood_in_semen is no
    "blood_in_semen_since": "gt_1_month",
    "medicines_list": "sertraline 50 mg",  # takes_medicines is no
    "antidepressant": True,  # would fire RF-MEDICATION if it were kept
    "symptoms_after_new_medicine": True,
    "trying_months": 30,  # trying_to_conceive is no; 30 would fire RF-INFERTILITY
}
SECTIONS = [
    "patient",
    "concern",
    "leakage",
    "warning_signs",
    "nerves",
    "medicines",
    "fertility",
    "consent",
]


def test_without_javascript_the_server_drops_what_does_not_apply(
    browser: Browser, site: Site
) -> None:
    counter = Counter(site.database_url)
    context, requests = new_context(browser, site.base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")

    for section in SECTIONS:
        expect(page.locator(f"#section-block-{section}")).to_be_visible()
    conditional = page.locator("form [data-enable-when]")
    assert conditional.count() >= 1 + 2 + 4 + 1  # leakage, blood, medicines, fertility
    for block in conditional.all():
        expect(block).to_be_visible()
        expect(block.locator("[data-condition-note]").first).to_be_visible()
    page.locator("#section-block-leakage").scroll_into_view_if_needed()
    screenshot(page, "en-6-nojs-form")

    meant = patient_json(**NOT_APPLICABLE)
    typed = {key: value for key, value in meant.items() if key != "fever"}
    typed["phone"] = "+1 555"
    fill_form(page, typed)
    with page.expect_navigation(wait_until="load"):
        page.locator("form.intake-form button[type=submit]").tap()

    expect(page.locator("#error-summary")).to_be_visible()
    hashes = page.locator("#error-summary a").evaluate_all("as => as.map(a => a.hash)")
    assert sorted(hashes) == ["#fever", "#phone"]
    expect(page.locator("#fever-error")).to_be_visible()
    expect(page.locator("#phone-error")).to_be_visible()
    assert_values_kept(page, typed)  # the answers that do not apply too: the patient's own
    assert counter.intakes() == 0, "a form with errors stored an intake"

    fill_form(page, {"phone": meant["phone"], "fever": meant["fever"]})
    # A double tap on "send", with no script to stop the second: one intake. (Chromium may
    # fold the two into one post; when both reach the server, the form's one-time key makes
    # them one intake, as the resent post of test_phone_flow shows.)
    page.locator("form.intake-form button[type=submit]").dblclick()
    # The second post may abort the first one's navigation, which `wait_for_url` would take for
    # a failure: the page is where it must be once its address is, whichever post led there.
    expect(page).to_have_url(site.url("/thanks"))
    page.wait_for_load_state("load")

    reference = page.locator(".reference-code").inner_text().strip()
    assert REFERENCE.fullmatch(reference)
    assert "RF-" not in page.content()
    screenshot(page, "en-7-nojs-confirmation")
    stored = stored_intake(site.database_url, reference)
    assert stored["priority"] == "routine"
    assert counter.added()["red_flag"] == 0, "a dropped answer fired a rule"
    kept = set(stored["answers"]) & set(NOT_APPLICABLE)
    assert not kept, f"answers to questions that did not apply were stored: {kept}"
    assert stored["answers"]["full_name"] == meant["full_name"]
    page.reload()
    expect(page.locator(".reference-code")).to_have_text(reference)
    assert counter.intakes() == 1
    assert_first_party_only(page, requests)
    context.close()
