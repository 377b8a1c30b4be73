"""What the staff browser tests share: signing in, patients submitting, watching rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.patients import intake_body
from tests.server import LiveServer
from tests.staff.support import PASSWORD

DESK = {"viewport": {"width": 1280, "height": 800}}  # a reception desk's screen
TIMEOUT_MS = 5_000
SUBMIT_TIMEOUT_MS = 15_000  # a patient's form, on a busy machine
RECEPTION = "reception@clinic.test"
DOCTOR = "doctor@clinic.test"
ADMIN = "admin@clinic.test"


@dataclass(frozen=True)
class StaffSite:
    """The running service, and the API tokens of tests/staff/support.make_staff."""

    base_url: str
    tokens: dict[str, str]
    env: dict[str, str]
    server: LiveServer

    def submit(self, **changes: object) -> dict[str, Any]:
        """A patient's intake through the API; returns its id, reference and priority."""
        response = httpx.post(
            f"{self.base_url}/api/v1/intakes", json=intake_body("en", **changes), timeout=10
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def queue_levels(self, intakes: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """(reference, level) of these intakes, in the order of the server's queue now."""
        response = httpx.get(
            f"{self.base_url}/api/v1/queue",
            headers={"authorization": f"Bearer {self.tokens['doctor-token']}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        mine = {intake["reference"] for intake in intakes}
        return [(e["reference"], e["priority"]) for e in response.json() if e["reference"] in mine]


def new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, **{**DESK, **options})
    context.set_default_timeout(TIMEOUT_MS)
    return context


# -------------------------------------------------------------------------------- staff
def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Type into the sign-in form on the page (opening it if elsewhere) and send it."""
    if "/staff/login" not in page.url:
        page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign in").click()


def wait_live(page: Page) -> None:
    """Until the queue page's event stream is open: from then on, changes arrive by themselves."""
    expect(page.locator("#live-status")).to_have_attribute("data-live", "yes")


def row(page: Page, reference: str) -> Locator:
    """The queue table's row of this intake, found by its reference code."""
    return page.locator("#queue-rows tr").filter(
        has=page.locator("td.reference-cell", has_text=reference)
    )


def status_cell(page: Page, reference: str) -> Locator:
    return row(page, reference).locator("td").nth(4)


def level_cell(page: Page, reference: str) -> Locator:
    return row(page, reference).locator("td").nth(0)


def alert(page: Page, reference: str) -> Locator:
    return page.locator("#alerts [role=alert]").filter(has_text=reference)


def references_in_order(page: Page) -> list[str]:
    return [
        text.strip() for text in page.locator("#queue-rows td.reference-cell").all_inner_texts()
    ]


# A MutationObserver on the live part of the queue: when each reference first showed, by the
# clock every context on this machine shares (Date.now), and a mark that a reload would wipe.
_WATCH = """() => {
  window.__seen = {};
  window.__notReloaded = true;
  const live = document.getElementById("queue-live");
  const look = () => {
    for (const cell of live.querySelectorAll("td.reference-cell, #alerts [role=alert]")) {
      const text = cell.textContent;
      for (const ref of text.match(/[0-9A-Z]{3}-[0-9A-Z]{3}/g) || []) {
        const key = (cell.matches("td") ? "row:" : "alert:") + ref;
        if (!(key in window.__seen)) window.__seen[key] = Date.now();
      }
    }
  };
  look();
  new MutationObserver(look).observe(live, {childList: true, subtree: true});
}"""


def watch_queue(page: Page) -> None:
    page.evaluate(_WATCH)


def seen_at(page: Page, key: str) -> float:
    """When (ms since the epoch) the queue page first showed `row:REF` or `alert:REF`."""
    page.wait_for_function("key => key in window.__seen", arg=key, timeout=TIMEOUT_MS)
    seen: float = page.evaluate("key => window.__seen[key]", key)
    return seen


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("() => window.__notReloaded === true"))


def now_ms() -> float:
    return time.time() * 1000


# -------------------------------------------------------------------------------- patient
def send_intake_form(page: Page) -> str:
    """Press "Send my answers"; returns the reference code the patient is shown."""
    with page.expect_navigation(wait_until="load", timeout=SUBMIT_TIMEOUT_MS):
        page.locator("form.intake-form button[type=submit]").click(timeout=SUBMIT_TIMEOUT_MS)
    reference = page.locator(".reference-code").inner_text().strip()
    assert reference, "no reference code on the confirmation page"
    return reference
