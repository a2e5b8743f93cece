"""The format of Moodle's quiz Grades report: its columns, the grade and question headers, and
how its cells are written (numbers, states, times and durations in English and Chinese)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from agentladder.i18n import N_
from agentladder.imports.spec import CellError, Column
from agentladder.tabular import fold_header

NEEDS_GRADING = "needs grading"  # what a mark cell reads when Moodle waits for a teacher

# --- the columns ----------------------------------------------------------------------------------

IDENTITY_FIELDS = ("idnumber", "username", "email")


def _time_cell(text: str) -> datetime | None:
    """A Moodle time cell as a naive local time ("-": none)."""
    if text.strip() in NONE_CELLS:
        return None
    moment = parse_moodle_time(text)
    if moment is None:
        raise CellError(
            N_("not a date and time (write 5 March 2026, 10:02 AM or 2026-03-05 10:02)")
        )
    return moment


def _mark_cell(text: str) -> float | str | None:
    """A mark cell: a number, None for "-", or NEEDS_GRADING."""
    value = text.strip()
    if value in NONE_CELLS:
        return None
    if fold_header(value) in _NEEDS_GRADING_WORDS:
        return NEEDS_GRADING
    number = parse_number(value)
    if number is None:
        raise CellError(N_("not a mark (write a number such as 0.50, or -)"))
    return number


FIXED_COLUMNS: tuple[Column, ...] = (
    Column(
        "last_name",
        label=N_("Last name"),
        zh=("姓氏", "姓"),
        en=("Last name", "Surname"),
        example="王",
        help=N_("The agent's family name (checked against the roster: a difference is a warning)."),
    ),
    Column(
        "first_name",
        label=N_("First name"),
        zh=("名字", "名"),
        en=("First name",),
        example="芳",
        help=N_("The agent's given name."),
    ),
    Column(
        "idnumber",
        label=N_("ID number"),
        zh=("ID号", "学号", "编号", "工号"),
        en=("ID number", "idnumber"),
        example="100001",
        help=N_("Moodle's ID number: the agent's employee number or an ACD identity."),
    ),
    Column(
        "username",
        label=N_("Username"),
        zh=("用户名",),
        en=("Username",),
        example="100001",
        help=N_("Moodle's username: an employee number, ACD identity or login name."),
    ),
    Column(
        "email",
        label=N_("Email address"),
        zh=("电子邮件", "电子邮件地址", "邮箱", "Email地址"),
        en=("Email address", "Email"),
        example="100001@example.com",
        help=N_("The email: an identity of the agent, or the employee number before @."),
    ),
    Column(
        "institution",
        label=N_("Institution"),
        zh=("机构", "单位"),
        en=("Institution",),
        example="",
        help=N_("Not read."),
    ),
    Column(
        "department",
        label=N_("Department"),
        zh=("部门", "院系"),
        en=("Department",),
        example="",
        help=N_("Not read."),
    ),
    Column(
        "state",
        label=N_("State"),
        zh=("状态",),
        en=("State",),
        example="Finished",
        help=N_("Finished (已完成) rows are imported; the others are skipped."),
        required=True,
        if_empty=N_("the state is empty"),
    ),
    Column(
        "started",
        label=N_("Started on"),
        zh=("开始于", "开始时间", "开始"),
        en=("Started on", "Started"),
        example="5 March 2026, 10:02 AM",
        help=N_("When the attempt started, in the centre's time zone."),
        required=True,
        if_empty=N_("the start time is empty"),
        parse=_time_cell,
    ),
    Column(
        "completed",
        label=N_("Completed"),
        zh=("完成", "完成于", "完成时间", "结束时间"),
        en=("Completed", "Completed on", "Time completed"),
        example="5 March 2026, 10:31 AM",
        help=N_("When the attempt was submitted (empty: Started on plus the duration)."),
        parse=_time_cell,
    ),
    Column(
        "duration",
        label=N_("Duration"),
        zh=("用时", "耗时", "所用时间", "持续时间"),
        en=("Duration", "Time taken"),
        example="29 mins 10 secs",
        help=N_("How long the attempt took (29 mins 10 secs, 29 分钟 10 秒)."),
    ),
)

_GRADE_HEADER = re.compile(
    r"^\s*(?:grade|marks|成绩|分数|得分|评分)\s*/\s*(\S+)\s*$", re.IGNORECASE
)
_QUESTION_HEADER = re.compile(r"^\s*(?:Q|问题|题)\s*[.:：]?\s*(\d+)\s*/\s*(\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionColumn:
    """A `Q. n /max` column: the field it is read into, the slot number and its max mark."""

    name: str
    slot: int
    max_mark: float


@dataclass(frozen=True)
class GradesLayout:
    """What a file's header says beyond the fixed columns: its grade maximum and questions."""

    grade_header: str | None
    grade_max: float | None
    questions: tuple[QuestionColumn, ...]
    columns: tuple[Column, ...]  # the grade and question columns, for the importer


