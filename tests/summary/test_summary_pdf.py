"""The summary PDF itself: what it says and in which order, both scripts, escaping, metadata."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import pickle
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from xml.etree import ElementTree as ET

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from service import audit
from service.clinic import Clinic
from service.intake.override import override_priority
from service.questionnaire import age_on
from service.settings import ROOT
from service.summary import (
    Banner,
    Summary,
    check_areas,
    check_labels,
    render_summary_pdf,
    summary_html,
    summary_of,
)
from service.triage import Priority
from tests.summary.conftest import (
    Sessions,
    StoreIntake,
    in_order,
    load_intake,
    pdf_text,
)
from tests.summary.examples import (
    MALAYALAM_EMERGENCY,
    MALAYALAM_FLAGS,
    MALAYALAM_NAME,
    MALAYALAM_WORDS,
    TYPICAL,
    TYPICAL_FLAGS,
)

Summarize = Callable[..., Awaitable[Summary]]


def embedded_fonts(pdf: bytes) -> dict[str, TTFont]:
    """The embedded font programs by BaseFont name, from every page's resources."""
    fonts: dict[str, TTFont] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for reference in page["/Resources"]["/Font"].values():
            font = reference.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            program = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_data()
            fonts[str(font["/BaseFont"])] = TTFont(io.BytesIO(program))
    return fonts


async def test_a_typical_summary_has_its_facts_with_red_flags_before_the_concern(
    store_intake: StoreIntake, clinic: Clinic
) -> None:
    intake = await store_intake(**TYPICAL)
    pdf = render_summary_pdf(summary_of(intake, clinic))
    text = pdf_text(pdf)
    age = age_on(date(1984, 3, 2), clinic.today(intake.submitted_at))

    in_order(
        text,
        clinic.name.upper(),  # printed in capitals
        "Pre-consultation summary",
        f"Reference {intake.reference}",
        "Arjun Menon",
        f"{age} (born 2 Mar 1984)",
        "+91 98765 43210",
        "IST",
        "arjun@example.in",
        "English",
        "SOON",
        "Appointment within 2 weeks",
        "Red flags (5)",
        *TYPICAL_FLAGS,
        "What brings you here",
        "Semen leakage",
        "More than 6 months",
        "For about a year I notice leakage",
        "Leakage pattern",
        "When I am aroused, before sex",
        "Pain or burning on urination: ■ Yes",
        "Past injury to back, spine or head: ■ Yes",
        "Sertraline 50 mg daily since June",
        "SSRI note",
        "delayed ejaculation",
        "must not stop the medicine abruptly",
        "Months trying: 14",
        "privacy-2026.11.1",
        "Areas to explore",
        "not a diagnosis",
        "Sexual arousal (pre-ejaculate)",
        "Prostate (prostatitis)",
        "Nerve injury",
        "Medication side effects",
        "No answer points to: Nocturnal emission",
    )
    # The triggering answers are the questions the patient was asked, in words.
    assert "Do you have pain or burning when passing urine? ■ Yes" in text
    assert "Why: Acute" not in text  # no emergency rationale leaks into a calm summary
    assert re.search(r"Page 1 of 2 .*Page 2 of 2", text), "a typical summary fits two pages"
    assert text.count("Confidential") == 2
    assert "RF-URINARY" in text  # for clinicians: the rule behind each flag


async def test_every_warning_sign_and_nerve_answer_is_in_the_grid(
    summarize: Summarize, clinic: Clinic
) -> None:
    summary = await summarize(fever=True)
    grid = [answer for group in summary.signs for answer in group.answers]
    asked = [
        item.link_id
        for section in ("warning_signs", "nerves")
        for item in clinic.questionnaire.section(section).items
        if not item.enable_when
    ]
    assert len(grid) == len(asked)
    assert [answer.label for answer in grid if answer.is_yes] == [
        "Fever or chills in the last few days"
    ]
    text = pdf_text(render_summary_pdf(summary))
    assert "1 yes of 19" in text
    # Every sign printed with its own answer, whichever column and row it lands in.
    for answer in grid:
        shown = f"■ {answer.answer}" if answer.is_yes else answer.answer
        assert f"{answer.label}: {shown}" in text, answer.label
    assert "Fever or chills in the last few days: ■ Yes" in text


