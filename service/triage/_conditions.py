"""Static type check of a rule condition (CEL) against the questionnaire's item types.

The fast CEL evaluator has no type checker, and CEL's runtime quietly answers `false` to
`fever == 1`. So each condition is parsed with cel-python's CEL grammar (a maintained parser,
never `eval`) and its syntax tree is checked here, before any intake meets the rule: names must
be known, both sides of a comparison must have the same type, answer codes must exist, and the
whole condition must be true or false. Only the small part of CEL that rules need is accepted.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from celpy.celparser import CELParseError, CELParser
from lark import Token, Tree


class Kind(StrEnum):
    """The types a condition can see; the values read well in error messages."""

    BOOL = "yes/no answer"
    INT = "number"
    STRING = "text"
    CODE = "answer code"
    CODES = "list of answer codes"
    LIST = "list"


@dataclass(frozen=True)
class VariableType:
    """What a name in a condition holds; `codes` are a choice item's option codes."""

    kind: Kind
    codes: tuple[str, ...] = ()


class ConditionError(ValueError):
    """A condition that cannot be used; the message says what is wrong in the clinic's words."""


Scalar = bool | int | str


@dataclass(frozen=True)
class _Typed:
    kind: Kind
    describe: str
    codes: tuple[str, ...] = ()
    literals: tuple[Scalar, ...] | None = None  # fixed value(s) written in the condition
    name: str = ""  # the linkId, when this is an answer
    element: Kind | None = None  # for a list written in the condition


def check_condition(source: str, variables: Mapping[str, VariableType]) -> frozenset[str]:
    """Check `source`; return the names it reads, or raise `ConditionError`."""
    try:
        tree = _parser().parse(source)
    except CELParseError as error:
        where = f" at line {error.line} column {error.column}" if error.line else ""
        raise ConditionError(f"syntax error{where}: {_first_line(error)}") from None
    checker = _Checker(variables)
    result = checker.infer(tree)
    if result.kind is not Kind.BOOL:
        raise ConditionError(f"the condition must be true or false, not a {result.describe}")
    return frozenset(checker.used)


@cache
def _parser() -> CELParser:
    return CELParser()


def _first_line(error: CELParseError) -> str:
    lines = str(error.args[0]).strip().splitlines() if error.args else []
    return lines[0].strip() if lines else "cannot be read"


_COMPARISONS = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
}
_PLAIN_STRING = re.compile(r"""(["'])([^"'\\\n]*)\1\Z""")


