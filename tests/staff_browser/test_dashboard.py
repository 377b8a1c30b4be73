"""The clinic dashboard in Chromium: a doctor opens it from the staff pages, changes the range
(a preset, then chosen dates), and axe-core finds no violation at all; a picture of the page at
1366x900 is kept for review (tests.chromium.SHOTS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import BrowserContext, expect

from service.clinic import Clinic
from service.settings import get_settings
from tests.chromium import describe, run_axe, screenshot
from tests.staff_browser.support import DOCTOR, RECEPTION, StaffSite, sign_in

WINDOW = {"width": 1366, "height": 900}
Contexts = Callable[..., BrowserContext]


def test_a_doctor_reads_the_dashboard_and_changes_its_range(
    contexts: Contexts, staff_site: StaffSite
) -> None:
    staff_site.submit(full_name="Dashboard Emergency", erection_over_4h=True)
    staff_site.submit(full_name="Dashboard Urgent", fever=True, urination_pain=True)
    staff_site.submit(full_name="Dashboard Routine")
    today = Clinic.load(get_settings()).today(datetime.now(UTC))

    page = contexts(bypass_csp=True, viewport=WINDOW).new_page()
    sign_in(page, DOCTOR)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Clinic dashboard", level=1)).to_be_visible()
    # The last 30 days by default; today's row of the table counts the three intakes (and any
    # other test's on this shared server: at least these).
    today_row = page.locator("tr", has=page.get_by_role("rowheader", name=today.isoformat()))
    expect(today_row).to_be_visible()
    assert int(today_row.locator("td").last.inner_text()) >= 3
    for figure in ("Intakes per day", "Minutes to the doctor", "Outcomes", "Red flags"):
        expect(page.locator("svg.chart title", has_text=figure)).to_have_count(1)
    violations = run_axe(page)
    assert violations == [], describe(violations)
    screenshot(page, "dashboard-doctor-1366x900")
    screenshot(page, "dashboard-doctor-full", full_page=True)

    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "page")
    expect(page.locator("#days-caption ~ tbody tr")).to_have_count(7)

    first = today - timedelta(days=2)
    page.get_by_label("From", exact=True).fill(first.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Show").click()
    assert f"from={first.isoformat()}" in page.url
    expect(page.locator("#days-caption ~ tbody tr")).to_have_count(3)
    violations = run_axe(page)
    assert violations == [], describe(violations)

    # A reversed range is explained on the page; nothing is drawn.
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill(first.isoformat())
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("after")
    expect(page.locator("svg.chart")).to_have_count(0)
    violations = run_axe(page)
    assert violations == [], describe(violations)
    screenshot(page, "dashboard-reversed-range")


def test_reception_has_no_dashboard(contexts: Contexts) -> None:
    page = contexts().new_page()
    sign_in(page, RECEPTION)
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    response = page.goto("/staff/dashboard")
    assert response is not None
    assert response.status == 403
