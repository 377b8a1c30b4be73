"""Whether a new staff password is hard enough to guess: zxcvbn's estimate, not a list of ours.

zxcvbn (Dropbox's estimator, MIT, offline: its word lists ship inside the package) scores a
password 0-4 by the guesses an attacker would need, trying common passwords, names, words,
keyboard runs, dates and the words the caller says an attacker knows. Here those are the
account's email, its parts, the clinic's name and the years around now.

The minimum is 4 (at least 10^10 guesses), not the often-quoted 3: zxcvbn counts any password of
three pieces as at least 10^8 guesses, so with 3 `clinicname2026` (clinic + name + a year)
passes however well each piece is known. Three or four uncommon words pass easily.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

MIN_PASSWORD_LENGTH = 12
MIN_SCORE = 4
# zxcvbn refuses longer input (its matching grows quickly with length); a passphrase whose first
# 72 characters are strong is strong.
_SCORED_LENGTH = 72
# Words anyone who knows this service would try first.
_SERVICE_WORDS = ("clinic", "intake", "staff", "doctor", "reception", "admin", "password")


def known_words(email: str, clinic_name: str) -> list[str]:
    """What an attacker guessing this account's password knows: its email and its clinic."""
    local, _, domain = email.lower().partition("@")
    year = datetime.now(UTC).year
    return [
        email.lower(),
        local,
        domain,
        *re.split(r"[^\w]+", f"{local} {domain} {clinic_name.lower()}"),
        re.sub(r"\W+", "", clinic_name.lower()),
        *_SERVICE_WORDS,
        *(str(year + offset) for offset in range(-3, 2)),
    ]


def password_weakness(password: str, words: Iterable[str]) -> str | None:
    """Why `password` is too weak, in one line, or None when it is strong enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    # Loaded here, not at import: the web server never sets a password and so never carries
    # zxcvbn's 13 MB of word lists.
    from zxcvbn import zxcvbn  # noqa: PLC0415

    estimate = zxcvbn(password[:_SCORED_LENGTH], user_inputs=[word for word in words if word])
    if estimate["score"] >= MIN_SCORE:
        return None
    feedback = estimate["feedback"]
    advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip() or (
        "Add another word or two, not about you or the clinic."
    )
    return f"the password is too easy to guess: {advice}"
