"""Every piece of page text marked for translation has its Malayalam in the catalogue."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from service.settings import ROOT
from service.web.i18n import catalogue_path

METHODS = [("service/web/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "N_": None}


def marked_messages() -> set[str]:
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=METHODS, keywords=KEYWORDS
        )
        if isinstance(message, str)
    }


def test_pages_mark_text_for_translation() -> None:
    assert "Send my answers" in marked_messages()
    assert "Page not found" in marked_messages()  # marked in code with N_()


def test_every_marked_message_has_malayalam() -> None:
    with catalogue_path("ml").open("rb") as po:
        catalogue = read_po(po, locale="ml")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(marked_messages() - translated)
    assert not missing, f"no Malayalam for: {missing}"


def test_malayalam_keeps_every_placeholder() -> None:
    with catalogue_path("ml").open("rb") as po:
        catalogue = read_po(po, locale="ml")
    import re

    for message in catalogue:
        if message.id:
            names = sorted(re.findall(r"%\((\w+)\)s", str(message.id)))
            assert names == sorted(re.findall(r"%\((\w+)\)s", str(message.string))), message.id
