"""Which language a patient sees: `?lang=`, else the visit's choice, else Accept-Language."""

from __future__ import annotations

from typing import Any

from litestar import Request

from service.questionnaire import LANGUAGES, Language, is_language

DEFAULT: Language = "en"
COOKIE = "lang"


def from_accept_language(header: str | None) -> Language:
    """The first supported language the browser asks for, by quality; English otherwise."""
    if not header:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for negative_quality, _, primary in sorted(ranked):
        if negative_quality < 0 and is_language(primary):
            return primary
    return DEFAULT


def choose(request: Request[Any, Any, Any], asked: str | None) -> Language:
    if asked is not None and is_language(asked):
        return asked
    remembered = request.cookies.get(COOKIE)
    if remembered is not None and is_language(remembered):
        return remembered
    return from_accept_language(request.headers.get("accept-language"))


__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "choose", "from_accept_language"]
