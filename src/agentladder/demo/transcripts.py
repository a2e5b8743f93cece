"""Synthetic call transcripts for the demo and the auto-QA benchmark: a home-appliance service
call of a given length, in Chinese or English, whose etiquette follows the agent's latent
skill, recognised with the errors an ASR makes.

How skill shows (each a chance per call, rising with skill in [0, 1]): a full greeting with
company, number and name; an apology to a caller who waited; permission and a reason before a
hold and thanks after it; polite phrases; a closing question; thanks and goodbye; letting the
customer hang up first; a steady speaking rate. Weak agents now and then brush a customer
off with a forbidden phrase. ASR noise (homophones, lost punctuation, run-on turns,
full-width and Chinese digits) does not depend on skill.

Deterministic: everything random comes from the `numpy.random.Generator` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from agentladder.quality.autoqa.schemas import Transcript

Language = Literal["zh", "en"]
COMPANY = {"zh": "安信电器", "en": "Anxin Appliances"}
# Speech rate: Chinese characters or English words a minute, as recognised.
RATE_PER_MIN = {"zh": 240.0, "en": 150.0}
RATE_SD_PER_MIN = {"zh": 25.0, "en": 12.0}
# A turn's pause after the previous one, seconds (uniform between the two).
PAUSE_S = (0.4, 1.4)
# Per turn, how often the recogniser puts in a homophone or writes a number another way.
NOISE_RATE = 0.12
# At skill 0, how often an agent turn starts before the customer has finished.
TALK_OVER_RATE = 0.3

_CHINESE_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH_OFFSET = ord("０") - ord("0")

# Sound-alike characters an ASR confuses (the right one first).
HOMOPHONES_ZH: tuple[tuple[str, str], ...] = (
    ("您好", "您号"),
    ("安信", "安心"),
    ("稍等", "少等"),
    ("再见", "在见"),
    ("帮您", "帮你"),
    ("型号", "行号"),
    ("师傅", "师父"),
    ("已经", "以经"),
)
HOMOPHONES_EN: tuple[tuple[str, str], ...] = (
    ("for", "four"),
    ("to", "two"),
    ("there", "their"),
    ("hold", "hole"),
    ("wait", "weight"),
)


@dataclass(frozen=True)
class SyntheticCallData:
    """What the ACD data would say about the call (hangup_by None: nobody hung up, such as
    a transfer)."""

    ring_s: float
    queue_wait_s: float
    hangup_by: Literal["agent", "customer"] | None


@dataclass(frozen=True)
class SyntheticCall:
    """A generated transcript and its call data."""

    transcript: Transcript
    call: SyntheticCallData


@dataclass(frozen=True)
class _Line:
    speaker: Literal["agent", "customer", "system"]
    text: str
    seconds: float | None = None  # a system turn's fixed length; speech is timed by rate


# --- what is said -----------------------------------------------------------------------------

_PRODUCTS = {
    "zh": ("空调", "冰箱", "洗衣机", "热水器", "油烟机", "电视", "微波炉", "洗碗机"),
    "en": ("air conditioner", "fridge", "washing machine", "water heater", "oven", "dishwasher"),
}
_PROBLEMS = {
    "zh": ("不制冷了", "有异响", "开不了机", "漏水了", "显示故障代码", "按键没反应"),
    "en": ("stopped working", "is making a loud noise", "won't switch on", "is leaking"),
}
_QUESTIONS_ZH = (
    ("请问您是什么时候购买的？", "去年{month}月买的。"),
    ("请问机身侧面的型号是多少？", "型号是{model}。"),
    ("请您先断电五分钟再重新开机试一下。", "好的……还是一样。"),
    ("麻烦您看一下显示屏上有没有代码。", "显示E{digit}。"),
    ("这个情况一般是传感器的问题，需要师傅上门检测。", "上门要收费吗？"),
    ("在保修期内上门和维修都是免费的。", "那挺好。"),
    ("我给您登记一下，请问您的地址是？", "{district}区{street}路{house}号。"),
    ("好的，请问您明天上午方便吗？", "明天上午可以。"),
    ("师傅会提前半小时给您打电话，谢谢您的配合。", "好的好的。"),
    ("请问订单号是多少？", "订单号AX{order}。"),
)
_QUESTIONS_EN = (
    ("When did you buy it?", "In {month_en} last year."),
    ("Could you read me the model number on the side, please?", "It's {model}."),
    ("Please switch it off at the wall for five minutes and try again.", "Okay... no change."),
    ("Is there a code on the display?", "It says E{digit}."),
    ("That usually means a faulty sensor, a technician needs to look at it.", "Will I pay?"),
    ("It's under warranty, so the visit and the repair are free.", "Good."),
    ("Could you give me your address, please?", "{house} {street_en} Road."),
    ("Would tomorrow morning suit you?", "Tomorrow morning is fine."),
    ("The technician will call you half an hour before arriving.", "Great."),
    ("What is the order number?", "It's AX{order}."),
)
_FORBIDDEN = {
    "zh": ("这个我也不知道。", "这是规定，我也没办法。", "这个不归我管。", "你听不懂吗？"),
    "en": ("I don't know.", "That's the policy.", "That's not my department.", "Not my problem."),
}
_MONTHS_EN = ("March", "April", "May", "June", "July", "August")


def _chance(rng: np.random.Generator, probability: float) -> bool:
    return bool(rng.random() < probability)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _fill(rng: np.random.Generator, template: str) -> str:
    return template.format(
        month=int(rng.integers(1, 13)),
        month_en=_pick(rng, _MONTHS_EN),
        model=f"KFR-{int(rng.integers(23, 73))}GW",
        digit=int(rng.integers(1, 10)),
        district=_pick(rng, ("东城", "西湖", "滨江", "拱墅")),
        street=_pick(rng, ("文三", "解放", "建国", "凤起")),
        street_en=_pick(rng, ("Park", "Station", "Lake", "Hill")),
        house=int(rng.integers(1, 300)),
        order=f"{int(rng.integers(10**7, 10**8))}",
    )


def _greeting(
    rng: np.random.Generator, language: Language, skill: float, agent_no: str, name: str
) -> str:
    company = COMPANY[language]
    full = _chance(rng, 0.55 + 0.43 * skill)
    if language == "zh":
        if full:
            return f"您好，{company}{agent_no}号客服{name}，很高兴为您服务，请问有什么可以帮您？"
        return _pick(
            rng, ("您好，请问有什么可以帮您？", f"{company}，请讲。", f"您好，我是{name}。")
        )
    if full:
        return f"Hello, {company}, {name}, agent {agent_no}, how can I help you?"
    return _pick(rng, ("Hello, how can I help?", f"{company}, go ahead.", f"Hi, {name} here."))


def _opening(
    rng: np.random.Generator,
    language: Language,
    skill: float,
    late: bool,
    agent_no: str,
    name: str,
) -> list[_Line]:
    product, problem = _pick(rng, _PRODUCTS[language]), _pick(rng, _PROBLEMS[language])
    greeting = _greeting(rng, language, skill, agent_no, name)
    says_waited = late and _chance(rng, 0.4)
    if language == "zh":
        waited = "我等了好久才打通，" if says_waited else "你好，"
        complaint = f"{waited}我家{product}{problem}。"
        apology = "不好意思让您久等了，" if late and _chance(rng, 0.3 + 0.65 * skill) else ""
        reply = f"{apology}请问{product}是什么时候开始{problem}的？"
    else:
        waited = "I've been waiting for ages, " if says_waited else "Hi, "
        complaint = f"{waited}my {product} {problem}."
        apology = "Sorry for the wait. " if late and _chance(rng, 0.3 + 0.65 * skill) else ""
        reply = f"{apology}When did the {product} start this?"
    return [_Line("agent", greeting), _Line("customer", complaint), _Line("agent", reply)]


# Polite words a curt agent leaves out of the questions.
_CURT = {"zh": ("请问", "请您", "麻烦您", "谢谢您的配合"), "en": (", please", " please")}


def _polite(rng: np.random.Generator, language: Language, skill: float, text: str) -> str:
    """The agent's sentence: weak agents drop its polite words, better ones add some."""
    if _chance(rng, 0.8 * (1 - skill)):
        for word in _CURT[language]:
            text = text.replace(word, "")
        return text
    if not _chance(rng, 0.15 + 0.5 * skill):
        return text
    if language == "zh":
        return _pick(rng, ("好的，谢谢您，", "麻烦您，", "不好意思，")) + text
    return _pick(rng, ("Thank you. ", "Sorry, ", "I appreciate that. ")) + text


