"""A QuestionnaireResponse sent by an SDC form filler, read into the answers the JSON API takes.

Checked against the served Questionnaire item by item: each item's linkId must be one of that
level's items, each answer of its item's type (`valueBoolean` for a boolean item, `valueCoding`
from its answer options for a choice, ...), one answer unless the item repeats, and the resource
must be `completed` and name the served questionnaire's `url|version`. What is checked here is
the FHIR shape; the answers themselves (required, limits, enableWhen, consent) are then checked
by the questionnaire's own validation, exactly as for the JSON API. Pure: no web, no database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from service.questionnaire import ANSWER_VALUE, Language, is_language

JsonObject = dict[str, Any]

# A hostile body full of made-up items gets a short answer: the first problems, then a count;
# and what it sent is echoed only in part.
MAX_PROBLEMS = 40
MAX_ECHOED = 80

# The Python type each answer value[x] holds in JSON.
_JSON_TYPE: Mapping[str, type] = {
    "valueBoolean": bool,
    "valueInteger": int,
    "valueString": str,
    "valueDate": str,
    "valueCoding": dict,
}


@dataclass(frozen=True)
class ResponseProblem:
    """One thing wrong: `expression` is the item's linkId, or the resource's field at fault."""

    expression: str
    message: str


class QuestionnaireResponseError(ValueError):
    """The QuestionnaireResponse cannot be taken; `problems` says where and why."""

    def __init__(self, problems: list[ResponseProblem]) -> None:
        super().__init__("; ".join(f"{p.expression}: {p.message}" for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ResponseAnswers:
    """The answers as `POST /api/v1/intakes` takes them, and the language they were given in."""

    language: Language | None
    """The response's own `language`; when it names none (LHC-Forms names none), the language of
    the Questionnaire texts its items carry; None when those tell none apart."""
    answers: dict[str, object]


def read_questionnaire_response(
    resource: object, served: Mapping[Language, JsonObject]
) -> ResponseAnswers:
    """The answers of `resource`, a QuestionnaireResponse to the served FHIR Questionnaire (in
    each language: `served`); raises `QuestionnaireResponseError` naming every problem found."""
    first = next(iter(served.values()))
    reading = _Reading(home=dict(_homes(first.get("item", []), None)))
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        reading.problem("resourceType", "The body must be a FHIR QuestionnaireResponse.")
        raise QuestionnaireResponseError(reading.problems)
    language = reading.header(resource, first)
    items = resource.get("item", [])
    if isinstance(items, list):
        reading.items(items, first.get("item", []), parent=None)
    else:
        reading.problem("QuestionnaireResponse.item", "item must be a list of items.")
    if reading.problems:
        raise QuestionnaireResponseError(reading.problems[:MAX_PROBLEMS] + reading.more())
    if language is None and isinstance(items, list):
        language = _language_of_texts(items, served)
    return ResponseAnswers(language, reading.answers)


def _language_of_texts(items: list[Any], served: Mapping[Language, JsonObject]) -> Language | None:
    """The language whose Questionnaire texts the response's item texts are (a form filler
    copies them from the Questionnaire it rendered); None when they tell no language apart."""
    given = dict(_texts(items))
    matches = {
        language: sum(given.get(link_id) == text for link_id, text in _texts(q["item"]))
        for language, q in served.items()
    }
    best = max(matches.values(), default=0)
    found = [language for language, count in matches.items() if count == best]
    return found[0] if best and len(found) == 1 else None


def _texts(items: list[Any]) -> Iterator[tuple[str, str]]:
    """(linkId, text) of every item that has both, at any depth (answers' items included)."""
    for item in items:
        if not isinstance(item, dict):
            continue
        link_id, text = item.get("linkId"), item.get("text")
        if isinstance(link_id, str) and isinstance(text, str):
            yield link_id, text
        answers = item.get("answer")
        nested = [item.get("item")]
        if isinstance(answers, list):
            nested += [answer.get("item") for answer in answers if isinstance(answer, dict)]
        for children in nested:
            if isinstance(children, list):
                yield from _texts(children)


@dataclass
class _Reading:
    home: dict[str, str | None]
    """Each linkId of the Questionnaire, and the group it is in."""
    answers: dict[str, object] = field(default_factory=dict)
    problems: list[ResponseProblem] = field(default_factory=list)

    def problem(self, expression: str, message: str) -> None:
        self.problems.append(ResponseProblem(expression, message))

    def more(self) -> list[ResponseProblem]:
        left = len(self.problems) - MAX_PROBLEMS
        if left <= 0:
            return []
        return [ResponseProblem("QuestionnaireResponse.item", f"{left} more problems.")]

    def header(self, resource: JsonObject, served: JsonObject) -> Language | None:
        status = resource.get("status")
        if status != "completed":
            self.problem(
                "QuestionnaireResponse.status",
                f"Only a completed response can be submitted; its status is {_echo(status)}.",
            )
        expected = f"{served['url']}|{served['version']}"
        canonical = resource.get("questionnaire")
        if not isinstance(canonical, str) or not canonical:
            self.problem(
                "QuestionnaireResponse.questionnaire",
                f"Name the questionnaire answered: {expected}.",
            )
        elif canonical != expected:
            url, _, version = canonical.partition("|")
            if url != served["url"]:
                detail = f"{_echo(url)} is not the served questionnaire, {served['url']}."
            elif not version:
                detail = f"Name the version answered: {expected}."
            else:
                detail = (
                    f"Version {_echo(version)} is not the one served now ({served['version']}); "
                    "fetch the questionnaire again and answer it."
                )
            self.problem("QuestionnaireResponse.questionnaire", detail)
        return self.language(resource.get("language"))

    def language(self, tag: object) -> Language | None:
        if tag is None:
            return None
        primary = tag.split("-")[0].lower() if isinstance(tag, str) else None
        if is_language(primary):
            return primary
        self.problem("QuestionnaireResponse.language", "The language must be en or ml.")
        return None

    def items(self, given: list[Any], expected: list[JsonObject], parent: str | None) -> None:
        by_link_id = {item["linkId"]: item for item in expected}
        seen: set[str] = set()
        for position, item in enumerate(given):
            where = f"{parent or 'QuestionnaireResponse'}.item[{position}]"
            link_id = item.get("linkId") if isinstance(item, dict) else None
            if not isinstance(link_id, str) or not link_id:
                self.problem(where, "Each item needs a linkId.")
                continue
            if link_id not in by_link_id:
                self.problem(link_id[:MAX_ECHOED], self.misplaced(link_id, parent))
                continue
            if link_id in seen:
                self.problem(link_id, "This item is given more than once.")
                continue
            seen.add(link_id)
            self.item(item, by_link_id[link_id])

    def misplaced(self, link_id: str, parent: str | None) -> str:
        where = f"in group {parent}" if parent else "at the top level"
        if link_id not in self.home:
            return f"The served questionnaire has no item {_echo(link_id)}."
        home = self.home[link_id]
        belongs = f"in group {home}" if home else "at the top level"
        return f"Item {link_id!r} is {where}; it belongs {belongs}."

    def item(self, given: JsonObject, question: JsonObject) -> None:
        link_id = question["linkId"]
        answers = given.get("answer", [])
        children = given.get("item", [])
        kind = question["type"]
        if kind in {"group", "display"}:
            if answers:
                self.problem(link_id, f"A {kind} item takes no answer.")
            if kind == "group":
                if isinstance(children, list):
                    self.items(children, question.get("item", []), parent=link_id)
                else:
                    self.problem(link_id, "item must be a list of items.")
            return
        if children:
            self.problem(link_id, "A question's items go in its answers; this one has none.")
        if not isinstance(answers, list):
            self.problem(link_id, "answer must be a list of answers.")
            return
        if len(answers) > 1 and not question.get("repeats", False):
            self.problem(link_id, "This question takes one answer.")
            return
        values = [
            value for answer in answers if (value := self.value(answer, question)) is not None
        ]
        if len(values) < len(answers):
            return
        for answer in answers:
            nested = answer.get("item", [])
            if not isinstance(nested, list) or not all(_is_display(c, question) for c in nested):
                self.problem(link_id, "This question has no items under its answers.")
                return
        if values:
            self.answers[link_id] = values if question.get("repeats", False) else values[0]

    def value(self, answer: object, question: JsonObject) -> object | None:
        link_id, kind = question["linkId"], question["type"]
        key = ANSWER_VALUE[kind]
        python_type = _JSON_TYPE[key]
        values = (
            {k: v for k, v in answer.items() if k.startswith("value")}
            if isinstance(answer, dict)
            else {}
        )
        if list(values) != [key]:
            given = ", ".join(sorted(values)) or "no value"
            self.problem(link_id, f"A {kind} question is answered with {key}, not {given}.")
            return None
        value: Any = values[key]
        if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
            self.problem(link_id, f"{key} holds the wrong kind of value.")
            return None
        if kind != "choice":
            return value
        return self.code(values[key], question)

    def code(self, coding: JsonObject, question: JsonObject) -> str | None:
        link_id = question["linkId"]
        code, system = coding.get("code"), coding.get("system")
        options = [option["valueCoding"] for option in question.get("answerOption", [])]
        systems = {option.get("system") for option in options}
        if not isinstance(code, str) or not code:
            self.problem(link_id, "valueCoding needs a code.")
            return None
        if system is not None and (not isinstance(system, str) or system not in systems):
            self.problem(
                link_id, f"Codes of this question are from {', '.join(map(str, systems))}."
            )
            return None
        # Whether the code is one of the options is the questionnaire's own check, in the
        # patient's language, as for the JSON API.
        return code


def _is_display(child: object, question: JsonObject) -> bool:
    """Whether `child` is one of the question's display items, unanswered (as fillers may send)."""
    if not isinstance(child, dict) or child.get("answer"):
        return False
    link_id = child.get("linkId")
    displays = {item["linkId"] for item in question.get("item", []) if item["type"] == "display"}
    return isinstance(link_id, str) and link_id in displays


def _homes(items: list[JsonObject], parent: str | None) -> Iterator[tuple[str, str | None]]:
    for item in items:
        yield item["linkId"], parent
        yield from _homes(item.get("item", []), item["linkId"])


def _echo(value: object) -> str:
    """A value the client sent, quoted for a message, never longer than MAX_ECHOED."""
    text = repr(value)
    return text if len(text) <= MAX_ECHOED else text[:MAX_ECHOED] + "…"
