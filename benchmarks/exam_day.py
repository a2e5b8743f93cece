"""Exam day under load: 1,000 agents start the same exam within one minute, each saves 40
answers and submits, against the server run as in production (`agentladder serve --workers N`
on PostgreSQL); then the same with the server killed (`kill -9` of its process group) and
restarted in the middle of the run.

Set-up (not timed as a target): a fresh PostgreSQL database (`agentladder_bench_exam` next to
the admin URL's, dropped at the end), the schema through the migrations, agents with user
accounts (role agent) through `org.service` and `org.accounts.service` (one argon2 hash shared
by all: hashing 1,000 passwords would only time argon2), a bank of questions of the seven
types an attempt scores by itself, and one published exam per run whose single section draws
`--answers` questions at random (questions and options shuffled, as exams are set).

Sign-in (timed apart): every agent logs in through the login form (GET /login for the CSRF
cookie and token, POST /login), a few at a time, before the exam window opens, as agents sign
in before an exam starts. Its cost is argon2 (`verify` of the production profile).

A run: each agent starts at a random moment of the first `--ramp` seconds (POST
/exams/{code}/start, a form with the CSRF token), reads the attempt (GET
/api/exams/attempts/{id}), answers every slot in turn after a think time drawn from
[`--think-min`, `--think-max`] (PUT /api/exams/attempts/{id}/answers with `{"slot", "response",
"seq"}`, the answer by the positions shown, seq counted per slot as the page counts it), and
submits (POST /api/exams/attempts/{id}/submit). A request that fails on the connection or with
a 5xx is sent again, unchanged (same seq), after 1 s, 2 s, 4 s ... (at most 30 s) until it is
acknowledged, as the attempt page's script (`exam-attempt.js`) does. Every request's latency
is recorded.

The kill run does the same on a fresh exam and, once 40 % (`--kill-at`) of all the answers are
acknowledged, kills the server's process group with SIGKILL, starts it again with the same
command and measures the downtime (kill to the first healthy /healthz).

Checks, in the database after each run: for every answer the client saw acknowledged, the
slot holds exactly that seq and that response (converted from shown positions with the
service's own `to_stored`); no slot holds an answer the client never sent; one attempt per
agent; every attempt finished. In the kill run the answers acknowledged before the kill are
counted apart.

The client (one asyncio process, one httpx client per agent, as each browser has its own
connection) shares the machine's cores with the server and PostgreSQL: its CPU time is printed
beside the server's and the machine's.

Usage:
    python benchmarks/exam_day.py                     # 1,000 agents, 40 answers, 2 and 4 workers
    python benchmarks/exam_day.py --agents 100 --answers 10 --workers 2 --cheap-passwords
    python benchmarks/exam_day.py --no-kill --workers 4

Writes `benchmarks/results/exam_day-<date>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from bench_db import pg_database

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "agentladder_bench_exam"
PASSWORD = "exam-day-bench-password"
SECRET_KEY = "exam-day-bench-secret"
CATEGORY = "考试日 Exam day"
TYPES = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "short_answer",
    "numerical",
    "matching",
    "ordering",
)
RETRY_FIRST_S = 1.0
RETRY_MOST_S = 30.0
TARGET_SAVE_P99_S = 0.3
TARGET_SUBMIT_P99_S = 1.0
RESULTS = Path(__file__).parent / "results"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
ATTEMPT_URL = re.compile(r"/exams/attempts/(\d+)")
ACCESS_STATUS = re.compile(r'HTTP/1\.1" (\d{3})')
CLK_TCK = os.sysconf("SC_CLK_TCK")


def make_settings(url: str, data_dir: Path) -> Any:
    """Settings for the benchmark database (the production argon2 cost)."""
    from agentladder.config import Settings

    return Settings(data_dir=data_dir, database_url=url, secret_key=SECRET_KEY)


# --- the database -----------------------------------------------------------------------------


def question(kind: str, index: int) -> Any:
    """One bank question of the given type (answers vary with the index)."""
    from agentladder.training.questions.schemas import Question

    base: dict[str, Any] = {
        "type": kind,
        "name": f"{kind} {index}",
        "text": f"第{index}题（{kind}）：客户来电要求办理业务，座席应如何处理？",
        "category": (CATEGORY,),
    }
    if kind == "single_choice":
        base["choices"] = [
            {"text": f"选项{i}", "fraction": 1.0 if i == index % 4 else 0.0} for i in range(4)
        ]
    elif kind == "multiple_choice":
        base["choices"] = [
            {"text": f"做法{i}", "fraction": 0.5 if i in (index % 5, (index + 2) % 5) else -0.5}
            for i in range(5)
        ]
    elif kind == "true_false":
        base["correct_answer"] = index % 2 == 0
    elif kind == "short_answer":
        base["choices"] = [
            {"text": "退订", "fraction": 1.0},
            {"text": "*取消*", "fraction": 0.5},
        ]
    elif kind == "numerical":
        base["numeric_answers"] = [{"value": 10 + index, "tolerance": 0.5, "fraction": 1.0}]
    elif kind == "matching":
        base["pairs"] = [
            *({"prompt": f"情形{i}", "answer": f"处理{i}"} for i in range(4)),
            {"prompt": "", "answer": "干扰项"},
        ]
    elif kind == "ordering":
        base["order"] = [f"步骤{i}" for i in range(5)]
    return Question.model_validate(base)


def setup(url: str, data_dir: Path, agents: int, questions: int) -> dict[str, Any]:
    """Schema, agents with user accounts, the bank; the agents' database ids by username."""
    from agentladder.db import session_scope, upgrade_schema
    from agentladder.org import service as org_service
    from agentladder.org.accounts import service as accounts
    from agentladder.org.schemas import AgentCreate, UserCreate
    from agentladder.training.questions import service as bank

    settings = make_settings(url, data_dir)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    upgrade_schema(settings)
    timings["schema_s"] = time.perf_counter() - t

    t = time.perf_counter()
    password_hash = accounts.hash_password(PASSWORD, settings)
    agent_ids: dict[str, int] = {}
    with session_scope(settings) as session:
        for i in range(agents):
            employee_no = f"{700001 + i}"
            agent = org_service.create_agent(
                session=session,
                agent_in=AgentCreate(
                    employee_no=employee_no, name=f"座席{i + 1}", hire_date=date(2025, 3, 1)
                ),
                source="roster",
            )
            username = f"exam{i + 1:05d}"
            accounts.create_user(
                session=session,
                settings=settings,
                user_in=UserCreate(
                    username=username, password=PASSWORD, roles=["agent"], employee_no=employee_no
                ),
                password_hash=password_hash,
            )
            agent_ids[username] = agent.id
            if i % 200 == 199:
                session.expunge_all()  # keep the identity map small while creating
    timings["agents_s"] = time.perf_counter() - t

    t = time.perf_counter()
    with session_scope(settings) as session:
        for i in range(questions):
            bank.store_question(
                session=session, question=question(TYPES[i % len(TYPES)], i), source="bench"
            )
    timings["bank_s"] = time.perf_counter() - t
    return {"timings": timings, "agent_ids": agent_ids}


