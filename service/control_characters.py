"""What counts as a control character in text people type: one definition for every input.

Refused everywhere: C0 controls (NUL, ESC, ...), DEL and the C1 controls (category Cc); lone
surrogates (Cs), which UTF-8 cannot store; and Unicode's 66 noncharacters (U+FDD0-U+FDEF and
U+xFFFE/U+xFFFF in every plane), which XML cannot hold and which garble the PDF summary's text
layer. Tab, line feed and carriage return are text where several lines are (free-text answers,
an override's reason). Format characters (Cf) stay: Malayalam spelling needs ZWJ and ZWNJ.

Imports nothing of ours, so the pure questionnaire and the command line can both use it.
"""

from __future__ import annotations

import re

LINE_BREAKS_AND_TABS = frozenset("\t\n\r")


def is_noncharacter(character: str) -> bool:
    """One of the code points Unicode keeps out of interchange for good."""
    point = ord(character)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def has_control_characters(text: str, *, multi_line: bool = False) -> bool:
    """Whether `text` holds a character no typed input may; `multi_line` allows tabs and breaks."""
    return _REFUSED[multi_line].search(text) is not None


# Category Cc is fixed by Unicode's stability policy: C0, DEL and C1.
_CONTROLS = ((0x00, 0x1F), (0x7F, 0x9F))
_NONCHARACTERS = (
    (0xFDD0, 0xFDEF),
    *((p | 0xFFFE, p | 0xFFFF) for p in range(0, 0x110000, 0x10000)),
)


def refused_characters(*, multi_line: bool = False) -> str:
    """The contents of a regular-expression class (`[...]`) of what `has_control_characters`
    refuses, as literal characters, for API schemas: so a schema-driven client or generator
    knows the rule. Lone surrogates are left out (a JSON string cannot carry one whole)."""
    allowed = {ord(c) for c in LINE_BREAKS_AND_TABS} if multi_line else set()
    points = [
        point
        for low, high in (*_CONTROLS, *_NONCHARACTERS)
        for point in range(low, high + 1)
        if point not in allowed
    ]
    return "".join(chr(point) for point in points)


_SURROGATES = "\ud800-\udfff"
# One search in C per text: checking character by character in Python was most of the cost of
# validating a whole intake.
_REFUSED = {
    multi_line: re.compile(f"[{re.escape(refused_characters(multi_line=multi_line))}{_SURROGATES}]")
    for multi_line in (False, True)
}
