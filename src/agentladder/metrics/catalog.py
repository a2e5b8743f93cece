"""The KPI catalog: every metric once, with its names, unit, direction, definition, sources
and its Ibis expression. Reports, the ladder and the UI refer to metrics by id.

Each metric aggregates one *frame* (prepared by the engine for the period) into a numerator,
an optional denominator and a sample size; the value is numerator / denominator (null when
the denominator is 0), or the numerator for counts and totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from agentladder.config import Language
from agentladder.i18n import N_, translate

if TYPE_CHECKING:
    import ibis.expr.types as ir

Measure = tuple["ir.NumericScalar", "ir.NumericScalar | None", "ir.IntegerScalar"]
Derived = tuple[float | None, float | None, int]


@dataclass(frozen=True)
class MetricConfig:
    """Thresholds the definitions use (settings AGENTLADDER_*)."""

    service_level_s: float = 20.0
    short_abandon_s: float = 5.0
    short_call_s: float = 10.0
    fcr_window_days: int = 7
    fcr_method: str = "auto"  # auto | survey | repeat_contact
    timezone: str = "UTC"  # the centre's days, for daily statistics reports
    acw_pause_reasons: tuple[str, ...] = ()  # lower case; such pauses are after-call work


class Facts(Protocol):
    """One subject's measured metrics, as derived metrics read them."""

    def value(self, metric_id: str) -> float | None:
        """The metric's value; null when the subject has none."""

    def numerator(self, metric_id: str) -> float | None:
        """The metric's numerator (a rate's hits, a mean's total)."""

    def sample(self, metric_id: str) -> int:
        """The metric's sample size; 0 when the subject has none."""

    def measured(self, metric_id: str) -> tuple[float | None, float | None, int]:
        """The metric's numerator, denominator and sample size as measured."""

    def anyone_has(self, metric_id: str) -> bool:
        """Whether any subject of the period has a sample of the metric."""


@dataclass(frozen=True)
class Kpi:
    """One metric: identity, presentation, definition and how to compute it."""

    id: str
    zh: str
    en: str
    unit: str  # count | s | rate | score
    direction: str  # up | down | neutral
    scope: str  # agent | queue | both (agents and queues, e.g. speed of answer)
    frame: str  # calls | offers | outbound | surveys | queue_calls
    sources: tuple[str, ...]
    definition: str
    measure: Callable[[ir.Table, MetricConfig], Measure] | None = None
    # Metrics made of other metrics of the same subject (frame "derived").
    derive: Callable[[Facts, MetricConfig], Derived] | None = None
    # The same metric from per-agent daily statistics reports (frame "daily"), used for the
    # agent-days that have no call-level data; numerators, denominators and samples add up.
    daily: Callable[[ir.Table], Measure] | None = None

    def name(self, language: str) -> str:
        """The metric's name in the reader's language."""
        return self.zh if language == "zh_Hans" else self.en

    def description(self, language: Language) -> str:
        """The metric's definition in the reader's language."""
        return translate(language, self.definition)


def _answered(t: ir.Table) -> ir.BooleanValue:
    return t.outcome == "answered"


def _count(condition: ir.BooleanValue) -> ir.IntegerScalar:
    return condition.ifelse(1, 0).sum()


def _mean(value: ir.NumericValue, where: ir.BooleanValue) -> Measure:
    return value.sum(where=where), value.count(where=where), value.count(where=where)


def _rate(hits: ir.BooleanValue, base: ir.BooleanValue) -> Measure:
    return _count(hits & base), _count(base), _count(base)


def _total(value: ir.NumericValue, where: ir.BooleanValue) -> Measure:
    return value.sum(where=where).fill_null(0), None, value.count(where=where)


def _counted(condition: ir.BooleanValue) -> Measure:
    return _count(condition), None, _count(condition)


def _if_reasons_known(t: ir.Table, measure: Measure) -> Measure:
    # Per-call tables and CDRs record only "unanswered", not why: a count of abandons or
    # missed rings there would read 0 when it is unknown.
    numerator, denominator, sample = measure
    import ibis

    unexplained = _count(t.outcome == "unanswered") > 0
    return ibis.ifelse(unexplained, ibis.null("int64"), numerator), denominator, sample


