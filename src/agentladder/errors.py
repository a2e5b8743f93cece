"""Domain errors: each carries the HTTP status the web layer answers with."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of errors a user can act on; `message` is an English msgid, translated on display."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    """The object does not exist, or the user may not know that it does."""

    status_code = 404


class Forbidden(DomainError):
    """The user is known but lacks the permission."""

    status_code = 403


class Conflict(DomainError):
    """The request clashes with what is stored (a duplicate key, say)."""

    status_code = 409


class InvalidInput(DomainError):
    """The input is malformed or fails validation."""

    status_code = 422


class TooManyAttempts(DomainError):
    """Throttled (login attempts)."""

    status_code = 429
