"""Normalizing how one person appears across ACD/CTI sources to a single lookup key.

One agent shows up as `Agent/1001` in a queue_log, `SIP/1001-0000002a` or `PJSIP/1001` as a
channel, `Local/1001@from-queue/n` through a local channel, `1001` in a report, or by name.
The channel technology and the per-call suffix say nothing about who the person is, so the
key keeps only the extension; names are case- and space-folded.
"""

from __future__ import annotations

import re
import unicodedata

CHANNEL_TECHNOLOGIES = ("agent", "sip", "pjsip", "iax2", "dahdi", "local", "skinny", "sccp", "user")
_CHANNEL = re.compile(
    r"^(?P<tech>[a-z0-9_]+)/(?P<rest>.+)$",
)
# Asterisk appends "-<8 hex digits>" (or ";1"/";2" for Local) to make each channel unique.
_CHANNEL_SUFFIX = re.compile(r"(-[0-9a-f]{8}|;[12])$")


def identity_key(identity: str) -> str:
    """The lookup key of a source identity; equal keys mean the same person."""
    text = unicodedata.normalize("NFKC", identity).strip().casefold()
    text = " ".join(text.split())
    match = _CHANNEL.match(text)
    if match and match["tech"] in CHANNEL_TECHNOLOGIES:
        rest = _CHANNEL_SUFFIX.sub("", match["rest"])
        # Local/1001@from-queue/n -> 1001; SIP/1001@host -> 1001
        rest = rest.split("@", 1)[0].split("/", 1)[0]
        if rest:
            return rest
    return text


# The alias table's identity and key columns hold this many characters. The key can be longer
# than the identity as typed (NFKC and case folding expand: "ß" -> "ss", "ﷺ" -> 18 letters),
# and PostgreSQL refuses what does not fit: check both before storing.
MAX_IDENTITY_CHARS = 200


def identity_fits(identity: str) -> bool:
    """Whether an identity and its lookup key fit the alias table."""
    stripped = identity.strip()
    return len(stripped) <= MAX_IDENTITY_CHARS and len(identity_key(stripped)) <= MAX_IDENTITY_CHARS