def _nps(t: ir.Table) -> Measure:
    # Only 0-10 answers: a CSAT score of 1-5 in the same table is not a detractor.
    nps = t.scale_max == 10
    promoters, detractors = _count(nps & (t.score >= 9)), _count(nps & (t.score <= 6))
    return (promoters - detractors) * 100, _count(nps), _count(nps)


FRAME_SCOPES = {
    "calls": "agent",
    "daily_calls": "agent",
    "daily_states": "agent",
    "offers": "agent",
    "outbound": "agent",
    "surveys": "agent",
    "queue_calls": "queue",
    "states": "agent",
    "feedback": "agent",
    "tickets": "agent",
    "leads": "agent",
    "schedules": "agent",
}


def daily_frame(kpi: Kpi) -> str:
    """Which daily-report frame supplies a metric: the state-time one for login and pause
    time, the calls one for the rest."""
    return "daily_states" if kpi.frame == "states" else "daily_calls"


def frame_members(kpis: tuple[Kpi, ...], frame: str) -> list[Kpi]:
    """The metrics computed over a frame; `both`-scope metrics of the agents' calls frame also
    run over the queues' calls frame; daily-report frames serve the metrics they can."""
    if frame in ("daily_calls", "daily_states"):
        return [kpi for kpi in kpis if kpi.daily is not None and daily_frame(kpi) == frame]
    members = [kpi for kpi in kpis if kpi.frame == frame]
    if frame == "queue_calls":
        members += [kpi for kpi in kpis if kpi.scope == "both"]
    return members


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None else a - (b or 0)


def _ratio(num: float | None, den: float | None, sample: int) -> Derived:
    if num is None or den is None:
        return None, None, 0
    return num, den, sample


def _counted_or_zero(facts: Facts, metric_id: str) -> float | None:
    # A register the centre keeps (someone has a row this period) counts 0 for the others; a
    # register it does not keep leaves the rate unknown.
    value = facts.value(metric_id)
    if value is None and facts.anyone_has(metric_id):
        return 0.0
    return value


def _fcr(facts: Facts, config: MetricConfig) -> Derived:
    # One method for the whole period, so agents are compared on the same footing: surveys
    # when the centre's surveys ask whether the problem was solved, else repeat contacts.
    survey = config.fcr_method == "survey" or (
        config.fcr_method == "auto" and facts.anyone_has("fcr_survey_rate")
    )
    return facts.measured("fcr_survey_rate" if survey else "fcr_contact_rate")


def _daily_sum(value: ir.NumericValue) -> Measure:
    return value.sum().fill_null(0), None, value.sum().fill_null(0).cast("int64")


def _daily_per_answered(value: ir.NumericValue, t: ir.Table) -> Measure:
    known = value.notnull() & t.answered.notnull()
    return value.sum(where=known), t.answered.sum(where=known), t.answered.sum(where=known)


def _daily_total(value: ir.NumericValue, t: ir.Table) -> Measure:
    known = value.notnull() & t.answered.notnull()
    return value.sum(where=known).fill_null(0), None, t.answered.sum(where=known).fill_null(0)


def _daily_handle_s(t: ir.Table) -> ir.NumericValue:
    return t.talk_s.fill_null(0) + t.hold_s.fill_null(0) + t.acw_s.fill_null(0)


def _handle_s(t: ir.Table) -> ir.NumericValue:
    # Hold and after-call work are unknown in many sources (queue_log has neither): 0 then.
    return t.talk_s.fill_null(0) + t.hold_s.fill_null(0) + t.acw_s.fill_null(0)


def _state_acw_s(t: ir.Table) -> ir.NumericValue:
    # The agent's after-call-work pauses in the period (`state_acw_s`, the same on each of
    # the agent's calls; null without any).
    return t.state_acw_s.max()


