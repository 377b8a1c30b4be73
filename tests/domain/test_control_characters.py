"""The one definition of a control character in typed text, checked character by character."""

from __future__ import annotations

import unicodedata

import pytest

from service.control_characters import has_control_characters, refused_characters

REFUSED = {
    "NUL": "\x00",
    "escape": "\x1b",
    "unit separator": "\x1f",
    "DEL": "\x7f",
    "C1 next line": "\x85",
    "C1 string terminator": "\x9c",
    "lone surrogate": "\ud800",
    "noncharacter U+FFFE": "\ufffe",
    "noncharacter U+FFFF": "\uffff",
    "noncharacter U+FDD0": "\ufdd0",
    "noncharacter U+10FFFF": "\U0010ffff",
}
KEPT = {
    "Malayalam with ZWJ": "ന്‍\u200d",
    "zero-width non-joiner": "\u200c",
    "right-to-left mark": "\u200f",
    "emoji": "😀",
    "replacement character": "\ufffd",
    "last BMP character before the noncharacters": "\ufffd\ufdcf\ufdf0",
    "no-break space": "\xa0",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_control_characters_are_refused_on_one_line_and_on_several(case: str) -> None:
    text = f"Ravi {REFUSED[case]} Kumar"
    assert has_control_characters(text)
    assert has_control_characters(text, multi_line=True)


@pytest.mark.parametrize("case", list(KEPT))
def test_the_characters_of_real_writing_are_kept(case: str) -> None:
    assert not has_control_characters(f"Ravi {KEPT[case]} Kumar")


@pytest.mark.parametrize("separator", ["\t", "\n", "\r", "\r\n"])
def test_tabs_and_line_breaks_only_where_text_has_several_lines(separator: str) -> None:
    text = f"first line{separator}second line"
    assert has_control_characters(text)
    assert not has_control_characters(text, multi_line=True)


def _refused_by_unicode(character: str, *, multi_line: bool) -> bool:
    """The rule in Unicode's own terms: categories Cc and Cs, and the 66 noncharacters."""
    point = ord(character)
    noncharacter = 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE
    allowed = multi_line and character in "\t\n\r"
    return (unicodedata.category(character) in {"Cc", "Cs"} or noncharacter) and not allowed


def test_the_check_refuses_exactly_what_unicode_calls_control_surrogate_or_noncharacter() -> None:
    # Every code point, surrogates included, against the categories of the Unicode database.
    for multi_line in (False, True):
        differing = [
            hex(point)
            for point in range(0x110000)
            if has_control_characters(chr(point), multi_line=multi_line)
            != _refused_by_unicode(chr(point), multi_line=multi_line)
        ]
        assert differing == [], f"multi_line={multi_line}"


def test_the_schema_class_refuses_exactly_what_the_check_refuses() -> None:
    # Every code point but the surrogates (a JSON string cannot carry a lone one whole).
    for multi_line in (False, True):
        refused = set(refused_characters(multi_line=multi_line))
        differing = [
            hex(point)
            for point in range(0x110000)
            if not 0xD800 <= point <= 0xDFFF
            and (chr(point) in refused) != has_control_characters(chr(point), multi_line=multi_line)
        ]
        assert differing == [], f"multi_line={multi_line}"
