"""`agentladder ingest watch` as it runs in a centre: a writer process appends a generated
queue_log line by line, rotates it twice (by rename, then by copytruncate) and is restarted,
while the watcher is killed (SIGKILL) and restarted again and again. What is stored at the end
equals one import of the whole log."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from agentladder.config import Settings
from tests.ingest.test_queue_log import _live_log
from tests.ingest.test_watching import _one_read, _stored

ROOT = Path(__file__).resolve().parents[2]
# About 10 s of writing: a watcher takes over a second to start, and is killed every 2-3 s.
LINES_PER_S = 60
RENAME_AT, COPYTRUNCATE_AT, WRITER_RESTART_AT = 200, 430, 300


def write_log(plan_file: str) -> None:
    """The writer: appends the planned lines at `LINES_PER_S`, one flushed write per line as
    Asterisk does, rotating where the plan says."""
    plan = json.loads(Path(plan_file).read_text())
    log, lines = Path(plan["log"]), plan["lines"]
    one, two = log.with_name(log.name + ".1"), log.with_name(log.name + ".2")
    for number in range(plan["start"], plan["end"]):
        if number == RENAME_AT:
            log.rename(one)
        elif number == COPYTRUNCATE_AT:
            one.rename(two)
            shutil.copyfile(log, one)
            with log.open("r+b") as handle:
                handle.truncate(0)
        with log.open("a") as handle:
            handle.write(lines[number] + "\n")
        time.sleep(1 / LINES_PER_S)


def _writer(plan: Path, start: int, end: int, base: dict[str, object]) -> subprocess.Popen[bytes]:
    plan.write_text(json.dumps({**base, "start": start, "end": end}))
    code = f"from tests.ingest.test_watch_process import write_log; write_log({str(plan)!r})"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)


def _environment(settings: Settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTLADDER_")}
    env.update(
        AGENTLADDER_DATABASE_URL=settings.resolved_database_url,
        AGENTLADDER_DATA_DIR=str(settings.data_dir),
        AGENTLADDER_SECRET_KEY=settings.resolved_secret_key(),
        AGENTLADDER_TIMEZONE=settings.timezone,
    )
    return env


def test_a_killed_watcher_and_a_rotating_restarted_writer_store_the_log_once(
    settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(11)
    lines = _live_log(rng, 130)
    assert len(lines) > COPYTRUNCATE_AT + 50
    log = tmp_path / "queue_log"
    log.write_text("")
    base = {"log": str(log), "lines": lines}
    env = _environment(settings)
    watch = [
        sys.executable, "-m", "agentladder", "ingest", "watch", str(log),
        "--interval", "0.2", "--max-lines", "40",
    ]  # fmt: skip
    output = (tmp_path / "watch.log").open("ab")
    # Watched before Asterisk writes its first line (a watch starts with the file there now).
    subprocess.run([*watch, "--once"], env=env, stdout=output, stderr=output, check=True)
    writer = _writer(tmp_path / "plan-1.json", 0, WRITER_RESTART_AT, base)
    kills, restarted = 0, False
    while True:
        watcher = subprocess.Popen(watch, env=env, stdout=output, stderr=output)
        time.sleep(rng.uniform(1.8, 3.2))
        watcher.send_signal(signal.SIGKILL)
        watcher.wait()
        kills += 1
        if writer.poll() is not None:
            assert writer.returncode == 0
            if restarted:
                break
            # The writer is restarted where it stopped, as after a PBX restart.
            writer = _writer(tmp_path / "plan-2.json", WRITER_RESTART_AT, len(lines), base)
            restarted = True
    # Started once more after the writer is done, it reads what is left, and stops.
    subprocess.run([*watch, "--once"], env=env, stdout=output, stderr=output, check=True)

    assert kills >= 3
    assert (tmp_path / "queue_log.2").exists()  # both rotations happened
    assert _stored(settings) == _one_read(settings, lines)
