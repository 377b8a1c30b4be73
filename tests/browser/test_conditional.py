"""With JavaScript, a question that does not apply is hidden, and shows as soon as it does."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import Site, answer, new_context
from tests.chromium import fill_form, screenshot

pytestmark = pytest.mark.browser

# (the answer that opens it, the blocks it opens, the answer that closes them again)
CONDITIONS = [
    (
        ("main_concern", "semen_leakage"),
        ["#section-block-leakage", "#item-leakage_when", "#item-leakage_frequency"],
        ("main_concern", "fertility"),
    ),
    (
        ("blood_in_semen", True),
        ["#item-blood_in_semen_episodes", "#item-blood_in_semen_since"],
        ("blood_in_semen", False),
    ),
    (
        ("takes_medicines", True),
        ["#item-medicines_list", "#item-antidepressant", "#item-symptoms_after_new_medicine"],
        ("takes_medicines", False),
    ),
    (("antidepressant", True), ["#item-self_harm_thoughts"], ("antidepressant", False)),
    (("trying_to_conceive", True), ["#item-trying_months"], ("trying_to_conceive", False)),
]
ALL_CONDITIONAL = [selector for _, blocks, _ in CONDITIONS for selector in blocks]


def assert_hidden(page: Page, selectors: list[str]) -> None:
    for selector in selectors:
        # `hidden`: neither seen nor read out, and not in the tab order
        expect(page.locator(selector)).to_be_hidden()


def assert_shown(page: Page, selectors: list[str]) -> None:
    for selector in selectors:
        expect(page.locator(selector)).to_be_visible()


def test_conditional_questions_appear_and_disappear(browser: Browser, site: Site) -> None:
    context, _ = new_context(browser, site.base_url)
    page = context.new_page()
    page.goto("/")

    assert_hidden(page, ALL_CONDITIONAL)
    # with the script on, the questions show themselves: the "answer this only if" notes go
    assert page.locator("[data-condition-note]").count() > 0
    for note in page.locator("[data-condition-note]").all():
        expect(note).to_be_hidden()

    for index, ((question, opening), blocks, (_, closing)) in enumerate(CONDITIONS):
        not_yet_opened = [s for _, later, _ in CONDITIONS[index + 1 :] for s in later]
        assert_hidden(page, blocks)
        answer(page, question, opening)
        assert_shown(page, blocks)
        assert_hidden(page, not_yet_opened)  # one answer opens its own follow-ups only
        answer(page, question, closing)
        assert_hidden(page, blocks)
        answer(page, question, opening)
        assert_shown(page, blocks)
    screenshot(page, "en-4-conditional-open")

    # Each opened question is open now; closing the first of a chain closes all of it.
    assert_shown(page, ALL_CONDITIONAL)
    fill_form(page, {"takes_medicines": False})
    assert_hidden(
        page,
        [
            "#item-medicines_list",
            "#item-antidepressant",
            "#item-symptoms_after_new_medicine",
            "#item-self_harm_thoughts",
        ],
    )
    fill_form(page, {"takes_medicines": True})
    assert_shown(page, ["#item-antidepressant", "#item-self_harm_thoughts"])

    # From the keyboard: Space on a focused "No" answers it, and its follow-ups go.
    page.locator("#blood_in_semen-no").focus()
    page.keyboard.press("Space")
    assert_hidden(page, ["#item-blood_in_semen_episodes", "#item-blood_in_semen_since"])
    page.keyboard.press("ArrowLeft")  # back to "Yes", within the same radio group
    expect(page.locator("#blood_in_semen")).to_be_checked()
    assert_shown(page, ["#item-blood_in_semen_episodes", "#item-blood_in_semen_since"])

    # A question hidden again keeps what was typed, in case the patient changes back.
    fill_form(page, {"trying_months": 7})
    fill_form(page, {"trying_to_conceive": False})
    fill_form(page, {"trying_to_conceive": True})
    expect(page.locator("#trying_months")).to_have_value("7")
    context.close()
