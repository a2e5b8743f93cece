"""Domain errors: each carries the HTTP status the web layer answers with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentladder.config import Language
    from agentladder.freshness import StaleInput


class DomainError(Exception):
    """Base of errors a user can act on; `message` is an English msgid, translated on display."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params

    def translated(self, language: Language) -> str:
        """The message in the reader's language."""
        from agentladder.i18n import translate

        return translate(language, self.message, **self.params)


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


class TooLarge(DomainError):
    """An upload beyond the size limit (`AGENTLADDER_UPLOAD_MAX_MB`)."""

    status_code = 413


class TooManyAttempts(DomainError):
    """Throttled (login attempts); `retry_after_s` is when the next try may come."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    """A system we depend on (the sign-in directory) cannot answer or is misconfigured."""

    status_code = 503


class StaleEvidence(Conflict):
    """Evidence changed after the values a decision would read were computed; the message names
    each stale input and the command that refreshes it."""

    def __init__(self, *, period: str, stale_inputs: Sequence[StaleInput]) -> None:
        from agentladder.freshness import refresh_commands
        from agentladder.i18n import N_

        self.period = period
        self.stale_inputs = tuple(stale_inputs)
        super().__init__(
            N_(
                "the evidence for {period} changed after it was computed: {inputs}. Refresh it "
                "with `{commands}` (or decide on it anyway with --allow-stale)"
            ),
            period=period,
            inputs="; ".join(item.describe("en") for item in self.stale_inputs),
            commands="`, `".join(refresh_commands(self.stale_inputs)),
        )

    def translated(self, language: Language) -> str:
        """The message with every stale input in the reader's language."""
        from agentladder.i18n import translate

        params = {
            **self.params,
            "inputs": "; ".join(item.describe(language) for item in self.stale_inputs),
        }
        return translate(language, self.message, **params)
