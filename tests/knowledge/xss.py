"""The XSS payloads (tests/data/xss_payloads.txt) that item pages are tested against, here by
the renderer and in a browser.

One payload a line, taken as written (leading spaces too: an indented line is a Markdown code
block) except for a few escapes, so that a payload may hold what a line cannot: `\\n` a line
break, `\\t` a tab, `\\r` a carriage return, `\\0` a NUL, `\\xHH` that character and `\\\\` one
backslash; any other backslash stays as it is. Empty lines are skipped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "xss_payloads.txt"

_ESCAPE = re.compile(r"\\(n|t|r|0|x[0-9A-Fa-f]{2}|\\)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\"}


def _unescape(line: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if code.startswith("x") else _ESCAPES[code]

    return _ESCAPE.sub(replace, line)


@lru_cache(maxsize=1)
def _payloads() -> tuple[str, ...]:
    lines = PAYLOADS.read_text(encoding="utf-8").split("\n")
    return tuple(_unescape(line.rstrip("\r")) for line in lines if line.strip())


def xss_payloads() -> list[str]:
    """Every payload of the list, escapes decoded, in the file's order."""
    return list(_payloads())