async def test_a_malayalam_emergency_embeds_the_malayalam_subset_without_missing_glyphs(
    store_intake: StoreIntake, clinic: Clinic, weasyprint_log: list[logging.LogRecord]
) -> None:
    intake = await store_intake("ml", **MALAYALAM_EMERGENCY)
    summary = summary_of(intake, clinic)
    pdf = render_summary_pdf(summary)
    assert weasyprint_log == []  # checked here too, to say what this test is about

    fonts = embedded_fonts(pdf)
    malayalam = {
        name: font for name, font in fonts.items() if "NotoSansMalayalam" in name.replace("-", "")
    }
    # Regular for the patient's words, bold for the name in the header.
    assert len(malayalam) == 2, sorted(fonts)
    for name, font in malayalam.items():
        assert re.fullmatch(r"/[A-Z]{6}\+.+", name), "a subset carries a six-letter tag"
        assert font["name"].getDebugName(1) == "Noto Sans Malayalam"
        glyphs = font["glyf"]
        drawn = [name for name in font.getGlyphOrder() if glyphs[name].numberOfContours]
        assert len(drawn) < 80, "only the glyphs used are embedded (the font has 354)"
    assert all(font["name"].getDebugName(1).startswith("Noto Sans") for font in fonts.values()), (
        "nothing falls back to a system font"
    )

    text = pdf_text(pdf)
    in_order(text, "EMERGENCY", "Red flags (4)", *MALAYALAM_FLAGS, "What brings you here")
    assert re.search("[\u0d00-\u0d7f]", text)
    html = summary_html(summary)
    assert MALAYALAM_NAME in html
    assert MALAYALAM_WORDS in html  # verbatim, line break and chillu-virama-ZWJ included
    assert 'lang="ml"' in html


async def test_a_missing_glyph_is_noticed(
    summarize: Summarize, weasyprint_log: list[logging.LogRecord]
) -> None:
    """The guard the other tests rely on: a character no font has is logged, and caught."""
    summary = await summarize(concern_details="private use \ue000 character")
    render_summary_pdf(summary)
    assert any(".notdef" in record.getMessage() for record in weasyprint_log)
    weasyprint_log.clear()


async def test_html_and_script_typed_by_a_patient_are_printed_literally(
    summarize: Summarize,
) -> None:
    typed = '<script>alert("x")</script> <b>bold?</b> &amp; {{ 7*7 }} </blockquote>'
    summary = await summarize(concern_details=typed, full_name="<i>Ravi</i> & Sons")
    html = summary_html(summary)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    text = pdf_text(render_summary_pdf(summary))
    assert '<script>alert("x")</script> <b>bold?</b> &amp; {{ 7*7 }} </blockquote>' in text
    assert "<i>Ravi</i> & Sons" in text
    # Not evaluated as a template: no "49" where the patient typed {{ 7*7 }}. (The clock can
    # put a 49 elsewhere on the page, as in "02:49 IST", so look only at the patient's words.)
    words = text.split("own words:", 1)[1].split("Signs the doctor", 1)[0]
    assert "49" not in words


async def test_a_doctors_override_is_shown_beside_the_computed_level(
    store_intake: StoreIntake, sessions: Sessions, clinic: Clinic
) -> None:
    intake = await store_intake(urination_pain=True)
    async with sessions() as session:
        stored = await session.merge(intake)
        await override_priority(
            session,
            stored,
            Priority.URGENT,
            "Called him: <severe> pain since this morning",
            actor=audit.Actor("staff", "doctor"),
            staff_user_id=None,
            now=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        )
        await session.commit()
    overridden = summary_of(await load_intake(sessions, intake.id), clinic)
    assert overridden.revision == intake.revision + 1

    text = pdf_text(render_summary_pdf(overridden))
    in_order(
        text,
        "URGENT",
        "The clinic calls the patient today",
        "Level set by a doctor, 25 Nov 2026, 15:00 IST",
        "Computed by the rules: ● SOON",
        "Reason: Called him: <severe> pain since this morning",
        "Red flags (1)",
        "● SOON Difficult or painful urination",
    )


async def test_two_renders_of_one_intake_are_byte_identical_even_in_another_process(
    summarize: Summarize,
) -> None:
    summary = await summarize(**TYPICAL)
    first = render_summary_pdf(summary)
    assert render_summary_pdf(summary) == first
    # A fresh interpreter: no font cache, no warm state, other temporary folder names.
    script = (
        "import pickle, sys\n"
        "from service.summary import render_summary_pdf\n"
        "sys.stdout.buffer.write(render_summary_pdf(pickle.loads(sys.stdin.buffer.read())))\n"
    )
    fresh = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        input=pickle.dumps(summary),
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    assert fresh.stdout == first


