"""The demo centre's question bank: bilingual questions about 安信 (Anxin), the company whose
hotline the demo centre answers: its appliances (the transcripts' repair calls) and its
broadband and 5G plans (the sales queue's campaigns), its service rules (the phrases the QA
form and the auto-QA rules check), selling, and the ladder's own rules.

Every question is generated from the facts below, so its answer is right by construction and
variants (one per plan, product, campaign, usage...) are distinct questions. The four top
categories are the four certification areas; each holds sub-categories. Texts read Chinese
first, then English: a stem on two lines, names, options and pairs as "中文 / English".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agentladder.demo.evidence import CAMPAIGNS
from agentladder.training.questions.schemas import Difficulty, Question

# The four areas (top categories), each with the certification its exam awards.
PRODUCT = "产品知识 Product knowledge"
SERVICE = "服务技能 Service skill"
SALES = "销售技能 Sales skill"
COMPREHENSIVE = "综合能力 Comprehensive"
AREAS: tuple[str, ...] = (PRODUCT, SERVICE, SALES, COMPREHENSIVE)

BROADBAND = (PRODUCT, "宽带 Broadband")
MOBILE = (PRODUCT, "5G套餐 Mobile plans")
APPLIANCES = (PRODUCT, "家电服务 Appliance service")
BILLING = (PRODUCT, "账单与缴费 Billing")
ETIQUETTE = (SERVICE, "服务礼仪 Etiquette")
HOLD = (SERVICE, "保持与结束 Hold and closing")
COMPLAINTS = (SERVICE, "投诉处理 Complaints")
QA_STANDARDS = (SERVICE, "质检标准 QA standards")
DISCOVERY = (SALES, "需求挖掘 Needs discovery")
RECOMMENDING = (SALES, "产品推荐 Recommendation")
OBJECTIONS = (SALES, "异议处理 Objections")
CAMPAIGN_CATEGORY = (SALES, "营销活动 Campaigns")
COMPLIANCE = (SALES, "营销合规 Compliance")
LADDER_RULES = (COMPREHENSIVE, "晋级制度 Ladder rules")
CERTIFICATES = (COMPREHENSIVE, "认证制度 Certification")
CASES = (COMPREHENSIVE, "案例分析 Case studies")

# --- the facts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BroadbandPlan:
    mbps: int
    monthly: int  # yuan


@dataclass(frozen=True)
class MobilePlan:
    zh: str
    en: str
    monthly: int  # yuan
    data_gb: int
    minutes: int


@dataclass(frozen=True)
class Appliance:
    zh: str
    en: str
    warranty_years: int  # the whole unit
    part_zh: str
    part_en: str
    part_years: int  # its core part


BROADBAND_PLANS = (
    BroadbandPlan(100, 59),
    BroadbandPlan(300, 89),
    BroadbandPlan(500, 129),
    BroadbandPlan(1000, 199),
)
INSTALL_FEE = 100  # yuan, waived with a contract of CONTRACT_MONTHS
CONTRACT_MONTHS = 12
INSTALL_HOURS_CITY, INSTALL_HOURS_TOWN = 48, 72
REPAIR_HOURS, REPAIR_HOURS_VIP = 24, 4
UPGRADE_HOURS = 2
EARLY_TERMINATION_SHARE = 0.3  # of the fees of the contract's remaining months

MOBILE_PLANS = (
    MobilePlan("5G畅享59", "5G Enjoy 59", 59, 30, 200),
    MobilePlan("5G畅享99", "5G Enjoy 99", 99, 60, 500),
    MobilePlan("5G尊享159", "5G Premium 159", 159, 120, 1000),
    MobilePlan("5G至尊239", "5G Supreme 239", 239, 200, 2000),
)
DATA_OVERAGE_PER_GB = 3.0  # yuan
VOICE_OVERAGE_PER_MIN = 0.15  # yuan
BUNDLE_FROM = 99  # 5G plans from this fee include 300M broadband
SECONDARY_CARD_FEE = 10  # yuan a month per secondary card, at most MAX_SECONDARY_CARDS
MAX_SECONDARY_CARDS = 4

APPLIANCES_LIST = (
    Appliance("空调", "air conditioner", 6, "压缩机", "compressor", 10),
    Appliance("冰箱", "fridge", 3, "压缩机", "compressor", 10),
    Appliance("洗衣机", "washing machine", 3, "电机", "motor", 10),
    Appliance("热水器", "water heater", 3, "内胆", "inner tank", 8),
    Appliance("油烟机", "range hood", 3, "电机", "motor", 5),
    Appliance("电视", "TV", 1, "屏幕", "panel", 3),
    Appliance("微波炉", "microwave", 1, "磁控管", "magnetron", 3),
    Appliance("洗碗机", "dishwasher", 2, "电机", "motor", 5),
)
RETURN_DAYS, EXCHANGE_DAYS = 7, 15
ONSITE_HOURS_CITY, ONSITE_HOURS_COUNTY = 24, 48
VISIT_FEE = 50  # yuan, out of warranty
FREE_PIPE_M, PIPE_PER_M = 3, 80  # air conditioner installation: free copper pipe, then yuan/m

BILL_DAY, DUE_DAY = 1, 20
LATE_FEE_PER_DAY = 0.003  # of the amount owed
REFUND_WORKING_DAYS = 7

# Outbound sales calls only between these hours (the centre's rule).
OUTBOUND_FROM_HOUR, OUTBOUND_UNTIL_HOUR = 9, 20

# The auto-QA rules' figures (quality/autoqa/default_rules.yaml).
GREETING_WITHIN_S = 10
SECONDS_PER_RING, MAX_RINGS = 3, 2
LATE_APOLOGY_AFTER_S = 30
HOLD_GAP_S = 20
MIN_POLITE_PHRASES = 3
MAX_SILENCE_PERCENT, MAX_TALK_OVER_PERCENT = 25, 10
SPEAKING_RATE_ZH = (150, 330)
FORBIDDEN = (
    ("我不知道", "I don't know"),
    ("不归我管", "It's not my department"),
    ("这是规定", "Those are the rules"),
    ("你听不懂吗", "Can't you understand?"),
    ("我也没办法", "There's nothing I can do"),
    ("你自己看着办", "Sort it out yourself"),
    ("爱投诉就投诉", "Complain if you like"),
    ("跟你说了多少遍", "How many times have I told you"),
)
PROPER = (
    ("请您稍等，我帮您查询一下", "Please hold, I'll check that for you"),
    ("不好意思，让您久等了", "Sorry to keep you waiting"),
    ("感谢您的耐心等待", "Thank you for your patience"),
    ("请问还有什么可以帮您？", "Is there anything else I can help with?"),
    ("感谢您的来电，再见", "Thank you for calling, goodbye"),
    ("非常理解您的心情", "I completely understand how you feel"),
)
# The default QA form's sections and weights (quality/default_form.yaml).
QA_SECTIONS = (
    ("服务态度与礼仪", "Courtesy and manner", 25),
    ("沟通与问题处理", "Communication and handling", 25),
    ("专业能力", "Professional competence", 20),
    ("过程监督", "Process monitoring", 20),
    ("致命错误", "Fatal errors", 10),
)

# The ladder's default policy (ladder/policy/default_policy.yaml).
COMPONENTS = (
    ("服务", "service", 40),
    ("质量", "quality", 35),
    ("培训", "training", 15),
    ("知识", "knowledge", 10),
)
LEVEL_ENTRY = (  # level zh, en, minimum composite, minimum tenure (months)
    ("初级座席·二级", "Basic Sophomore", 55, 2),
    ("初级座席·三级", "Basic Junior", 60, 3),
    ("初级座席·四级", "Basic Senior", 65, 3),
    ("中级座席·潜力", "Potential Agent", 70, 4),
    ("中级座席·发展", "Developing Agent", 75, 4),
    ("中级座席·熟练", "Skilled Agent", 80, 6),
    ("高级座席·专家", "Expert Agent", 85, 6),
    ("高级座席·超级", "Super Agent", 90, 12),
)
# How many months each certificate the demo's exams award stays valid (its programme's).
VALIDITY_MONTHS = {
    "product_knowledge": 6,
    "service_skill": 12,
    "sales_skill": 6,
    "comprehensive": 24,
}
CERT_NAMES = {
    "product_knowledge": ("产品知识认证", "Product knowledge"),
    "service_skill": ("服务技能认证", "Service skill"),
    "sales_skill": ("销售技能认证", "Sales skill"),
    "comprehensive": ("综合能力认证", "Comprehensive ability"),
}
EXPIRING_SOON_DAYS = 60

# --- building questions ------------------------------------------------------------------------


def bi(zh: str, en: str) -> str:
    """A short text in both languages, as options and names read."""
    return f"{zh} / {en}"


def _stem(zh: str, en: str) -> str:
    return f"{zh}\n{en}"


def _money(value: float) -> str:
    return f"{value:g}"


def _base(
    kind: str,
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    explanation: tuple[str, str],
) -> dict[str, object]:
    return {
        "type": kind,
        "idnumber": idnumber,
        "name": bi(*name),
        "text": _stem(*text),
        "category": category,
        "difficulty": difficulty,
        "tags": (idnumber.split("-", 1)[0], "demo"),
        "explanation": _stem(*explanation),
    }


def single(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    right: str,
    wrong: Sequence[str],
    explanation: tuple[str, str],
) -> Question:
    """A single-choice question: one right option, the others worth nothing."""
    fields = _base("single_choice", idnumber, category, difficulty, name, text, explanation)
    fields["choices"] = [{"text": right, "fraction": 1.0}] + [
        {"text": option, "fraction": 0.0} for option in wrong if option != right
    ]
    return Question.model_validate(fields)


def multiple(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    right: Sequence[str],
    wrong: Sequence[str],
    explanation: tuple[str, str],
) -> Question:
    """A multiple-choice question with partial credit: each right option an equal share, each
    wrong one takes a share back."""
    fields = _base("multiple_choice", idnumber, category, difficulty, name, text, explanation)
    share = 1 / len(right)
    fields["choices"] = [{"text": option, "fraction": share} for option in right] + [
        {"text": option, "fraction": -share} for option in wrong
    ]
    return Question.model_validate(fields)


def true_false(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    answer: bool,
    explanation: tuple[str, str],
) -> Question:
    """A true/false statement."""
    fields = _base("true_false", idnumber, category, difficulty, name, text, explanation)
    fields["correct_answer"] = answer
    return Question.model_validate(fields)


def short(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    accepted: Sequence[str],
    explanation: tuple[str, str],
) -> Question:
    """A short-answer question: the first accepted answer is the model one (no wildcard)."""
    fields = _base("short_answer", idnumber, category, difficulty, name, text, explanation)
    fields["choices"] = [{"text": answer, "fraction": 1.0} for answer in accepted]
    return Question.model_validate(fields)


def numerical(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    value: float,
    explanation: tuple[str, str],
    tolerance: float = 0.0,
) -> Question:
    """A number to type, right within `tolerance`."""
    fields = _base("numerical", idnumber, category, difficulty, name, text, explanation)
    fields["numeric_answers"] = [{"value": value, "tolerance": tolerance, "fraction": 1.0}]
    return Question.model_validate(fields)


def matching(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    pairs: Sequence[tuple[str, str]],
    explanation: tuple[str, str],
) -> Question:
    """Prompts to match with their answers (a share of the mark per prompt)."""
    fields = _base("matching", idnumber, category, difficulty, name, text, explanation)
    fields["pairs"] = [{"prompt": prompt, "answer": answer} for prompt, answer in pairs]
    return Question.model_validate(fields)


def ordering(
    idnumber: str,
    category: tuple[str, ...],
    difficulty: Difficulty,
    name: tuple[str, str],
    text: tuple[str, str],
    items: Sequence[str],
    explanation: tuple[str, str],
) -> Question:
    """Items to put in order (a share of the mark per item in its place)."""
    fields = _base("ordering", idnumber, category, difficulty, name, text, explanation)
    fields["order"] = list(items)
    return Question.model_validate(fields)


def essay(
    idnumber: str,
    category: tuple[str, ...],
    name: tuple[str, str],
    text: tuple[str, str],
    grader_info: str,
    explanation: tuple[str, str],
) -> Question:
    """An essay a trainer marks (5 marks by default; exams set the slot's mark)."""
    fields = _base("essay", idnumber, category, "hard", name, text, explanation)
    fields["grader_info"] = grader_info
    fields["default_mark"] = 5
    return Question.model_validate(fields)


# --- product knowledge -------------------------------------------------------------------------


def _broadband() -> Iterator[Question]:
    prices = [bi(f"{p.monthly}元/月", f"{p.monthly} yuan a month") for p in BROADBAND_PLANS]
    for index, plan in enumerate(BROADBAND_PLANS):
        yield single(
            f"PK-BB-PRICE-{plan.mbps}",
            BROADBAND,
            "easy",
            (f"宽带{plan.mbps}M月费", f"Broadband {plan.mbps}M fee"),
            (
                f"安信宽带{plan.mbps}M套餐的月费是多少？",
                f"What is the monthly fee of the Anxin Broadband {plan.mbps}M plan?",
            ),
            prices[index],
            prices,
            (
                f"安信宽带{plan.mbps}M月费{plan.monthly}元。",
                f"Anxin Broadband {plan.mbps}M costs {plan.monthly} yuan a month.",
            ),
        )
        # Every other statement names the next plan's fee: a false one to spot.
        stated = plan if index % 2 == 0 else BROADBAND_PLANS[(index + 1) % len(BROADBAND_PLANS)]
        yield true_false(
            f"PK-BB-TF-{plan.mbps}",
            BROADBAND,
            "easy",
            (f"宽带{plan.mbps}M资费判断", f"Broadband {plan.mbps}M fee, true or false"),
            (
                f"安信宽带{plan.mbps}M套餐月费为{stated.monthly}元。",
                f"The Anxin Broadband {plan.mbps}M plan costs {stated.monthly} yuan a month.",
            ),
            stated is plan,
            (
                f"{plan.mbps}M月费为{plan.monthly}元。",
                f"{plan.mbps}M costs {plan.monthly} yuan a month.",
            ),
        )
    for idnumber, difficulty, name, text, value, explanation in (
        (
            "PK-BB-INSTALL-CITY",
            "easy",
            ("城区宽带安装时限", "Broadband installation in town"),
            (
                "城区新装宽带，受理后最迟多少小时内上门安装？",
                "Within how many hours of the order is new broadband installed in a city?",
            ),
            INSTALL_HOURS_CITY,
            ("城区48小时、乡镇72小时内上门安装。", "48 hours in cities, 72 in townships."),
        ),
        (
            "PK-BB-INSTALL-TOWN",
            "medium",
            ("乡镇宽带安装时限", "Broadband installation in townships"),
            (
                "乡镇新装宽带，受理后最迟多少小时内上门安装？",
                "Within how many hours of the order is new broadband installed in a township?",
            ),
            INSTALL_HOURS_TOWN,
            ("城区48小时、乡镇72小时内上门安装。", "48 hours in cities, 72 in townships."),
        ),
        (
            "PK-BB-REPAIR",
            "medium",
            ("宽带故障修复时限", "Broadband repair time"),
            (
                "普通客户的宽带故障，承诺多少小时内修复？",
                "Within how many hours is a broadband fault repaired for an ordinary customer?",
            ),
            REPAIR_HOURS,
            ("普通客户24小时内修复，VIP客户4小时内上门。", "24 hours; VIP customers 4 hours."),
        ),
        (
            "PK-BB-REPAIR-VIP",
            "medium",
            ("VIP宽带上门时限", "VIP broadband visit"),
            (
                "VIP客户报宽带故障，维修人员最迟多少小时内上门？",
                "Within how many hours does a technician visit a VIP customer's broadband fault?",
            ),
            REPAIR_HOURS_VIP,
            ("VIP客户4小时内上门。", "VIP customers get a visit within 4 hours."),
        ),
        (
            "PK-BB-UPGRADE",
            "medium",
            ("宽带提速生效", "Speed upgrade"),
            (
                "宽带提速办理成功后，最迟多少小时内生效？",
                "Within how many hours does a broadband speed upgrade take effect?",
            ),
            UPGRADE_HOURS,
            ("提速2小时内生效，无需上门。", "Within 2 hours, with no visit needed."),
        ),
        (
            "PK-BB-FEE",
            "easy",
            ("宽带安装费", "Installation fee"),
            (
                "不签合约新装宽带，安装费是多少元？",
                "How many yuan is the installation fee for new broadband without a contract?",
            ),
            INSTALL_FEE,
            (
                f"安装费{INSTALL_FEE}元；签订{CONTRACT_MONTHS}个月合约免收。",
                f"{INSTALL_FEE} yuan, waived with a {CONTRACT_MONTHS}-month contract.",
            ),
        ),
        (
            "PK-BB-CONTRACT",
            "medium",
            ("免安装费的合约期", "Contract that waives the fee"),
            (
                "新装宽带签订至少多少个月的合约可免安装费？",
                "How many months must a broadband contract run to waive the installation fee?",
            ),
            CONTRACT_MONTHS,
            (
                f"签订{CONTRACT_MONTHS}个月合约免收{INSTALL_FEE}元安装费。",
                f"A {CONTRACT_MONTHS}-month contract waives the {INSTALL_FEE} yuan fee.",
            ),
        ),
    ):
        yield numerical(idnumber, BROADBAND, difficulty, name, text, value, explanation)  # type: ignore[arg-type]
    for plan, remaining in zip(BROADBAND_PLANS, (10, 5, 8, 3), strict=True):
        fee = round(plan.monthly * remaining * EARLY_TERMINATION_SHARE, 2)
        yield numerical(
            f"PK-BB-TERM-{plan.mbps}",
            BROADBAND,
            "hard",
            (f"{plan.mbps}M提前解约违约金", f"{plan.mbps}M early termination"),
            (
                f"客户的宽带{plan.mbps}M合约还剩{remaining}个月，现在提前解约，违约金是多少元？",
                f"A customer's {plan.mbps}M contract has {remaining} months left. How many "
                "yuan is the early termination fee?",
            ),
            fee,
            (
                f"违约金为剩余月份月费的30%：{plan.monthly}×{remaining}×30% = {_money(fee)}元。",
                f"30 % of the remaining months' fees: {plan.monthly} x {remaining} x 30 % = "
                f"{_money(fee)} yuan.",
            ),
            tolerance=0.01,
        )
    yield matching(
        "PK-BB-MATCH",
        BROADBAND,
        "medium",
        ("宽带速率与月费", "Broadband speeds and fees"),
        ("请将宽带套餐与月费配对。", "Match each broadband plan with its monthly fee."),
        [(f"{p.mbps}M", bi(f"{p.monthly}元", f"{p.monthly} yuan")) for p in BROADBAND_PLANS],
        (
            "100M 59元，300M 89元，500M 129元，1000M 199元。",
            "100M 59, 300M 89, 500M 129, 1000M 199 yuan.",
        ),
    )
    yield ordering(
        "PK-BB-INSTALL-FLOW",
        BROADBAND,
        "medium",
        ("宽带新装流程", "New broadband, step by step"),
        ("请按先后顺序排列宽带新装流程。", "Put the steps of a new broadband order in order."),
        [
            bi("受理订单", "Take the order"),
            bi("核查端口资源", "Check the line is available"),
            bi("预约上门时间", "Book the visit"),
            bi("上门安装", "Install"),
            bi("测速验收", "Test the speed with the customer"),
        ],
        (
            "先受理并核查资源，再预约、安装，最后与客户一起测速验收。",
            "Take the order and check the line, book, install, then test with the customer.",
        ),
    )


def _mobile() -> Iterator[Question]:
    data = [bi(f"{p.data_gb}GB", f"{p.data_gb} GB") for p in MOBILE_PLANS]
    minutes = [bi(f"{p.minutes}分钟", f"{p.minutes} minutes") for p in MOBILE_PLANS]
    for index, plan in enumerate(MOBILE_PLANS):
        yield single(
            f"PK-MB-DATA-{plan.monthly}",
            MOBILE,
            "easy",
            (f"{plan.zh}流量", f"{plan.en} data"),
            (
                f"{plan.zh}套餐每月包含多少国内流量？",
                f"How much domestic data a month does the {plan.en} plan include?",
            ),
            data[index],
            data,
            (f"{plan.zh}含{plan.data_gb}GB流量。", f"{plan.en} includes {plan.data_gb} GB."),
        )
        yield single(
            f"PK-MB-MIN-{plan.monthly}",
            MOBILE,
            "medium" if index % 2 else "easy",
            (f"{plan.zh}通话分钟", f"{plan.en} minutes"),
            (
                f"{plan.zh}套餐每月包含多少分钟国内通话？",
                f"How many minutes of domestic calls a month does {plan.en} include?",
            ),
            minutes[index],
            minutes,
            (f"{plan.zh}含{plan.minutes}分钟。", f"{plan.en} includes {plan.minutes} minutes."),
        )
    for number, (plan_index, used_gb, used_min) in enumerate(
        ((0, 45, 150), (1, 70, 620), (0, 32, 260), (2, 130, 900), (1, 58, 540), (3, 210, 2100)),
        start=1,
    ):
        plan = MOBILE_PLANS[plan_index]
        extra_gb, extra_min = max(0, used_gb - plan.data_gb), max(0, used_min - plan.minutes)
        bill = round(
            plan.monthly + extra_gb * DATA_OVERAGE_PER_GB + extra_min * VOICE_OVERAGE_PER_MIN, 2
        )
        yield numerical(
            f"PK-MB-BILL-{number}",
            MOBILE,
            "hard" if extra_gb and extra_min else "medium",
            (f"超套餐账单{number}", f"Bill with overage {number}"),
            (
                f"客户使用{plan.zh}，本月用了{used_gb}GB流量、{used_min}分钟通话，本月账单是多少元？"
                "（超出流量3元/GB，超出通话0.15元/分钟）",
                f"A customer on {plan.en} used {used_gb} GB and {used_min} minutes this month. "
                "What is the bill in yuan? (Extra data 3 yuan/GB, extra calls 0.15 yuan/min.)",
            ),
            bill,
            (
                f"{plan.monthly} + {extra_gb}×3 + {extra_min}×0.15 = {_money(bill)}元。",
                f"{plan.monthly} + {extra_gb} x 3 + {extra_min} x 0.15 = {_money(bill)} yuan.",
            ),
            tolerance=0.01,
        )
    for plan_index, cards in ((1, 3), (0, 2), (2, 4)):
        plan = MOBILE_PLANS[plan_index]
        total = plan.monthly + cards * SECONDARY_CARD_FEE
        yield numerical(
            f"PK-MB-FAMILY-{plan.monthly}-{cards}",
            MOBILE,
            "medium",
            (f"{plan.zh}加{cards}张副卡", f"{plan.en} with {cards} extra SIMs"),
            (
                f"客户使用{plan.zh}并办理{cards}张副卡，每月共付多少元？",
                f"A customer on {plan.en} adds {cards} secondary SIMs. How many yuan a month in "
                "all?",
            ),
            total,
            (
                f"副卡每张{SECONDARY_CARD_FEE}元/月，共享主卡流量：{plan.monthly}+{cards}×10={total}。",
                f"{SECONDARY_CARD_FEE} yuan per secondary SIM, sharing the plan: {total} yuan.",
            ),
        )
    yield multiple(
        "PK-MB-BUNDLE",
        MOBILE,
        "medium",
        ("融合宽带权益", "Broadband included"),
        ("以下哪些5G套餐赠送300M宽带？", "Which 5G plans include 300M broadband at no charge?"),
        [bi(p.zh, p.en) for p in MOBILE_PLANS if p.monthly >= BUNDLE_FROM],
        [bi(p.zh, p.en) for p in MOBILE_PLANS if p.monthly < BUNDLE_FROM],
        ("99元及以上的5G套餐赠送300M宽带。", "Plans from 99 yuan include 300M broadband."),
    )
    yield single(
        "PK-MB-CHANGE",
        MOBILE,
        "easy",
        ("套餐变更生效时间", "When a plan change starts"),
        ("客户本月办理5G套餐变更，新套餐何时生效？", "When does a 5G plan change take effect?"),
        bi("次月1日", "The 1st of next month"),
        [
            bi("立即生效", "At once"),
            bi("24小时后", "After 24 hours"),
            bi("下个账单周期结束", "After the next bill"),
        ],
        ("套餐变更次月1日生效，本月仍按原套餐计费。", "From the 1st of next month."),
    )
    yield true_false(
        "PK-MB-SECONDARY-MAX",
        MOBILE,
        "medium",
        ("副卡数量上限", "Secondary SIM limit"),
        ("一个主卡最多可以办理4张副卡。", "A main SIM can have at most 4 secondary SIMs."),
        True,
        ("副卡最多4张，每张10元/月。", "At most 4, at 10 yuan a month each."),
    )
    yield matching(
        "PK-MB-MATCH",
        MOBILE,
        "medium",
        ("5G套餐与流量", "5G plans and data"),
        ("请将5G套餐与每月流量配对。", "Match each 5G plan with its monthly data."),
        [(bi(p.zh, p.en), bi(f"{p.data_gb}GB", f"{p.data_gb} GB")) for p in MOBILE_PLANS],
        ("59元30GB，99元60GB，159元120GB，239元200GB。", "30, 60, 120 and 200 GB."),
    )


def _appliances() -> Iterator[Question]:
    years = [bi(f"{n}年", f"{n} years" if n > 1 else "1 year") for n in (1, 2, 3, 6)]
    for appliance in APPLIANCES_LIST:
        code = appliance.en.replace(" ", "_").upper()
        yield single(
            f"PK-AP-WARRANTY-{code}",
            APPLIANCES,
            "easy",
            (f"{appliance.zh}整机保修", f"{appliance.en} warranty"),
            (
                f"安信{appliance.zh}的整机保修期是多久？",
                f"How long is the whole-unit warranty of an Anxin {appliance.en}?",
            ),
            years[(1, 2, 3, 6).index(appliance.warranty_years)],
            years,
            (
                f"{appliance.zh}整机保修{appliance.warranty_years}年。",
                f"{appliance.warranty_years} year(s) for the whole unit.",
            ),
        )
        part_years = [bi(f"{n}年", f"{n} years") for n in (3, 5, 8, 10)]
        yield single(
            f"PK-AP-PART-{code}",
            APPLIANCES,
            "medium",
            (f"{appliance.zh}{appliance.part_zh}保修", f"{appliance.en} {appliance.part_en}"),
            (
                f"安信{appliance.zh}的{appliance.part_zh}保修期是多久？",
                f"How long is the {appliance.part_en} of an Anxin {appliance.en} guaranteed?",
            ),
            part_years[(3, 5, 8, 10).index(appliance.part_years)],
            part_years,
            (
                f"{appliance.zh}{appliance.part_zh}保修{appliance.part_years}年，"
                f"整机{appliance.warranty_years}年。",
                f"{appliance.part_years} years for the {appliance.part_en}, "
                f"{appliance.warranty_years} for the whole unit.",
            ),
        )
    whole = [APPLIANCES_LIST[i] for i in (0, 1, 5, 7)]  # four different warranties
    yield matching(
        "PK-AP-MATCH-WHOLE",
        APPLIANCES,
        "medium",
        ("整机保修期配对", "Whole-unit warranties"),
        ("请将家电与整机保修期配对。", "Match each appliance with its whole-unit warranty."),
        [(bi(a.zh, a.en), bi(f"{a.warranty_years}年", f"{a.warranty_years} yr")) for a in whole],
        (
            "；".join(f"{a.zh}{a.warranty_years}年" for a in whole),
            "; ".join(f"{a.en} {a.warranty_years} yr" for a in whole),
        ),
    )
    parts = [APPLIANCES_LIST[i] for i in (2, 3, 4, 6)]  # four different core-part warranties
    yield matching(
        "PK-AP-MATCH-PARTS",
        APPLIANCES,
        "hard",
        ("核心部件保修期配对", "Core-part warranties"),
        ("请将家电核心部件与保修期配对。", "Match each core part with its warranty."),
        [
            (
                bi(a.zh + a.part_zh, f"{a.en} {a.part_en}"),
                bi(f"{a.part_years}年", f"{a.part_years} yr"),
            )
            for a in parts
        ],
        (
            "；".join(f"{a.zh}{a.part_zh}{a.part_years}年" for a in parts),
            "; ".join(f"{a.en} {a.part_en} {a.part_years} yr" for a in parts),
        ),
    )
    for idnumber, name, text, answer, explanation in (
        (
            "PK-AP-RETURN",
            ("7天无理由退货", "Returns within 7 days"),
            (
                "购买7天内，商品完好可无理由退货。",
                "Within 7 days, an unused product can be returned.",
            ),
            True,
            (
                "7天无理由退货，15天质量问题包换。",
                "7 days to return, 15 days to exchange if faulty.",
            ),
        ),
        (
            "PK-AP-EXCHANGE",
            ("15天质量问题换货", "Exchanges within 15 days"),
            (
                "购买15天内出现质量问题可以换货。",
                "A faulty product can be exchanged within 15 days.",
            ),
            True,
            ("15天内质量问题包换。", "Faulty within 15 days: exchanged."),
        ),
        (
            "PK-AP-RETURN-LATE",
            ("超过7天的退货", "Returns after 7 days"),
            (
                "购买第10天，商品没有质量问题，客户也可以无理由退货。",
                "On day 10 a product with no fault can still be returned without a reason.",
            ),
            False,
            ("无理由退货只在7天内。", "Returns without a reason: 7 days only."),
        ),
    ):
        yield true_false(idnumber, APPLIANCES, "easy", name, text, answer, explanation)
    for idnumber, difficulty, name, text, value, explanation in (
        (
            "PK-AP-ONSITE-CITY",
            "easy",
            ("城区上门时限", "Visit in a city"),
            (
                "城区客户报修，维修师傅最迟多少小时内上门？",
                "Within how many hours does a technician visit a repair call in a city?",
            ),
            ONSITE_HOURS_CITY,
            ("城区24小时、县城48小时内上门。", "24 hours in cities, 48 in counties."),
        ),
        (
            "PK-AP-ONSITE-COUNTY",
            "medium",
            ("县城上门时限", "Visit in a county"),
            (
                "县城客户报修，维修师傅最迟多少小时内上门？",
                "Within how many hours does a technician visit a repair call in a county town?",
            ),
            ONSITE_HOURS_COUNTY,
            ("城区24小时、县城48小时内上门。", "24 hours in cities, 48 in counties."),
        ),
        (
            "PK-AP-VISIT-FEE",
            "medium",
            ("保外上门费", "Out-of-warranty visit"),
            (
                "家电超出保修期，上门检测费是多少元？",
                "How many yuan is a visit once the warranty has run out?",
            ),
            VISIT_FEE,
            ("保外上门费50元，保内免费。", "50 yuan out of warranty, free within it."),
        ),
    ):
        yield numerical(idnumber, APPLIANCES, difficulty, name, text, value, explanation)  # type: ignore[arg-type]
    for length in (5, 7.5, 4):
        cost = (length - FREE_PIPE_M) * PIPE_PER_M
        yield numerical(
            f"PK-AP-PIPE-{_money(length)}",
            APPLIANCES,
            "hard",
            (f"空调铜管{_money(length)}米", f"Copper pipe {_money(length)} m"),
            (
                f"空调安装需要铜管{_money(length)}米，客户需额外支付多少元？",
                f"An air conditioner needs {_money(length)} m of copper pipe. How many yuan "
                "extra does the customer pay?",
            ),
            cost,
            (
                f"标准安装含3米铜管，超出部分80元/米：({_money(length)}-3)×80={_money(cost)}元。",
                f"3 m are included, then 80 yuan/m: ({_money(length)} - 3) x 80 = {_money(cost)}.",
            ),
        )
    yield ordering(
        "PK-AP-REPAIR-FLOW",
        APPLIANCES,
        "medium",
        ("报修处理流程", "A repair call, step by step"),
        ("请按先后顺序排列家电报修处理流程。", "Put the steps of an appliance repair in order."),
        [
            bi("受理报修并记录型号", "Take the call and the model"),
            bi("预约上门时间", "Book the visit"),
            bi("师傅上门检测", "Technician inspects"),
            bi("维修或更换", "Repair or replace"),
            bi("回访确认", "Follow-up call"),
        ],
        ("受理、预约、检测、维修，最后回访。", "Take, book, inspect, repair, follow up."),
    )


def _billing() -> Iterator[Question]:
    days = [bi(f"每月{n}日", f"the {n}{'st' if n == 1 else 'th'}") for n in (1, 10, 15, 20)]
    yield single(
        "PK-BL-BILL-DAY",
        BILLING,
        "easy",
        ("账单日", "Bill day"),
        ("安信的月度账单在每月哪一天生成？", "On which day of the month is the Anxin bill made?"),
        days[0],
        days,
        ("每月1日出账，20日前缴清。", "Billed on the 1st, payable by the 20th."),
    )
    yield single(
        "PK-BL-DUE-DAY",
        BILLING,
        "easy",
        ("缴费截止日", "Payment due"),
        ("每月账单最晚应在哪一天前缴清？", "By which day must the monthly bill be paid?"),
        days[3],
        days,
        ("每月1日出账，20日前缴清。", "Billed on the 1st, payable by the 20th."),
    )
    for owed, late in ((200, 10), (158, 5), (89, 20)):
        fee = round(owed * LATE_FEE_PER_DAY * late, 2)
        yield numerical(
            f"PK-BL-LATE-{owed}-{late}",
            BILLING,
            "hard",
            (f"欠费{owed}元逾期{late}天", f"{owed} yuan, {late} days late"),
            (
                f"客户欠费{owed}元，逾期{late}天，违约金是多少元？（每日按欠费的3‰计）",
                f"A customer owes {owed} yuan and is {late} days late. How many yuan is the late "
                "fee? (3 per mille of the debt a day.)",
            ),
            fee,
            (
                f"{owed}×0.003×{late} = {_money(fee)}元。",
                f"{owed} x 0.003 x {late} = {_money(fee)} yuan.",
            ),
            tolerance=0.01,
        )
    for fee, day, month_days, difficulty in (
        (89, 11, 30, "hard"),
        (129, 16, 30, "medium"),
        (199, 21, 31, "hard"),
        (59, 2, 31, "hard"),
    ):
        charged = round(fee * (month_days - day + 1) / month_days, 2)
        yield numerical(
            f"PK-BL-PRORATE-{fee}-{day}",
            BILLING,
            difficulty,  # type: ignore[arg-type]
            (f"首月按天折算{fee}元", f"First month pro rata, {fee} yuan"),
            (
                f"客户在{month_days}天的月份的{day}日开通月费{fee}元的宽带，首月收费多少元？（按天折算，保留两位小数）",
                f"A customer starts {fee}-yuan broadband on day {day} of a {month_days}-day month. "
                "How many yuan is the first month, pro rata by day (two decimals)?",
            ),
            charged,
            (
                f"{fee}×({month_days}-{day}+1)/{month_days} = {charged:.2f}元。",
                f"{fee} x ({month_days} - {day} + 1) / {month_days} = {charged:.2f} yuan.",
            ),
            tolerance=0.01,
        )
    yield numerical(
        "PK-BL-REFUND",
        BILLING,
        "easy",
        ("退费时限", "Refund time"),
        (
            "退费申请审核通过后，多少个工作日内原路退回？",
            "Within how many working days is an approved refund paid back the way it came?",
        ),
        REFUND_WORKING_DAYS,
        ("7个工作日内原路退回。", "Within 7 working days, to the original payment."),
    )
    yield true_false(
        "PK-BL-INVOICE",
        BILLING,
        "easy",
        ("电子发票", "E-invoice"),
        (
            "客户缴费后可以随时申请电子发票。",
            "A customer can ask for an e-invoice at any time after paying.",
        ),
        True,
        ("缴费后可随时申请，24小时内发送到邮箱。", "Any time; it is e-mailed within 24 hours."),
    )


# --- service skill -----------------------------------------------------------------------------


def _etiquette() -> Iterator[Question]:
    for index, (zh, en) in enumerate(FORBIDDEN[:6]):
        yield true_false(
            f"SS-ET-FORBIDDEN-{index + 1}",
            ETIQUETTE,
            "easy",
            (f"禁用语判断{index + 1}", f"Forbidden phrase {index + 1}"),
            (f"“{zh}”属于服务禁用语。", f"“{en}” is a forbidden phrase."),
            True,
            (
                "推诿、顶撞、不耐烦的说法都属于禁用语。",
                "Brushing off, arguing and impatience are forbidden.",
            ),
        )
    for index, (zh, en) in enumerate(PROPER[:4]):
        yield true_false(
            f"SS-ET-PROPER-{index + 1}",
            ETIQUETTE,
            "easy",
            (f"规范用语判断{index + 1}", f"Proper phrase {index + 1}"),
            (f"“{zh}”属于服务禁用语。", f"“{en}” is a forbidden phrase."),
            False,
            ("这是规范的服务用语。", "This is a proper service phrase."),
        )
    for index in range(4):
        bad = [FORBIDDEN[(index * 2 + k) % len(FORBIDDEN)] for k in range(2 + index % 2)]
        good = [PROPER[(index + k) % len(PROPER)] for k in range(2)]
        yield multiple(
            f"SS-ET-SPOT-{index + 1}",
            ETIQUETTE,
            "medium",
            (f"找出禁用语{index + 1}", f"Spot the forbidden phrases {index + 1}"),
            ("以下哪些属于服务禁用语？", "Which of these are forbidden phrases?"),
            [bi(zh, en) for zh, en in bad],
            [bi(zh, en) for zh, en in good],
            (
                "、".join(zh for zh, _ in bad) + "属于禁用语。",
                ", ".join(en for _, en in bad) + ": forbidden.",
            ),
        )
    wrong_openings = [
        bi("喂，说吧", "Yeah, go ahead"),
        bi("什么事？", "What is it?"),
        bi("你找谁？", "Who do you want?"),
    ]
    for idnumber, difficulty, name, text, right, wrong, explanation in (
        (
            "SS-ET-GREETING",
            "easy",
            ("接听问候", "Greeting"),
            ("接起电话，规范的首句是？", "What is the right first sentence on answering?"),
            bi(
                "您好，安信电器8001号客服，很高兴为您服务",
                "Hello, Anxin Appliances, agent 8001, happy to help",
            ),
            wrong_openings,
            (
                "问候、公司名、工号，再表示乐意服务。",
                "Greet, name the company and your number, offer help.",
            ),
        ),
        (
            "SS-ET-LATE",
            "easy",
            ("排队后接通", "After a long queue"),
            (
                f"客户排队超过{LATE_APOLOGY_AFTER_S}秒才接通，问候后应先说？",
                f"A caller queued over {LATE_APOLOGY_AFTER_S} seconds. After the greeting, say?",
            ),
            bi("不好意思，让您久等了", "Sorry to keep you waiting"),
            [
                bi("有什么事快说", "Quickly, what is it?"),
                bi("现在电话很多", "We are busy now"),
                bi("请讲", "Go ahead"),
            ],
            (
                f"等待超过{LATE_APOLOGY_AFTER_S}秒，前两句内要致歉。",
                f"Over {LATE_APOLOGY_AFTER_S} s in the queue: apologise in the first two turns.",
            ),
        ),
        (
            "SS-ET-UNCLEAR",
            "medium",
            ("客户没听清", "The caller did not follow"),
            ("客户说没听明白，坐席应怎么说？", "The caller did not follow. What do you say?"),
            bi(
                "不好意思，刚才没说清楚，我再为您说明一下",
                "Sorry, I wasn't clear, let me explain again",
            ),
            [
                bi("你听不懂吗？", "Can't you understand?"),
                bi("我说过了", "I already said"),
                bi("自己看短信", "Read the text message"),
            ],
            ("把责任放在自己身上，再解释一次。", "Take the blame yourself and explain again."),
        ),
        (
            "SS-ET-UPSET",
            "medium",
            ("客户情绪激动", "An upset caller"),
            ("客户情绪激动、语气很冲，坐席首先应？", "The caller is angry. What comes first?"),
            bi("非常理解您的心情，我一定尽力帮您解决", "I understand, I will do all I can"),
            [
                bi("请您冷静一点", "Calm down"),
                bi("这是规定，我也没办法", "Those are the rules"),
                bi("您再这样我就挂了", "I'll hang up"),
            ],
            ("先安抚情绪，表示理解，再解决问题。", "Calm first, show you understand, then solve."),
        ),
        (
            "SS-ET-SPEED",
            "medium",
            ("语速", "Speaking rate"),
            (
                "中文通话中，坐席合适的语速是每分钟多少字？",
                "What speaking rate suits a Chinese call, in characters a minute?",
            ),
            bi(
                f"{SPEAKING_RATE_ZH[0]}-{SPEAKING_RATE_ZH[1]}字",
                f"{SPEAKING_RATE_ZH[0]}-{SPEAKING_RATE_ZH[1]}",
            ),
            [
                bi("80-120字", "80-120"),
                bi("350-450字", "350-450"),
                bi("越快越好", "As fast as possible"),
            ],
            (
                f"自动质检按每分钟{SPEAKING_RATE_ZH[0]}-{SPEAKING_RATE_ZH[1]}字判断语速。",
                f"Automatic QA expects {SPEAKING_RATE_ZH[0]}-{SPEAKING_RATE_ZH[1]} a minute.",
            ),
        ),
    ):
        yield single(idnumber, ETIQUETTE, difficulty, name, text, right, wrong, explanation)  # type: ignore[arg-type]
    yield short(
        "SS-ET-SHORT-LATE",
        ETIQUETTE,
        "medium",
        ("久等致歉用语", "Apology for the wait"),
        (
            "客户等待较久后接通，坐席应致歉：“不好意思，______”（五个字）。",
            "After a long wait, the agent apologises. Write the Chinese phrase (5 characters) or "
            "its English.",
        ),
        ["让您久等了", "*久等了*", "*sorry*wait*", "*keep*you*waiting*"],
        ("让您久等了 / Sorry to keep you waiting.", "Sorry to keep you waiting."),
    )
    yield matching(
        "SS-ET-MATCH",
        ETIQUETTE,
        "medium",
        ("情景与用语", "Situations and phrases"),
        ("请将情景与规范用语配对。", "Match each situation with the right phrase."),
        [
            (bi("排队后接通", "After a long queue"), bi(*PROPER[1])),
            (bi("需要查询系统", "Need to look it up"), bi(*PROPER[0])),
            (bi("结束保持回到通话", "Back from hold"), bi(*PROPER[2])),
            (bi("结束通话前", "Before ending the call"), bi(*PROPER[3])),
        ],
        ("每个情景都有对应的规范用语。", "Each situation has its proper phrase."),
    )


def _hold_and_closing() -> Iterator[Question]:
    for idnumber, difficulty, name, text, accepted, explanation in (
        (
            "SS-HD-ASK",
            "easy",
            ("保持前用语", "Before a hold"),
            (
                "让客户保持前，坐席应先说“______，我帮您查询一下”（四个字）。",
                "Before putting a caller on hold the agent says ___ (Chinese, 4 characters, or "
                "English).",
            ),
            ["请您稍等", "请稍等", "*稍等*", "*please hold*", "*one moment*"],
            ("请您稍等 / Please hold.", "Ask first: please hold."),
        ),
        (
            "SS-HD-THANK",
            "medium",
            ("保持后用语", "After a hold"),
            (
                "保持结束回到通话，坐席应先说“感谢您的______”（四个字）。",
                "Back from hold the agent first says “thank you for your ___”.",
            ),
            ["耐心等待", "*等待*", "*patience*", "*holding*", "*waiting*"],
            ("感谢您的耐心等待 / Thank you for your patience.", "Thank the caller for waiting."),
        ),
        (
            "SS-HD-CLOSE-ASK",
            "medium",
            ("结束前询问", "Before closing"),
            (
                "结束通话前，坐席应询问：“请问还有什么可以______？”（两个字）",
                "Before closing the agent asks: “Is there anything else I can ___?”",
            ),
            ["帮您", "*帮*", "*help*"],
            ("还有什么可以帮您 / Anything else I can help with?", "Offer more help."),
        ),
        (
            "SS-HD-THANKS",
            "easy",
            ("结束致谢", "Thanks at the end"),
            (
                "通话结束时，坐席应说“感谢您的______，再见”（两个字）。",
                "At the end the agent says “thank you for ___, goodbye”.",
            ),
            ["来电", "*来电*", "*致电*", "*calling*"],
            ("感谢您的来电，再见 / Thank you for calling, goodbye.", "Thank and say goodbye."),
        ),
        (
            "SS-HD-GOODBYE",
            "easy",
            ("道别用语", "Goodbye"),
            ("致谢之后，坐席最后说的两个字是？", "After thanking the caller, the last word is?"),
            ["再见", "*再见*", "*goodbye*", "*bye*"],
            ("最后说再见，并等客户先挂机。", "Say goodbye and let the caller hang up first."),
        ),
    ):
        yield short(idnumber, HOLD, difficulty, name, text, accepted, explanation)  # type: ignore[arg-type]
    for idnumber, difficulty, name, text, value, explanation in (
        (
            "SS-HD-GAP",
            "medium",
            ("保持的判定", "What counts as a hold"),
            (
                "通话中无人说话超过多少秒即视为一次保持？",
                "After how many seconds of nobody speaking does a call count as on hold?",
            ),
            HOLD_GAP_S,
            ("静默超过20秒即按保持判断。", "Over 20 seconds of silence is a hold."),
        ),
        (
            "SS-HD-RINGS",
            "easy",
            ("几声铃响内接听", "Answer within rings"),
            ("来电应在几声铃响内接听？", "Within how many rings should a call be answered?"),
            MAX_RINGS,
            ("两声铃响内接听，每声约3秒。", "Within 2 rings, about 3 seconds each."),
        ),
        (
            "SS-HD-ANSWER-S",
            "hard",
            ("接听秒数", "Answer in seconds"),
            (
                "按每声铃响3秒计，来电最迟应在第几秒内接听？",
                "At 3 seconds a ring, within how many seconds should a call be answered?",
            ),
            SECONDS_PER_RING * MAX_RINGS,
            ("2声×3秒 = 6秒。", "2 rings x 3 s = 6 s."),
        ),
        (
            "SS-HD-GREETING-S",
            "medium",
            ("问候时限", "Greeting in time"),
            (
                "接通后，坐席的第一句问候应在多少秒内开始？",
                "Within how many seconds of connecting should the agent's greeting start?",
            ),
            GREETING_WITHIN_S,
            ("接通后10秒内开始问候。", "Within 10 seconds."),
        ),
        (
            "SS-HD-LATE-S",
            "medium",
            ("需要致歉的等待", "A wait that needs an apology"),
            (
                "客户排队等待超过多少秒，坐席接通后应致歉？",
                "After how many seconds in the queue is the caller owed an apology?",
            ),
            LATE_APOLOGY_AFTER_S,
            ("超过30秒应在前两句内致歉。", "Over 30 s: apologise in the first two turns."),
        ),
        (
            "SS-HD-POLITE",
            "medium",
            ("礼貌用语次数", "Polite phrases"),
            (
                "一通电话中，坐席至少应使用几次礼貌用语（请、谢谢、不好意思等）？",
                "How many polite phrases (please, thank you, sorry...) at least in one call?",
            ),
            MIN_POLITE_PHRASES,
            ("至少3次。", "At least 3."),
        ),
        (
            "SS-HD-SILENCE",
            "hard",
            ("静默占比", "Silence"),
            (
                "一通电话中无人说话的时间最多可占通话时长的百分之几？",
                "At most what percentage of a call may be silence?",
            ),
            MAX_SILENCE_PERCENT,
            ("静默不超过25%。", "No more than 25 %."),
        ),
        (
            "SS-HD-TALK-OVER",
            "hard",
            ("抢话占比", "Talking over"),
            (
                "坐席与客户同时说话的时间最多可占坐席说话时长的百分之几？",
                "At most what percentage of the agent's speech may overlap the caller's?",
            ),
            MAX_TALK_OVER_PERCENT,
            ("抢话不超过10%，要先听客户说完。", "No more than 10 %: let the caller finish."),
        ),
    ):
        yield numerical(idnumber, HOLD, difficulty, name, text, value, explanation)  # type: ignore[arg-type]
    yield ordering(
        "SS-HD-HOLD-FLOW",
        HOLD,
        "medium",
        ("保持流程", "A hold, step by step"),
        ("请按先后顺序排列保持的步骤。", "Put the steps of a hold in order."),
        [
            bi("说明原因并征得同意", "Give the reason and ask permission"),
            bi("保持并查询", "Hold and look it up"),
            bi("回到通话并致谢", "Come back and thank the caller"),
            bi("告知查询结果", "Give the answer"),
        ],
        ("先征询，后保持，回来先致谢再答复。", "Ask, hold, thank, answer."),
    )
    yield ordering(
        "SS-HD-CALL-FLOW",
        HOLD,
        "hard",
        ("通话全流程", "A whole call"),
        ("请按先后顺序排列一通电话的服务步骤。", "Put the steps of a service call in order."),
        [
            bi("问候并自报工号", "Greet and give your number"),
            bi("倾听并确认需求", "Listen and confirm the need"),
            bi("核实客户身份", "Verify the caller"),
            bi("解答或办理", "Answer or carry it out"),
            bi("询问是否还有其他需要", "Ask if there is anything else"),
            bi("致谢道别", "Thank and say goodbye"),
            bi("等客户先挂机", "Let the caller hang up first"),
        ],
        (
            "问候、倾听、核实、办理、询问、致谢、等客户先挂机。",
            "Greet, listen, verify, handle, ask, thank, wait for the caller to hang up.",
        ),
    )
    yield true_false(
        "SS-HD-HANGUP",
        HOLD,
        "easy",
        ("谁先挂机", "Who hangs up first"),
        (
            "通话结束时，坐席应等客户先挂机。",
            "At the end, the agent waits for the caller to hang up.",
        ),
        True,
        ("客户先挂机，避免客户还有话没说完。", "The caller may still have something to say."),
    )


def _complaints() -> Iterator[Question]:
    for idnumber, difficulty, name, text, right, wrong, explanation in (
        (
            "SS-CP-ESCALATE",
            "hard",
            ("客户要求投诉", "The caller wants to complain"),
            (
                "客户要求投诉上一位坐席，你应该？",
                "The caller wants to complain about another agent. You should?",
            ),
            bi(
                "致歉并详细记录，按流程提交投诉工单",
                "Apologise, note it all, file a complaint ticket",
            ),
            [
                bi("告诉客户不是你的问题", "Say it wasn't you"),
                bi("请客户找那位坐席", "Ask them to call that agent"),
                bi("劝客户不要投诉", "Talk them out of it"),
            ],
            ("不推诿，记录完整并按流程升级。", "Don't pass the buck; record and escalate."),
        ),
        (
            "SS-CP-CALLBACK",
            "medium",
            ("承诺回电", "A promised callback"),
            (
                "你承诺客户今天下午回电，但结果还没出来，应该？",
                "You promised a callback this afternoon but have no answer yet. You should?",
            ),
            bi(
                "按时回电说明进展并约定下次时间", "Call on time, give progress, agree the next call"
            ),
            [
                bi("等有结果再打", "Wait until there is news"),
                bi("发短信就行", "Just text"),
                bi("不用回电", "Don't call"),
            ],
            ("承诺必须兑现，没有结果也要按时告知进展。", "Keep the promise, even with no news."),
        ),
        (
            "SS-CP-REPEAT",
            "hard",
            ("多次来电", "A repeat caller"),
            (
                "客户为同一故障第三次来电，情绪很差，最合适的做法是？",
                "A caller rings a third time about the same fault, very upset. Best move?",
            ),
            bi(
                "致歉并查看历史工单，升级为加急处理",
                "Apologise, read the history, escalate as urgent",
            ),
            [
                bi("重新登记一张新工单", "Open a new ticket"),
                bi("让客户再等等", "Ask them to wait longer"),
                bi("转给其他坐席", "Transfer to a colleague"),
            ],
            (
                "重复来电说明问题未解决，应查看历史并升级。",
                "A repeat call means it is unsolved: escalate.",
            ),
        ),
        (
            "SS-CP-COMPENSATE",
            "medium",
            ("补偿承诺", "Promising compensation"),
            (
                "客户要求赔偿，你没有权限决定，应该？",
                "The caller asks for compensation you cannot grant. You should?",
            ),
            bi(
                "说明需由专人核实，记录诉求并告知答复时限",
                "Explain who decides, record it, give a reply date",
            ),
            [
                bi("先口头答应", "Agree now"),
                bi("直接拒绝", "Refuse outright"),
                bi("让客户去法院", "Tell them to sue"),
            ],
            (
                "不超越权限承诺，也不直接拒绝。",
                "Promise nothing beyond your authority; don't refuse.",
            ),
        ),
    ):
        yield single(idnumber, COMPLAINTS, difficulty, name, text, right, wrong, explanation)  # type: ignore[arg-type]
    yield ordering(
        "SS-CP-FLOW",
        COMPLAINTS,
        "medium",
        ("投诉处理步骤", "Handling a complaint"),
        ("请按先后顺序排列投诉处理步骤。", "Put the steps of handling a complaint in order."),
        [
            bi("耐心倾听", "Listen"),
            bi("真诚致歉", "Apologise"),
            bi("提出解决方案", "Offer a solution"),
            bi("确认客户认可", "Confirm the caller agrees"),
            bi("跟进回访", "Follow up"),
        ],
        ("倾听、致歉、解决、确认、回访。", "Listen, apologise, solve, confirm, follow up."),
    )
    yield essay(
        "SS-CP-ESSAY-CALM",
        COMPLAINTS,
        ("安抚话术", "Calming an upset caller"),
        (
            "客户家的空调安装一周后漏水，第二次来电，非常生气。请写出你的安抚与处理话术（150字以内）。",
            "A customer's new air conditioner leaks a week after installation; they call a "
            "second time, very angry. Write what you would say to calm them and solve it.",
        ),
        "满分要点：致歉与共情；不推诿；核实信息；给出上门时限（城区24小时）；说明保修内免费；"
        "约定回访。Key points: apology and empathy, no excuses, details checked, visit within "
        "24 hours, free under warranty, follow-up agreed.",
        (
            "先共情致歉，再说明保内免费上门、24小时内到达，并约定回访。",
            "Empathise, apologise, promise a free visit within 24 hours, agree a follow-up.",
        ),
    )


def _qa_standards() -> Iterator[Question]:
    weights = [bi(f"{w}%", f"{w} %") for w in (10, 20, 25, 35)]
    for zh, en, weight in QA_SECTIONS[:3]:
        yield single(
            f"SS-QA-WEIGHT-{en.split()[0].upper()}",
            QA_STANDARDS,
            "medium",
            (f"质检表：{zh}权重", f"QA form: {en} weight"),
            (
                f"默认质检评分表中“{zh}”部分占多少权重？",
                f"What weight does the “{en}” section carry on the default QA form?",
            ),
            weights[(10, 20, 25, 35).index(weight)],
            weights,
            (
                "礼仪25、沟通25、专业20、过程20、致命错误10。",
                "Courtesy 25, communication 25, competence 20, process 20, fatal errors 10.",
            ),
        )
    yield matching(
        "SS-QA-MATCH",
        QA_STANDARDS,
        "hard",
        ("质检表各部分权重", "QA form weights"),
        ("请将质检表各部分与权重配对。", "Match each QA form section with its weight."),
        [(bi(zh, en), bi(f"{w}%", f"{w} %")) for zh, en, w in QA_SECTIONS],
        (
            "礼仪25、沟通25、专业20、过程20、致命错误10。",
            "Courtesy 25, communication 25, competence 20, process 20, fatal errors 10.",
        ),
    )
    yield multiple(
        "SS-QA-FATAL",
        QA_STANDARDS,
        "hard",
        ("致命错误项", "Fatal errors"),
        ("以下哪些属于质检致命错误？", "Which of these are fatal errors on the QA form?"),
        [
            bi("违法违规言行", "Something illegal said or done"),
            bi("给客户造成额外费用", "An extra cost to the customer"),
            bi("造成严重后果的错误答复", "A wrong answer with serious consequences"),
        ],
        [
            bi("语速稍快", "Speaking a little fast"),
            bi("没有使用客户姓氏", "Not using the caller's name"),
        ],
        (
            "违法违规、客户损失、严重错误答复等为致命错误。",
            "Illegal acts, loss to the customer, serious wrong answers.",
        ),
    )
    yield numerical(
        "SS-QA-FATAL-SCORE",
        QA_STANDARDS,
        "medium",
        ("致命错误得分", "Score after a fatal error"),
        (
            "一通电话出现致命错误，该通电话质检得多少分？",
            "What does a call with a fatal error score?",
        ),
        0,
        ("出现任一致命错误，整通电话记0分。", "Any fatal error: the call scores 0."),
    )
    yield true_false(
        "SS-QA-CALIBRATION",
        QA_STANDARDS,
        "medium",
        ("质检校准", "Calibration"),
        (
            "质检员定期对同一批录音分别打分并对比，是为了统一评分尺度。",
            "QA evaluators score the same calls and compare to keep their scoring consistent.",
        ),
        True,
        ("校准会统一评分尺度，减少评分员差异。", "Calibration aligns the evaluators."),
    )


# --- sales skill -------------------------------------------------------------------------------

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
CAMPAIGNS_EN = (
    "New Year bundle",
    "New Year data pack",
    "Spring broadband boost",
    "5G plan upgrade",
    "May Day travel data",
    "618 broadband deal",
    "Summer data pack",
    "Summer family plan",
    "Back-to-school bundle",
    "National Day travel data",
    "Singles' Day broadband renewal",
    "Year-end contract renewal",
)


def _campaigns() -> Iterator[Question]:
    options = [bi(zh, en) for zh, en in zip(CAMPAIGNS, CAMPAIGNS_EN, strict=True)]
    for month in range(12):
        # Three other campaigns, from the other half of the year: a plausible choice each.
        others = [options[(month + shift) % 12] for shift in (3, 6, 9)]
        yield single(
            f"SA-CM-MONTH-{month + 1:02d}",
            CAMPAIGN_CATEGORY,
            "easy" if month % 3 else "medium",
            (f"{month + 1}月营销活动", f"{_MONTHS_EN[month]} campaign"),
            (
                f"安信外呼团队{month + 1}月主推的营销活动是？",
                f"Which campaign does the Anxin sales queue run in {_MONTHS_EN[month]}?",
            ),
            options[month],
            others,
            (
                f"{month + 1}月主推“{CAMPAIGNS[month]}”。",
                f"{_MONTHS_EN[month]}: {CAMPAIGNS_EN[month]}.",
            ),
        )
    for number, months in enumerate(((0, 2, 5, 10), (3, 6, 8, 11)), start=1):
        yield matching(
            f"SA-CM-MATCH-{number}",
            CAMPAIGN_CATEGORY,
            "medium",
            (f"活动与月份{number}", f"Campaigns and months {number}"),
            ("请将营销活动与月份配对。", "Match each campaign with its month."),
            [(options[m], bi(f"{m + 1}月", _MONTHS_EN[m])) for m in months],
            (
                "；".join(f"{m + 1}月{CAMPAIGNS[m]}" for m in months),
                "; ".join(f"{_MONTHS_EN[m]}: {CAMPAIGNS_EN[m]}" for m in months),
            ),
        )


def _plan_cost(plan: MobilePlan, gb: int, minutes: int) -> float:
    return round(
        plan.monthly
        + max(0, gb - plan.data_gb) * DATA_OVERAGE_PER_GB
        + max(0, minutes - plan.minutes) * VOICE_OVERAGE_PER_MIN,
        2,
    )


def _recommending() -> Iterator[Question]:
    names = [bi(p.zh, p.en) for p in MOBILE_PLANS]
    for number, (gb, minutes) in enumerate(
        ((50, 300), (25, 150), (100, 800), (70, 450), (150, 1800), (40, 520)), start=1
    ):
        costs = [_plan_cost(plan, gb, minutes) for plan in MOBILE_PLANS]
        best = min(range(len(costs)), key=costs.__getitem__)
        yield single(
            f"SA-RC-BEST-{number}",
            RECOMMENDING,
            "hard" if number % 2 else "medium",
            (f"最省钱的套餐{number}", f"Cheapest plan {number}"),
            (
                f"客户每月约用{gb}GB流量、{minutes}分钟通话，哪个5G套餐总费用最低？"
                "（超出流量3元/GB，超出通话0.15元/分钟）",
                f"A customer uses about {gb} GB and {minutes} minutes a month. Which 5G plan "
                "costs least in all? (Extra data 3 yuan/GB, extra calls 0.15 yuan/min.)",
            ),
            names[best],
            names,
            (
                "；".join(f"{p.zh}{_money(c)}元" for p, c in zip(MOBILE_PLANS, costs, strict=True)),
                "; ".join(
                    f"{p.en} {_money(c)} yuan" for p, c in zip(MOBILE_PLANS, costs, strict=True)
                ),
            ),
        )
    for number, (current, target, gb, minutes) in enumerate(
        ((0, 1, 45, 150), (1, 2, 95, 700), (0, 1, 40, 380)), start=1
    ):
        now = _plan_cost(MOBILE_PLANS[current], gb, minutes)
        then = _plan_cost(MOBILE_PLANS[target], gb, minutes)
        saving = round(now - then, 2)
        yield numerical(
            f"SA-RC-SAVING-{number}",
            RECOMMENDING,
            "medium",
            (f"升档节省{number}", f"Saving by upgrading {number}"),
            (
                f"客户用{MOBILE_PLANS[current].zh}，每月{gb}GB、{minutes}分钟。改用"
                f"{MOBILE_PLANS[target].zh}每月可省多少元？",
                f"A customer on {MOBILE_PLANS[current].en} uses {gb} GB and {minutes} minutes a "
                f"month. How many yuan a month does {MOBILE_PLANS[target].en} save?",
            ),
            saving,
            (
                f"现在{_money(now)}元，改后{_money(then)}元，省{_money(saving)}元。",
                f"{_money(now)} now, {_money(then)} after: {_money(saving)} yuan saved.",
            ),
            tolerance=0.01,
        )
    yield matching(
        "SA-RC-FAB",
        RECOMMENDING,
        "medium",
        ("FAB法则", "Feature, advantage, benefit"),
        (
            "请将千兆宽带的介绍与FAB法则的环节配对。",
            "Match each line about 1000M broadband with FAB.",
        ),
        [
            (bi("千兆速率", "1000M speed"), bi("特性 F", "Feature")),
            (bi("比500M快一倍", "Twice as fast as 500M"), bi("优势 A", "Advantage")),
            (
                bi("全家同时看高清不卡顿", "The whole family streams HD at once"),
                bi("利益 B", "Benefit"),
            ),
        ],
        (
            "特性是什么，优势比别人好在哪，利益对客户意味着什么。",
            "What it is, why better, what it means to you.",
        ),
    )
    for number, (right, wrong) in enumerate(
        (
            (
                (
                    "您平时在家主要用网络做什么？",
                    "What do you mostly use the internet for at home?",
                ),
                [
                    ("您用的是100M吗？", "Are you on 100M?"),
                    ("您要不要升级？", "Do you want to upgrade?"),
                    ("您家有WiFi吗？", "Do you have WiFi?"),
                ],
            ),
            (
                ("您觉得现在的套餐哪里不够用？", "Where does your plan fall short?"),
                [
                    ("流量够用吗？", "Is your data enough?"),
                    ("您今天能办吗？", "Can you sign up today?"),
                    ("您是本机主吗？", "Are you the account holder?"),
                ],
            ),
            (
                ("家里有几个人一起用网？", "How many people share the connection at home?"),
                [
                    ("家里有老人吗？", "Any elderly at home?"),
                    ("您要办宽带吗？", "Do you want broadband?"),
                    ("网速慢吗？", "Is it slow?"),
                ],
            ),
            (
                ("您对新套餐最看重什么？", "What matters most to you in a new plan?"),
                [
                    ("您在意价格吗？", "Do you care about price?"),
                    ("要我帮您办吗？", "Shall I sign you up?"),
                    ("您满意吗？", "Are you satisfied?"),
                ],
            ),
        ),
        start=1,
    ):
        yield single(
            f"SA-DS-OPEN-{number}",
            DISCOVERY,
            "easy",
            (f"开放式提问{number}", f"Open question {number}"),
            ("以下哪一句是开放式提问？", "Which of these is an open question?"),
            bi(*right),
            [bi(*w) for w in wrong],
            (
                "开放式提问让客户说出需求，不能用“是/否”回答。",
                "An open question cannot be answered yes or no.",
            ),
        )
        yield true_false(
            f"SA-DS-CLOSED-{number}",
            DISCOVERY,
            "easy",
            (f"封闭式提问判断{number}", f"Closed question {number}"),
            (f"“{wrong[0][0]}”是开放式提问。", f"“{wrong[0][1]}” is an open question."),
            False,
            ("能用“是/否”回答的是封闭式提问。", "A yes/no question is closed."),
        )
    yield ordering(
        "SA-DS-FLOW",
        DISCOVERY,
        "medium",
        ("外呼销售流程", "An outbound sale"),
        ("请按先后顺序排列外呼销售步骤。", "Put the steps of an outbound sale in order."),
        [
            bi("开场并说明来意", "Open and say why you call"),
            bi("挖掘需求", "Discover the need"),
            bi("推荐产品", "Recommend"),
            bi("处理异议", "Handle objections"),
            bi("促成交易", "Close"),
            bi("复述确认关键条款", "Read back the key terms"),
        ],
        (
            "开场、需求、推荐、异议、促成、确认。",
            "Open, discover, recommend, objections, close, confirm.",
        ),
    )


def _objections() -> Iterator[Question]:
    for idnumber, difficulty, name, text, right, wrong, explanation in (
        (
            "SA-OB-PRICE",
            "medium",
            ("太贵了", "Too expensive"),
            ("客户说“太贵了”，最合适的回应是？", "The customer says “too expensive”. Best reply?"),
            bi(
                "先认同，再帮客户算实际每月能省多少",
                "Agree first, then work out the real monthly saving",
            ),
            [
                bi("其实不贵", "It isn't expensive"),
                bi("那就算了", "Never mind then"),
                bi("别家更贵", "Others cost more"),
            ],
            ("认同感受，用数字说明价值。", "Acknowledge, then show the value in numbers."),
        ),
        (
            "SA-OB-THINK",
            "medium",
            ("再考虑一下", "I'll think about it"),
            ("客户说“我再考虑一下”，你应该？", "The customer says “I'll think about it”. You?"),
            bi(
                "了解具体顾虑，并说明活动截止时间",
                "Ask what holds them back and say when the offer ends",
            ),
            [
                bi("马上挂断", "Hang up"),
                bi("反复催促", "Keep pushing"),
                bi("说名额快没了（不属实）", "Say places are running out (untrue)"),
            ],
            ("找出真实顾虑，提供真实信息。", "Find the real concern; give true information."),
        ),
        (
            "SA-OB-COMPETITOR",
            "hard",
            ("别家更便宜", "Cheaper elsewhere"),
            ("客户说“别家宽带更便宜”，你应该？", "“Another provider is cheaper.” You?"),
            bi(
                "客观对比服务与权益，不贬低对手",
                "Compare service and benefits fairly, never run them down",
            ),
            [
                bi("说对手网络很差", "Say their network is bad"),
                bi("直接降价", "Cut the price"),
                bi("结束通话", "End the call"),
            ],
            ("客观对比，突出安信的修复时限等服务。", "Compare fairly: repair times, service."),
        ),
        (
            "SA-OB-BUSY",
            "easy",
            ("客户没空", "No time now"),
            ("客户说“现在没空”，你应该？", "The customer has no time now. You?"),
            bi("致歉并约定方便的回电时间", "Apologise and agree a time to call back"),
            [
                bi("快速说完", "Talk faster"),
                bi("每天都打", "Call every day"),
                bi("不再联系并标记拒绝", "Mark as refused"),
            ],
            ("尊重客户时间，约定回电。", "Respect their time; agree a callback."),
        ),
    ):
        yield single(idnumber, OBJECTIONS, difficulty, name, text, right, wrong, explanation)  # type: ignore[arg-type]
    yield ordering(
        "SA-OB-LSCPA",
        OBJECTIONS,
        "hard",
        ("异议处理五步", "Five steps with an objection"),
        ("请按先后顺序排列异议处理步骤。", "Put the steps of handling an objection in order."),
        [
            bi("倾听", "Listen"),
            bi("认同", "Share"),
            bi("澄清", "Clarify"),
            bi("陈述", "Present"),
            bi("请求", "Ask"),
        ],
        ("LSCPA：倾听、认同、澄清、陈述、请求。", "LSCPA: listen, share, clarify, present, ask."),
    )
    yield essay(
        "SA-OB-ESSAY-RENEWAL",
        OBJECTIONS,
        ("续约外呼话术", "A renewal call"),
        (
            "“双11宽带续约”活动中，客户的300M宽带合约下月到期，客户觉得月费89元偏高。请写出你的外呼开场与异议处理话术。",
            "In the Singles' Day broadband renewal campaign, a customer's 300M contract ends next "
            "month and they find 89 yuan a month too much. Write your opening and how you handle "
            "the objection.",
        ),
        "满分要点：规范开场并说明来意；了解使用情况；认同顾虑；用融合权益（99元5G套餐含300M宽带）"
        "或数字说明价值；不虚假承诺；复述合约期与违约金。Key points: proper opening, usage "
        "asked, concern acknowledged, value shown (the 99 plan includes 300M broadband), no false "
        "promise, terms read back.",
        (
            "认同后说明99元5G套餐含300M宽带等权益，并复述关键条款。",
            "Acknowledge, show the bundle's value, read back the terms.",
        ),
    )


def _compliance() -> Iterator[Question]:
    for number, (text, answer, explanation) in enumerate(
        (
            (
                (
                    "客户明确拒绝后，本次通话不应继续推销。",
                    "Once the customer clearly refuses, stop selling.",
                ),
                True,
                ("尊重客户意愿，明确拒绝即停止推销。", "Respect a clear no."),
            ),
            (
                (
                    "为促成交易，可以承诺“套餐永久不涨价”。",
                    "To close, you may promise the price never rises.",
                ),
                False,
                ("不得作超出政策的承诺。", "Never promise beyond the policy."),
            ),
            (
                (
                    "办理合约前，应向客户复述合约期和违约金。",
                    "Before signing, read back the term and the exit fee.",
                ),
                True,
                ("关键条款必须复述并获得客户确认。", "Key terms are read back and confirmed."),
            ),
            (
                (
                    "晚上9点半客户一般在家，适合营销外呼。",
                    "At 9:30 pm customers are home: a good time to call.",
                ),
                False,
                (
                    f"外呼只在{OUTBOUND_FROM_HOUR}:00-{OUTBOUND_UNTIL_HOUR}:00之间。",
                    f"Outbound calls only {OUTBOUND_FROM_HOUR}:00-{OUTBOUND_UNTIL_HOUR}:00.",
                ),
            ),
            (
                (
                    "客户同意办理后，应通过短信发送业务确认。",
                    "After a yes, send a confirmation text.",
                ),
                True,
                ("短信确认留痕，保护客户和公司。", "A written record protects both sides."),
            ),
            (
                (
                    "可以代客户决定办理，事后再告知。",
                    "You may sign a customer up and tell them later.",
                ),
                False,
                ("必须客户本人明确同意。", "Only with the customer's own clear consent."),
            ),
        ),
        start=1,
    ):
        yield true_false(
            f"SA-CO-TF-{number}",
            COMPLIANCE,
            "easy" if number <= 3 else "medium",
            (f"营销合规判断{number}", f"Sales compliance {number}"),
            text,
            answer,
            explanation,
        )
    for idnumber, name, text, value in (
        (
            "SA-CO-FROM",
            ("外呼开始时间", "Calls start at"),
            (
                "营销外呼最早几点开始？（填整点，24小时制）",
                "From what hour may sales calls start (24 h)?",
            ),
            OUTBOUND_FROM_HOUR,
        ),
        (
            "SA-CO-UNTIL",
            ("外呼结束时间", "Calls end at"),
            (
                "营销外呼最晚几点结束？（填整点，24小时制）",
                "By what hour must sales calls end (24 h)?",
            ),
            OUTBOUND_UNTIL_HOUR,
        ),
    ):
        yield numerical(
            idnumber,
            COMPLIANCE,
            "medium",
            name,
            text,
            value,
            (
                f"外呼时间为{OUTBOUND_FROM_HOUR}:00-{OUTBOUND_UNTIL_HOUR}:00。",
                f"{OUTBOUND_FROM_HOUR}:00 to {OUTBOUND_UNTIL_HOUR}:00.",
            ),
        )
    yield multiple(
        "SA-CO-CONFIRM",
        COMPLIANCE,
        "hard",
        ("必须复述的条款", "Terms to read back"),
        (
            "办理宽带合约时，哪些内容必须向客户复述确认？",
            "Which terms must be read back on a contract?",
        ),
        [
            bi("合约期", "Contract term"),
            bi("月费", "Monthly fee"),
            bi("提前解约违约金", "Early termination fee"),
        ],
        [bi("坐席工号", "Your agent number"), bi("活动月份", "The campaign's month")],
        ("合约期、月费、违约金必须复述。", "Term, fee and exit fee."),
    )


# --- comprehensive -----------------------------------------------------------------------------


def _ladder_rules() -> Iterator[Question]:
    for zh, en, weight in COMPONENTS:
        yield numerical(
            f"CA-LD-WEIGHT-{en.upper()}",
            LADDER_RULES,
            "medium",
            (f"综合分：{zh}权重", f"Composite: {en} weight"),
            (
                f"晋级综合分中，“{zh}”部分的权重是多少（百分比）？",
                f"What percentage of the ladder's composite score is the {en} component?",
            ),
            weight,
            (
                "服务40、质量35、培训15、知识10。",
                "Service 40, quality 35, training 15, knowledge 10.",
            ),
        )
    for idnumber, difficulty, name, text, value, explanation in (
        (
            "CA-LD-CONSECUTIVE",
            "easy",
            ("连续达标周期", "Periods in a row"),
            (
                "晋级需要连续几个周期达标？",
                "How many periods in a row must an agent qualify to move up?",
            ),
            2,
            ("连续2个周期达标才晋级。", "Two periods in a row."),
        ),
        (
            "CA-LD-MIN-QA",
            "medium",
            ("最少质检次数", "Fewest QA evaluations"),
            (
                "每个周期至少要有几次质检评估，证据才算充分？",
                "How many QA evaluations make enough evidence?",
            ),
            6,
            ("至少6次质检，否则本期暂停判断。", "At least 6; fewer pauses the streak."),
        ),
        (
            "CA-LD-MIN-CALLS",
            "medium",
            ("最少接听量", "Fewest handled calls"),
            ("证据充分至少需要接听多少通电话？", "How many handled calls make enough evidence?"),
            100,
            ("至少100通（按三个周期合计）。", "At least 100, pooled over three periods."),
        ),
        (
            "CA-LD-QUOTA",
            "hard",
            ("超级座席名额", "Super Agent quota"),
            (
                "高级座席·超级最多占全部在岗座席的百分之几？",
                "At most what percentage of agents may be Super Agents?",
            ),
            5,
            ("名额为5%，超出时综合分高者优先。", "5 %; the highest composites win."),
        ),
        (
            "CA-LD-DEMOTION",
            "hard",
            ("降级差额", "Demotion margin"),
            (
                "综合分低于本级准入分多少分并连续2期，会被降级？",
                "How many points below the level's entry score, two periods running, means "
                "demotion?",
            ),
            10,
            ("低于准入分10分且连续2期。", "10 points below, two periods running."),
        ),
    ):
        yield numerical(idnumber, LADDER_RULES, difficulty, name, text, value, explanation)  # type: ignore[arg-type]
    for number, (text, answer, explanation) in enumerate(
        (
            (
                (
                    "综合分由服务、质量、培训、知识四部分组成。",
                    "The composite has four parts: service, quality, training, knowledge.",
                ),
                True,
                ("四部分按40、35、15、10加权。", "Weighted 40, 35, 15 and 10."),
            ),
            (
                (
                    "考试成绩计入综合分的培训部分。",
                    "Exam scores count in the composite's training part.",
                ),
                True,
                ("培训部分即考试成绩。", "The training part is the exam score."),
            ),
            (
                (
                    "晋级决定需要经理审批后才生效。",
                    "A promotion takes effect once a manager approves it.",
                ),
                True,
                ("晋级和降级都进入经理审批队列。", "Moves wait in the manager's approval queue."),
            ),
            (
                (
                    "证据不足的周期会直接导致降级。",
                    "A period with too little evidence demotes the agent.",
                ),
                False,
                ("证据不足只暂停连续计数，不会降级。", "It only pauses the streak."),
            ),
        ),
        start=1,
    ):
        yield true_false(
            f"CA-LD-TF-{number}",
            LADDER_RULES,
            "easy",
            (f"晋级制度判断{number}", f"Ladder rules {number}"),
            text,
            answer,
            explanation,
        )
    yield true_false(
        "CA-LD-SKIP",
        LADDER_RULES,
        "easy",
        ("能否跳级", "Skipping a level"),
        (
            "表现特别突出的座席可以一次晋升两级。",
            "An outstanding agent may move up two levels at once.",
        ),
        False,
        ("每次最多晋升一级。", "One level at a time, never skipping."),
    )
    yield true_false(
        "CA-LD-PROTECT",
        LADDER_RULES,
        "medium",
        ("晋级后保护期", "After a promotion"),
        (
            "刚晋级后的下一个周期不会被降级。",
            "An agent is not demoted in the period right after a promotion.",
        ),
        True,
        ("晋级后有1个周期的保护期。", "One protected period after a promotion."),
    )
    scores = [bi(f"{s}分", f"{s} points") for s in (60, 70, 75, 80, 85, 90)]
    for zh, en, score, tenure in LEVEL_ENTRY[3:7]:
        yield single(
            f"CA-LD-ENTRY-{en.replace(' ', '_').upper()}",
            LADDER_RULES,
            "medium",
            (f"{zh}准入分", f"{en} entry score"),
            (
                f"晋升到“{zh}”，综合分至少需要多少分？",
                f"What composite score is needed to enter {en}?",
            ),
            scores[(60, 70, 75, 80, 85, 90).index(score)],
            scores,
            (f"{zh}准入分{score}分，任职满{tenure}个月。", f"{score} points and {tenure} months."),
        )
    for zh, en, _score, tenure in (LEVEL_ENTRY[0], LEVEL_ENTRY[3], LEVEL_ENTRY[5], LEVEL_ENTRY[7]):
        yield numerical(
            f"CA-LD-TENURE-{en.replace(' ', '_').upper()}",
            LADDER_RULES,
            "hard" if tenure >= 6 else "medium",
            (f"{zh}任职要求", f"{en} tenure"),
            (
                f"晋升到“{zh}”，在当前级别至少需任职几个月？",
                f"How many months at the current level are needed to enter {en}?",
            ),
            tenure,
            (f"{zh}要求任职满{tenure}个月。", f"{tenure} months."),
        )
    yield ordering(
        "CA-LD-ORDER-PRIMARY",
        LADDER_RULES,
        "medium",
        ("中级座席顺序", "Primary levels in order"),
        ("请将以下级别从低到高排列。", "Put these levels from lowest to highest."),
        [bi(zh, en) for zh, en, _s, _t in LEVEL_ENTRY[2:6]],
        ("四级、潜力、发展、熟练。", "Basic Senior, Potential, Developing, Skilled."),
    )
    yield ordering(
        "CA-LD-ORDER-ALL",
        LADDER_RULES,
        "hard",
        ("级别顺序", "Levels in order"),
        ("请将以下级别从低到高排列。", "Put these levels from lowest to highest."),
        [
            bi(zh, en)
            for zh, en, _s, _t in (LEVEL_ENTRY[0], LEVEL_ENTRY[4], LEVEL_ENTRY[6], LEVEL_ENTRY[7])
        ],
        ("二级、发展、专家、超级。", "Sophomore, Developing, Expert, Super."),
    )
    yield matching(
        "CA-LD-TIERS",
        LADDER_RULES,
        "medium",
        ("级别与层级", "Levels and tiers"),
        ("请将级别与所属层级配对。", "Match each level with its tier."),
        [
            (bi("初级座席·三级", "Basic Junior"), bi("初级座席", "Basic Agent")),
            (bi("中级座席·发展", "Developing Agent"), bi("中级座席", "Primary Agent")),
            (bi("高级座席·专家", "Expert Agent"), bi("高级座席", "Senior Agent")),
        ],
        ("初级四级、中级三级、高级两级。", "Four basic, three primary, two senior levels."),
    )


def _certificates() -> Iterator[Question]:
    for code, months in VALIDITY_MONTHS.items():
        zh, en = CERT_NAMES[code]
        yield numerical(
            f"CA-CT-VALID-{code.upper()}",
            CERTIFICATES,
            "medium",
            (f"{zh}有效期", f"{en} validity"),
            (
                f"本中心的{zh}有效期是几个月？",
                f"For how many months is this centre's {en} certificate valid?",
            ),
            months,
            (
                f"{zh}有效期{months}个月，到期前需重新考试。",
                f"{months} months; re-take the exam before it runs out.",
            ),
        )
    yield numerical(
        "CA-CT-EXPIRING",
        CERTIFICATES,
        "medium",
        ("即将到期提醒", "Expiring soon"),
        (
            "证书到期前多少天会被标记为“即将到期”？",
            "How many days before expiry is a certificate marked “expiring soon”?",
        ),
        EXPIRING_SOON_DAYS,
        ("到期前60天提醒。", "60 days before."),
    )
    gates = (
        ("初级座席·四级", "Basic Senior", ["product_knowledge"]),
        ("中级座席·潜力", "Potential Agent", ["product_knowledge", "service_skill"]),
        ("中级座席·熟练", "Skilled Agent", ["sales_skill"]),
        ("高级座席·超级", "Super Agent", ["comprehensive"]),
    )
    for zh, en, needed in gates:
        yield multiple(
            f"CA-CT-GATE-{en.split()[0].upper()}",
            CERTIFICATES,
            "hard" if len(needed) > 1 else "medium",
            (f"{zh}所需认证", f"Certificates for {en}"),
            (f"晋升到“{zh}”需要持有哪些认证？", f"Which certificates are needed to enter {en}?"),
            [bi(*CERT_NAMES[code]) for code in needed],
            [bi(*CERT_NAMES[code]) for code in CERT_NAMES if code not in needed],
            (
                "、".join(CERT_NAMES[code][0] for code in needed) + "。",
                ", ".join(CERT_NAMES[code][1] for code in needed) + ".",
            ),
        )
    yield true_false(
        "CA-CT-EXPIRED",
        CERTIFICATES,
        "easy",
        ("过期证书", "An expired certificate"),
        ("晋级所需的证书过期后，会暂停晋级。", "An expired required certificate holds promotion."),
        True,
        ("过期证书阻止晋级，需重新考试取得。", "It blocks promotion until renewed."),
    )


def _cases() -> Iterator[Question]:
    for idnumber, difficulty, name, text, right, wrong, explanation in (
        (
            "CA-CS-HIGH-BILL",
            "hard",
            ("账单突然变高", "A sudden high bill"),
            (
                "客户用5G畅享59，上月用了45GB流量，账单104元，来电质疑。最好的处理是？",
                "A customer on 5G Enjoy 59 used 45 GB last month; the bill was 104 yuan and they "
                "query it. Best handling?",
            ),
            bi(
                "解释超出15GB×3元，并推荐5G畅享99（含60GB，更省）",
                "Explain 15 GB x 3 yuan extra and suggest 5G Enjoy 99",
            ),
            [
                bi("直接申请退费", "Refund it"),
                bi("告诉客户少用流量", "Tell them to use less"),
                bi("说系统出错了", "Blame the system"),
            ],
            (
                "59+15×3=104元；99元套餐含60GB，每月省5元。",
                "59 + 45 = 104; the 99 plan covers 60 GB.",
            ),
        ),
        (
            "CA-CS-LEAK",
            "hard",
            ("空调漏水", "A leaking air conditioner"),
            (
                "客户的空调买了2年，出现漏水，城区，来电报修。正确答复是？",
                "A two-year-old air conditioner leaks, in a city. The right answer?",
            ),
            bi(
                "在整机保修期内，免费上门，24小时内到达",
                "Under warranty: a free visit within 24 hours",
            ),
            [
                bi("收取50元上门费", "Charge the 50-yuan visit"),
                bi("48小时内上门", "Visit within 48 hours"),
                bi("建议客户自己清理", "Tell them to clean it"),
            ],
            ("空调整机保修6年，城区24小时上门。", "6-year warranty; 24 hours in cities."),
        ),
        (
            "CA-CS-MOVE",
            "medium",
            ("搬家移机", "Moving house"),
            (
                "客户搬家，300M宽带合约还剩5个月，想取消宽带。最好的建议是？",
                "A customer is moving, with 5 months left on a 300M contract, and wants to cancel. "
                "Best advice?",
            ),
            bi(
                "建议办理移机，避免133.5元违约金",
                "Suggest moving the line, avoiding the 133.5-yuan exit fee",
            ),
            [
                bi("直接办理拆机", "Cancel it"),
                bi("让客户继续交费不用", "Keep paying unused"),
                bi("免除违约金", "Waive the fee"),
            ],
            ("违约金89×5×30%=133.5元；移机更划算。", "89 x 5 x 30 % = 133.5; moving is cheaper."),
        ),
        (
            "CA-CS-VIP",
            "medium",
            ("VIP断网", "A VIP outage"),
            (
                "VIP客户上午10点报宽带断网，最迟什么时候应有维修人员上门？",
                "A VIP customer reports an outage at 10:00. When must a technician arrive at the "
                "latest?",
            ),
            bi("当天14点", "14:00 the same day"),
            [
                bi("当天12点", "12:00 the same day"),
                bi("次日10点", "10:00 the next day"),
                bi("48小时内", "Within 48 hours"),
            ],
            ("VIP客户4小时内上门：10点+4小时=14点。", "VIP: within 4 hours, so 14:00."),
        ),
    ):
        yield single(idnumber, CASES, difficulty, name, text, right, wrong, explanation)  # type: ignore[arg-type]
    yield essay(
        "CA-CS-ESSAY-COACH",
        CASES,
        ("辅导新同事", "Coaching a new colleague"),
        (
            "新同事的质检分连续两月低于80分，主要扣分在“电话礼仪”和“产品知识熟练度”。作为资深座席，请写出你的辅导计划。",
            "A new colleague scored under 80 in QA two months running, losing points on "
            "telephone etiquette and product knowledge. As a senior agent, write your coaching "
            "plan.",
        ),
        "满分要点：找出具体扣分录音；示范规范用语（问候、保持、结束）；产品知识复习与小测；"
        "设定目标与时间；跟进复盘。Key points: the calls that lost points, model phrases, a "
        "product refresher with a quiz, a target and a date, a review.",
        (
            "以录音为据，示范、练习、测验、跟进。",
            "Use the calls: model, practise, test, follow up.",
        ),
    )
    yield essay(
        "CA-CS-ESSAY-PEAK",
        CASES,
        ("话务高峰", "A call peak"),
        (
            "双11活动当天来电量是平时的两倍，排队客户很多。作为班组长，你会如何安排，保证服务质量？",
            "On Singles' Day twice the usual calls arrive and the queue is long. As team lead, "
            "how do you keep the service good?",
        ),
        "满分要点：提前排班与加班安排；准备常见问题话术；提醒致歉（排队超30秒）；控制通话时长；"
        "实时监控并支援。Key points: rosters and overtime, ready answers, apologies after 30 s, "
        "handling time, live monitoring and support.",
        ("预案、话术、致歉、监控。", "Plan, scripts, apologies, monitoring."),
    )


def demo_questions() -> list[Question]:
    """The demo's whole bank, generated from the facts above (idnumbers unique)."""
    questions = [
        *_broadband(),
        *_mobile(),
        *_appliances(),
        *_billing(),
        *_etiquette(),
        *_hold_and_closing(),
        *_complaints(),
        *_qa_standards(),
        *_campaigns(),
        *_recommending(),
        *_objections(),
        *_compliance(),
        *_ladder_rules(),
        *_certificates(),
        *_cases(),
    ]
    idnumbers = [question.idnumber for question in questions]
    if len(set(idnumbers)) != len(idnumbers):  # pragma: no cover - a mistake in the templates
        raise RuntimeError("the demo's question bank repeats an idnumber")
    return questions


# Essay answers of a strong, an average and a weak agent, by idnumber (the trainer's mark
# follows the agent's skill, the text only has to read like an answer).
ESSAY_ANSWERS: dict[str, tuple[str, str, str]] = {
    "SS-CP-ESSAY-CALM": (
        "非常抱歉给您添麻烦了，您的心情我完全理解。空调在整机保修期内，上门和维修都免费，我现在就为您"
        "加急登记，师傅24小时内上门，明天我会回电确认处理结果。",
        "不好意思让您久等了，我帮您登记报修，师傅会尽快联系您。",
        "我帮您再报一次修吧，您等师傅电话。",
    ),
    "SA-OB-ESSAY-RENEWAL": (
        "您好，我是安信8002号客服，您的300M宽带下月到期，想了解一下您家里的使用情况。理解您觉得月费偏高，"
        "现在办理99元5G套餐就含300M宽带，手机和宽带一起算每月更省。合约期12个月，提前解约有违约金，"
        "我再为您复述一遍。",
        "您好，宽带快到期了，现在续约有优惠，99元套餐包含宽带，您考虑一下吗？",
        "宽带要续约吗？不续就停了。",
    ),
    "CA-CS-ESSAY-COACH": (
        "先调出两个月扣分的录音一起听，找出问候、保持、结束语的问题并示范规范用语；每天复习一项产品知识并做"
        "小测；约定下月质检达到85分，每周复盘一次。",
        "带他听录音，告诉他规范用语，多看产品资料。",
        "让他自己多练习。",
    ),
    "CA-CS-ESSAY-PEAK": (
        "提前一周调整排班并安排加班；整理活动常见问题话术；提醒组员排队超30秒先致歉；控制通话时长，"
        "复杂问题建单回电；实时监控队列，必要时亲自接听支援。",
        "多安排人上班，提醒大家注意态度。",
        "让大家接快一点。",
    ),
}