def publish_exam(url: str, data_dir: Path, code: str, slots: int) -> None:
    """A published exam drawing `slots` questions of the bank at random, 90 minutes."""
    from agentladder.db import session_scope
    from agentladder.training.exams import service as exams
    from agentladder.training.exams.schemas import ExamSettings

    with session_scope(make_settings(url, data_dir)) as session:
        exams.save_exam(
            session=session,
            settings_in=ExamSettings.model_validate(
                {
                    "code": code,
                    "title": f"考试日 {code}",
                    "time_limit_min": 90,
                    "blueprint": {"sections": [{"category": [CATEGORY], "count": slots}]},
                }
            ),
            user_id=None,
        )
        exams.set_exam_status(session=session, code=code, status="published")


def argon2_verify_s(url: str, data_dir: Path) -> float:
    """One argon2 verify of the configured profile in this process (best of 3)."""
    from agentladder.org.accounts import service as accounts

    settings = make_settings(url, data_dir)
    hasher = accounts.password_hasher(settings)
    stored = hasher.hash(PASSWORD)
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        best = min(best, time.perf_counter() - t)
    return best


# --- the server -------------------------------------------------------------------------------


def proc_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in the process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # fields from `state` on: pgrp is the third
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


class Server:
    """`agentladder serve` as a subprocess in its own process group."""

    def __init__(self, workers: int, port: int, env: dict[str, str], log: Path) -> None:
        self.workers, self.port, self.env, self.log = workers, port, env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu_before_kill = 0.0

    def start(self) -> None:
        """Start the server (not yet ready)."""
        command = [
            str(Path(sys.executable).with_name("agentladder")),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    async def ready(self, timeout_s: float = 60) -> float:
        """Wait for /healthz to answer 200; the time it took."""
        started = time.perf_counter()
        async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
            while time.perf_counter() - started < timeout_s:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited: see {self.log}")
                try:
                    response = await client.get(f"http://127.0.0.1:{self.port}/healthz")
                    if response.status_code == 200:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not become healthy in {timeout_s} s: see {self.log}")

    def cpu_seconds(self) -> float:
        """CPU used by the server's processes since the last (re)start, plus before a kill."""
        return self.cpu_before_kill + (proc_cpu_seconds(self.process.pid) if self.process else 0)

    def kill(self) -> None:
        """SIGKILL to the whole process group: the master and every worker at once."""
        assert self.process is not None
        self.cpu_before_kill += proc_cpu_seconds(self.process.pid)
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_summary(self) -> dict[str, Any]:
        """What the server's log says: responses by status, errors, workers (re)started."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return {
            "responses": dict(sorted(Counter(ACCESS_STATUS.findall(text)).items())),
            "error_lines": text.count("ERROR:"),
            "workers_started": text.count("Application startup complete"),
        }

    def stop(self) -> None:
        """A clean stop (SIGTERM), a kill if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


# --- the clients ------------------------------------------------------------------------------


@dataclass
class Browser:
    """One agent's browser: its own connection, cookies and CSRF token."""

    username: str
    agent_id: int
    client: httpx.AsyncClient
    csrf: str = ""


@dataclass
class Ack:
    """An answer the server acknowledged: what was sent and when the receipt came."""

    seq: int
    response: Any
    at: float


@dataclass
class AgentRun:
    """What one agent did in a run, as the client knows it."""

    browser: Browser
    attempt_id: int | None = None
    sent: dict[int, tuple[int, Any]] = field(default_factory=dict)
    acked: dict[int, Ack] = field(default_factory=dict)
    submitted: bool = False
    failure: str | None = None


class GaveUp(Exception):
    """A request kept failing past the run's deadline."""


@dataclass
class Recorder:
    """Latencies per request kind, failures and retries, and the acknowledgements' times."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ack_wait: list[float] = field(default_factory=list)  # first try to receipt, retries included
    errors: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    ack_times: list[float] = field(default_factory=list)
    requests: int = 0


async def call(
    recorder: Recorder,
    browser: Browser,
    kind: str,
    method: str,
    url: str,
    give_up_at: float,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request until the server answers below 500: a failed connection or a server
    error is retried unchanged after a jittered back-off. The latency is the agent's wait: from
    the first send to the answer, retries and back-off included."""
    tries = 0
    started = time.perf_counter()
    while True:
        recorder.requests += 1
        try:
            response = await browser.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            recorder.errors[f"{kind}: {type(exc).__name__}"] += 1
        else:
            if response.status_code < 500:
                recorder.latency[kind].append(time.perf_counter() - started)
                return response
            recorder.errors[f"{kind}: HTTP {response.status_code}"] += 1
        if time.perf_counter() > give_up_at:
            raise GaveUp(kind)
        recorder.retries[kind] += 1
        # The attempt page's schedule (exam-attempt.js): 1 s, doubling, at most 30 s.
        await asyncio.sleep(min(RETRY_MOST_S, RETRY_FIRST_S * 2**tries))
        tries += 1


def shown_response(slot: dict[str, Any], rng: random.Random) -> Any:
    """A random answer to a slot as the attempt shows it (by positions)."""
    kind = slot["type"]
    if kind == "single_choice":
        return rng.randrange(len(slot["choices"]))
    if kind == "multiple_choice":
        positions = list(range(len(slot["choices"])))
        return sorted(rng.sample(positions, rng.randint(1, len(positions))))
    if kind == "true_false":
        return rng.random() < 0.5
    if kind == "short_answer":
        return rng.choice(["退订", "取消套餐", "不知道", "Tui ding"])
    if kind == "numerical":
        return str(rng.randint(5, 60))
    if kind == "matching":
        answers = len(slot["answers"])
        return {
            str(i): rng.randrange(answers) for i, prompt in enumerate(slot["prompts"]) if prompt
        }
    if kind == "ordering":
        order = list(range(len(slot["answers"])))
        rng.shuffle(order)
        return order
    return None


async def sign_in(
    browsers: list[Browser], concurrency: int, recorder: Recorder, give_up_at: float
) -> None:
    """Every agent logs in through the form, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(browser: Browser) -> None:
        async with gate:
            page = await call(recorder, browser, "login page", "GET", "/login", give_up_at)
            found = CSRF_INPUT.search(page.text)
            if not found:
                raise RuntimeError("no CSRF token on the login page")
            browser.csrf = found.group(1)
            done = await call(
                recorder,
                browser,
                "login",
                "POST",
                "/login",
                give_up_at,
                data={
                    "username": browser.username,
                    "password": PASSWORD,
                    "next": "/",
                    "csrf_token": browser.csrf,
                },
            )
            if done.status_code != 303 or "al_session" not in browser.client.cookies:
                raise RuntimeError(f"login of {browser.username} failed: {done.status_code}")

    await asyncio.gather(*(one(browser) for browser in browsers))


@dataclass
class RunPlan:
    """What every agent does in a run."""

    code: str
    answers: int
    ramp_s: float
    think_min_s: float
    think_max_s: float
    seed: int


async def take_exam(
    run: AgentRun, plan: RunPlan, start_s: float, t0: float, recorder: Recorder, give_up_at: float
) -> None:
    """One agent: start, read the attempt, answer every slot after thinking, submit."""
    browser = run.browser
    rng = random.Random(f"{plan.seed}-{browser.username}")
    await asyncio.sleep(max(0.0, t0 + start_s - time.perf_counter()))
    headers = {"X-CSRF-Token": browser.csrf}
    try:
        started = await call(
            recorder,
            browser,
            "start",
            "POST",
            f"/exams/{plan.code}/start",
            give_up_at,
            data={"csrf_token": browser.csrf},
        )
        found = ATTEMPT_URL.search(started.headers.get("location", ""))
        if started.status_code not in (302, 303) or not found:
            run.failure = f"start: HTTP {started.status_code}"
            return
        run.attempt_id = int(found.group(1))
        base = f"/api/exams/attempts/{run.attempt_id}"
        view = await call(recorder, browser, "view", "GET", base, give_up_at)
        if view.status_code != 200:
            run.failure = f"view: HTTP {view.status_code}"
            return
        slots = view.json()["slots"]
        seqs: dict[int, int] = {}  # numbered per slot, as the page numbers them
        for number in range(plan.answers):
            slot = slots[number % len(slots)]
            seq = seqs[slot["slot"]] = seqs.get(slot["slot"], 0) + 1
            await asyncio.sleep(rng.uniform(plan.think_min_s, plan.think_max_s))
            response = shown_response(slot, rng)
            run.sent[slot["slot"]] = (seq, response)
            first_try = time.perf_counter()
            saved = await call(
                recorder,
                browser,
                "save",
                "PUT",
                f"{base}/answers",
                give_up_at,
                json={"slot": slot["slot"], "response": response, "seq": seq},
                headers=headers,
            )
            receipt = saved.json() if saved.status_code == 200 else {}
            if receipt.get("seq") != seq or receipt.get("slot") != slot["slot"]:
                recorder.errors[f"save: refused (HTTP {saved.status_code})"] += 1
                continue
            now = time.perf_counter()
            run.acked[slot["slot"]] = Ack(seq=seq, response=response, at=now)
            recorder.ack_times.append(now - t0)
            recorder.ack_wait.append(now - first_try)
        done = await call(
            recorder, browser, "submit", "POST", f"{base}/submit", give_up_at, headers=headers
        )
        run.submitted = done.status_code == 200
        if not run.submitted:
            run.failure = f"submit: HTTP {done.status_code}"
    except GaveUp as exc:
        run.failure = f"gave up on {exc}"


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, p99 and max (nearest rank), in seconds."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 4)

    return {
        "n": len(ordered),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1], 4),
    }


async def exam_run(
    browsers: list[Browser],
    plan: RunPlan,
    server: Server,
    kill_at: float | None,
) -> tuple[list[AgentRun], dict[str, Any]]:
    """Every agent takes the exam; with `kill_at`, the server is killed and restarted once
    that share of all answers is acknowledged."""
    recorder = Recorder()
    rng = random.Random(plan.seed)
    runs = [AgentRun(browser) for browser in browsers]
    starts = [rng.uniform(0, plan.ramp_s) for _ in runs]
    expected_s = plan.ramp_s + plan.answers * plan.think_max_s
    t0 = time.perf_counter()
    give_up_at = t0 + 3 * expected_s + 120
    load_at_start = os.getloadavg()[0]
    cpu_client = resource.getrusage(resource.RUSAGE_SELF)
    busy0, total0 = machine_cpu()
    server_cpu0 = server.cpu_seconds()
    kill: dict[str, Any] = {}

    async def killer() -> None:
        assert kill_at is not None
        threshold = kill_at * len(runs) * plan.answers
        while len(recorder.ack_times) < threshold:
            await asyncio.sleep(0.02)
        kill["perf_at"] = time.perf_counter()
        kill["at_s"] = round(kill["perf_at"] - t0, 2)
        kill["answers_acknowledged_before"] = len(recorder.ack_times)
        server.kill()
        killed = time.perf_counter()
        server.start()
        await server.ready()
        kill["downtime_s"] = round(time.perf_counter() - killed, 3)

    async def progress() -> None:
        while True:
            await asyncio.sleep(15)
            print(
                f"  {time.perf_counter() - t0:5.0f} s: {len(recorder.ack_times):,} answers "
                f"acknowledged, {sum(1 for run in runs if run.submitted):,} submitted, "
                f"{sum(recorder.errors.values()):,} errors",
                flush=True,
            )

    tasks = [
        take_exam(run, plan, start, t0, recorder, give_up_at)
        for run, start in zip(runs, starts, strict=True)
    ]
    if kill_at is not None:
        tasks.append(killer())
    reporter = asyncio.create_task(progress())
    await asyncio.gather(*tasks)
    reporter.cancel()
    duration = time.perf_counter() - t0
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    busy1, total1 = machine_cpu()
    client_cpu = (cpu_after.ru_utime - cpu_client.ru_utime) + (
        cpu_after.ru_stime - cpu_client.ru_stime
    )
    # Per 10 s: a client short of CPU reads many receipts in one second.
    per_window = Counter(int(t // 10) for t in recorder.ack_times)
    figures = {
        "duration_s": round(duration, 2),
        "requests": recorder.requests,
        "requests_per_s": round(recorder.requests / duration, 1),
        "saves_per_s_mean": round(len(recorder.ack_times) / duration, 1),
        "saves_per_s_peak": round(max(per_window.values(), default=0) / 10, 1),
        "latency_s": {kind: percentiles(v) for kind, v in sorted(recorder.latency.items())},
        "save_acknowledged_s": percentiles(recorder.ack_wait),
        "errors": dict(recorder.errors),
        "retries": dict(recorder.retries),
        "cpu": {
            "client_s": round(client_cpu, 1),
            "server_s": round(server.cpu_seconds() - server_cpu0, 1),
            "machine_busy_share": round((busy1 - busy0) / max(1e-9, total1 - total0), 3),
            "machine_busy_s": round(busy1 - busy0, 1),
            "load_average_1m_at_start": round(load_at_start, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }
    if kill:
        figures["kill"] = kill
    return runs, figures


# --- the checks -------------------------------------------------------------------------------


def check(
    url: str, data_dir: Path, code: str, runs: list[AgentRun], killed_at: float | None
) -> dict[str, Any]:
    """Compare what the database holds with what the clients were told."""
    from sqlalchemy import select

    from agentladder.db import session_scope
    from agentladder.training.exams import service as exams
    from agentladder.training.models import AttemptSlot, ExamAttempt
    from agentladder.training.questions import service as bank

    with session_scope(make_settings(url, data_dir)) as session:
        exam = exams.exam_by_code(session=session, code=code)
        attempts = session.scalars(select(ExamAttempt).where(ExamAttempt.exam_id == exam.id)).all()
        per_agent = Counter(attempt.agent_id for attempt in attempts)
        rows = session.scalars(
            select(AttemptSlot).where(AttemptSlot.attempt_id.in_([a.id for a in attempts]))
        ).all()
        slot_rows = Counter((row.attempt_id, row.slot) for row in rows)
        by_key = {(row.attempt_id, row.slot): row for row in rows}
        questions = bank.question_versions(
            session=session,
            version_ids={row.question_version_id for row in rows if row.question_version_id},
        )
        acked = lost = lost_before_kill = acked_before_kill = 0
        wrong_attempt = unsent = 0
        for run in runs:
            if run.attempt_id is None:
                continue
            mine = [a.id for a in attempts if a.agent_id == run.browser.agent_id]
            if mine != [run.attempt_id]:
                wrong_attempt += 1
            for slot, ack in run.acked.items():
                acked += 1
                before = killed_at is not None and ack.at < killed_at
                acked_before_kill += before
                row = by_key.get((run.attempt_id, slot))
                ok = False
                if row is not None and row.question_version_id is not None:
                    expected = exams.to_stored(
                        questions[row.question_version_id],
                        json.loads(row.option_order_json),
                        ack.response,
                    )
                    stored = json.loads(row.response_json) if row.response_json else None
                    ok = row.response_seq == ack.seq and stored == expected
                if not ok:
                    lost += 1
                    lost_before_kill += before
            unsent += sum(
                1
                for (attempt_id, slot), row in by_key.items()
                if attempt_id == run.attempt_id and row.response_seq and slot not in run.sent
            )
        sent = sum(len(run.sent) for run in runs)
        return {
            "attempts": len(attempts),
            "agents_with_attempt": len(per_agent),
            "duplicated_attempts": sum(n - 1 for n in per_agent.values()),
            "attempt_not_the_clients": wrong_attempt,
            "unfinished_attempts": sum(1 for a in attempts if a.state != "finished"),
            "answers_sent": sent,
            "answers_acknowledged": acked,
            "answers_never_acknowledged": sent - acked,
            "lost_answers": lost,
            "duplicated_answers": sum(n - 1 for n in slot_rows.values()) + unsent,
            "acknowledged_before_kill": acked_before_kill if killed_at is not None else None,
            "lost_before_kill": lost_before_kill if killed_at is not None else None,
            "client_failures": dict(Counter(run.failure for run in runs if run.failure)),
            "not_submitted": sum(1 for run in runs if not run.submitted),
        }


def verdicts(figures: dict[str, Any], checks: dict[str, Any], agents: int) -> dict[str, bool]:
    """Each target: met or not."""
    save_p99 = figures["latency_s"].get("save", {}).get("p99")
    submit_p99 = figures["latency_s"].get("submit", {}).get("p99")
    met = {
        "save_p99_below_300ms": save_p99 is not None and save_p99 < TARGET_SAVE_P99_S,
        "submit_p99_below_1s": submit_p99 is not None and submit_p99 < TARGET_SUBMIT_P99_S,
        "no_lost_answers": checks["lost_answers"] == 0
        and checks["answers_never_acknowledged"] == 0,
        "no_duplicates": checks["duplicated_attempts"] == 0
        and checks["duplicated_answers"] == 0
        and checks["attempt_not_the_clients"] == 0,
        "every_attempt_finished": checks["unfinished_attempts"] == 0
        and checks["attempts"] == agents
        and checks["not_submitted"] == 0,
    }
    if checks["lost_before_kill"] is not None:
        met["acknowledged_before_kill_kept"] = checks["lost_before_kill"] == 0
    return met


# --- printing ---------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def print_run(title: str, result: dict[str, Any]) -> None:
    """The figures of one run, each against its target."""
    figures, checks, met = result["figures"], result["checks"], result["targets_met"]
    save = figures["latency_s"].get("save", {})
    submit = figures["latency_s"].get("submit", {})

    def mark(key: str) -> str:
        return "met" if met.get(key) else "NOT MET"

    print(f"\n== {title}")
    print(
        f"  agents {result['agents']}, answers {checks['answers_sent']:,} "
        f"({result['answers_per_agent']} each), duration {figures['duration_s']} s, "
        f"{figures['requests']:,} requests = {figures['requests_per_s']} req/s "
        f"(saves: mean {figures['saves_per_s_mean']}/s, best 10 s {figures['saves_per_s_peak']}/s)"
    )
    print(
        f"  save    p50 {fmt_ms(save.get('p50'))}  p95 {fmt_ms(save.get('p95'))}  "
        f"p99 {fmt_ms(save.get('p99'))}  max {fmt_ms(save.get('max'))}   "
        f"target p99 < 300 ms: {mark('save_p99_below_300ms')}"
    )
    print(
        f"  submit  p50 {fmt_ms(submit.get('p50'))}  p95 {fmt_ms(submit.get('p95'))}  "
        f"p99 {fmt_ms(submit.get('p99'))}  max {fmt_ms(submit.get('max'))}   "
        f"target p99 < 1 s: {mark('submit_p99_below_1s')}"
    )
    for kind in ("start", "view"):
        row = figures["latency_s"].get(kind)
        if row:
            print(f"  {kind:<7} p50 {fmt_ms(row['p50'])}  p99 {fmt_ms(row['p99'])}")
    print(
        f"  errors {sum(figures['errors'].values())} {figures['errors'] or ''}, "
        f"retries {sum(figures['retries'].values())}"
    )
    print(
        f"  lost answers {checks['lost_answers']}, never acknowledged "
        f"{checks['answers_never_acknowledged']}: {mark('no_lost_answers')}; duplicated attempts "
        f"{checks['duplicated_attempts']}, duplicated answers {checks['duplicated_answers']}: "
        f"{mark('no_duplicates')}; unfinished {checks['unfinished_attempts']}: "
        f"{mark('every_attempt_finished')}"
    )
    if "kill" in figures:
        kill = figures["kill"]
        print(
            f"  kill -9 at {kill['at_s']} s after {kill['answers_acknowledged_before']:,} "
            f"answers, downtime {kill['downtime_s']} s; acknowledged before the kill "
            f"{checks['acknowledged_before_kill']:,}, lost {checks['lost_before_kill']}: "
            f"{mark('acknowledged_before_kill_kept')}; save acknowledged (with retries) "
            f"p99 {fmt_ms(figures['save_acknowledged_s']['p99'])}, "
            f"max {fmt_ms(figures['save_acknowledged_s']['max'])}"
        )
    cpu = figures["cpu"]
    print(
        f"  CPU: client {cpu['client_s']} s, server {cpu['server_s']} s, machine busy "
        f"{cpu['machine_busy_share']:.0%} of its cores ({cpu['machine_busy_s']} s), load "
        f"average {cpu['load_average_1m_at_start']} at the start, "
        f"{cpu['load_average_1m_at_end']} at the end"
    )


# --- the whole benchmark ----------------------------------------------------------------------


async def bench(args: argparse.Namespace, url: str, data_dir: Path) -> dict[str, Any]:
    """Set up, sign everyone in, then a normal and a kill run per worker count."""
    result: dict[str, Any] = {"setup": {}, "configs": []}
    started = time.perf_counter()
    made = await asyncio.to_thread(setup, url, data_dir, args.agents, args.questions)
    result["setup"] = {k: round(v, 2) for k, v in made["timings"].items()}
    print(f"set-up: {result['setup']}")
    env = {
        **os.environ,
        "AGENTLADDER_DATABASE_URL": url,
        "AGENTLADDER_DATA_DIR": str(data_dir),
        "AGENTLADDER_SECRET_KEY": SECRET_KEY,
    }
    context = ssl.create_default_context()  # one, shared: building one per client costs 20 ms
    base_url = f"http://127.0.0.1:{args.port}"
    browsers = [
        Browser(
            username=username,
            agent_id=agent_id,
            client=httpx.AsyncClient(
                base_url=base_url,
                verify=context,
                trust_env=False,
                # fetch() in the attempt page has no timeout: wait as long as a browser would.
                timeout=httpx.Timeout(300.0, connect=10.0),
                # A browser's one connection; expire it before uvicorn's 5 s keep-alive does.
                limits=httpx.Limits(
                    max_connections=1, max_keepalive_connections=1, keepalive_expiry=4.0
                ),
            ),
        )
        for username, agent_id in made["agent_ids"].items()
    ]
    try:
        for workers in args.workers:
            server = Server(workers, args.port, env, data_dir / f"serve-{workers}.log")
            server.start()
            try:
                boot = await server.ready()
                config: dict[str, Any] = {"workers": workers, "startup_s": round(boot, 2)}
                print(f"\nserver: {workers} workers, healthy after {boot:.1f} s")
                if "sign_in" not in result:
                    recorder = Recorder()
                    t = time.perf_counter()
                    await sign_in(browsers, args.login_concurrency, recorder, t + 1800)
                    took = time.perf_counter() - t
                    result["sign_in"] = {
                        "agents": len(browsers),
                        "workers": workers,
                        "concurrency": args.login_concurrency,
                        "duration_s": round(took, 2),
                        "logins_per_s": round(len(browsers) / took, 1),
                        "login_latency_s": percentiles(recorder.latency["login"]),
                        "argon2_verify_s": round(
                            await asyncio.to_thread(argon2_verify_s, url, data_dir), 4
                        ),
                        "errors": dict(recorder.errors),
                    }
                    sign = result["sign_in"]
                    print(
                        f"sign-in (before the exam, not in the runs): {len(browsers)} agents in "
                        f"{took:.1f} s = {sign['logins_per_s']}/s, {args.login_concurrency} at a "
                        f"time; login p50 {fmt_ms(sign['login_latency_s']['p50'])}, p99 "
                        f"{fmt_ms(sign['login_latency_s']['p99'])}; one argon2 verify "
                        f"{fmt_ms(sign['argon2_verify_s'])}"
                    )
                kinds = [("normal", None)] + ([] if args.no_kill else [("kill", args.kill_at)])
                for kind, kill_at in kinds:
                    code = f"DAY-W{workers}-{kind.upper()}"
                    await asyncio.to_thread(publish_exam, url, data_dir, code, args.answers)
                    plan = RunPlan(
                        code=code,
                        answers=args.answers,
                        ramp_s=args.ramp,
                        think_min_s=args.think_min,
                        think_max_s=args.think_max,
                        seed=args.seed + workers * 10 + (kill_at is not None),
                    )
                    runs, figures = await exam_run(browsers, plan, server, kill_at)
                    killed_at = figures.get("kill", {}).pop("perf_at", None)
                    checks = await asyncio.to_thread(check, url, data_dir, code, runs, killed_at)
                    run_result = {
                        "exam": code,
                        "agents": len(browsers),
                        "answers_per_agent": args.answers,
                        "figures": figures,
                        "checks": checks,
                        "targets_met": verdicts(figures, checks, len(browsers)),
                    }
                    config[kind] = run_result
                    print_run(f"{workers} workers, {kind} run", run_result)
            finally:
                server.stop()
            config["server_log"] = server.log_summary()
            print(f"server log: {config['server_log']}")
            result["configs"].append(config)
    finally:
        await asyncio.gather(*(browser.client.aclose() for browser in browsers))
    result["total_s"] = round(time.perf_counter() - started, 1)
    return result


def free_port() -> int:
    """A loopback port nothing listens on now (other servers may run on this machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--answers", type=int, default=40, help="answers (and slots) per agent")
    parser.add_argument("--questions", type=int, default=0, help="bank size (default 3.5x)")
    parser.add_argument("--workers", type=lambda s: [int(w) for w in s.split(",")], default=[2, 4])
    parser.add_argument("--ramp", type=float, default=60.0, help="starts spread over (s)")
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=4.0)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of answers")
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--login-concurrency", type=int, default=8)
    parser.add_argument(
        "--cheap-passwords",
        action="store_true",
        help="argon2 at its lowest cost, for quick runs (the sign-in figures then mean nothing)",
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.questions = args.questions or max(70, math.ceil(3.5 * args.answers))
    args.port = args.port or free_port()
    if args.cheap_passwords:  # read by the set-up's settings and by the server's
        os.environ["AGENTLADDER_ARGON2_TIME_COST"] = "1"
        os.environ["AGENTLADDER_ARGON2_MEMORY_KIB"] = "8"

    url = pg_database(args.pg_admin_url, PG_DATABASE, create=True)
    data_dir = Path(tempfile.mkdtemp(prefix="exam-day-"))
    finished = False
    try:
        result = asyncio.run(bench(args, url, data_dir))
        finished = True
    finally:
        pg_database(args.pg_admin_url, PG_DATABASE, create=False)
        if finished:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"the server logs are kept in {data_dir}", file=sys.stderr)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    out = args.out or RESULTS / f"exam_day-{stamp}.json"
    result["parameters"] = {k: v for k, v in vars(args).items() if k not in ("out", "pg_admin_url")}
    result["machine"] = {"cpus": os.cpu_count(), "load_average_1m_at_end": os.getloadavg()[0]}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {out} ({result['total_s']} s in all)")


if __name__ == "__main__":
    main()
