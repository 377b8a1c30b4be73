"""What every browser test shares: Debian's Chromium under Playwright, work off its loop, axe-core,
filling the intake form as a patient does, and pictures of the screen.

Playwright's sync API cannot run inside a running asyncio loop, and while it runs it leaves its
own loop marked as running in this thread: database work during a browser test goes through
`off_loop`, and Chromium is module-scoped so that it has stopped before other directories'
async tests run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SHOTS = Path(tempfile.gettempdir()) / "shots"  # one picture of each state, to look at
IMPACTS_THAT_FAIL = {"serious", "critical"}

T = TypeVar("T")


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """Debian's Chromium, headless, with `extra_args` after the usual ones; stopped after."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def off_loop(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own: Playwright marks its loop as running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


# -------------------------------------------------------------------------------- the form
def dom_value(answer: object) -> str | list[str]:
    """How an API answer (patient_json) appears in the form's fields."""
    if answer is True:
        return "yes"
    if answer is False:
        return "no"
    if isinstance(answer, list):
        return [str(code) for code in answer]
    return str(answer)


def question_kinds(page: Page) -> dict[str, str]:
    """linkId -> kind of field (radio, checkbox, text, tel, date, textarea...), in page order."""
    kinds: dict[str, str] = page.evaluate(
        """() => Object.fromEntries(
          [...document.querySelectorAll("form.intake-form .question")].map(question => {
            const id = question.id.replace(/^item-/, "");
            const field = question.querySelector(`[name="${id}"]`);
            return [id, field ? field.type : ""];
          }))"""
    )
    return kinds


def fill_form(page: Page, answers: Mapping[str, object]) -> None:
    """Answer the questions in page order (so a question shows before its follow-ups do), by
    clicking and typing as a patient does, never by setting values from a script."""
    unknown = set(answers) - set(kinds := question_kinds(page))
    assert not unknown, f"not on the form: {unknown}"
    for link_id, kind in kinds.items():
        if link_id in answers:
            answer_with(page, link_id, kind, answers[link_id])


def answer_with(page: Page, link_id: str, kind: str, value: object) -> None:
    fields = page.locator(f'#item-{link_id} [name="{link_id}"]')
    wanted = dom_value(value)
    if kind == "radio":
        fields.and_(page.locator(f'[value="{wanted}"]')).check()
    elif kind == "checkbox":
        codes = wanted if isinstance(wanted, list) else [wanted]
        for box in fields.all():
            box.set_checked(box.get_attribute("value") in codes)
    else:
        fields.fill(str(wanted))


# -------------------------------------------------------------------------------- axe-core
def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (the context must bypass the CSP)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_SOURCE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    assert len(result["passes"]) > 10, "axe-core checked next to nothing: did it run?"
    print(  # noqa: T201 - shown with -s: what axe checked, page by page
        f"axe {result['testEngine']['version']} on {page.url}: "
        f"{len(result['passes'])} rules passed, {len(result['violations'])} violated"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        lines.extend(
            f"    {node['target']}: {node['html'][:200]}\n      {node['failureSummary']}"
            for node in violation["nodes"]
        )
    return "\n".join(lines)


def serious(violations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [v for v in violations if v["impact"] in IMPACTS_THAT_FAIL]


# -------------------------------------------------------------------------------- pictures
def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """What the screen shows now, kept for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