class _Checker:
    def __init__(self, variables: Mapping[str, VariableType]) -> None:
        self.variables = variables
        self.used: set[str] = set()

    def infer(self, node: Tree[Token]) -> _Typed:
        rule = str(node.data)
        children = [child for child in node.children if isinstance(child, Tree)]
        tokens = [child for child in node.children if isinstance(child, Token)]
        match rule, len(children):
            case (("expr" | "conditionalor" | "conditionaland" | "relation" | "addition"), 1):
                return self.infer(children[0])
            case (("multiplication" | "member" | "primary" | "paren_expr"), 1):
                return self.infer(children[0])
            case "unary", 1:
                return self.infer(children[0])
            case "expr", 3:
                return self.ternary(*children)
            case (("conditionalor" | "conditionaland"), 2):
                operator = "||" if rule == "conditionalor" else "&&"
                left, right = self.infer(children[0]), self.infer(children[1])
                self.need_bool(operator, left)
                self.need_bool(operator, right)
                return _Typed(Kind.BOOL, f"result of '{operator}'")
            case "relation", 2:
                operator = _COMPARISONS[str(children[0].data)]
                left = self.infer(_only_tree(children[0]))
                return self.compare(operator, left, self.infer(children[1]))
            case "unary", 2 if str(children[0].data) == "unary_not":
                self.need_bool("!", self.infer(children[1]))
                return _Typed(Kind.BOOL, "result of '!'")
            case "literal", _:
                return _literal(tokens[0])
            case "ident", _:
                return self.variable(str(tokens[0]))
            case "list_lit", _:
                return self.list_literal(children)
            case "ident_arg", _ if str(tokens[0]) == "size" and len(children) == 1:
                return self.size(children[0])
            case "member_dot_arg", 1 if str(tokens[0]) == "size":
                return self.size(children[0])
        raise ConditionError(f"not allowed in a rule condition: {_construct(rule, tokens)}")

    def variable(self, name: str) -> _Typed:
        variable = self.variables.get(name)
        if variable is None:
            close = difflib.get_close_matches(name, self.variables, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConditionError(f"unknown linkId '{name}'{hint}")
        self.used.add(name)
        return _Typed(variable.kind, f"{variable.kind} '{name}'", codes=variable.codes, name=name)

    def ternary(self, condition: Tree[Token], then: Tree[Token], otherwise: Tree[Token]) -> _Typed:
        self.need_bool("? :", self.infer(condition))
        first, second = self.infer(then), self.infer(otherwise)
        if _family(first) != _family(second):
            raise ConditionError(
                f"type mismatch: '? :' gives a {first.describe} or a {second.describe}"
            )
        return _Typed(first.kind, f"result of '? :' ({first.kind})", codes=first.codes)

    def list_literal(self, children: list[Tree[Token]]) -> _Typed:
        items = children[0].children if children else []
        elements = [self.infer(child) for child in items if isinstance(child, Tree)]
        values: list[Scalar] = []
        kinds = set()
        for element in elements:
            if element.literals is None or element.kind is Kind.LIST:
                raise ConditionError("a list in a condition may hold only fixed values")
            kinds.add(element.kind)
            values.extend(element.literals)
        if len(kinds) > 1:
            raise ConditionError("a list in a condition must hold values of one type")
        element_kind = kinds.pop() if kinds else None
        return _Typed(Kind.LIST, "list", literals=tuple(values), element=element_kind)

    def size(self, argument: Tree[Token]) -> _Typed:
        if str(argument.data) == "exprlist":
            if len(argument.children) != 1:
                raise ConditionError("size() takes one value")
            argument = _only_tree(argument)
        typed = self.infer(argument)
        if typed.kind in (Kind.BOOL, Kind.INT):
            raise ConditionError(f"size() needs text or a list, not a {typed.describe}")
        return _Typed(Kind.INT, "result of size()")

    def need_bool(self, operator: str, operand: _Typed) -> None:
        if operand.kind is not Kind.BOOL:
            raise ConditionError(
                f"type mismatch: '{operator}' needs yes/no values, but got {operand.describe}"
            )

    def compare(self, operator: str, left: _Typed, right: _Typed) -> _Typed:
        if operator == "in":
            self.membership(left, right)
        elif operator in ("==", "!="):
            if _family(left) != _family(right) or not _same_elements(left, right):
                raise ConditionError(
                    f"type mismatch: cannot compare {left.describe} with {right.describe}"
                )
            _check_codes(left, right)
            _check_codes(right, left)
        elif not (left.kind is right.kind and left.kind in (Kind.INT, Kind.STRING)):
            raise ConditionError(
                f"type mismatch: '{operator}' compares numbers, "
                f"not {left.describe} with {right.describe}"
            )
        return _Typed(Kind.BOOL, f"result of '{operator}'")

    def membership(self, needle: _Typed, haystack: _Typed) -> None:
        if haystack.kind is Kind.CODES:
            if _family(needle) != "text":
                raise ConditionError(
                    f"type mismatch: {needle.describe} cannot be in {haystack.describe}"
                )
            _check_codes(haystack, needle)
            return
        if haystack.kind is not Kind.LIST:
            raise ConditionError(f"'in' needs a list on its right, not a {haystack.describe}")
        element_family = _family(_Typed(haystack.element, "")) if haystack.element else None
        if element_family is not None and element_family != _family(needle):
            raise ConditionError(
                f"type mismatch: {needle.describe} cannot be in a list of {haystack.element}"
            )
        _check_codes(needle, haystack)


def _family(typed: _Typed) -> str:
    """Types that may meet in `==`: an answer code is text at run time."""
    if typed.kind in (Kind.CODE, Kind.STRING):
        return "text"
    if typed.kind in (Kind.CODES, Kind.LIST):
        return "list"
    return typed.kind.value


def _same_elements(left: _Typed, right: _Typed) -> bool:
    """Two lists may be compared only when their elements may be."""
    families = []
    for typed in (left, right):
        if typed.kind is Kind.CODES:
            families.append("text")
        elif typed.kind is Kind.LIST and typed.element is not None:
            families.append(_family(_Typed(typed.element, "")))
    return len(set(families)) <= 1


def _check_codes(answer: _Typed, written: _Typed) -> None:
    """A code written in a condition must be one of the answer's options: catches typos."""
    if not answer.codes or written.literals is None:
        return
    for value in written.literals:
        if isinstance(value, str) and value not in answer.codes:
            raise ConditionError(
                f"'{value}' is not an answer code of '{answer.name or answer.describe}' "
                f"(codes: {', '.join(answer.codes)})"
            )


def _literal(token: Token) -> _Typed:
    text = str(token)
    match token.type:
        case "BOOL_LIT":
            return _Typed(Kind.BOOL, f"yes/no value {text}", literals=(text == "true",))
        case "INT_LIT":
            try:
                number = int(text, 0)
            except ValueError:
                raise ConditionError(f"cannot read the number {text}") from None
            return _Typed(Kind.INT, f"number {text}", literals=(number,))
        case "STRING_LIT":
            plain = _PLAIN_STRING.match(text)
            if plain is None:
                raise ConditionError(f"write text plainly in quotes, without escapes: {text}")
            return _Typed(Kind.STRING, f"text {text}", literals=(plain.group(2),))
    hint = " (use whole numbers)" if token.type in ("FLOAT_LIT", "UINT_LIT") else ""
    raise ConditionError(f"not allowed in a rule condition: the value {text}{hint}")


def _only_tree(node: Tree[Token]) -> Tree[Token]:
    return next(child for child in node.children if isinstance(child, Tree))


def _construct(rule: str, tokens: list[Token]) -> str:
    names = {
        "addition": "arithmetic (+, -)",
        "multiplication": "arithmetic (*, /, %)",
        "unary": "negation with '-'",
        "member_dot": "field access with '.'",
        "member_dot_arg": "a method call",
        "member_index": "indexing with [ ]",
        "member_object": "an object literal",
        "map_lit": "a map literal",
        "ident_arg": "a function call",
        "dot_ident": "a name starting with '.'",
        "dot_ident_arg": "a function call starting with '.'",
    }
    name = names.get(rule, rule)
    return f"{name} '{tokens[0]}'" if tokens else name