def grades_layout(header: list[str]) -> GradesLayout:
    """Find `Grade/10.00` and the `Q. 1 /1.00` columns in a header (other columns are left to
    the fixed ones). A header whose maximum is not a number is not taken as one."""
    grade_header: str | None = None
    grade_max: float | None = None
    questions: dict[int, QuestionColumn] = {}
    columns: list[Column] = []
    for title in header:
        grade = _GRADE_HEADER.match(title)
        question = _QUESTION_HEADER.match(title)
        if grade and grade_header is None and parse_number(grade.group(1)) is not None:
            grade_header, grade_max = title, parse_number(grade.group(1))
            columns.append(
                Column(
                    "grade",
                    label=N_("Grade"),
                    zh=(title,),
                    en=(title,),
                    example="8.50",
                    parse=_mark_cell,
                )
            )
        elif question and parse_number(question.group(2)) is not None:
            slot = int(question.group(1))
            name = f"q{slot}"
            if slot in questions:  # the same question twice: the pipeline reports the pair
                continue
            questions[slot] = QuestionColumn(name, slot, parse_number(question.group(2)) or 0.0)
            columns.append(
                Column(
                    name,
                    label=f"Q. {slot}",
                    zh=(title,),
                    en=(title,),
                    example="1.00",
                    parse=_mark_cell,
                )
            )
    return GradesLayout(
        grade_header=grade_header,
        grade_max=grade_max,
        questions=tuple(sorted(questions.values(), key=lambda q: q.slot)),
        columns=tuple(columns),
    )


# --- cells --------------------------------------------------------------------------------------

NONE_CELLS = {"", "-", "–", "—"}
_NEEDS_GRADING_WORDS = frozenset(
    fold_header(word)
    for word in (
        "Requires grading",
        "Needs grading",
        "Not yet graded",
        "需要评分",
        "需评分",
        "尚未评分",
        "未评分",
        "待评分",
    )
)
_STATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("finished", ("finished", "已完成", "完成", "已结束", "已提交")),
    ("in_progress", ("inprogress", "进行中", "正在进行")),
    ("overdue", ("overdue", "超时", "逾期", "过期")),
    ("abandoned", ("neversubmitted", "abandoned", "从未提交", "未提交", "放弃")),
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def parse_number(text: str) -> float | None:
    """A number as Moodle writes it (8.50; 8,50 in locales with a decimal comma), else None."""
    value = text.strip().replace(" ", "")
    if "," in value and "." not in value and value.count(",") == 1:
        value = value.replace(",", ".")
    return float(value) if _NUMBER.match(value) else None


def attempt_state(text: str) -> str | None:
    """finished, in_progress, overdue or abandoned from Moodle's State cell, else None."""
    folded = fold_header(text)
    for state, words in _STATES:
        if any(folded.startswith(word) for word in words):
            return state
    return None


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_CLOCK = r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?"
_DAY_MONTH_YEAR = re.compile(
    r"^(?:[A-Za-z]+,?\s+)?(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4}),?\s+" + _CLOCK + "$"
)
_MONTH_DAY_YEAR = re.compile(
    r"^(?:[A-Za-z]+,?\s+)?([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+" + _CLOCK + "$"
)
_CHINESE = re.compile(
    r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*,?\s*(?:(?:星期|周)[一二三四五六日天]\s*,?\s*)?"
    r"(上午|下午|早上|晚上|中午)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$"
)
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _hour(hour: int, meridiem: str | None) -> int:
    """A 12-hour clock's hour on the 24-hour clock (AM/PM, 上午/下午)."""
    if not meridiem:
        return hour
    afternoon = meridiem.lower().startswith("p") or meridiem in ("下午", "晚上")
    if meridiem in ("中午",):
        return hour if hour >= 11 else hour + 12
    return hour % 12 + (12 if afternoon else 0)


def parse_moodle_time(text: str) -> datetime | None:
    """A time as Moodle's reports write it (English, US English, Chinese, ISO), naive local;
    None when it is none of those."""
    value = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    try:
        if match := _DAY_MONTH_YEAR.match(value):
            day, month_name, year, hour, minute, second, meridiem = match.groups()
            month = _MONTHS.get(month_name.lower())
        elif match := _MONTH_DAY_YEAR.match(value):
            month_name, day, year, hour, minute, second, meridiem = match.groups()
            month = _MONTHS.get(month_name.lower())
        elif match := _CHINESE.match(value):
            year, month_text, day, meridiem, hour, minute, second = match.groups()
            month = int(month_text)
        elif match := _ISO.match(value):
            year, month_text, day, hour, minute, second = match.groups()
            month, meridiem = int(month_text), None
        else:
            return None
        if month is None:
            return None
        return datetime(
            int(year),
            month,
            int(day),
            _hour(int(hour), meridiem),
            int(minute),
            int(second or 0),
        )
    except ValueError:  # 31 February, 25:00
        return None


_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(days?|hours?|mins?|minutes?|secs?|seconds?|天|小时|分钟|分|秒)",
    re.IGNORECASE,
)
_DURATION_SECONDS = {
    "day": 86400,
    "天": 86400,
    "hour": 3600,
    "小时": 3600,
    "min": 60,
    "minute": 60,
    "分钟": 60,
    "分": 60,
    "sec": 1,
    "second": 1,
    "秒": 1,
}


def parse_duration(text: str) -> int | None:
    """Moodle's "1 hour 5 mins" / "29 mins 10 secs" / "29 分钟 10 秒" in seconds, else None."""
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip(" ,") != "":
        return None
    total = 0.0
    for number, unit in parts:
        key = unit.lower()
        key = key[:-1] if key.endswith("s") and key[:-1] in _DURATION_SECONDS else key
        total += float(number) * _DURATION_SECONDS[key]
    return round(total)
