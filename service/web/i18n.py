"""The words of the pages themselves (buttons, headings, notices) through gettext catalogues.

Questions, options, error messages and advice live in the clinician-reviewed data files; the
page chrome lives in `service/locale/<lang>/LC_MESSAGES/messages.po`, read with Babel at start
(no compile step, nothing binary in the repository).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from service.questionnaire import LANGUAGES, Language

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


def catalogue_path(language: Language) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: Language) -> NullTranslations:
    """The catalogue for `language`; English is the source language and needs none."""
    path = catalogue_path(language)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def gettext_for(language: Language) -> Callable[..., str]:
    """`_` for one render: `_("Hello %(name)s", name=...)` translates, then fills in.

    The result is plain text, so Jinja escapes it like any other value: neither a catalogue
    entry nor a filled-in value can put markup on a page.
    """
    catalogue = translations(language)

    def gettext(message: str, **variables: object) -> str:
        text = catalogue.gettext(message)
        return text % variables if variables else text

    return gettext


__all__ = ["LANGUAGES", "catalogue_path", "gettext_for", "translations"]
