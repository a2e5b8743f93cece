"""A call's recording is found under the recordings folder by the path template or the CDR's
column, and never outside it: `..`, absolute paths elsewhere and symbolic links are refused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentladder.errors import InvalidInput, NotFound
from agentladder.quality.recordings import CallRecordingFacts, recording_path

TEMPLATE = "{date:%Y/%m/%d}/{uniqueid}.wav"
CALL = CallRecordingFacts(uniqueid="1700000000.42", started_at=datetime(2026, 10, 8, 9, 30))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "monitor"
    (folder / "2026/10/08").mkdir(parents=True)
    (folder / "2026/10/08/1700000000.42.wav").write_bytes(b"RIFF")
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    return folder


def test_the_template_finds_the_mixmonitor_file(root: Path) -> None:
    assert recording_path(root, TEMPLATE, CALL) == (root / "2026/10/08/1700000000.42.wav").resolve()


def test_a_cdr_column_wins_relative_or_absolute_under_the_root(root: Path) -> None:
    relative = CallRecordingFacts(
        "x", CALL.started_at, recording_column="2026/10/08/1700000000.42.wav"
    )
    absolute = CallRecordingFacts(
        "x", CALL.started_at, recording_column=str(root / "2026/10/08/1700000000.42.wav")
    )
    assert recording_path(root, TEMPLATE, relative) == recording_path(root, TEMPLATE, absolute)


@pytest.mark.parametrize(
    "column",
    [
        "../secret.wav",
        "2026/../../secret.wav",
        "/etc/passwd.wav",
        "C:/recordings/x.wav",
        "a\x00.wav",
    ],
)
def test_paths_out_of_the_root_are_refused(root: Path, column: str) -> None:
    call = CallRecordingFacts("x", CALL.started_at, recording_column=column)
    with pytest.raises(InvalidInput):
        recording_path(root, TEMPLATE, call)


def test_a_symbolic_link_out_of_the_root_is_refused(root: Path) -> None:
    (root / "2026/10/08/link.wav").symlink_to(root.parent / "secret.wav")
    call = CallRecordingFacts("link", CALL.started_at)
    with pytest.raises(InvalidInput):
        recording_path(root, TEMPLATE, call)


def test_a_missing_file_or_a_file_that_is_not_audio_says_so(root: Path) -> None:
    with pytest.raises(NotFound):
        recording_path(root, TEMPLATE, CallRecordingFacts("nope", CALL.started_at))
    (root / "notes.txt").write_text("x")
    not_audio = CallRecordingFacts("x", CALL.started_at, recording_column="notes.txt")
    with pytest.raises(InvalidInput) as caught:
        recording_path(root, TEMPLATE, not_audio)
    assert caught.value.message == "the recording {path} is not wav, mp3 or ogg"
    with pytest.raises(InvalidInput):
        recording_path(root, "{date:%Y}/{nothing}.wav", CALL)


@given(st.lists(st.sampled_from(["a", "b", ".", "..", "/", "\\", ":", "~", " "]), max_size=12))
def test_no_column_ever_leads_out_of_the_root(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str]
) -> None:
    root = tmp_path_factory.getbasetemp() / "prop-root"
    root.mkdir(exist_ok=True)
    call = CallRecordingFacts("x", CALL.started_at, recording_column="".join(pieces) + ".wav")
    try:
        found = recording_path(root, TEMPLATE, call)
    except (InvalidInput, NotFound):
        return
    assert found.is_relative_to(root.resolve())
