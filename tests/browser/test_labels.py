"""Each question says once, in words, whether it may be left blank."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.support import Site, new_context

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "ml"])
def test_optional_is_said_once(browser: Browser, site: Site, lang: str) -> None:
    context, _ = new_context(browser, site.base_url)
    page = context.new_page()
    page.goto(f"/?lang={lang}")
    mark = page.locator(".intake-form .optional").first.inner_text().strip()
    assert mark, "no optional mark on the form"
    labels = page.locator(".intake-form .question > label, .intake-form .question legend")
    said_twice = [text for text in labels.all_inner_texts() if text.count(mark) > 1]
    context.close()
    assert not said_twice, f"{mark!r} more than once: {said_twice}"
