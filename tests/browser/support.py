"""What the patient browser tests share: the phone, reading the form back, the database.

The form is driven the way a patient drives it: by clicking (tapping) the radio buttons and
boxes and typing into the fields, never by setting values from a script.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from sqlalchemy import select
from sqlalchemy.engine import URL

from service.models import Intake
from tests.chromium import answer_with, dom_value, off_loop, question_kinds
from tests.counting import count_rows
from tests.databases import in_database
from tests.server import LiveServer

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
REFERENCE = re.compile(r"[2-9A-HJ-NP-TV-Z]{3}-[2-9A-HJ-NP-TV-Z]{3}")
EXPECT_TIMEOUT_MS = 5_000
MALAYALAM = re.compile(r"[\u0d00-\u0d7f]")


@dataclass(frozen=True)
class Site:
    """The running service the browser talks to, and the database behind it."""

    base_url: str
    database_url: URL
    clinic_phone: str
    server: LiveServer

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


# -------------------------------------------------------------------------------- requests
@dataclass
class RequestLog:
    """Every request a browser context makes, with the page's own origin to compare against."""

    origin: str
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, type, url)

    def record(self, request: Request) -> None:
        self.requests.append((request.method, request.resource_type, request.url))

    def foreign(self) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if _origin(r[2]) != self.origin]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def new_context(
    browser: Browser, base_url: str, *, phone: bool = True, **options: Any
) -> tuple[BrowserContext, RequestLog]:
    """A fresh context (own cookies, own session) that logs every request it makes."""
    context = browser.new_context(base_url=base_url, **(PHONE if phone else {}), **options)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    log = RequestLog(origin=base_url)
    context.on("request", log.record)
    return context, log


# -------------------------------------------------------------------------------- the form
def answer(page: Page, link_id: str, value: object) -> None:
    answer_with(page, link_id, question_kinds(page)[link_id], value)


def form_values(page: Page) -> dict[str, str | list[str]]:
    """What every question of the form holds now: a code, a list of codes, or the text."""
    values: dict[str, str | list[str]] = page.evaluate(
        """() => {
          const out = {};
          for (const question of document.querySelectorAll("form.intake-form .question")) {
            const id = question.id.replace(/^item-/, "");
            const fields = [...question.querySelectorAll(`[name="${id}"]`)];
            if (!fields.length) continue;
            const kind = fields[0].type;
            if (kind === "radio") {
              const chosen = fields.find(f => f.checked);
              out[id] = chosen ? chosen.value : "";
            } else if (kind === "checkbox") {
              const chosen = fields.filter(f => f.checked).map(f => f.value);
              out[id] = fields.length === 1 && fields[0].value === "yes"
                ? (chosen.length ? "yes" : "") : chosen;
            } else {
              out[id] = fields[0].value;
            }
          }
          return out;
        }"""
    )
    return values


def assert_values_kept(page: Page, typed: Mapping[str, object]) -> None:
    now = form_values(page)
    expected = {link_id: dom_value(value) for link_id, value in typed.items()}
    lost = {
        link_id: (want, now.get(link_id))
        for link_id, want in expected.items()
        if now.get(link_id) != want
    }
    assert not lost, f"values not kept (typed, now shown): {lost}"


def submit(page: Page) -> None:
    """Tap "Send my answers" and wait for the page the server answers with."""
    with page.expect_navigation(wait_until="load"):
        page.locator("form.intake-form button[type=submit]").tap()


def switch_language(page: Page, lang: str) -> None:
    link = page.locator(f'nav.language-switch a[hreflang="{lang}"]')
    with page.expect_navigation(wait_until="load"):
        link.tap()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(link).to_have_attribute("aria-current", "true")


# -------------------------------------------------------------------------------- database
def row_counts(url: URL) -> dict[str, int]:
    """Rows stored, by table, counted with tests/counting.count_rows."""
    return off_loop(lambda: asyncio.run(count_rows(url)))


class Counter:
    """What was stored since it was made: the server is shared, so counts are differences."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.start = row_counts(url)

    def added(self) -> dict[str, int]:
        now = row_counts(self.url)
        return {table: now[table] - self.start[table] for table in now}

    def intakes(self) -> int:
        return self.added()["intake"]


async def _stored(url: URL, references: list[str] | None) -> list[dict[str, Any]]:
    query = select(
        Intake.reference, Intake.language, Intake.answers, Intake.computed_priority
    ).order_by(Intake.submitted_at)
    if references is not None:
        query = query.where(Intake.reference.in_(references))
    return [
        {
            "reference": row.reference,
            "language": row.language,
            "answers": row.answers if isinstance(row.answers, dict) else json.loads(row.answers),
            "priority": row.computed_priority,
        }
        for row in await in_database(url, query)
    ]


def stored_intake(url: URL, reference: str) -> dict[str, Any]:
    """The intake stored with this reference: reference, language, answers, priority."""
    [intake] = off_loop(lambda: asyncio.run(_stored(url, [reference])))
    return intake


# -------------------------------------------------------------------------------- first party
def assert_first_party_only(page: Page, log: RequestLog) -> None:
    """No request has left the server's origin, and the page refers to nothing elsewhere."""
    assert not log.foreign(), f"requests to other hosts: {log.foreign()}"
    refs: dict[str, list[str]] = page.evaluate(
        """() => ({
          scripts: [...document.scripts].map(s => s.src || "inline:" + s.textContent.slice(0, 80)),
          others: [...document.querySelectorAll(
              "link[href], iframe, frame, img, source, object, embed, video, audio, form[action]")]
            .map(el => el.href || el.src || el.data || el.action || "")
            .filter(Boolean),
        })"""
    )
    foreign_scripts = [s for s in refs["scripts"] if _origin(s) != log.origin]
    assert not foreign_scripts, f"scripts not served by the service as files: {foreign_scripts}"
    foreign = [url for url in refs["others"] if _origin(url) != log.origin]
    assert not foreign, f"the page refers to other hosts: {foreign}"
