"""Staff passwords: long enough and hard to guess, by zxcvbn, with the account's own words."""

from __future__ import annotations

import pytest

from service.staff.passwords import known_words, password_weakness

EMAIL = "ravi.kumar@sunrise-clinic.in"
CLINIC = "Sunrise Fertility Clinic"
WORDS = known_words(EMAIL, CLINIC)


@pytest.mark.parametrize(
    ("password", "because"),
    [
        ("password1234", "This is a very common password."),
        ("short pass", "at least 12 characters"),
        ("clinicname2026", "too easy to guess"),
        ("sunrisefertility2026", "too easy to guess"),
        ("SunriseClinic2025!", "too easy to guess"),
        ("ravi.kumar@2026", "too easy to guess"),
        ("kumarravi1985", "too easy to guess"),
        ("qwertyuiop123", "too easy to guess"),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "Repeats",
        ),
    ],
)
def test_common_and_guessable_passwords_are_refused_naming_the_weakness(
    password: str, because: str
) -> None:
    weakness = password_weakness(password, WORDS)
    assert weakness is not None
    assert because in weakness
    assert "\n" not in weakness


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "tulip anchor velvet orbit",
        "amblyopic-tractor-lagoon",
        # Longer than zxcvbn scores (72): its first 72 characters are judged, not refused.
        "amblyopic tractor lagoon under a violet sky by the quiet harbour of kollam at dusk",
    ],
)
def test_a_strong_passphrase_is_accepted(password: str) -> None:
    assert password_weakness(password, WORDS) is None


def test_the_words_an_attacker_knows_come_from_the_email_and_the_clinic() -> None:
    assert {"ravi", "kumar", "sunrise", "fertility", "clinic", "sunrisefertilityclinic"} <= set(
        WORDS
    )
    assert EMAIL in WORDS
