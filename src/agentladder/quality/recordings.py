"""Where a call's recording is: under the configured root, by the path template (Asterisk
MixMonitor style) or the CDR's recording column, and never anywhere else: `..`, absolute paths
and symbolic links that lead out of the root are refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from agentladder.errors import InvalidInput, NotFound

# What the player can play, by extension, with the media type the server answers with.
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}


@dataclass(frozen=True)
class CallRecordingFacts:
    """What a path template may use: the call's start in the centre's zone and its ids."""

    uniqueid: str
    started_at: datetime
    agent: str = ""
    queue: str = ""
    recording_column: str | None = None  # a CDR's own column, when it has one


def recording_path(root: Path, template: str, call: CallRecordingFacts) -> Path:
    """The recording's file under `root`; InvalidInput for a path that would leave the root or
    is not audio, NotFound for a file that is not there."""
    if call.recording_column:
        relative = call.recording_column
    else:
        try:
            relative = template.format(
                date=call.started_at, uniqueid=call.uniqueid, agent=call.agent, queue=call.queue
            )
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidInput(
                "the recording path template {template} cannot be filled: {error}",
                template=template,
                error=str(exc),
            ) from exc
    # A CDR may hold the absolute path the PBX wrote: fine when it lies under the root.
    text = relative.replace("\\", "/")
    pure = PurePosixPath(text)
    if not text.strip() or "\x00" in text or ".." in pure.parts or ":" in pure.parts[0]:
        raise InvalidInput("the recording path {path} leaves the recordings folder", path=relative)
    base = root.resolve()
    candidate = Path(text) if pure.is_absolute() else base / text
    if candidate.suffix.lower() not in AUDIO_TYPES:
        raise InvalidInput("the recording {path} is not wav, mp3 or ogg", path=relative)
    resolved = candidate.resolve()  # follows symbolic links
    if not resolved.is_relative_to(base):
        raise InvalidInput("the recording path {path} leaves the recordings folder", path=relative)
    if not resolved.is_file():
        raise NotFound("no recording at {path}", path=relative)
    return resolved
