"""Pydantic's validation errors in our words: each error as the place it concerns and a catalog
msgid with its params, so a policy, a form or any validated document names what is wrong in the
reader's language.

A validator that refuses a value raises `CatalogValueError(N_("... {param} ..."), param=...)`;
a plain ValueError's text is taken as the msgid itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentladder.i18n import N_

if TYPE_CHECKING:
    from pydantic import ValidationError

UNKNOWN_KEY = N_("unknown key: not allowed here")
# Pydantic's error types as sentences of our catalog ({limit}: the bound the value broke).
VALIDATION_MESSAGES: Mapping[str, str] = {
    "extra_forbidden": UNKNOWN_KEY,
    "missing": N_("required key is missing"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("too long: at most {limit} characters"),
    "string_pattern_mismatch": N_("only lower-case letters, digits and _, starting with a letter"),
    "dict_type": N_("must be a mapping (key: value)"),
    "model_type": N_("must be a mapping (key: value)"),
    "list_type": N_("must be a list"),
    "tuple_type": N_("must be a list"),
    "too_short": N_("too few items"),
    "too_long": N_("too many items"),
    "greater_than": N_("must be above {limit}"),
    "greater_than_equal": N_("must be at least {limit}"),
    "less_than": N_("must be below {limit}"),
    "less_than_equal": N_("must be at most {limit}"),
    "literal_error": N_("must be one of {choices}"),
}


class CatalogValueError(ValueError):
    """A validator's refusal as a catalog msgid and its params; str() is the English text."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params: dict[str, Any] = params


@dataclass(frozen=True)
class ValidationProblem:
    """One validation error: where (the path of keys and list positions) and what, as a msgid."""

    loc: tuple[int | str, ...]
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The place as dotted keys (`components.service.weight`), `(top)` for the whole."""
        return ".".join(str(part) for part in self.loc) or "(top)"


def _clean(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # Pydantic names its validator wrappers in the path; they are not keys of the document.
    return tuple(p for p in loc if not str(p).startswith(("function-after", "tuple[")))


def validation_problem(error: Mapping[str, Any]) -> ValidationProblem:
    """A pydantic error (one of `ValidationError.errors()`) in our words: its type picks the
    sentence; our validators' CatalogValueError carries its own."""
    where = _clean(tuple(error["loc"]))
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "value_error":
        refusal = context.get("error", error["msg"])
        if isinstance(refusal, CatalogValueError):
            return ValidationProblem(where, refusal.message, dict(refusal.params))
        return ValidationProblem(where, str(refusal))
    message = VALIDATION_MESSAGES.get(kind)
    if message is None:
        return ValidationProblem(where, N_("not valid: {detail}"), {"detail": error["msg"]})
    limit = next(
        (context[k] for k in ("gt", "ge", "lt", "le", "min_length", "max_length") if k in context),
        "",
    )
    if isinstance(limit, int | float):
        limit = f"{limit:g}"
    choices = str(context.get("expected", "")).replace("'", "")
    return ValidationProblem(where, message, {"limit": limit, "choices": choices})


def validation_problems(exc: ValidationError) -> list[ValidationProblem]:
    """Every error of a failed validation, in our words."""
    return [validation_problem(error) for error in exc.errors()]