def _hold(rng: np.random.Generator, language: Language, skill: float) -> list[_Line]:
    zh = language == "zh"
    if _chance(rng, 0.4 + 0.55 * skill):
        ask = "请您稍等，我帮您查一下。" if zh else "Could you hold for a moment while I check?"
    else:
        ask = _pick(rng, ("等一下。", "我看看。")) if zh else _pick(rng, ("Hold on.", "Wait."))
    if _chance(rng, 0.45 + 0.5 * skill):
        back = "感谢您的耐心等待，查到了。" if zh else "Thank you for holding, I found it."
    else:
        back = "查到了。" if zh else "Okay, found it."
    music = "（等待音乐）" if zh else "(hold music)"
    return [
        _Line("agent", ask),
        _Line("customer", "好。" if zh else "Sure."),
        _Line("system", music, float(rng.uniform(20, 90))),
        _Line("agent", back),
    ]


def _middle(
    rng: np.random.Generator, language: Language, skill: float, seconds: float, rates: _Rates
) -> list[_Line]:
    """Questions and answers filling about `seconds`, with perhaps a hold and a brush-off."""
    bank = _QUESTIONS_ZH if language == "zh" else _QUESTIONS_EN
    lines: list[_Line] = []
    spent = 0.0
    hold_at = rng.uniform(0.2, 0.7) * seconds if _chance(rng, 0.35) else None
    brush_off = _chance(rng, 0.3 * (1 - skill) ** 2)
    # The questions in a shuffled order, a new order once all were asked (no question twice in
    # a row within one pass).
    order: list[int] = []
    while spent < seconds:
        if hold_at is not None and spent >= hold_at:
            hold = _hold(rng, language, skill)
            lines += hold
            spent += sum(line.seconds or 4.0 for line in hold)
            hold_at = None
            continue
        if not order:
            order = [int(i) for i in rng.permutation(len(bank))]
        question, answer = bank[order.pop()]
        said = _polite(rng, language, skill, _fill(rng, question))
        if brush_off and _chance(rng, 0.2):
            said, brush_off = _pick(rng, _FORBIDDEN[language]) + said, False
        heard = _fill(rng, answer)
        lines += [_Line("agent", said), _Line("customer", heard)]
        spent += rates.seconds(said, language, "agent") + rates.seconds(heard, language, "customer")
        spent += PAUSE_S[0] + PAUSE_S[1]
    return lines