async def test_our_user_agent_stylesheet_prints_what_weasyprints_own_prints(
    summarize: Summarize,
) -> None:
    # templates/pdf/user-agent.css is a cut of WeasyPrint's sheet, made for speed: it may leave
    # out only what changes nothing. Equal bytes mean equal pages, tags, outline and fonts.
    summaries = [
        await summarize(**TYPICAL),
        await summarize("ml", **MALAYALAM_EMERGENCY),
        await summarize(concern_details="<b>x</b>\nline two", urination_pain=True),
    ]
    for summary in summaries:
        assert render_summary_pdf(summary) == render_summary_pdf(summary, user_agent=False)


async def test_parsed_as_xml_the_summary_prints_what_the_html5_parser_prints(
    summarize: Summarize,
) -> None:
    # The summary is parsed as XML for speed, WeasyPrint's HTML5 parser being the reference:
    # equal bytes mean the same tree (elements, whitespace, implied ones such as tbody).
    hostile = await summarize(
        concern_details="<b>x</b> &amp; \"quoted\" 'single'\nline two\ttab",
        full_name="O'Brien <i>&</i>",
        urination_pain=True,
    )
    overridden = Banner(
        Priority.URGENT,
        Priority.SOON,
        override_reason="<severe> & 'sudden'",
        overridden_at="25 Nov 2026, 15:00 IST",
    )
    summaries = [
        await summarize(**TYPICAL),
        await summarize("ml", **MALAYALAM_EMERGENCY),
        hostile,
        dataclasses.replace(hostile, banner=overridden),
        await summarize(),  # no red flag, no words of the patient's own
    ]
    assert not summaries[-1].red_flags
    for summary in summaries:
        ET.fromstring(summary_html(summary))  # noqa: S314 - the fast path is the one taken
        assert render_summary_pdf(summary) == render_summary_pdf(summary, xml=False)


async def test_text_that_xml_cannot_hold_is_printed_through_the_html5_parser(
    store_intake: StoreIntake, clinic: Clinic, weasyprint_log: list[logging.LogRecord]
) -> None:
    # U+FFFF is not allowed in XML. The form refuses it now (a noncharacter), but an intake
    # stored before it did may still hold one.
    intake = await store_intake(concern_details="before after")
    intake.answers = {**intake.answers, "concern_details": "before \uffff after"}
    summary = summary_of(intake, clinic)
    with pytest.raises(ET.ParseError):
        ET.fromstring(summary_html(summary))  # noqa: S314 - our own output
    # It renders, rather than failing (a 503 on every try). Its text layer cannot be checked:
    # a glyph no font has makes WeasyPrint garble the text mapping of the whole font.
    pdf = render_summary_pdf(summary)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    weasyprint_log.clear()  # no font has a glyph for U+FFFF: its warning is expected here


async def test_the_pdf_carries_title_clinic_language_tags_and_no_date(
    summarize: Summarize, clinic: Clinic
) -> None:
    summary = await summarize()
    reader = PdfReader(io.BytesIO(render_summary_pdf(summary)))
    info = reader.metadata
    assert info is not None
    assert info.title == f"Pre-consultation summary {summary.reference}"
    assert "Test Patient" not in info.title
    assert info.author == clinic.name
    assert str(info.creator).startswith(clinic.name)
    assert "/CreationDate" not in info
    assert "/ModDate" not in info
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en"
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a PDF BooleanObject
    assert "/StructTreeRoot" in catalog
    identifier = reader.trailer["/ID"]
    assert bytes(identifier[0].original_bytes) == summary.intake_id.encode()


async def test_a_summary_shows_no_queue_status(summarize: Summarize) -> None:
    """Status changes do not bump `revision`, so a cached PDF must not show one."""
    summary = await summarize()
    text = pdf_text(render_summary_pdf(summary))
    assert "Status" not in text


def test_the_areas_and_labels_match_the_questionnaire(clinic: Clinic) -> None:
    check_areas(clinic.questionnaire)
    check_labels(clinic.questionnaire)


async def test_unanswered_own_words_are_said_once_and_plainly(summarize: Summarize) -> None:
    text = pdf_text(render_summary_pdf(await summarize()))
    in_order(text, "For how long: 1 to 6 months", "No words of their own.")
    assert "Own words" not in text


async def test_superseded_red_flags_are_left_out(store_intake: StoreIntake, clinic: Clinic) -> None:
    """Re-triage keeps earlier flags, marked superseded; the summary shows the current ones."""
    intake = await store_intake(fever=True, urination_pain=True)
    assert [flag.rule_id for flag in intake.red_flags] == ["RF-ACUTE-PROSTATITIS", "RF-URINARY"]
    intake.red_flags[0].superseded_at = datetime.now(UTC)
    summary = summary_of(intake, clinic)
    assert [flag.rule_id for flag in summary.red_flags] == ["RF-URINARY"]
    assert "acute bacterial prostatitis" not in pdf_text(render_summary_pdf(summary))
