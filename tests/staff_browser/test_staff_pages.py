"""The staff pages in a real Chromium against a real server process (issue 6).

Reception works the live queue while patients submit in other browser contexts; a doctor reads
an intake and overrides its level; the role boundaries as a browser meets them; and axe-core on
every staff page a person sees. One server for the module (starting one costs seconds): each
test finds its own intakes by their reference codes, and the queue may hold other tests' rows.
Tests that wait for a live update use `live_site`: the same server on SQLite, a server process
of their own on PostgreSQL (see conftest.py).

Where the app itself must change, the test is marked xfail(strict=True), with the file, the
cause and a fix in its reason: it turns red once the app is fixed, and the mark must go.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import update
from sqlalchemy.engine import make_url

from service.models import StaffSession
from tests.chromium import describe, fill_form, off_loop, run_axe, screenshot, serious
from tests.databases import in_database
from tests.patients import patient_json
from tests.staff_browser.support import (
    ADMIN,
    DOCTOR,
    RECEPTION,
    StaffSite,
    alert,
    level_cell,
    not_reloaded,
    now_ms,
    references_in_order,
    row,
    seen_at,
    send_intake_form,
    sign_in,
    status_cell,
    wait_live,
    watch_queue,
)

pytestmark = pytest.mark.browser

Contexts = Callable[..., BrowserContext]
LIVE_WITHIN_MS = 2_000


def reception_on_queue(
    contexts: Contexts, site: StaffSite | None = None, **options: object
) -> Page:
    page = contexts(site, **options).new_page()
    page.goto("/staff/login")
    sign_in(page, RECEPTION)
    expect(page).to_have_url(re.compile(r"/staff/queue$"))
    wait_live(page)
    return page


def patient_sends_form(contexts: Contexts, site: StaffSite, **changes: object) -> tuple[str, float]:
    """A patient fills and sends the real form; returns the reference and when they pressed."""
    page = contexts(site).new_page()
    page.goto("/")
    fill_form(page, patient_json(**changes))
    pressed = now_ms()
    return send_intake_form(page), pressed


# -------------------------------------------------------------------------------- reception
def test_reception_sees_new_intakes_live_acknowledges_an_emergency_and_moves_a_row(
    live_site: StaffSite, contexts: Contexts
) -> None:
    queue = reception_on_queue(contexts, live_site)
    watch_queue(queue)

    # A routine patient: the row appears by itself, within 2 s of pressing "Send".
    routine, pressed = patient_sends_form(
        contexts, live_site, full_name="Anand Pillai", phone="98470 11111"
    )
    latency = seen_at(queue, f"row:{routine}") - pressed
    print(f"\nrow appeared {latency:.0f} ms after the patient pressed Send")  # noqa: T201
    assert latency < LIVE_WITHIN_MS, f"the row took {latency:.0f} ms"
    expect(row(queue, routine)).to_contain_text("Anand Pillai")
    expect(status_cell(queue, routine)).to_have_text("New")

    # An emergency: the row and a role=alert, still without a reload.
    emergency, pressed = patient_sends_form(
        contexts, live_site, full_name="Ravi Menon", phone="98470 22222", erection_over_4h=True
    )
    alert_latency = seen_at(queue, f"alert:{emergency}") - pressed
    print(f"emergency alert appeared {alert_latency:.0f} ms after Send")  # noqa: T201
    assert alert_latency < LIVE_WITHIN_MS, f"the alert took {alert_latency:.0f} ms"
    assert not_reloaded(queue), "the queue page reloaded itself"
    expect(alert(queue, emergency)).to_be_visible()
    expect(alert(queue, emergency)).to_contain_text("Ravi Menon")
    expect(level_cell(queue, emergency)).to_have_text(re.compile("Emergency"))
    assert references_in_order(queue).index(emergency) < references_in_order(queue).index(
        routine
    ), "the emergency is not above the routine intake"
    screenshot(queue, "queue-with-emergency-alert")

    # The alert stays until someone acknowledges it: a reload does not clear it.
    queue.reload()
    expect(alert(queue, emergency)).to_be_visible()
    with queue.expect_navigation(wait_until="load"):
        alert(queue, emergency).get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(alert(queue, emergency)).to_have_count(0)
    expect(row(queue, emergency)).to_be_visible()  # acknowledged, still in the queue
    queue.reload()
    expect(alert(queue, emergency)).to_have_count(0)

    # A status click moves the routine row to "Called"; the emergency stays "New".
    with queue.expect_navigation(wait_until="load"):
        row(queue, routine).locator('button[data-status="called"]').click()
    expect(status_cell(queue, routine)).to_have_text("Called")
    expect(status_cell(queue, emergency)).to_have_text("New")
    expect(row(queue, routine).locator('button[data-status="called"]')).to_have_count(0)
    expect(row(queue, routine).locator('button[data-status="arrived"]')).to_be_visible()

    # The filter by status: "Called" alone shows it; "New" alone does not.
    show_only(queue, {"called"})
    expect(row(queue, routine)).to_be_visible()
    expect(status_cell(queue, routine)).to_have_text("Called")
    expect(row(queue, emergency)).to_have_count(0)
    show_only(queue, {"new"})
    expect(row(queue, emergency)).to_be_visible()
    expect(row(queue, routine)).to_have_count(0)


def show_only(queue: Page, statuses: set[str]) -> None:
    """Tick exactly these status boxes of the filter and press "Show"."""
    for box in queue.locator('.queue-filters input[name="status"]').all():
        box.set_checked(box.get_attribute("value") in statuses)
    with queue.expect_navigation(wait_until="load"):
        queue.get_by_role("button", name="Show", exact=True).click()
    wait_live(queue)


def test_the_filter_shows_every_status_ticked(contexts: Contexts, staff_site: StaffSite) -> None:
    waiting = staff_site.submit(full_name="Meera Nair")["reference"]
    called = staff_site.submit(full_name="Joseph Kurian")["reference"]
    queue = reception_on_queue(contexts)
    with queue.expect_navigation(wait_until="load"):
        row(queue, called).locator('button[data-status="called"]').click()
    expect(status_cell(queue, called)).to_have_text("Called")

    # As the page opens, every open status is ticked: pressing "Show" must change nothing.
    with queue.expect_navigation(wait_until="load"):
        queue.get_by_role("button", name="Show", exact=True).click()
    screenshot(queue, "queue-after-show-unchanged")
    expect(row(queue, waiting)).to_be_visible(timeout=1_000)  # the page has loaded: no wait
    expect(row(queue, called)).to_be_visible(timeout=1_000)
    show_only(queue, {"new", "called"})
    expect(row(queue, waiting)).to_be_visible(timeout=1_000)
    expect(row(queue, called)).to_be_visible(timeout=1_000)


def test_a_reloaded_queue_still_updates_live(live_site: StaffSite, contexts: Contexts) -> None:
    queue = reception_on_queue(contexts, live_site)
    queue.reload()  # the first page's stream drops; the reloaded page opens another
    wait_live(queue)
    watch_queue(queue)
    created = now_ms()
    reference = live_site.submit(full_name="Priya Das")["reference"]
    expect(row(queue, reference)).to_be_visible(timeout=LIVE_WITHIN_MS)
    assert seen_at(queue, f"row:{reference}") - created < LIVE_WITHIN_MS


# -------------------------------------------------------------------------------- doctor
def doctor_opens_from_queue(
    contexts: Contexts, site: StaffSite, intake: dict[str, Any]
) -> tuple[Page, Page]:
    """A doctor signs in, and opens the intake from the queue in a tab beside it."""
    context = contexts(site)
    queue = context.new_page()
    queue.goto("/staff/login")
    sign_in(queue, DOCTOR)
    wait_live(queue)
    with context.expect_page() as opened:
        row(queue, intake["reference"]).get_by_role("link", name=re.compile("Open")).click(
            modifiers=["Control"]
        )
    page = opened.value
    page.wait_for_load_state()
    page.bring_to_front()
    expect(page).to_have_url(re.compile(rf"/staff/intakes/{intake['id']}$"))
    return queue, page


def doctor_on_intake(contexts: Contexts, intake: dict[str, Any]) -> Page:
    page = contexts().new_page()
    page.goto("/staff/login")
    sign_in(page, DOCTOR)
    page.goto(f"/staff/intakes/{intake['id']}")
    expect(page.locator(".priority-banner")).to_be_visible()
    return page


def assert_flags_first_then_answers(page: Page) -> None:
    """Red flags above the answers, on the first screen, each with the answers that raised it."""
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings.index("Red flags") < headings.index("Answers"), headings
    flags = page.locator(".red-flag")
    expect(flags).to_have_count(2)  # RF-ACUTE-PROSTATITIS (urgent), RF-URINARY (soon)
    expect(flags.first).to_contain_text("Urgent:")
    expect(flags.nth(1)).to_contain_text("Soon:")
    expect(flags.first).to_be_in_viewport()
    because = page.locator(".red-flag p").filter(has_text="Because:").all_inner_texts()
    assert len(because) == 2, because
    raised_by = {
        part.rpartition(" — ")[0].strip()
        for text in because
        for part in text.strip().removeprefix("Because:").split(";")
    }
    answered_yes: list[str] = page.evaluate(
        """() => [...document.querySelectorAll("dl.answers dd.answer-yes")]
                   .map(dd => dd.previousElementSibling.textContent.trim())"""
    )
    assert len(raised_by) == 2, raised_by  # fever, pain passing urine
    assert raised_by <= set(answered_yes), (raised_by, answered_yes)
    expect(page.locator("dl.answers").first).to_contain_text("Thomas Mathew")


def refuse_an_override(page: Page, level: str) -> None:
    """Choose a level, leave the reason empty, press Save."""
    page.get_by_label("Level").select_option(label=level)
    page.get_by_label("Reason (required)").fill("")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save the level").click()


def test_a_doctor_reads_the_flags_first_and_overrides_the_level_with_a_reason(
    live_site: StaffSite, contexts: Contexts
) -> None:
    calm = live_site.submit(full_name="Suresh Babu")
    flagged = live_site.submit(full_name="Thomas Mathew", fever=True, urination_pain=True)
    assert flagged["priority"] == "urgent"
    queue, intake = doctor_opens_from_queue(contexts, live_site, flagged)
    watch_queue(queue)
    assert order(queue, flagged, calm) == [flagged["reference"], calm["reference"]]
    expect(intake.get_by_role("heading", level=1)).to_contain_text("Thomas Mathew")
    banner = intake.locator(".priority-banner")
    expect(banner).to_contain_text("Urgent")
    assert_flags_first_then_answers(intake)
    screenshot(intake, "doctor-intake-page")
    screenshot(intake, "doctor-intake-page-full", full_page=True)

    # An override without a reason is refused, and changes nothing, here or in the queue.
    refuse_an_override(intake, "Routine")
    expect(intake.locator("#reason-error")).to_be_visible()
    expect(intake.get_by_label("Reason (required)")).to_have_attribute("aria-invalid", "true")
    expect(banner).to_contain_text("Urgent")
    expect(banner).not_to_contain_text("set by a doctor")
    screenshot(intake, "doctor-override-without-reason")
    intake.locator("#reason-error").scroll_into_view_if_needed()
    screenshot(intake, "doctor-override-without-reason-scrolled")
    assert live_site.queue_levels([calm, flagged]) == [
        (flagged["reference"], "urgent"),
        (calm["reference"], "routine"),
    ], "the refused override changed the queue"

    # With a reason: the page says so, and the open queue reorders by itself.
    reason = "Called back: no fever since yesterday, passing urine without pain."
    intake.get_by_label("Level").select_option(label="Routine")
    intake.get_by_label("Reason (required)").fill(reason)
    with intake.expect_navigation(wait_until="load"):
        intake.get_by_role("button", name="Save the level").click()
    expect(intake).to_have_url(re.compile(rf"/staff/intakes/{flagged['id']}$"))
    expect(banner).to_contain_text("Routine")
    expect(banner).to_contain_text("set by a doctor; computed: Urgent")
    expect(banner).to_contain_text(reason)
    expect(level_cell(queue, flagged["reference"])).to_have_text(re.compile("Routine"))
    expect(queue.locator("#queue-rows td.reference-cell")).to_contain_text(
        [calm["reference"], flagged["reference"]]
    )
    assert order(queue, flagged, calm) == [calm["reference"], flagged["reference"]]
    assert not_reloaded(queue), "the doctor's queue reloaded itself"


def order(queue: Page, *intakes: dict[str, Any]) -> list[str]:
    """These intakes' references in the order the queue shows them."""
    mine = {str(intake["reference"]) for intake in intakes}
    return [reference for reference in references_in_order(queue) if reference in mine]


