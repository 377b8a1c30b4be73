"""Forms still work when the service is opened over plain http by a name that is not localhost
(a clinic's own network before TLS is set up), where browsers send no `Sec-Fetch-Site`: the
same-origin check then has only `Origin` to go by, so our pages must let browsers send it.

Chromium resolves the name to 127.0.0.1 itself (`--host-resolver-rules`), so the page's origin
is `http://clinic-desk.test:PORT`, not a potentially trustworthy one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.chromium import chromium
from tests.staff_browser.support import RECEPTION, StaffSite, new_context, sign_in

LAN_NAME = "clinic-desk.test"


@pytest.fixture
def lan_browser(staff_site: StaffSite) -> Iterator[Browser]:
    # This module's only Chromium (one Playwright at a time), stopped before the site.
    rules = f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1"
    with chromium(rules, "--disable-features=HttpsUpgrades") as running:
        yield running


def test_staff_sign_in_over_plain_http_by_a_lan_name(
    lan_browser: Browser, staff_site: StaffSite
) -> None:
    port = urlsplit(staff_site.base_url).port
    context = new_context(lan_browser, f"http://{LAN_NAME}:{port}")
    try:
        page: Page = context.new_page()
        page.goto("/staff/login")
        with page.expect_response(_post_to("/staff/login")) as signed_in:
            sign_in(page, RECEPTION)
        expect(page).to_have_url(re.compile(r"/staff/queue$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Queue for")
        sent = _sent(signed_in.value)
    finally:
        context.close()
    # Signed in (303): the browser named our origin, with no Sec-Fetch-Site to fall back on.
    assert sent == (f"http://{LAN_NAME}:{port}", None, 303)


def _post_to(path: str) -> Callable[[Response], bool]:
    def matches(response: Response) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path == path

    return matches


def _sent(response: Response) -> tuple[str | None, str | None, int]:
    """The request's Origin and Sec-Fetch-Site, and the answer's status."""
    headers = response.request.headers
    return headers.get("origin"), headers.get("sec-fetch-site"), response.status