def _acw(t: ir.Table) -> Measure:
    # Per-call ACW where the source records it; with after-call-work pauses, their time is
    # spread over all the agent's handled calls.
    import ibis

    per_call = _answered(t) & t.acw_s.notnull()
    state = _state_acw_s(t)
    calls = t.acw_s.sum(where=per_call)
    handled = ibis.ifelse(state.isnull(), _count(per_call), _count(_answered(t)))
    return ibis.ifelse(state.isnull(), calls, calls.fill_null(0) + state), handled, handled


def _aht(t: ir.Table) -> Measure:
    total, handled, sample = _mean(_handle_s(t), _answered(t))
    return total + _state_acw_s(t).fill_null(0), handled, sample


def _total_handle(t: ir.Table) -> Measure:
    total, _, sample = _total(_handle_s(t), _answered(t))
    return total + _state_acw_s(t).fill_null(0), None, sample


INTERACTIONS = ("queue_log", "calls-table", "asterisk-cdr", "freeswitch-cdr")

CATALOG: tuple[Kpi, ...] = (
    Kpi(
        "handled_calls",
        "接听量",
        "Handled calls",
        "count",
        "up",
        "agent",
        "calls",
        INTERACTIONS,
        N_(
            "Inbound calls the agent answered (a transferred call counts for the agent "
            "who answered it)."
        ),
        lambda t, c: _counted(_answered(t)),
        daily=lambda t: _daily_sum(t.answered),
    ),
    Kpi(
        "offered_to_agent",
        "分配量",
        "Calls offered to the agent",
        "count",
        "neutral",
        "agent",
        "offers",
        INTERACTIONS,
        N_("Times a call rang at the agent: answered, not answered, or cancelled while ringing."),
        lambda t, c: _counted(t.outcome.notnull()),
        daily=lambda t: _daily_sum(t.offered),
    ),
    Kpi(
        "ring_no_answer",
        "振铃未接",
        "Ring, no answer",
        "count",
        "down",
        "agent",
        "offers",
        ("queue_log",),
        N_(
            "Calls that rang at the agent and were not answered (RINGNOANSWER); unknown where "
            "the source does not record why a call went unanswered."
        ),
        lambda t, c: _if_reasons_known(t, _counted(t.outcome == "ring_no_answer")),
        daily=lambda t: _daily_sum(t.missed),
    ),
    Kpi(
        "avg_ring_s",
        "平均响应速度",
        "Average answer speed",
        "s",
        "down",
        "agent",
        "calls",
        ("queue_log",),
        N_("Mean ring time before the agent answered, over answered calls that record it."),
        lambda t, c: _mean(t.ring_s, _answered(t) & t.ring_s.notnull()),
    ),
    Kpi(
        "avg_talk_s",
        "平均通话时长",
        "Average talk time",
        "s",
        "neutral",
        "agent",
        "calls",
        INTERACTIONS,
        N_("Talk seconds of answered calls / answered calls that record talk."),
        lambda t, c: _mean(t.talk_s, _answered(t) & t.talk_s.notnull()),
        daily=lambda t: _daily_per_answered(t.talk_s, t),
    ),
    Kpi(
        "total_talk_s",
        "总通话时长",
        "Total talk time",
        "s",
        "neutral",
        "agent",
        "calls",
        INTERACTIONS,
        N_("Sum of the talk seconds of answered calls."),
        lambda t, c: _total(t.talk_s, _answered(t)),
        daily=lambda t: _daily_total(t.talk_s, t),
    ),
    Kpi(
        "avg_hold_s",
        "平均保持时长",
        "Average hold time",
        "s",
        "down",
        "agent",
        "calls",
        ("calls-table",),
        N_("Hold seconds / answered calls that record hold."),
        lambda t, c: _mean(t.hold_s, _answered(t) & t.hold_s.notnull()),
        daily=lambda t: _daily_per_answered(t.hold_s, t),
    ),
    Kpi(
        "avg_acw_s",
        "平均话后处理时长",
        "Average after-call work",
        "s",
        "down",
        "agent",
        "calls",
        ("calls-table", "queue_log"),
        N_(
            "After-call work seconds / answered calls that record it; pauses for after-call work "
            "(reason ACW, 话后处理...) count over all the agent's answered calls."
        ),
        lambda t, c: _acw(t),
        daily=lambda t: _daily_per_answered(t.acw_s, t),
    ),
    Kpi(
        "aht_s",
        "平均处理时长",
        "Average handle time",
        "s",
        "down",
        "agent",
        "calls",
        INTERACTIONS,
        N_(
            "(talk + hold + after-call work, including after-call-work pauses) / handled calls; "
            "a part a source does not record counts as 0."
        ),
        lambda t, c: _aht(t),
        daily=lambda t: _daily_per_answered(_daily_handle_s(t), t),
    ),
    Kpi(
        "transfer_rate",
        "转接率",
        "Transfer rate",
        "rate",
        "down",
        "agent",
        "calls",
        ("queue_log",),
        N_("Answered calls the agent transferred / answered calls."),
        lambda t, c: _rate(t.transferred, _answered(t) & t.transferred.notnull()),
        daily=lambda t: _daily_per_answered(t.transferred, t),
    ),
    Kpi(
        "fcr_contact_rate",
        "首次解决率（重复来电法）",
        "First-contact resolution (repeat contacts)",
        "rate",
        "up",
        "agent",
        "calls",
        INTERACTIONS,
        N_(
            "Answered calls not followed by another call from the same caller within the window "
            "(default 7 days) / answered calls with a known caller. Credited to the agent of the "
            "first call."
        ),
        lambda t, c: _rate(~t.repeated, _answered(t) & t.repeated.notnull()),
    ),
    Kpi(
        "fcr_survey_rate",
        "首次解决率（调查法）",
        "First-contact resolution (surveys)",
        "rate",
        "up",
        "agent",
        "surveys",
        ("surveys", "calls-table"),
        N_("Survey answers saying the problem was solved / survey answers to that question."),
        lambda t, c: _rate(t.resolved, t.resolved.notnull()),
    ),
    Kpi(
        "fcr_rate",
        "首次解决率",
        "First-contact resolution",
        "rate",
        "up",
        "agent",
        "derived",
        ("surveys", *INTERACTIONS),
        N_(
            "The survey method when the period's surveys ask whether the problem was solved, "
            "else the repeat-contact method (the setting AGENTLADDER_FCR_METHOD can fix one); "
            "the same method for every agent of the period."
        ),
        derive=_fcr,
    ),
    Kpi(
        "short_call_rate",
        "短通话率",
        "Short-call rate",
        "rate",
        "down",
        "agent",
        "calls",
        INTERACTIONS,
        N_(
            "Answered calls shorter than the short-call threshold (default 10 s) / "
            "answered calls that record talk."
        ),
        lambda t, c: _rate(t.talk_s < c.short_call_s, _answered(t) & t.talk_s.notnull()),
    ),
    Kpi(
        "csat_rate",
        "满意率",
        "Customer satisfaction",
        "rate",
        "up",
        "agent",
        "surveys",
        ("calls-table", "surveys"),
        N_("Top-two-box answers (4-5 of 5, scaled for other scales) / answers."),
        lambda t, c: _rate(t.score >= t.scale_max * 0.8, t.score.notnull() & (t.scale_max <= 5)),
    ),
    Kpi(
        "csat_avg",
        "平均满意度",
        "Average satisfaction score",
        "score",
        "up",
        "agent",
        "surveys",
        ("calls-table", "surveys"),
        N_("Mean score of CSAT surveys (scales up to 5) on the survey's own scale."),
        lambda t, c: _mean(t.score, t.score.notnull() & (t.scale_max <= 5)),
    ),
    Kpi(
        "nps",
        "净推荐值",
        "Net promoter score",
        "score",
        "up",
        "agent",
        "surveys",
        ("surveys",),
        N_("% promoters (9-10) - % detractors (0-6) on 0-10 answers."),
        lambda t, c: _nps(t),
    ),
    Kpi(
        "outbound_calls",
        "外呼量",
        "Outbound calls",
        "count",
        "neutral",
        "agent",
        "outbound",
        ("queue_log",),
        N_("Outbound call attempts by the agent."),
        lambda t, c: _counted(t.outcome.notnull()),
        daily=lambda t: _daily_sum(t.outbound_calls),
    ),
    Kpi(
        "outbound_connect_rate",
        "外呼接通率",
        "Outbound connect rate",
        "rate",
        "up",
        "agent",
        "outbound",
        ("queue_log",),
        N_("Answered outbound calls / outbound attempts."),
        lambda t, c: _rate(t.outcome == "answered", t.outcome.notnull()),
        daily=lambda t: (
            t.outbound_connected.sum(where=t.outbound_calls.notnull()),
            t.outbound_calls.sum(where=t.outbound_connected.notnull()),
            t.outbound_calls.sum(where=t.outbound_connected.notnull()),
        ),
    ),
    Kpi(
        "outbound_success_rate",
        "外呼成功率",
        "Outbound success rate",
        "rate",
        "up",
        "agent",
        "derived",
        ("leads", "queue_log", "daily-stats"),
        N_("Converted sales leads / answered outbound calls."),
        derive=lambda f, c: _ratio(
            f.value("converted_leads"),
            f.numerator("outbound_connect_rate"),
            int(f.numerator("outbound_connect_rate") or 0),
        ),
    ),
    Kpi(
        "total_handle_s",
        "总处理时长",
        "Total handle time",
        "s",
        "neutral",
        "agent",
        "calls",
        INTERACTIONS,
        N_(
            "Sum of talk + hold + after-call work of answered calls, and the after-call-work "
            "pauses."
        ),
        lambda t, c: _total_handle(t),
        daily=lambda t: _daily_total(_daily_handle_s(t), t),
    ),
    Kpi(
        "login_s",
        "登录时长",
        "Logged-in time",
        "s",
        "neutral",
        "agent",
        "states",
        ("queue_log",),
        N_("Time logged in or a member of any queue, overlaps counted once."),
        lambda t, c: _total(t.duration_s, t.group == "online"),
        daily=lambda t: (t.login_s.sum().fill_null(0), None, t.login_s.count()),
    ),
    Kpi(
        "pause_s",
        "示忙时长",
        "Paused time",
        "s",
        "neutral",
        "agent",
        "states",
        ("queue_log",),
        N_(
            "Time paused (not ready), in any or all queues, overlaps counted once; pauses for "
            "after-call work count as handle time instead."
        ),
        lambda t, c: _total(t.duration_s, t.group == "pause"),
        daily=lambda t: (t.pause_s.sum().fill_null(0), None, t.pause_s.count()),
    ),
    Kpi(
        "occupancy",
        "占用率",
        "Occupancy",
        "rate",
        "neutral",
        "agent",
        "derived",
        ("queue_log",),
        N_("Handle time / (logged-in time - paused time)."),
        derive=lambda f, c: _ratio(
            f.value("total_handle_s"),
            _minus(f.value("login_s"), f.value("pause_s")),
            f.sample("total_handle_s"),
        ),
    ),
    Kpi(
        "idle_busy_ratio",
        "闲忙比",
        "Idle / busy ratio",
        "ratio",
        "down",
        "agent",
        "derived",
        ("queue_log",),
        N_("Available idle time (logged in, not paused, not handling) / handle time."),
        derive=lambda f, c: _ratio(
            _minus(_minus(f.value("login_s"), f.value("pause_s")), f.value("total_handle_s")),
            f.value("total_handle_s"),
            f.sample("total_handle_s"),
        ),
    ),
    Kpi(
        "complaints",
        "有效投诉量",
        "Complaints",
        "count",
        "down",
        "agent",
        "feedback",
        ("feedback",),
        N_("Customer complaints about the agent, less those judged invalid on review."),
        lambda t, c: _counted((t.kind == "complaint") & t.valid.fill_null(True)),
    ),
    Kpi(
        "praise_count",
        "表扬量",
        "Praise",
        "count",
        "up",
        "agent",
        "feedback",
        ("feedback",),
        N_("Customer praise (赞许) for the agent, less any judged invalid."),
        lambda t, c: _counted((t.kind == "praise") & t.valid.fill_null(True)),
    ),
    Kpi(
        "complaint_rate",
        "投诉率",
        "Complaint rate",
        "rate",
        "down",
        "agent",
        "derived",
        ("feedback", "queue_log", "calls-table"),
        N_("Complaints / handled calls."),
        derive=lambda f, c: _ratio(
            _counted_or_zero(f, "complaints"), f.value("handled_calls"), f.sample("handled_calls")
        ),
    ),
    Kpi(
        "ticket_validity_rate",
        "工单有效率",
        "Ticket validity rate",
        "rate",
        "up",
        "agent",
        "tickets",
        ("tickets",),
        N_("Tickets judged valid / tickets with a verdict."),
        lambda t, c: _rate(t.valid, t.valid.notnull()),
    ),
    Kpi(
        "sales_leads",
        "销售线索量",
        "Sales leads",
        "count",
        "up",
        "agent",
        "leads",
        ("leads",),
        N_("Sales leads the agent created."),
        lambda t, c: _counted(t.key.notnull()),
    ),
    Kpi(
        "converted_leads",
        "成交量",
        "Converted leads",
        "count",
        "up",
        "agent",
        "leads",
        ("leads",),
        N_("Sales leads the agent created that converted (成交)."),
        lambda t, c: _counted(t.converted.fill_null(False)),
    ),
    Kpi(
        "sales_lead_rate",
        "销售线索率",
        "Sales-lead rate",
        "rate",
        "up",
        "agent",
        "derived",
        ("leads", "queue_log", "calls-table"),
        N_("Sales leads / handled calls."),
        derive=lambda f, c: _ratio(
            _counted_or_zero(f, "sales_leads"), f.value("handled_calls"), f.sample("handled_calls")
        ),
    ),
    Kpi(
        "attendance_rate",
        "出勤率",
        "Attendance rate",
        "rate",
        "up",
        "agent",
        "schedules",
        ("schedules",),
        N_(
            "Planned shifts worked / planned shifts. A shift counts as worked when no absence "
            "is recorded and, for agents with login data in the period, the agent logged in "
            "during the shift (a roster without times: that day)."
        ),
        lambda t, c: _rate(
            t.absence.isnull() & t.logged_in.fill_null(True), t.planned.fill_null(True)
        ),
    ),
    # --- queues ---
    Kpi(
        "offered",
        "呼入量",
        "Offered",
        "count",
        "neutral",
        "queue",
        "queue_calls",
        INTERACTIONS,
        N_("Calls that entered the queue."),
        lambda t, c: _counted(t.outcome.notnull()),
    ),
    Kpi(
        "answered",
        "接通量",
        "Answered",
        "count",
        "up",
        "queue",
        "queue_calls",
        INTERACTIONS,
        N_(
            "Calls an agent answered (connected), including ones still open at the end of the data."
        ),
        lambda t, c: _counted(t.answer_at.notnull() | _answered(t)),
    ),
    Kpi(
        "abandoned",
        "放弃量",
        "Abandoned",
        "count",
        "down",
        "queue",
        "queue_calls",
        ("queue_log",),
        N_(
            "Callers who hung up while waiting; unknown where the source does not record why a "
            "call went unanswered."
        ),
        lambda t, c: _if_reasons_known(t, _counted(t.outcome == "abandoned")),
    ),
    Kpi(
        "short_abandoned",
        "短时放弃量",
        "Short abandons",
        "count",
        "neutral",
        "queue",
        "queue_calls",
        ("queue_log",),
        N_("Abandons within the short-abandon threshold (default 5 s)."),
        lambda t, c: _if_reasons_known(
            t, _counted((t.outcome == "abandoned") & (t.wait_s <= c.short_abandon_s))
        ),
    ),
    Kpi(
        "timed_out",
        "超时转出量",
        "Timed out",
        "count",
        "down",
        "queue",
        "queue_calls",
        ("queue_log",),
        N_("Callers who left on the queue timeout."),
        lambda t, c: _if_reasons_known(t, _counted(t.outcome == "timeout")),
    ),
    Kpi(
        "asa_s",
        "平均应答速度",
        "Average speed of answer",
        "s",
        "down",
        "both",
        "calls",
        INTERACTIONS,
        N_("Wait until answer / answered calls (abandons excluded)."),
        lambda t, c: _mean(t.wait_s, _answered(t) & t.wait_s.notnull()),
        daily=lambda t: _daily_per_answered(t.asa_s * t.answered, t),
    ),
    Kpi(
        "service_level",
        "服务水平",
        "Service level",
        "rate",
        "up",
        "queue",
        "queue_calls",
        INTERACTIONS,
        N_(
            "Answered within the threshold (default 20 s, inclusive) / (answered + "
            "abandoned - short abandons)."
        ),
        lambda t, c: (
            _count(_answered(t) & (t.wait_s <= c.service_level_s)),
            _count(_answered(t))
            + _count(t.outcome == "abandoned")
            - _count((t.outcome == "abandoned") & (t.wait_s <= c.short_abandon_s)),
            _count(_answered(t) | (t.outcome == "abandoned")),
        ),
    ),
    Kpi(
        "abandon_rate",
        "放弃率",
        "Abandon rate",
        "rate",
        "down",
        "queue",
        "queue_calls",
        ("queue_log",),
        N_("Abandons beyond the short-abandon threshold / calls offered."),
        lambda t, c: _if_reasons_known(
            t,
            (
                _count(
                    (t.outcome == "abandoned") & ~(t.wait_s <= c.short_abandon_s).fill_null(False)
                ),
                _count(t.outcome.notnull()),
                _count(t.outcome.notnull()),
            ),
        ),
    ),
)

