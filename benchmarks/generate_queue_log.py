"""A month of flat Asterisk `queue_log` for a large inbound centre, generated fast.

The demo's generator (`agentladder.demo.calls`) simulates a queue event by event in Python,
which is right for 120 agents and far too slow for 2,000. This one draws whole arrays with
numpy and formats lines with Arrow compute kernels, so five million calls take well under a
minute. It keeps what the import and the KPIs care about:

* agents work rostered shifts (five days a week, a few on leave): AGENTLOGIN, ADDMEMBER per
  queue (the interface `SIP/<n>` is logged, as with `log_membername_as_agent=no`), breaks
  and short not-ready pauses (PAUSE/UNPAUSE per queue), a lunch (PAUSEALL, then PAUSE per
  queue), REMOVEMEMBER per queue and AGENTLOGOFF;
* an agent handles one call at a time, only while logged in and not paused, and only for
  the queues they are a member of; a pause that falls due during a call starts after it;
* a call is ENTERQUEUE, then RINGNOANSWER legs at other agents of the queue who were on
  shift at that moment, CONNECT and COMPLETECALLER / COMPLETEAGENT / BLINDTRANSFER /
  ATTENDEDTRANSFER; or, for callers who give up, ABANDON (sometimes after a RINGCANCELED)
  or EXITWITHTIMEOUT on the queue timeout;
* callers call again: some calls are repeat contacts of an earlier call within 0-12 days
  (more often after an abandon or after an agent who resolves less), some callers call
  often, a few withhold their number, so first-contact resolution has something to measure;
* one QUEUESTART a night (the nightly restart), lines in time order, call ids unique.

The same arguments always write the same bytes (one seeded numpy Generator).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIMEZONE = "Asia/Shanghai"
QUEUES = ("kf-general", "kf-billing", "kf-complaints", "kf-sales", "kf-vip", "kf-english")
# Share of agents whose main skill each queue is, and the queue's median talk time.
QUEUE_SHARE = (0.40, 0.20, 0.08, 0.12, 0.08, 0.12)
TALK_MEDIAN_S = (95.0, 120.0, 220.0, 150.0, 140.0, 130.0)
# Local shift hours (start, end) and how many agents work each.
SHIFTS = ((8.0, 16.5), (9.0, 17.5), (10.5, 19.0), (13.5, 22.0))
SHIFT_WEIGHTS = (0.3, 0.3, 0.2, 0.2)
WEEKEND_OFF_SHARE = 0.55
LEAVE_RATE = 0.03
ANSWERED_SHARE = 0.91
RING_TIMEOUT_S = 15.3  # ring timeout plus the moment Asterisk needs to try the next member
QUEUE_TIMEOUT_S = 300.0
# Calls with at least one unanswered ring, and the chance of one more after each.
RNA_SHARE = 0.40
RNA_AGAIN = 0.45
# The queue that rings all its free members at once (strategy=ringall), and how many others.
RINGALL_QUEUE = "kf-vip"
RINGALL_OTHERS = 4
SHORT_CALL_SHARE = 0.015
TRANSFER_SHARE = 0.05
REPEAT_SHARE = 0.16
FREQUENT_SHARE = 0.01
FREQUENT_CALLERS = 3000
WITHHELD_SHARE = 0.015
# Days after the first call that a repeat contact comes, with weights (0: the same day).
REPEAT_DAYS = np.array([0, 1, 2, 3, 4, 5, 6, 8, 12])
REPEAT_WEIGHTS = np.array([30, 25, 15, 10, 6, 4, 3, 4, 3], dtype=float)
MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159, 166, 176,
     177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 199],
    dtype=np.int64,
)  # fmt: skip
AREA_CODES = ("010", "021", "020", "0755", "0571", "025", "028", "027")
TRANSFER_EXTENSIONS = ("8100", "8200", "8300")
# Pause slots per shift: breaks and lunch at fixed points, short not-ready pauses anywhere.
MAX_SHORT_PAUSES = 5
SHORT_PAUSES_MEAN = 2.5
REASONS = ("小休", "午餐", "示忙", "")  # break, lunch, not ready, no reason
BREAK, LUNCH, SHORT, BLANK = range(4)
# First uniqueid of the month (Asterisk's counter keeps running across restarts).
FIRST_UNIQUEID = 1_000_000


@dataclass
class GenerateReport:
    """What the generator wrote."""

    path: Path
    calls: int
    agents: int
    shifts: int
    lines: int = 0
    bytes: int = 0
    seconds: float = 0.0
    verbs: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


# --- small vectorised helpers ---------------------------------------------------------------


def _text(values: np.ndarray) -> pa.Array:
    """Integers as decimal strings (Arrow's cast runs in C++, unlike Python formatting)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _hex(values: np.ndarray, digits: int) -> pa.Array:
    """Non-negative integers as fixed-width lower-case hex strings."""
    values = np.asarray(values, dtype=np.uint64)
    shifts = np.arange(digits - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = ((values[:, None] >> shifts) & np.uint64(15)).astype(np.uint8)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles]
    raw = np.ascontiguousarray(chars).view(f"S{digits}").ravel()
    return pc.cast(pa.array(raw, pa.binary()), pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    """The fields of a queue_log line joined by pipes."""
    return pc.binary_join_element_wise(*parts, "|")


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Per row, the index of one of several candidates, drawn with the given weights
    (rows x candidates), by the exponential-clock trick (no Python loop)."""
    clocks = rng.exponential(size=weights.shape) / np.maximum(weights, 1e-12)
    return np.argmin(clocks, axis=1)


def _mix(values: np.ndarray, seed: int) -> np.ndarray:
    """A fixed scramble of integers (splitmix64), so caller numbers look random but each
    caller keeps the same number."""
    x = values.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


# --- the centre -----------------------------------------------------------------------------


@dataclass
class _Agents:
    numbers: np.ndarray  # employee / phone number, e.g. 100001
    queues: np.ndarray  # (agents, 3) queue indexes, main queue first, -1 unused
    queue_count: np.ndarray
    talk_factor: np.ndarray
    ring_mu: np.ndarray
    rna_weight: np.ndarray  # how readily the agent lets a phone ring out
    repeat_weight: np.ndarray  # how often the agent's callers have to call again
    transfer_share: np.ndarray


def _make_agents(rng: np.random.Generator, count: int) -> _Agents:
    main = rng.choice(len(QUEUES), size=count, p=np.array(QUEUE_SHARE))
    queues = np.full((count, 3), -1, dtype=np.int64)
    queues[:, 0] = main
    # Second and third skills, distinct from the main one (shift by 1..5 modulo 6).
    second = (main + rng.integers(1, len(QUEUES), count)) % len(QUEUES)
    has_second = rng.random(count) < 0.55
    queues[has_second, 1] = second[has_second]
    third = (main + rng.integers(1, len(QUEUES), count)) % len(QUEUES)
    has_third = has_second & (rng.random(count) < 0.45) & (third != second)
    queues[has_third, 2] = third[has_third]
    return _Agents(
        numbers=100001 + np.arange(count, dtype=np.int64),
        queues=queues,
        queue_count=1 + has_second.astype(np.int64) + has_third.astype(np.int64),
        talk_factor=rng.lognormal(0.0, 0.15, count),
        ring_mu=np.log(3.5) + rng.normal(0.0, 0.15, count),
        rna_weight=rng.lognormal(0.0, 0.6, count),
        repeat_weight=rng.lognormal(0.0, 0.5, count),
        transfer_share=np.clip(TRANSFER_SHARE * rng.lognormal(0.0, 0.5, count), 0.0, 0.3),
    )


def _month_days(month: str, zone: ZoneInfo) -> tuple[list[date], np.ndarray]:
    """The month's local days and their local midnights as epochs (one more for the end)."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    days = [first + timedelta(days=i) for i in range((following - first).days)]
    edges = [datetime.combine(d, datetime.min.time(), zone).timestamp() for d in days]
    edges.append(datetime.combine(following, datetime.min.time(), zone).timestamp())
    return days, np.array(edges)


@dataclass
class _Shifts:
    agent: np.ndarray
    login: np.ndarray  # AGENTLOGIN time
    base: np.ndarray  # ready from (after the ADDMEMBER lines)
    ready_s: np.ndarray  # seconds ready for calls, pauses excluded
    pause_at: np.ndarray  # (shifts, slots) ready-time offsets, sorted; inf: no pause
    pause_len: np.ndarray  # (shifts, slots) seconds; 0: no pause
    pause_kind: np.ndarray  # (shifts, slots) BREAK | LUNCH | SHORT | BLANK
    paused_before: np.ndarray  # (shifts, slots + 1) pause seconds before each slot


def _make_shifts(
    rng: np.random.Generator, agents: _Agents, days: list[date], midnights: np.ndarray
) -> _Shifts:
    count = len(agents.numbers)
    weekday = np.array([d.weekday() for d in days])
    weekend_off = rng.random(count) < WEEKEND_OFF_SHARE
    first_off = rng.integers(0, 7, count)
    off = np.where(
        weekend_off[:, None],
        weekday[None, :] >= 5,
        (weekday[None, :] == first_off[:, None])
        | (weekday[None, :] == (first_off[:, None] + 1) % 7),
    )
    working = ~off & (rng.random(off.shape) >= LEAVE_RATE)
    day, agent = np.nonzero(working.T)  # day by day, agents in order
    n = len(agent)
    kind = rng.choice(len(SHIFTS), size=n, p=np.array(SHIFT_WEIGHTS))
    start_h = np.array([s for s, _ in SHIFTS])[kind]
    end_h = np.array([e for _, e in SHIFTS])[kind]
    login = midnights[day] + start_h * 3600.0 - rng.uniform(60.0, 480.0, n)
    end = midnights[day] + end_h * 3600.0 + rng.uniform(0.0, 120.0, n)
    base = login + agents.queue_count[agent] + 0.5

    slots = 3 + MAX_SHORT_PAUSES
    at = np.full((n, slots), np.inf)
    length = np.zeros((n, slots))
    pause_kind = np.full((n, slots), SHORT, dtype=np.int64)
    hour = 3600.0
    # Two breaks and a lunch at about the same points of every shift (in ready time).
    for slot, (earliest, latest, shortest, longest, what) in enumerate(
        ((1.7, 2.0, 600.0, 900.0, BREAK), (3.6, 3.9, 1800.0, 2700.0, LUNCH),
         (5.9, 6.2, 600.0, 900.0, BREAK))
    ):  # fmt: skip
        at[:, slot] = rng.uniform(earliest, latest, n) * hour
        length[:, slot] = rng.uniform(shortest, longest, n)
        pause_kind[:, slot] = what
    shorts = np.minimum(rng.poisson(SHORT_PAUSES_MEAN, n), MAX_SHORT_PAUSES)
    for slot in range(MAX_SHORT_PAUSES):
        used = shorts > slot
        at[used, 3 + slot] = rng.uniform(0.3, 6.8, used.sum()) * hour
        length[used, 3 + slot] = rng.uniform(60.0, 300.0, used.sum())
        pause_kind[used, 3 + slot] = np.where(rng.random(used.sum()) < 0.6, SHORT, BLANK)
    ready = end - base - length.sum(axis=1)
    # A pause planned after the shift's ready time is over is not taken.
    dropped = at >= ready[:, None] - 60.0
    at[dropped], length[dropped] = np.inf, 0.0
    ready = end - base - length.sum(axis=1)
    order = np.argsort(at, axis=1, kind="stable")
    at = np.take_along_axis(at, order, axis=1)
    length = np.take_along_axis(length, order, axis=1)
    pause_kind = np.take_along_axis(pause_kind, order, axis=1)
    paused_before = np.zeros((n, slots + 1))
    paused_before[:, 1:] = np.cumsum(length, axis=1)
    return _Shifts(agent, login, base, ready, at, length, pause_kind, paused_before)


@dataclass
class _Calls:
    """Every call of the month (answered ones first), with its timeline."""

    queue: np.ndarray
    agent: np.ndarray  # answering agent, -1 for unanswered calls
    enter: np.ndarray
    connect: np.ndarray  # nan when unanswered
    end: np.ndarray  # COMPLETE*/transfer or ABANDON/EXITWITHTIMEOUT time
    ring: np.ndarray  # ring seconds of the answering member
    talk: np.ndarray  # whole seconds
    origpos: np.ndarray
    end_verb: np.ndarray  # index into END_VERBS
    answered: int  # the first `answered` calls are answered


END_VERBS = (
    "COMPLETECALLER",
    "COMPLETEAGENT",
    "BLINDTRANSFER",
    "ATTENDEDTRANSFER",
    "ABANDON",
    "EXITWITHTIMEOUT",
)


@dataclass
class _Layout:
    """Answered calls laid through the shifts, and when the pauses and shifts really ended."""

    shift: np.ndarray
    queue: np.ndarray
    ring_start: np.ndarray  # the answering agent's phone starts ringing
    ring: np.ndarray
    talk: np.ndarray
    idle_from: np.ndarray  # the agent is free (logged in, not paused) from here to ring_start
    pause_start: np.ndarray  # (shifts, slots), nan: not taken
    logoff: np.ndarray


def _layout_calls(
    rng: np.random.Generator, agents: _Agents, shifts: _Shifts, answered: int
) -> _Layout:
    """Answered calls laid end to end, with idle gaps, through each shift's ready time."""
    per_shift = rng.multinomial(answered, shifts.ready_s / shifts.ready_s.sum())
    shift = np.repeat(np.arange(len(per_shift)), per_shift)
    agent = shifts.agent[shift]
    # Most calls come from the agent's main queue.
    count = agents.queue_count[agent]
    slot = np.where(
        rng.random(answered) < 0.6, 0, 1 + (rng.random(answered) * (count - 1)).astype(np.int64)
    )
    slot = np.where(count > 1, slot, 0)
    queue = agents.queues[agent, slot]
    ring = np.minimum(14.0, 0.8 + rng.lognormal(agents.ring_mu[agent], 0.45))
    talk = rng.lognormal(np.log(np.array(TALK_MEDIAN_S)[queue] * agents.talk_factor[agent]), 0.6)
    short = rng.random(answered) < SHORT_CALL_SHARE
    talk[short] = rng.uniform(2.0, 9.5, short.sum())
    talk = np.maximum(1.0, np.round(np.minimum(talk, 3600.0)))
    wrap = rng.uniform(4.0, 14.0, answered)  # the queue's wrapuptime: not rung, not logged
    busy = ring + talk + wrap
    # A shift given more work than fits talks faster (rare at the default load).
    load = np.bincount(shift, busy, minlength=len(per_shift))
    squeeze = np.minimum(1.0, 0.92 * shifts.ready_s / np.maximum(load, 1.0))
    talk = np.maximum(1.0, np.round(talk * squeeze[shift]))
    busy = ring + talk + wrap
    load = np.bincount(shift, busy, minlength=len(per_shift))
    idle = np.maximum(shifts.ready_s - load, 0.0)
    # Idle gaps: the shift's idle time split at random before each call and after the last.
    gaps = rng.exponential(size=answered)
    trailing = rng.exponential(size=len(per_shift))
    gap_total = np.bincount(shift, gaps, minlength=len(per_shift)) + trailing
    gaps = gaps / gap_total[shift] * idle[shift]
    # Positions in "ready time" (the shift with its pauses cut out), all shifts end to end.
    finished = np.cumsum(gaps + busy)
    first = np.concatenate([[0], np.cumsum(per_shift)[:-1]])
    last = first + per_shift - 1
    before = np.concatenate([[0.0], finished])[first]
    ready_end = finished - before[shift]
    ready_start = ready_end - busy
    global_start = finished - busy

    # A pause that falls due during a call starts when the call (and its wrap-up) ends.
    slots = shifts.pause_at.shape[1]
    moment = np.full(shifts.pause_at.shape, np.inf)  # in ready time
    for slot_no in range(slots):
        due = shifts.pause_at[:, slot_no]
        active = np.isfinite(due)
        prior = np.searchsorted(global_start, before + np.where(active, due, 0.0)) - 1
        # The search may land in a later shift when the pause is due after the last call.
        prior = np.minimum(prior, last)
        own = (prior >= first) & (per_shift > 0)
        prior_end = np.where(own, ready_end[np.clip(prior, 0, None)], 0.0)
        moment[:, slot_no] = np.where(active, np.maximum(due, prior_end), np.inf)
    pause_start = shifts.base[:, None] + moment + shifts.paused_before[:, :-1]
    pause_start[~np.isfinite(moment)] = np.nan

    # Ready time -> wall time: add the pauses taken before the call.
    taken = np.zeros(answered, dtype=np.int64)
    for slot_no in range(slots):
        taken += moment[shift, slot_no] <= ready_start
    ring_start = shifts.base[shift] + ready_start + shifts.paused_before[shift, taken]
    # Free since the previous call's wrap-up ended, or since the last pause ended.
    gap_start = ready_start - gaps
    last_pause = np.where(taken > 0, moment[shift, np.maximum(taken - 1, 0)], -np.inf)
    idle_from = ring_start - (ready_start - np.maximum(gap_start, last_pause))

    last_end = np.where(per_shift > 0, ready_end[np.clip(last, 0, None)], 0.0)
    pause_end = np.nan_to_num(pause_start + shifts.pause_len, nan=0.0).max(axis=1)
    logoff = np.maximum(
        shifts.base + np.maximum(shifts.ready_s, last_end) + shifts.paused_before[:, -1],
        pause_end,
    ) + rng.uniform(1.0, 60.0, len(per_shift))
    return _Layout(shift, queue, ring_start, ring, talk, idle_from, pause_start, logoff)


def _make_calls(
    rng: np.random.Generator, agents: _Agents, shifts: _Shifts, total: int
) -> tuple[_Calls, np.ndarray, _Layout]:
    answered = round(total * ANSWERED_SHARE)
    layout = _layout_calls(rng, agents, shifts, answered)
    queue, ring_start, ring, talk = layout.queue, layout.ring_start, layout.ring, layout.talk
    agent = shifts.agent[layout.shift]
    rings_out = np.where(
        rng.random(answered) < RNA_SHARE, rng.geometric(1 - RNA_AGAIN, answered), 0
    )
    rings_out = np.minimum(rings_out, 6)
    # Two callers in three reach a free agent at once; the others wait in line.
    at_once = rng.random(answered) < 0.65
    queued = np.where(at_once, rng.uniform(0.0, 2.0, answered), rng.exponential(20.0, answered))
    enter = ring_start - 0.2 - rings_out * RING_TIMEOUT_S - queued
    connect = ring_start + ring
    end = connect + talk
    origpos = np.where(at_once, 1, 1 + rng.geometric(0.35, answered))
    verb = np.where(rng.random(answered) < 0.7, 0, 1)
    transferred = rng.random(answered) < agents.transfer_share[agent]
    verb[transferred] = np.where(rng.random(transferred.sum()) < 0.6, 2, 3)

    # Callers who give up: at the same moments and queues as the answered calls.
    lost = total - answered
    like = rng.integers(0, answered, lost)
    lost_enter = enter[like] + rng.normal(0.0, 600.0, lost)
    patience = rng.exponential(70.0, lost)
    lost_end = lost_enter + np.minimum(patience, QUEUE_TIMEOUT_S)
    lost_verb = np.where(patience >= QUEUE_TIMEOUT_S, 5, 4)
    lost_origpos = 1 + rng.geometric(0.3, lost)

    calls = _Calls(
        queue=np.concatenate([queue, queue[like]]),
        agent=np.concatenate([agent, np.full(lost, -1)]),
        enter=np.concatenate([enter, lost_enter]),
        connect=np.concatenate([connect, np.full(lost, np.nan)]),
        end=np.concatenate([end, lost_end]),
        ring=np.concatenate([ring, np.zeros(lost)]),
        talk=np.concatenate([talk, np.zeros(lost)]),
        origpos=np.concatenate([origpos, lost_origpos]),
        end_verb=np.concatenate([verb, lost_verb]),
        answered=answered,
    )
    legs = _ring_legs(rng, agents, calls, rings_out, queued, layout)
    return calls, legs, layout


def _ring_legs(
    rng: np.random.Generator,
    agents: _Agents,
    calls: _Calls,
    rings_out: np.ndarray,
    queued: np.ndarray,
    layout: _Layout,
) -> np.ndarray:
    """Rings that did not become the call: (call, agent, time, ring ms, canceled) rows.

    A phone that rang belongs to an agent of the queue who was free (logged in, not paused,
    not on a call) for the whole ring, chosen with the agent's propensity to let phones ring
    out; a ring no such agent could have taken is left out. Rings out (RINGNOANSWER) come one
    after the other while the caller waits; in the ringall queue the other free members' phones
    ring together with the one that answers and stop (RINGCANCELED) when it does; a caller who
    hangs up while a phone rings cancels that ring too.
    """
    answered = calls.answered
    key = calls.queue[:answered] * 1e10 + layout.ring_start
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    width = 12

    def free_agents(
        queue: np.ndarray, at: np.ndarray, rang_s: np.ndarray, picks: int
    ) -> np.ndarray:
        # The next calls of the queue after the ring went to agents who were free before
        # them; one who was free for the whole ring can have been rung. -1: nobody.
        found = np.full((len(queue), picks), -1)
        for lo in range(0, len(queue), 1_000_000):  # bounded temporaries
            part = slice(lo, lo + 1_000_000)
            end = np.searchsorted(sorted_key, (queue[part] + 1) * 1e10)
            here = np.searchsorted(sorted_key, queue[part] * 1e10 + at[part])
            position = here[:, None] + np.arange(width)[None, :]
            inside = position < end[:, None]
            candidate = order[np.minimum(position, len(order) - 1)]
            who = calls.agent[candidate]
            free = inside & (layout.idle_from[candidate] <= (at[part] - rang_s[part])[:, None])
            clocks = rng.exponential(size=who.shape) / agents.rna_weight[who]
            clocks[~free] = np.inf
            best = np.argsort(clocks, axis=1)[:, :picks]
            chosen = np.take_along_axis(who, best, axis=1)
            ok = np.isfinite(np.take_along_axis(clocks, best, axis=1))
            for pick in range(1, picks):  # a phone rings once per call
                ok[:, pick] &= (chosen[:, pick, None] != chosen[:, :pick]).all(axis=1)
            found[part] = np.where(ok, chosen, -1)
        return found

    # Rings out before an answer, one after the other.
    call = np.repeat(np.arange(answered), rings_out)
    step = np.arange(len(call)) - np.repeat(np.cumsum(rings_out) - rings_out, rings_out)
    at = calls.enter[call] + queued[call] + (step + 1) * RING_TIMEOUT_S
    at -= rng.uniform(0.0, 0.25, len(call))
    ms = 15000 + rng.integers(0, 300, len(call))
    # Callers who gave up after ringing out a few agents.
    lost = np.arange(answered, len(calls.enter))
    waited = calls.end[lost] - calls.enter[lost]
    outs = np.where(rng.random(len(lost)) < 0.35, (waited - 0.5) // RING_TIMEOUT_S, 0)
    outs = np.clip(outs, 0, 4).astype(np.int64)
    lost_call = np.repeat(lost, outs)
    lost_step = np.arange(len(lost_call)) - np.repeat(np.cumsum(outs) - outs, outs)
    lost_at = calls.enter[lost_call] + (lost_step + 1) * RING_TIMEOUT_S
    lost_at -= rng.uniform(0.0, 0.25, len(lost_call))
    lost_ms = 15000 + rng.integers(0, 300, len(lost_call))
    out_call = np.concatenate([call, lost_call])
    out_at = np.concatenate([at, lost_at])
    out_ms = np.concatenate([ms, lost_ms])
    out_agent = free_agents(calls.queue[out_call], out_at, out_ms / 1000.0, 1)[:, 0]

    # Hung up while a phone rang.
    cut = lost[(rng.random(len(lost)) < 0.1) & (calls.end_verb[lost] == 4) & (waited > 3.0)]
    cut_ms = (np.minimum(waited[cut - answered] - 0.1, 14.0) * 1000).astype(np.int64)
    cut_at = calls.end[cut] - 0.05
    cut_agent = free_agents(calls.queue[cut], cut_at, cut_ms / 1000.0, 1)[:, 0]

    # Ringall: up to RINGALL_OTHERS other free members rang with the one who answered.
    together = np.nonzero(calls.queue[:answered] == QUEUES.index(RINGALL_QUEUE))[0]
    wanted = rng.integers(1, RINGALL_OTHERS + 1, len(together))
    connect = calls.connect[together]
    ring_s = calls.ring[together]
    others = free_agents(calls.queue[together], connect, ring_s, RINGALL_OTHERS)
    others[np.arange(RINGALL_OTHERS)[None, :] >= wanted[:, None]] = -1
    rows, _ = np.nonzero(others >= 0)
    all_call = together[rows]
    all_agent = others[others >= 0]
    all_at = connect[rows] - 0.01  # written just before the CONNECT
    all_ms = (ring_s[rows] * 1000).astype(np.int64)

    leg_call = np.concatenate([out_call, cut, all_call])
    agent = np.concatenate([out_agent, cut_agent, all_agent])
    # The answering agent is never also one of the call's other rings.
    agent[calls.agent[leg_call] == agent] = -1
    canceled = np.ones(len(leg_call), bool)
    canceled[: len(out_call)] = False
    kept = agent >= 0
    return np.rec.fromarrays(
        [
            leg_call[kept],
            agent[kept],
            np.concatenate([out_at, cut_at, all_at])[kept],
            np.concatenate([out_ms, cut_ms, all_ms])[kept],
            canceled[kept],
        ],
        names="call,agent,at,ms,canceled",
    )


def _callers(
    rng: np.random.Generator, agents: _Agents, calls: _Calls, midnights: np.ndarray, seed: int
) -> pa.Array:
    """Every call's caller number: repeat contacts reuse an earlier caller's number."""
    total = len(calls.enter)
    order = np.argsort(calls.enter, kind="stable")
    at = calls.enter[order]
    identity = np.arange(total, dtype=np.int64)  # in time order: a new caller per call
    frequent = rng.random(total) < FREQUENT_SHARE
    identity[frequent] = total + rng.integers(0, FREQUENT_CALLERS, frequent.sum())
    withheld = rng.random(total) < WITHHELD_SHARE
    identity[withheld] = -1
    repeat = (rng.random(total) < REPEAT_SHARE) & ~withheld & ~frequent
    # The first call is a call of `back` days before: of the same day, 10 minutes to 4 hours
    # earlier; of an earlier day, any of its calls (a repeat comes when the centre is open).
    back = rng.choice(REPEAT_DAYS, size=total, p=REPEAT_WEIGHTS / REPEAT_WEIGHTS.sum())
    day = np.searchsorted(midnights, at, side="right") - 1
    day_first = np.searchsorted(day, np.arange(len(midnights) + 1))
    earlier = np.clip(day - back, 0, None)
    lo = np.where(back == 0, np.searchsorted(at, at - 4 * 3600.0), day_first[earlier])
    hi = np.where(back == 0, np.searchsorted(at, at - 600.0), day_first[earlier + 1])
    repeat &= (day - back >= 0) & (hi > lo)
    start = lo + (rng.random(total) * np.maximum(hi - lo, 0)).astype(np.int64)
    candidates = np.minimum(start[:, None] + np.arange(4)[None, :], np.maximum(hi - 1, 0)[:, None])
    # The first call was more likely unresolved when it was abandoned or its agent resolves
    # less.
    parent_agent = calls.agent[order][candidates]
    weight = np.where(parent_agent >= 0, agents.repeat_weight[parent_agent], 5.0)
    parent = candidates[np.arange(total), _pick(rng, weight)]
    parent = np.where(repeat, parent, np.arange(total))
    while True:  # follow chains of repeats to the first call (parents are earlier calls)
        resolved = identity[parent]
        if np.array_equal(resolved, identity):
            break
        identity = resolved
    by_call = np.empty(total, dtype=np.int64)
    by_call[order] = identity

    mixed = _mix(np.maximum(by_call, 0), seed)
    mobile = (mixed % np.uint64(100)) < np.uint64(85)
    prefix = MOBILE_PREFIXES[(mixed >> np.uint64(8)) % np.uint64(len(MOBILE_PREFIXES))]
    mobile_no = prefix * 10**8 + ((mixed >> np.uint64(16)) % np.uint64(10**8)).astype(np.int64)
    area = pa.array(AREA_CODES).take(
        pa.array(((mixed >> np.uint64(40)) % np.uint64(len(AREA_CODES))).astype(np.int64))
    )
    local_no = 10**7 + ((mixed >> np.uint64(16)) % np.uint64(9 * 10**7)).astype(np.int64)
    landline = pc.binary_join_element_wise(area, _text(local_no), "")
    numbers = pc.if_else(pa.array(mobile), _text(mobile_no), landline)
    blank = pa.array(np.where(rng.random(total) < 0.67, "", "anonymous"))
    return pc.if_else(pa.array(by_call < 0), blank, numbers)


# --- lines ----------------------------------------------------------------------------------


@dataclass
class _Lines:
    """One kind of line: each line's time, and how to format a subset of them."""

    at: np.ndarray
    format: Callable[[np.ndarray], pa.Array]
    verb: str


def _epoch(at: np.ndarray) -> pa.Array:
    return _text(np.floor(at))


def _call_lines(
    rng: np.random.Generator,
    agents: _Agents,
    calls: _Calls,
    legs: np.ndarray,
    midnights: np.ndarray,
    seed: int,
) -> list[_Lines]:
    total = len(calls.enter)
    rank = np.empty(total, dtype=np.int64)
    rank[np.argsort(calls.enter, kind="stable")] = np.arange(total)
    uniqueid = FIRST_UNIQUEID + 2 * rank
    # The caller's channel was created a little before it reached the queue.
    callid = pc.binary_join_element_wise(
        _text(np.floor(calls.enter - rng.uniform(4.0, 40.0, total))), _text(uniqueid), "."
    )
    queue_name = pa.array(QUEUES)
    member = pa.array([f"Agent/{n}" for n in agents.numbers])
    caller = _callers(rng, agents, calls, midnights, seed)
    queue_of = pa.array(calls.queue)
    answered = np.arange(calls.answered)
    lost = np.arange(calls.answered, total)

    def enterqueue(idx: np.ndarray) -> pa.Array:
        i = pa.array(idx)
        return _join(
            _epoch(calls.enter[idx]),
            callid.take(i),
            queue_name.take(queue_of.take(i)),
            "NONE",
            "ENTERQUEUE",
            "",
            caller.take(i),
            _text(calls.origpos[idx]),
        )

    def connect(idx: np.ndarray) -> pa.Array:
        call = answered[idx]
        i = pa.array(call)
        hold = np.floor(calls.connect[call] - calls.enter[call])
        channel = pc.binary_join_element_wise(
            _text(np.floor(calls.connect[call])), _text(uniqueid[call] + 1), "."
        )
        return _join(
            _epoch(calls.connect[call]),
            callid.take(i),
            queue_name.take(queue_of.take(i)),
            member.take(pa.array(calls.agent[call])),
            "CONNECT",
            _text(hold),
            channel,
            _text(np.round(calls.ring[call])),
        )

    transfer_ext = pa.array(TRANSFER_EXTENSIONS).take(
        pa.array(rng.integers(0, len(TRANSFER_EXTENSIONS), calls.answered))
    )
    bridge = rng.integers(0, 2**63, (calls.answered, 2), dtype=np.int64).astype(np.uint64)
    verb_name = pa.array(END_VERBS)

    def finish(idx: np.ndarray) -> pa.Array:
        call = answered[idx]
        i = pa.array(call)
        hold = _text(np.floor(calls.connect[call] - calls.enter[call]))
        talk = _text(calls.talk[call])
        pos = _text(calls.origpos[call])
        verb = calls.end_verb[call]
        high, low = bridge[call, 0], bridge[call, 1]
        uuid = pc.binary_join_element_wise(
            _hex(high >> np.uint64(32), 8),
            _hex((high >> np.uint64(16)) & np.uint64(0xFFFF), 4),
            _hex((high & np.uint64(0x0FFF)) | np.uint64(0x4000), 4),
            _hex((low >> np.uint64(48)) & np.uint64(0x3FFF) | np.uint64(0x8000), 4),
            _hex(low & np.uint64(0xFFFFFFFFFFFF), 12),
            "-",
        )
        data = pc.if_else(
            pa.array(verb <= 1),
            _join(hold, talk, pos),
            pc.if_else(
                pa.array(verb == 2),
                _join(transfer_ext.take(pa.array(call)), "from-internal", hold, talk, pos),
                _join("BRIDGE", uuid, hold, talk, pos),
            ),
        )
        return _join(
            _epoch(calls.end[call]),
            callid.take(i),
            queue_name.take(queue_of.take(i)),
            member.take(pa.array(calls.agent[call])),
            verb_name.take(pa.array(verb)),
            data,
        )

    def give_up(idx: np.ndarray) -> pa.Array:
        call = lost[idx]
        i = pa.array(call)
        pos = calls.origpos[call]
        position = np.maximum(1, pos - rng.integers(0, 3, len(call)))
        return _join(
            _epoch(calls.end[call]),
            callid.take(i),
            queue_name.take(queue_of.take(i)),
            "NONE",
            verb_name.take(pa.array(calls.end_verb[call])),
            _text(position),
            _text(pos),
            _text(np.floor(calls.end[call] - calls.enter[call])),
        )

    def ring(idx: np.ndarray) -> pa.Array:
        row = legs[idx]
        i = pa.array(row.call)
        return _join(
            _epoch(row.at),
            callid.take(i),
            queue_name.take(queue_of.take(i)),
            member.take(pa.array(row.agent)),
            pc.if_else(pa.array(row.canceled), "RINGCANCELED", "RINGNOANSWER"),
            _text(row.ms),
        )

    return [
        _Lines(calls.enter, enterqueue, "ENTERQUEUE"),
        _Lines(legs.at, ring, "RINGNOANSWER/RINGCANCELED"),
        _Lines(calls.connect[answered], connect, "CONNECT"),
        _Lines(calls.end[answered], finish, "COMPLETE*/TRANSFER"),
        _Lines(calls.end[lost], give_up, "ABANDON/EXITWITHTIMEOUT"),
    ]


def _agent_lines(
    rng: np.random.Generator, agents: _Agents, shifts: _Shifts, layout: _Layout
) -> list[_Lines]:
    logoff, pause_start = layout.logoff, layout.pause_start
    n = len(shifts.agent)
    member = pa.array([f"Agent/{x}" for x in agents.numbers])
    interface = pa.array([f"SIP/{x}" for x in agents.numbers])
    queue_name = pa.array(QUEUES)
    reason = pa.array(REASONS)
    agent = pa.array(shifts.agent)
    channel = pc.binary_join_element_wise(
        interface.take(agent), _hex(0x1000 + np.arange(n) * 7 + rng.integers(0, 7, n), 8), "-"
    )

    # One row per shift and queue the agent is a member of, main queue first.
    count = agents.queue_count[shifts.agent]
    per_queue_shift = np.repeat(np.arange(n), count)
    position = np.arange(len(per_queue_shift)) - np.repeat(np.cumsum(count) - count, count)
    per_queue = agents.queues[shifts.agent[per_queue_shift], position]

    def login(idx: np.ndarray) -> pa.Array:
        i = pa.array(idx)
        return _join(
            _epoch(shifts.login[idx]), "NONE", "NONE", member.take(agent.take(i)), "AGENTLOGIN",
            channel.take(i),
        )  # fmt: skip

    def logoff_line(idx: np.ndarray) -> pa.Array:
        i = pa.array(idx)
        at = logoff[idx] + count[idx]
        return _join(
            _epoch(at), "NONE", "NONE", member.take(agent.take(i)), "AGENTLOGOFF",
            channel.take(i), _text(np.floor(at) - np.floor(shifts.login[idx])),
        )  # fmt: skip

    def membership(verb: str, at: np.ndarray) -> Callable[[np.ndarray], pa.Array]:
        def lines(idx: np.ndarray) -> pa.Array:
            shift = pa.array(per_queue_shift[idx])
            return _join(
                _epoch(at[idx]), "NONE", queue_name.take(pa.array(per_queue[idx])),
                interface.take(agent.take(shift)), verb, "",
            )  # fmt: skip

        return lines

    # Pauses: one row per (shift, slot) taken, then one per queue; lunch is a PAUSEALL.
    taken_shift, taken_slot = np.nonzero(np.isfinite(pause_start))
    starts = pause_start[taken_shift, taken_slot]
    ends = starts + shifts.pause_len[taken_shift, taken_slot]
    kind = shifts.pause_kind[taken_shift, taken_slot]
    queues_of = count[taken_shift]
    row = np.repeat(np.arange(len(taken_shift)), queues_of)
    step = np.arange(len(row)) - np.repeat(np.cumsum(queues_of) - queues_of, queues_of)
    row_queue = agents.queues[shifts.agent[taken_shift[row]], step]
    lunch = np.nonzero(kind == LUNCH)[0]

    def pause(verb: str, at: np.ndarray, with_reason: bool) -> Callable[[np.ndarray], pa.Array]:
        def lines(idx: np.ndarray) -> pa.Array:
            taken = row[idx]
            why = reason.take(pa.array(kind[taken])) if with_reason else ""
            return _join(
                _epoch(at[idx]), "NONE", queue_name.take(pa.array(row_queue[idx])),
                member.take(agent.take(pa.array(taken_shift[taken]))), verb, why,
            )  # fmt: skip

        return lines

    def pause_all(verb: str, at: np.ndarray, with_reason: bool) -> Callable[[np.ndarray], pa.Array]:
        def lines(idx: np.ndarray) -> pa.Array:
            taken = lunch[idx]
            why = reason.take(pa.array(kind[taken])) if with_reason else ""
            return _join(
                _epoch(at[idx]), "NONE", "NONE",
                member.take(agent.take(pa.array(taken_shift[taken]))), verb, why,
            )  # fmt: skip

        return lines

    # Lines that share a moment keep Asterisk's order: PAUSEALL, then PAUSE per queue.
    tick = 1e-4 * (step + 1)
    add_at = shifts.login[per_queue_shift] + 1.0 + position
    remove_at = logoff[per_queue_shift] + position
    pause_at, unpause_at = starts[row] + tick, ends[row] + tick
    return [
        _Lines(shifts.login, login, "AGENTLOGIN"),
        _Lines(add_at, membership("ADDMEMBER", add_at), "ADDMEMBER"),
        _Lines(starts[lunch], pause_all("PAUSEALL", starts[lunch], True), "PAUSEALL"),
        _Lines(pause_at, pause("PAUSE", pause_at, True), "PAUSE"),
        _Lines(ends[lunch], pause_all("UNPAUSEALL", ends[lunch], False), "UNPAUSEALL"),
        _Lines(unpause_at, pause("UNPAUSE", unpause_at, False), "UNPAUSE"),
        _Lines(remove_at, membership("REMOVEMEMBER", remove_at), "REMOVEMEMBER"),
        _Lines(logoff + count, logoff_line, "AGENTLOGOFF"),
    ]


def _restarts(rng: np.random.Generator, midnights: np.ndarray) -> _Lines:
    at = midnights[:-1] + 3 * 3600.0 + rng.uniform(0.0, 600.0, len(midnights) - 1)

    def lines(idx: np.ndarray) -> pa.Array:
        return _join(_epoch(at[idx]), "NONE", "NONE", "NONE", "QUEUESTART", "")

    return _Lines(at, lines, "QUEUESTART")


def _write(
    out: Path,
    kinds: list[_Lines],
    days: list[date],
    midnights: np.ndarray,
    report: GenerateReport,
    rotate: bool,
) -> None:
    """Write the lines day by day, each day's lines sorted by time (ties keep kind order):
    to `out`, or rotated weekly as logrotate does (a new file each Monday 00:00, named after
    its first day) into the folder `out`. The rotated files put together are the same bytes."""
    by_day = []
    for kind in kinds:
        day = np.searchsorted(midnights, kind.at, side="right") - 1
        order = np.argsort(day, kind="stable")
        # Slice d + 1 holds day d (-1: before the month, len - 1: after it).
        edges = np.searchsorted(day[order], np.arange(-1, len(midnights) + 1))
        by_day.append((order, edges))
        report.verbs[kind.verb] = len(kind.at)

    def target(day: int) -> Path:
        if not rotate:
            return out
        first = max(0, min(day, len(days) - 1))
        while first > 0 and days[first].weekday() != 0:
            first -= 1
        return out / f"queue_log-{days[first]:%Y%m%d}"

    handle, current = None, None
    try:
        for day in range(-1, len(midnights)):
            parts, times = [], []
            for kind, (order, edges) in zip(kinds, by_day, strict=True):
                idx = order[edges[day + 1] : edges[day + 2]]
                if len(idx):
                    parts.append(kind.format(idx))
                    times.append(kind.at[idx])
            if not parts:
                continue
            if target(day) != current:
                if handle is not None:
                    handle.close()
                    current.with_suffix(".tmp").replace(current)  # type: ignore[union-attr]
                current = target(day)
                handle = current.with_suffix(".tmp").open("wb")
                report.files.append(current)
            sequence = np.argsort(np.concatenate(times), kind="stable")
            lines = pa.concat_arrays(parts).take(pa.array(sequence))
            text = pc.binary_join_element_wise(lines, "", "\n")
            offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)
            start, stop = offsets[text.offset], offsets[text.offset + len(text)]
            handle.write(memoryview(text.buffers()[2])[start:stop])
            report.lines += len(text)
            report.bytes += int(stop - start)
    finally:
        if handle is not None:
            handle.close()
            current.with_suffix(".tmp").replace(current)  # type: ignore[union-attr]


def generate(
    *, calls: int, agents: int, month: str, out: Path, seed: int = 1, rotate: bool = False
) -> GenerateReport:
    """Write a month of queue_log for `agents` agents and about `calls` calls to the file
    `out`, or with `rotate` into the folder `out` as weekly files."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(TIMEZONE)
    days, midnights = _month_days(month, zone)
    centre = _make_agents(rng, agents)
    shifts = _make_shifts(rng, centre, days, midnights)
    month_calls, legs, layout = _make_calls(rng, centre, shifts, calls)
    kinds = [
        _restarts(rng, midnights),
        *_agent_lines(rng, centre, shifts, layout),
        *_call_lines(rng, centre, month_calls, legs, midnights, seed),
    ]
    report = GenerateReport(out, len(month_calls.enter), agents, len(shifts.agent))
    (out if rotate else out.parent).mkdir(parents=True, exist_ok=True)
    _write(out, kinds, days, midnights, report, rotate)
    report.seconds = time.perf_counter() - started
    return report


def main() -> None:
    """Command line: write one file and print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--month", default="2026-10", help="YYYY-MM (days in Asia/Shanghai)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="weekly files (queue_log-YYYYMMDD) in the folder --out",
    )
    args = parser.parse_args()
    report = generate(
        calls=args.calls,
        agents=args.agents,
        month=args.month,
        out=args.out,
        seed=args.seed,
        rotate=args.rotate,
    )
    print(
        f"{report.path}: {report.calls:,} calls, {report.agents:,} agents, "
        f"{report.shifts:,} shifts, {report.lines:,} lines, {report.bytes / 2**20:,.0f} MiB "
        f"in {report.seconds:.1f} s" + (f" ({len(report.files)} files)" if args.rotate else "")
    )
    for verb, lines in report.verbs.items():
        print(f"  {verb:<26} {lines:>12,}")


if __name__ == "__main__":
    main()
