"""Turns one raw answer into a clean typed value, or says why it cannot be accepted."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import phonenumbers

from service.control_characters import has_control_characters
from service.questionnaire._model import AnswerValue, Item, ItemType, TextFormat


class InvalidAnswerError(Exception):
    """An answer that cannot be accepted: `code` names a message in `messages.toml`."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def age_on(birth_date: date, today: date) -> int:
    """Whole years on `today` (the clinic-local date): a birthday today counts as reached."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def is_blank(value: object) -> bool:
    """No answer: null, an empty or all-space string, or an empty list of choices."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


def parse_answer(item: Item, value: object, today: date, default_region: str) -> AnswerValue:
    """The clean answer for a non-blank `value`, or `InvalidAnswerError`."""
    match item.type:
        case ItemType.BOOLEAN:
            if not isinstance(value, bool):
                raise InvalidAnswerError("invalid_boolean")
            return value
        case ItemType.INTEGER:
            return _integer(item, value)
        case ItemType.STRING | ItemType.TEXT:
            return _text(item, value, default_region)
        case ItemType.DATE:
            return _date(item, value, today)
        case ItemType.CHOICE:
            if not isinstance(value, str) or value not in item.codes:
                raise InvalidAnswerError("invalid_choice")
            return value
        case ItemType.MULTI_CHOICE:
            if not isinstance(value, list | tuple) or not all(
                isinstance(code, str) and code in item.codes for code in value
            ):
                raise InvalidAnswerError("invalid_choices")
            # Stored in the form's order, without repeats, so equal answers compare equal.
            return tuple(code for code in item.codes if code in value)


def _integer(item: Item, value: object) -> int:
    # bool is an int in Python; a JSON `true` is not a count of anything.
    if type(value) is not int:
        raise InvalidAnswerError("invalid_integer")
    low, high = item.limits.min_value, item.limits.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            raise InvalidAnswerError("out_of_range", min=low, max=high)
        if low is not None:
            raise InvalidAnswerError("below_minimum", min=low)
        raise InvalidAnswerError("above_maximum", max=high)
    return value


def _text(item: Item, value: object, default_region: str) -> str:
    if not isinstance(value, str):
        raise InvalidAnswerError("invalid_text")
    if item.type is ItemType.TEXT:
        # Browsers send a textarea's line breaks as CRLF.
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if has_control_characters(value, multi_line=item.type is ItemType.TEXT):
        raise InvalidAnswerError("control_characters")
    text = unicodedata.normalize("NFC", value).strip()
    low, high = item.limits.min_length, item.limits.max_length
    if low is not None and len(text) < low:
        raise InvalidAnswerError("too_short", min=low)
    if high is not None and len(text) > high:
        raise InvalidAnswerError("too_long", max=high)
    if item.format is TextFormat.PHONE:
        return _phone(text, default_region)
    if item.format is TextFormat.EMAIL:
        return _email(text)
    return text


def _phone(text: str, default_region: str) -> str:
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidAnswerError("invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidAnswerError("invalid_phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


_EMAIL_LOCAL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z"
)
_DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def _email(text: str) -> str:
    """A syntax check only (RFC 5321 dot-atom, IDNA domain): nothing is sent to the address."""
    local, at, domain = text.rpartition("@")
    if not at or len(local) > 64 or not _EMAIL_LOCAL.match(local):
        raise InvalidAnswerError("invalid_email")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAnswerError("invalid_email") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or not all(map(_DOMAIN_LABEL.match, labels)):
        raise InvalidAnswerError("invalid_email")
    return f"{local}@{domain.lower()}"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _date(item: Item, value: object, today: date) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidAnswerError("invalid_date") from None  # 2023-02-30, month 13
    else:
        raise InvalidAnswerError("invalid_date")
    if day > today:
        raise InvalidAnswerError("date_in_future")
    low, high = item.limits.min_age, item.limits.max_age
    age = age_on(day, today)
    if (low is not None and age < low) or (high is not None and age > high):
        raise InvalidAnswerError("age_out_of_range", min=low, max=high)
    return day