BY_ID: dict[str, Kpi] = {kpi.id: kpi for kpi in CATALOG}


def get_kpi(kpi_id: str) -> Kpi:
    """A metric by id."""
    return BY_ID[kpi_id]


@dataclass(frozen=True)
class KpiGroup:
    """Agent KPIs shown together (the sections of a service statistics report); tables group
    their columns by it."""

    id: str
    zh: str
    en: str
    metric_ids: tuple[str, ...]

    def name(self, language: str) -> str:
        """The group's name in the reader's language."""
        return self.zh if language == "zh_Hans" else self.en


# Every agent KPI in exactly one group (a test checks), in the order tables show them.
AGENT_KPI_GROUPS: tuple[KpiGroup, ...] = (
    KpiGroup(
        "volume",
        "工作量",
        "Volume",
        ("handled_calls", "offered_to_agent", "ring_no_answer", "outbound_calls"),
    ),
    KpiGroup(
        "time",
        "响应与时长",
        "Speed and time",
        (
            "asa_s",
            "avg_ring_s",
            "aht_s",
            "avg_talk_s",
            "avg_hold_s",
            "avg_acw_s",
            "total_talk_s",
            "total_handle_s",
        ),
    ),
    KpiGroup(
        "resolution",
        "解决与工单",
        "Resolution and tickets",
        (
            "fcr_rate",
            "fcr_contact_rate",
            "fcr_survey_rate",
            "transfer_rate",
            "short_call_rate",
            "ticket_validity_rate",
        ),
    ),
    KpiGroup(
        "customer",
        "客户评价",
        "Customer feedback",
        ("csat_rate", "csat_avg", "nps", "complaints", "complaint_rate", "praise_count"),
    ),
    KpiGroup(
        "sales",
        "外呼与销售",
        "Outbound and sales",
        (
            "outbound_connect_rate",
            "outbound_success_rate",
            "sales_leads",
            "converted_leads",
            "sales_lead_rate",
        ),
    ),
    KpiGroup(
        "availability",
        "出勤与状态",
        "Attendance and states",
        ("attendance_rate", "login_s", "pause_s", "occupancy", "idle_busy_ratio"),
    ),
)

# The columns a KPI table shows until its reader chooses others: one or two per group, so
# the table fits a laptop's screen.
DEFAULT_AGENT_KPI_COLUMNS: frozenset[str] = frozenset(
    {
        "handled_calls",
        "asa_s",
        "aht_s",
        "fcr_rate",
        "transfer_rate",
        "csat_rate",
        "complaint_rate",
        "sales_lead_rate",
        "attendance_rate",
        "occupancy",
    }
)