def _closing(rng: np.random.Generator, language: Language, skill: float) -> list[_Line]:
    zh = language == "zh"
    lines: list[_Line] = []
    if _chance(rng, 0.5 + 0.48 * skill):
        question = "请问还有什么可以帮您？" if zh else "Is there anything else I can help you with?"
        lines += [_Line("agent", question), _Line("customer", "没有了。" if zh else "No, thanks.")]
    thanks, goodbye = _chance(rng, 0.55 + 0.43 * skill), _chance(rng, 0.6 + 0.38 * skill)
    if zh:
        parts = ["感谢您的来电" if thanks else "好的", "再见" if goodbye else "就这样"]
        lines.append(_Line("agent", "，".join(parts) + "。"))
    else:
        parts = [
            "Thank you for calling" if thanks else "Okay",
            "goodbye" if goodbye else "that's all",
        ]
        lines.append(_Line("agent", ", ".join(parts) + "."))
    return lines


# --- how it is recognised ---------------------------------------------------------------------


def _digits_spoken(text: str, style: str) -> str:
    """Arabic digits written full width or as Chinese digits (as read out)."""
    if style == "full":
        return "".join(
            chr(ord(c) + _FULL_WIDTH_OFFSET) if c.isascii() and c.isdigit() else c for c in text
        )
    return "".join(_CHINESE_DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in text)


def _recognised(rng: np.random.Generator, language: Language, text: str) -> str:
    """One turn as an ASR might write it."""
    if not _chance(rng, NOISE_RATE * 3):
        return text
    kind = int(rng.integers(3))
    if kind == 0:
        pairs = HOMOPHONES_ZH if language == "zh" else HOMOPHONES_EN
        present = [pair for pair in pairs if pair[0] in text]
        if present:
            right, wrong = present[int(rng.integers(len(present)))]
            return text.replace(right, wrong, 1)
    if kind == 1 and language == "zh" and any(c.isdigit() for c in text):
        return _digits_spoken(text, "full" if _chance(rng, 0.5) else "chinese")
    return text


def _strip_punctuation(text: str, language: Language) -> str:
    if language == "zh":
        return "".join(c for c in text if c not in "，。？！、；：")
    return "".join(c for c in text if c not in ",.?!;:")


def _run_on(rng: np.random.Generator, lines: list[_Line]) -> list[_Line]:
    """Now and then two agent turns with nothing between come out as one."""
    merged: list[_Line] = []
    for line in lines:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.speaker == "agent"
            and line.speaker == "agent"
            and _chance(rng, 0.5)
        ):
            merged[-1] = _Line("agent", previous.text + line.text)
        else:
            merged.append(line)
    return merged


