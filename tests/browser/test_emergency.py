"""An emergency answer: the patient is told first, and large, to go to an emergency department.

Priapism with the script on, in English; thoughts of self-harm with the script off, in
Malayalam, answered although "takes medicines" was "no" (the question is then disabled, but an
answer that is an emergency on its own is never dropped): the crisis line shows.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.support import (
    MALAYALAM,
    REFERENCE,
    Site,
    new_context,
    stored_intake,
    submit,
    switch_language,
)
from tests.chromium import fill_form, screenshot
from tests.patients import patient_json

pytestmark = pytest.mark.browser

CASES = {
    "priapism-en-js": ("en", True, {"erection_over_4h": True}, ["112"]),
    "self_harm-ml-nojs": (
        "ml",
        False,
        {"takes_medicines": False, "self_harm_thoughts": True},
        ["112", "14416"],
    ),
}


@pytest.mark.parametrize(("lang", "javascript", "changes", "numbers"), CASES.values(), ids=CASES)
def test_an_emergency_is_told_first_and_large(
    browser: Browser,
    site: Site,
    lang: str,
    javascript: bool,
    changes: dict[str, object],
    numbers: list[str],
) -> None:
    context, _ = new_context(browser, site.base_url, java_script_enabled=javascript)
    page = context.new_page()
    page.goto("/")
    if lang == "ml":
        switch_language(page, "ml")
    fill_form(page, patient_json(preferred_language=lang, **changes))
    submit(page)

    assert page.url == site.url("/thanks"), page.locator("#error-summary").all_inner_texts()
    reference = page.locator(".reference-code").inner_text().strip()
    assert REFERENCE.fullmatch(reference)
    stored = stored_intake(site.database_url, reference)
    assert stored["priority"] == "emergency"
    for link_id, value in changes.items():
        if value is True:
            assert stored["answers"][link_id] is True, f"{link_id} was dropped"

    # First: the very first thing in the page's main content, and on the first screen.
    first = page.locator("main > :first-child")
    expect(first).to_have_class("urgent-advice")
    expect(first).to_have_attribute("role", "alert")
    box = first.bounding_box()
    h1 = page.locator("h1").bounding_box()
    assert box is not None
    assert h1 is not None
    assert box["y"] < h1["y"], "the emergency instruction is not above the heading"
    assert box["y"] < 844 / 3, "the emergency instruction is not at the top of the first screen"
    # Large: bigger and bolder than the page's text.
    size, weight, body_size = first.evaluate(
        """el => {
          const s = getComputedStyle(el.querySelector("p"));
          return [parseFloat(s.fontSize), parseInt(s.fontWeight, 10),
                  parseFloat(getComputedStyle(document.body).fontSize)];
        }"""
    )
    assert size >= 1.15 * body_size, (size, body_size)
    assert weight >= 700
    # What to do, in the patient's language, with numbers to call.
    text = first.inner_text()
    for number in numbers:
        assert number in text, f"{number} missing from the emergency instruction"
    assert site.clinic_phone in text, "the clinic's phone is not shown"
    if lang == "ml":
        assert MALAYALAM.search(text)
    expect(first.locator('a[href="tel:112"]')).to_be_visible()
    # Never the internal rule ids, anywhere (text, attributes, title).
    assert "RF-" not in page.content()
    assert "RF-" not in page.title()
    screenshot(page, f"{lang}-5-emergency-{'js' if javascript else 'nojs'}")
    context.close()
