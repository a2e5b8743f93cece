"""The error answers of the REST API, declared once so the OpenAPI document lists every status
an operation can answer with, and the body each carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    """One field FastAPI's request validation refused."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ApiError(BaseModel):
    """Every error body: a message in the caller's language, or for a request whose shape is
    wrong (a 422 from validation) the list of fields refused."""

    detail: str | list[FieldProblem]


_DESCRIPTIONS = {
    400: "The request body cannot be read (not UTF-8, say).",
    401: "No valid session or access token.",
    403: "The caller's roles do not allow this (or a browser session sent no CSRF token).",
    404: "No such object, or it lies outside the caller's scope.",
    409: "The request clashes with what is stored.",
    413: "The upload is larger than the server accepts.",
    422: "The input is malformed or fails validation.",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the `ApiError` body."""
    return {code: {"model": ApiError, "description": _DESCRIPTIONS[code]} for code in status_codes}


# Every /api operation needs a user (401), a permission (403), and validates its input (422).
API_ERRORS = error_responses(401, 403, 422)


class Health(BaseModel):
    """`/healthz`: `ok`, `migrate` (the schema is behind the code) or `error` (no database)."""

    status: str
    version: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    schema_head: str | None = None
    detail: str | None = None