# --- timing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rates:
    """The call's speaking rates, units (characters or words) a minute."""

    agent: float
    customer: float

    @classmethod
    def draw(cls, rng: np.random.Generator, language: Language, skill: float) -> _Rates:
        # Weak agents drift further from the usual rate (too fast or too slow).
        spread = RATE_SD_PER_MIN[language]
        drift = float(rng.normal(0, spread * (1 + 2.5 * (1 - skill))))
        customer = float(rng.normal(RATE_PER_MIN[language], spread))
        return cls(max(60.0, RATE_PER_MIN[language] + drift), max(60.0, customer))

    def seconds(self, text: str, language: Language, speaker: str) -> float:
        units = len(text) if language == "zh" else max(1, len(text.split()))
        return max(0.5, units * 60.0 / (self.agent if speaker == "agent" else self.customer))


def _timed(
    rng: np.random.Generator, language: Language, skill: float, rates: _Rates, lines: list[_Line]
) -> list[dict[str, object]]:
    """Turns with start and end seconds: speech at a speaking rate, pauses between turns, and
    (weaker agents more often) an agent turn that starts before the customer has finished."""
    turns: list[dict[str, object]] = []
    clock = float(rng.uniform(0.3, 1.0))
    previous_end = 0.0
    for line in lines:
        seconds = line.seconds or rates.seconds(line.text, language, line.speaker)
        start = clock
        if (
            turns
            and line.speaker == "agent"
            and turns[-1]["speaker"] == "customer"
            and _chance(rng, TALK_OVER_RATE * (1 - skill))
        ):
            overlap_s = float(rng.uniform(0.5, 3.0))
            start = max(float(turns[-1]["start_s"]), previous_end - overlap_s)  # type: ignore[arg-type]
        end = start + seconds
        turns.append(
            {"speaker": line.speaker, "start_s": round(start, 1), "end_s": round(end, 1)}
            | {"text": line.text}
        )
        previous_end = max(previous_end, end)
        clock = previous_end + float(rng.uniform(*PAUSE_S))
    return turns


def synthetic_transcript(
    rng: np.random.Generator,
    *,
    call_id: str,
    agent_no: str,
    agent_name: str,
    skill: float,
    duration_s: float,
    language: Language = "zh",
    recorded: SyntheticCallData | None = None,
) -> SyntheticCall:
    """A call of about `duration_s` seconds whose etiquette follows `skill` (0-1), with ASR
    noise, and the call data the ACD would hold for it: `recorded` when the ACD data already
    holds the call (the transcript agrees with it), else drawn from `skill`."""
    if not 0 <= skill <= 1:
        raise ValueError("skill must be in [0, 1]")
    if recorded is None:
        ring_s = round(float(rng.gamma(2.0, 2.0 + 2.0 * (1 - skill))), 1)
        queue_wait_s = round(float(rng.exponential(18.0)), 1)
    else:
        ring_s, queue_wait_s = recorded.ring_s, recorded.queue_wait_s
    late = ring_s > 6 or queue_wait_s > 30
    lines = _opening(rng, language, skill, late, agent_no, agent_name)
    closing = _closing(rng, language, skill)
    rates = _Rates.draw(rng, language, skill)
    used = sum(rates.seconds(line.text, language, line.speaker) + 1 for line in lines + closing)
    lines += _middle(rng, language, skill, max(0.0, duration_s - used), rates)
    lines += closing
    lines = _run_on(rng, lines)
    no_punctuation = _chance(rng, NOISE_RATE)
    recognised = [
        _Line(
            line.speaker,
            _strip_punctuation(_recognised(rng, language, line.text), language)
            if no_punctuation
            else _recognised(rng, language, line.text),
            line.seconds,
        )
        for line in lines
    ]
    turns = _timed(rng, language, skill, rates, recognised)
    hangup_by: Literal["agent", "customer"] | None
    if recorded is None:
        hangup_by = "agent" if _chance(rng, 0.35 * (1 - skill)) else "customer"
    else:
        hangup_by = recorded.hangup_by
    transcript = Transcript.model_validate(
        {
            "call_id": call_id,
            "agent": agent_no,
            "language": language,
            "hangup_by": hangup_by,
            "turns": turns,
        }
    )
    return SyntheticCall(transcript, SyntheticCallData(ring_s, queue_wait_s, hangup_by))
