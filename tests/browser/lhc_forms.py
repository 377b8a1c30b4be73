"""LHC-Forms (the NLM's FHIR SDC form renderer, vendored in tests/vendor/lforms) in Chromium:
a page that renders a Questionnaire, a patient who fills it by clicking and typing, and the
QuestionnaireResponse it gives back.

The page is served by Playwright from the vendored files under a made-up origin; every other
request is refused, so nothing is fetched from anywhere else. How LHC-Forms 40.1.3 draws each item
(found by driving it):
- a yes/no item is three radio buttons (Yes, No, Not Answered), labels `<linkId>/1/1|true` ...;
- a choice is an autocomplete box, whatever the number of options; its list is the shared
  `#completionOptions`, each entry `N:\u00a0<display>`; a repeating choice takes one pick a click;
- a date is typed as MM/DD/YYYY (anything else is silently dropped);
- text and numbers are plain inputs. Every input's id starts with `<linkId>/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route

LFORMS = Path(__file__).resolve().parents[1] / "vendor" / "lforms"
ORIGIN = "http://lforms.test"
# The scripts go at the end of <body>: lhc-forms.js needs document.body as it loads.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LHC-Forms</title>
<link rel="stylesheet" href="/webcomponent/styles.css">
</head><body>
<div id="form"></div>
<script src="/webcomponent/assets/lib/zone.min.js"></script>
<script src="/webcomponent/lhc-forms.js"></script>
<script src="/fhir/R4/lformsFHIR.min.js"></script>
</body></html>"""
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}

JsonObject = dict[str, Any]


class LhcForm:
    """One page with LHC-Forms loaded; `show` a Questionnaire, `fill` it, read its `response`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.refused: list[str] = []
        self.items: dict[str, JsonObject] = {}
        page.route("**/*", self._serve)
        page.goto(f"{ORIGIN}/index.html")
        page.wait_for_function(
            "() => !!(window.LForms && LForms.FHIR && LForms.FHIR.R4"
            " && typeof LForms.Util.addFormToPage === 'function')"
        )

    def _serve(self, route: Route) -> None:
        url = route.request.url
        if not url.startswith(f"{ORIGIN}/"):
            self.refused.append(url)
            route.abort()
            return
        path = urlsplit(url).path
        if path == "/index.html":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)
            return
        file = (LFORMS / path.lstrip("/")).resolve()
        if LFORMS in file.parents and file.is_file():
            kind = TYPES.get(file.suffix, "application/octet-stream")
            route.fulfill(status=200, content_type=kind, body=file.read_bytes())
        else:  # source maps: not vendored, and not needed
            route.fulfill(status=404, body="")

    def show(self, questionnaire: JsonObject) -> None:
        failed = self.page.evaluate(
            """async q => {
                 try { await LForms.Util.addFormToPage(q, 'form', {fhirVersion: 'R4'}); }
                 catch (e) { return String((e && e.message) || e); }
                 return null;
               }""",
            questionnaire,
        )
        assert failed is None, f"LHC-Forms refused the Questionnaire: {failed}"
        self.page.wait_for_selector("wc-lhc-form lhc-item")
        self.items = dict(_items(questionnaire["item"]))

    def fill(self, answers: Mapping[str, object]) -> None:
        """Answer as a patient, in the form's order (so that enableWhen has shown each item)."""
        for link_id, item in self.items.items():
            if (value := answers.get(link_id)) is None or item["type"] in {"group", "display"}:
                continue
            match item["type"]:
                case "boolean":
                    self.yes_no(link_id, bool(value))
                case "choice":
                    self.choose(link_id, value if isinstance(value, list) else [value])
                case "date":
                    self.date(link_id, str(value))
                case _:
                    self.type(link_id, str(value))

    def response(self) -> JsonObject:
        invalid = self.page.evaluate(
            "() => LForms.Util.checkValidity(document.getElementById('form'))"
        )
        assert invalid is None, f"LHC-Forms finds the form incomplete: {invalid}"
        response: JsonObject | None = self.page.evaluate(
            "() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4',"
            " document.getElementById('form'))"
        )
        assert response is not None, "LHC-Forms gave no QuestionnaireResponse"
        return response

    def _input(self, link_id: str) -> Any:
        found = self.page.locator(f'[id^="{link_id}/"]:not([id*="|"])').first
        found.wait_for(state="visible")  # shown once enableWhen holds
        return found

    def type(self, link_id: str, text: str) -> None:
        field = self._input(link_id)
        field.click()
        field.press_sequentially(text)
        field.press("Tab")

    def date(self, link_id: str, iso: str) -> None:
        year, month, day = iso.split("-")
        field = self.page.locator(f'nz-date-picker[id^="{link_id}/"] input')
        field.wait_for(state="visible")
        field.click()
        field.press_sequentially(f"{month}/{day}/{year}")
        field.press("Enter")
        self.page.keyboard.press("Escape")

    def yes_no(self, link_id: str, value: bool) -> None:
        label = self.page.locator(f'label[id^="{link_id}/"][id$="|{str(value).lower()}"]')
        label.wait_for(state="visible")
        label.click()
        self.page.wait_for_function(
            "label => label.classList.contains('ant-radio-wrapper-checked')",
            arg=label.element_handle(),
        )

    def choose(self, link_id: str, codes: list[object]) -> None:
        displays = {
            option["valueCoding"]["code"]: option["valueCoding"]["display"]
            for option in self.items[link_id]["answerOption"]
        }
        field = self._input(link_id)
        for code in codes:
            field.click()
            options = self.page.locator("#completionOptions li")
            options.first.wait_for(state="visible")
            wanted = displays[str(code)].strip()
            texts = [text.split("\u00a0", 1)[-1].strip() for text in options.all_inner_texts()]
            assert wanted in texts, f"{link_id}: {wanted!r} is not offered: {texts}"
            options.nth(texts.index(wanted)).click()
        field.press("Tab")


def _items(items: list[JsonObject]) -> list[tuple[str, JsonObject]]:
    found = []
    for item in items:
        found.append((item["linkId"], item))
        found.extend(_items(item.get("item", [])))
    return found