def test_a_refused_override_puts_its_error_on_the_screen(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    flagged = staff_site.submit(full_name="Thomas Mathew", fever=True, urination_pain=True)
    page = doctor_on_intake(contexts, flagged)
    refuse_an_override(page, "Routine")
    expect(page.locator("#reason-error")).to_be_visible()
    expect(page.locator("#reason-error")).to_be_in_viewport(timeout=1_000)


def test_a_refused_override_keeps_the_level_the_doctor_chose(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    flagged = staff_site.submit(full_name="Thomas Mathew", fever=True, urination_pain=True)
    page = doctor_on_intake(contexts, flagged)
    refuse_an_override(page, "Routine")
    expect(page.locator("#reason-error")).to_be_visible()
    expect(page.get_by_label("Level")).to_have_value("routine", timeout=1_000)


# -------------------------------------------------------------------------------- boundaries
def test_reception_gets_no_access_to_an_intake_page(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    intake = staff_site.submit(full_name="Biju Varghese", fever=True, pelvic_pain=True)
    queue = reception_on_queue(contexts)
    expect(
        row(queue, intake["reference"]).get_by_role("link", name=re.compile("Open"))
    ).to_have_count(0)
    response = queue.goto(f"/staff/intakes/{intake['id']}")
    assert response is not None
    assert response.status == 403
    expect(queue.get_by_role("heading", level=1)).to_have_text("No access")
    expect(queue.locator("main")).not_to_contain_text("Biju")
    expect(queue.locator("main")).not_to_contain_text("Fever")
    screenshot(queue, "reception-no-access")


def test_an_anonymous_visitor_signs_in_and_returns_to_the_queue(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    page = contexts().new_page()
    page.goto("/staff/queue")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/staff/queue$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in")
    expect(page.locator("#queue-live")).to_have_count(0)
    sign_in(page, RECEPTION)
    expect(page).to_have_url(re.compile(r"/staff/queue$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Queue for")


def test_a_queue_left_alone_shows_the_sign_in_when_its_session_goes_idle(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    """With its stream down (refused here), the page polls its rows; once the session is idle
    the rows send it to the sign-in page, and the page shows it instead of a stale queue."""
    page = contexts().new_page()
    page.clock.install()  # the page's own timers, moved on below instead of waited for
    page.route("**/staff/queue/events", lambda route: route.abort())
    page.goto("/staff/login")
    sign_in(page, RECEPTION)
    expect(page.locator("#live-status")).to_have_attribute("data-live", "no")
    idle = update(StaffSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
    off_loop(lambda: asyncio.run(in_database(make_url(staff_site.env["DATABASE_URL"]), idle)))
    page.clock.run_for(10_000)  # the next poll of the rows (every 10 s while the stream is down)
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in", timeout=15_000)
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/staff/queue$"))


def test_an_anonymous_doctor_returns_to_the_intake_after_signing_in(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    intake = staff_site.submit(full_name="Anil Kumar")
    page = contexts().new_page()
    page.goto(f"/staff/intakes/{intake['id']}")
    expect(page).to_have_url(re.compile(rf"/staff/login\?next=/staff/intakes/{intake['id']}$"))
    sign_in(page, DOCTOR)
    expect(page).to_have_url(re.compile(r"/staff/(queue|intakes/.*)$"))  # signed in at all
    expect(page).to_have_url(re.compile(rf"/staff/intakes/{intake['id']}$"), timeout=1_000)


# -------------------------------------------------------------------------------- axe-core
def test_axe_finds_nothing_serious_on_the_staff_pages(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    """The CSP rightly refuses axe's injected script, so these contexts bypass it."""
    staff_site.submit(full_name="Routine Patient")
    emergency = staff_site.submit(full_name="Emergency Patient", erection_over_4h=True)
    flagged = staff_site.submit(full_name="Flagged Patient", fever=True, urination_pain=True)
    found: dict[str, str] = {}

    def check(page: Page, state: str) -> None:
        violations = run_axe(page)
        if violations:
            found[state] = describe(violations)
        failing = serious(violations)
        assert not failing, f"axe: serious or critical on {state}:\n{describe(failing)}"

    try:
        page = contexts(bypass_csp=True).new_page()
        page.goto("/staff/login")
        check(page, "login")
        sign_in(page, "nobody@clinic.test", "not the password")
        expect(page.locator("#login-error")).to_be_visible()
        screenshot(page, "login-failed")
        check(page, "login, failed")

        sign_in(page, RECEPTION)
        wait_live(page)
        expect(alert(page, emergency["reference"])).to_be_visible()
        check(page, "queue with rows and an emergency alert (reception)")

        doctor = contexts(bypass_csp=True).new_page()
        doctor.goto("/staff/login")
        sign_in(doctor, DOCTOR)
        check(doctor, "queue (doctor)")
        doctor.goto(f"/staff/intakes/{flagged['id']}")
        check(doctor, "intake page (doctor)")
        with doctor.expect_navigation(wait_until="load"):
            doctor.get_by_role("button", name="Save the level").click()
        expect(doctor.locator("#reason-error")).to_be_visible()
        check(doctor, "intake page, override refused (doctor)")

        admin = contexts(bypass_csp=True).new_page()
        admin.goto("/staff/login")
        sign_in(admin, ADMIN)
        admin.goto("/staff/audit")
        expect(admin.get_by_role("heading", level=1)).to_have_text("Audit trail")
        check(admin, "audit trail (admin)")
        screenshot(admin, "audit-trail")
    finally:
        for state, text in found.items():
            warnings.warn(f"axe on {state}:\n{text}", stacklevel=1)
