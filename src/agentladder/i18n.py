"""Translations (Babel catalogs under locale/) for the web UI, messages and the CLI.

Source strings are English; the Simplified Chinese catalog translates every one of them.
"""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import Translations

from agentladder.config import LANGUAGES, Language

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGE_NAMES: dict[Language, str] = {"zh_Hans": "简体中文", "en": "English"}
# As the top bar's switch shows them (their full names are the buttons' accessible names).
LANGUAGE_SHORT_NAMES: dict[Language, str] = {"zh_Hans": "中文", "en": "EN"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (it is translated on display)."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a sentence with a count for extraction, in both forms ("1 more call", "2 more
    calls"); `translate_count` picks the form on display."""
    return singular, plural


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: Language) -> _gettext.NullTranslations:
    """The compiled catalog for a language; English is the source language."""
    if language == "en":
        return _gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)


def normalize_language(value: str | None, default: Language) -> Language:
    """Map what a browser or user says (zh-CN, zh_Hans, en-US...) to a supported language."""
    if not value:
        return default
    lowered = value.replace("-", "_").lower()
    if lowered.startswith("zh"):
        return "zh_Hans"
    if lowered.startswith("en"):
        return "en"
    return default


def translate(language: Language, message: str, **params: Any) -> str:
    """Translate a msgid and fill its `{named}` placeholders."""
    text = translations(language).gettext(message)
    return text.format(**params) if params else text


def translate_count(
    language: Language, forms: tuple[str, str], number: int, /, **params: Any
) -> str:
    """Translate a sentence in the form `number` takes in the reader's language (Chinese has
    one form) and fill its placeholders (`{count}` among them, as a rule)."""
    text = translations(language).ngettext(forms[0], forms[1], number)
    return text.format(**params)


def babel_locale(language: Language) -> Locale:
    """The Babel locale used to format dates and numbers."""
    return Locale.parse("zh_Hans_CN" if language == "zh_Hans" else "en_US")


# Calls whose argument is a msgid, in pybabel `-k` syntax (`translate:2`: the second argument).
# Babel's default keywords apply as well. The one list: scripts/update_catalog.py extracts with
# it and tests/test_i18n.py checks that every DomainError subclass is in it.
EXTRACTION_KEYWORDS: tuple[str, ...] = (
    "_",
    "gettext",
    "ngettext:1,2",
    "N_",
    "N_plural:1,2",
    "tr",
    "translate:2",
    "DomainError",
    "NotFound",
    "Forbidden",
    "Conflict",
    "InvalidInput",
    "TooManyAttempts",
    "TooLarge",
    "Unavailable",
    "StaleEvidence",
    "LoginRequired",
    "CsrfFailed",
    "TableFileError",
    "PolicyError",
    "PointRulesError",
    "ItemNotFound",
)
