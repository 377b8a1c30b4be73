"""Forms still work when the service is opened over plain http by a name that is not localhost
(a clinic's own network before TLS is set up), where browsers send no `Sec-Fetch-Site`: the
same-origin check then has only `Origin` to go by, so our pages must let browsers send it.

Chromium resolves the name to 127.0.0.1 itself (`--host-resolver-rules`), so the page's origin
is `http://clinic-desk.test:PORT`, not a potentially trustworthy one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.staff_browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    RECEPTION,
    StaffSite,
    new_context,
    sign_in,
)

LAN_NAME = "clinic-desk.test"


@pytest.fixture
def lan_browser(staff_site: StaffSite) -> Iterator[Browser]:
    # This module's only Chromium (one Playwright at a time), stopped before the site.
    rules = f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, rules, "--disable-features=HttpsUpgrades"],
        )
        yield chromium
        chromium.close()


def test_staff_sign_in_and_out_over_plain_http_by_a_lan_name(
    lan_browser: Browser, staff_site: StaffSite
) -> None:
    port = urlsplit(staff_site.base_url).port
    context = new_context(lan_browser, f"http://{LAN_NAME}:{port}")
    posts: list[dict[str, str]] = []
    context.on(
        "request",
        lambda request: posts.append(request.headers) if request.method == "POST" else None,
    )
    try:
        page: Page = context.new_page()
        page.goto("/staff/login")
        sign_in(page, RECEPTION)
        expect(page).to_have_url(re.compile(r"/staff/queue$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Queue for")
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/staff/login$"))
    finally:
        context.close()
    # What made it pass: the browser named our origin, with no Sec-Fetch-Site to fall back on.
    assert [(h.get("origin"), h.get("sec-fetch-site")) for h in posts] == [
        (f"http://{LAN_NAME}:{port}", None)
    ] * 2
