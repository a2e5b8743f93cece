"""The demo's knowledge library: the company's bilingual items (`demo/knowledge/items`) written
into the library through its services over the months of calls, by the people who would write
them, and then read, voted for, used on calls and searched, as if the centre had worked with it
all along.

Who writes what: cases mostly by agents, each case's author drawn with a weight rising with
the agents' latent skill on the day (better agents contribute more); articles, SOPs and scripts
mostly by the trainer and the QA evaluators, some by the most skilled agents (compliance and
ladder rules by staff only). Each item is created on a working day of the call months,
submitted, and reviewed one to three days later by someone who is not its author (a team lead
of another team, a QA evaluator or the trainer): `RETURN_SHARE` of them are first returned with
a comment and approved once the author has mended them. The reviewer's grade rises with the
author's skill, with noise. The trainer or QA adopt published cases as best practice with a
chance rising with the author's skill and the grade (about three cases in ten), and make a
few of the best into SOPs.

Readers: agents (never the author) vote items helpful, a Poisson count rising with the author's
skill and with adoption, and take back a few votes; some items get short comments; items are
linked to answered calls of the agents who handled them (the agent's own link, or QA's on an
evaluated call), better items more often; view counts follow votes and uses.

What the pages find waiting at the end: agents' drafts, new items and edits of published
items waiting for review, a duplicate archived as such (its points taken back), published
items edited by reviewers (their history and diffs), two edits reverted. Agents' searches
(`SEARCHES_FOUND`; `SEARCHES_MISSING`, what the library lacks, for the gaps report) are
logged at moments spread over the months.

Every moment lies in the call months and before now, so the points land in the months the
ladder evaluates. Only the library's services write; nothing here is read by the product.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.points import service as points_service
from agentladder.knowledge.schemas import ItemDraft
from agentladder.knowledge.search import service as search_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import User

LIBRARY_FOLDER = "knowledge"  # in the agentladder.demo package
# Who writes what (see the module docstring).
CASE_BY_AGENT_SHARE = 0.88
OTHER_BY_AGENT_SHARE = 0.22
STAFF_ONLY_AREAS = frozenset({"compliance", "ladder"})
CASE_AUTHOR_SKILL = 1.0  # a case's author is drawn with weight exp(this x skill)
SENIOR_AUTHOR_SKILL = 2.5  # an agent's article, SOP or script: the most skilled write them
WRITES_AFTER_HIRE_DAYS = 30
# Reviews: days after submission, returns, grades.
REVIEW_AFTER_DAYS = (1, 3)
MEND_AFTER_DAYS = (1, 2)
RETURN_SHARE = 0.15
GRADE_BASE, GRADE_PER_SKILL, GRADE_SD = 2.9, 0.6, 0.7
STAFF_GRADE = 3.8
# Adoption as best practice: logistic in the author's skill and the grade; staff cases flat.
ADOPT_BASE, ADOPT_PER_SKILL, ADOPT_PER_GRADE = -3.0, 0.6, 0.8
STAFF_ADOPT_CHANCE = 0.25
ADOPT_AFTER_DAYS = (2, 25)
SOPS_FROM_CASES = 4
# Readers.
VOTES_BASE, VOTES_PER_SKILL, ADOPTED_VOTES, STAFF_VOTES = 1.1, 0.45, 1.8, 1.6
WITHDRAWN_SHARE = 0.03
COMMENTED_SHARE = 0.12
AGENT_USAGES_PER_AGENT_MONTH = 2.0  # links agents make to their own calls
QA_USAGE_SHARE = 0.06  # evaluated calls QA links an item to
TYPE_USE = {"script": 1.5, "sop": 1.3, "article": 1.2, "case": 1.0}
# What waits at the end.
DRAFTS = 8
NEW_IN_REVIEW = 3
PENDING_EDITS = 3
REVIEWER_EDITED = 5
REVERTS = 2
WORKDAY_START, WORKDAY_MINUTES = time(9, 0), 9 * 60

RETURN_COMMENTS = (
    "请补充处理结果，并写明是否已回访客户。",
    "解决方案的步骤不够具体，请写清楚系统里的操作路径。",
    "标题建议写成客户的原话，方便同事检索。",
    "文中出现了客户手机号，请删除个人信息后再提交。",
    "资费数字请与最新价目表核对后再提交。",
    "请补充适用范围和注意事项，避免同事误用。",
    "英文部分与中文不一致，请核对后再提交。",
)
APPROVE_COMMENTS = (
    "内容清楚，同意发布。",
    "步骤完整，可直接使用。",
    "案例典型，建议组内学习。",
    "已核对资费，发布。",
    "",
    "",
)
# What an author adds to a returned item: (Chinese, English).
MENDS = (
    (
        "补充：处理后第二天已电话回访，客户确认问题已解决。",
        "Added: the next day the agent called back and the customer confirmed it was solved.",
    ),
    (
        "注意：资费与政策以系统最新公告为准，办理前请再次核对。",
        "Note: the latest notice in the system prevails for prices and rules; check it first.",
    ),
    (
        "补充：操作路径为 工单系统 > 我的待办 > 处理，提交前核对客户身份。",
        "Added: Ticket system > My tasks > Handle; check the caller's identity before sending.",
    ),
)
# What reviewers add when they keep a published item up to date: (Chinese, English).
UPDATES = (
    (
        "更新：工单系统改版后，“提交工单”按钮移到了页面右上角。",
        "Update: since the ticket system's redesign, Submit ticket is at the top right.",
    ),
    (
        "补充：客户情绪激动时，先致歉安抚，再核实信息，不与客户争辩。",
        "Added: when the caller is upset, apologise and calm them before checking details.",
    ),
    (
        "更新：回访须在24小时内完成，并在工单中记录回访结果。",
        "Update: call back within 24 hours and record the result in the ticket.",
    ),
    (
        "补充：涉及退款时，须向客户复述金额和预计到账时间。",
        "Added: for a refund, repeat the amount and when it should arrive.",
    ),
    (
        "更新：安信APP“我的-服务进度”可查询处理进度，可引导客户自助查询。",
        "Update: the Anxin app's My > Service progress shows the status; guide callers to it.",
    ),
    (
        "补充：老年客户请放慢语速，关键信息重复一遍并请客户确认。",
        "Added: with elderly callers, speak slowly, repeat the key facts and have them confirmed.",
    ),
)
COMMENTS = (
    "很实用，今天刚用上，客户很满意。",
    "第二步的系统入口现在改到“工单-我的待办”里了。",
    "建议补充一下老年客户的处理方式。",
    "这个话术很好用，已推荐给组里同事。",
    "请问周末来电也适用吗？",
    "按这个流程处理，一次就解决了，赞！",
    "客户问到能不能延期，这里没写，建议补充。",
    "和另一篇里的说法不太一样，麻烦核实一下。",
    "新人必看，讲得很清楚。",
    "结果部分能不能写一下回访的情况？",
)
# What agents type on calls: most the library answers, the last ones it does not (the gaps).
SEARCHES_FOUND = (
    "光猫红灯",
    "光猫LOS灯闪",
    "宽带断网怎么办",
    "网速慢",
    "WiFi密码忘了",
    "路由器怎么重启",
    "宽带移机",
    "拆机违约金",
    "宽带提速",
    "新装宽带安装费",
    "报修多久上门",
    "5G套餐升级",
    "流量超了",
    "副卡办理",
    "携号转网",
    "国际漫游",
    "欠费停机 复机",
    "退款多久到账",
    "发票怎么开",
    "扣费异议",
    "账单看不懂",
    "逾期违约金",
    "空调不制冷",
    "洗衣机故障代码",
    "冰箱保修期",
    "家电安装预约",
    "退换货",
    "改约上门时间",
    "客户要投诉升级",
    "客户情绪激动",
    "重复来电",
    "客户要求赔偿",
    "工单催办",
    "转接规范",
    "保持等待话术",
    "开场白",
    "结束语",
    "服务禁用语",
    "录音告知",
    "免打扰",
    "个人信息保护",
    "融合套餐",
    "晋级条件",
    "降级规则",
    "slow internet",
    "refund",
    "warranty",
)
SEARCHES_MISSING = (
    "eSIM",
    "云盘扩容",
    "智能音箱",
    "儿童手表",
    "IPTV回看",
    "延保",
    "碎屏险",
    "靓号",
)
SEARCHES = 60
MISSING_SEARCH_SHARE = 0.17


@dataclass(frozen=True)
class ItemFile:
    """One item file of the demo company's library."""

    area: str
    slug: str | None
    draft: ItemDraft


@dataclass(frozen=True)
class UsedCall:
    """A handled call an item may have been used on: the agent's own link, or QA's on an
    evaluated call (by the evaluator, when known)."""

    call_id: str
    agent_id: int
    at: datetime
    source: Literal["agent", "qa"]
    user_id: int | None = None


@dataclass
class LibraryDemo:
    """What the library step did, for the summary."""

    items_by_type: dict[str, int] = field(default_factory=dict)
    items_by_status: dict[str, int] = field(default_factory=dict)
    agent_authors: int = 0
    agent_items: int = 0
    staff_items: int = 0
    returned: int = 0
    adopted: int = 0
    sops_from_cases: int = 0
    votes: int = 0
    votes_withdrawn: int = 0
    comments: int = 0
    usages: int = 0
    views: int = 0
    waiting_review: int = 0
    revisions: int = 0
    points: float = 0.0
    ledger_entries: int = 0
    searches: int = 0
    searches_without_results: int = 0


@dataclass(frozen=True)
class _Writer:
    """Someone who writes, reviews or reads: an agent's login or a staff member's."""

    user: User
    agent_id: int | None = None
    team_id: int | None = None
    hired: date | None = None
    lead: bool = False


@dataclass
class _Published:
    """An item the simulation published, and what readers will make of it."""

    item_id: int
    type: str
    author: _Writer
    skill: float
    grade: int
    published_at: datetime
    reviewer: _Writer
    adopted_at: datetime | None = None
    adopter: _Writer | None = None
    votes: int = 0
    usages: int = 0


def library_files() -> list[ItemFile]:
    """The demo company's item files, in path order."""
    root = resources.files("agentladder.demo").joinpath(LIBRARY_FOLDER, "items")
    found: list[ItemFile] = []
    for area in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not area.is_dir():
            continue
        files: list[Traversable] = [f for f in area.iterdir() if f.name.endswith(".md")]
        for entry in sorted(files, key=lambda f: f.name):
            slug, draft = items_service.draft_from_file(entry.read_text(encoding="utf-8"))
            found.append(ItemFile(area.name, slug, draft))
    return found


def library_vocabulary() -> tuple[list[str], list[list[str]]]:
    """The demo centre's dictionary terms (jieba's `term freq pos` lines) and synonym groups."""
    root = resources.files("agentladder.demo").joinpath(LIBRARY_FOLDER)
    terms = [
        line.split()[0]
        for line in root.joinpath("userdict.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    groups = yaml.safe_load(root.joinpath("synonyms.yaml").read_text(encoding="utf-8"))
    return terms, [[str(word) for word in group] for group in groups]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the means here are small.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _with_paragraph(draft: ItemDraft, zh: str, en: str, note: str) -> ItemDraft:
    """The draft with a bilingual paragraph added where its text ends (a case's result)."""
    part = "result" if draft.type == "case" else "body"
    text = getattr(draft, part)
    added = f"{text}\n\n{zh}\n\n{en}".strip()
    return draft.model_copy(update={part: added, "note": note})


class _Library:
    """The simulation's state: who is who, the clock's bounds, what was published."""

    def __init__(
        self,
        session: Session,
        first: date,
        last: date,
        zone: ZoneInfo,
        skill_on: Callable[[int, date], float | None],
        rng: random.Random,
    ) -> None:
        self.session, self.first, self.last, self.zone = session, first, last, zone
        self.skill_on, self.rng = skill_on, rng
        # Nothing later than the last call day's evening, nor than now.
        self.end = min(
            datetime.combine(last, time(22, 0), zone).astimezone(UTC), utcnow().astimezone(UTC)
        )
        self.result = LibraryDemo()
        self.published: list[_Published] = []
        self.item_ids: list[int] = []
        self._people()

    # --- people -------------------------------------------------------------------------------

    def _people(self) -> None:
        session = self.session
        users = accounts_service.list_users(session=session)
        by_agent = {user.agent_id: user for user in users if user.agent_id is not None}
        self.agents: list[_Writer] = []
        for agent in org_service.all_agents(session=session):
            read = by_agent.get(agent.id)
            if agent.status != "active" or read is None:
                continue
            self.agents.append(
                _Writer(
                    accounts_service.get_user_or_raise(session=session, user_id=read.id),
                    agent.id,
                    agent.team_id,
                    agent.hire_date,
                    "team_lead" in read.roles,
                )
            )

        def staff(role: str) -> list[_Writer]:
            return [
                _Writer(accounts_service.get_user_or_raise(session=session, user_id=user.id))
                for user in users
                if role in user.roles and user.agent_id is None
            ]

        self.trainers, self.qa, self.managers = staff("trainer"), staff("qa"), staff("manager")
        self.leads = [writer for writer in self.agents if writer.lead]
        if not self.agents or not self.trainers or not self.qa:
            raise RuntimeError("the library step needs agents, a trainer and QA")

    def skill(self, writer: _Writer, day: date) -> float:
        """A writer's latent skill on a day (staff: 0, unused)."""
        if writer.agent_id is None:
            return 0.0
        return self.skill_on(writer.agent_id, day) or 0.0

    def working_agents(self, day: date) -> list[_Writer]:
        """The agents trained long enough by the day to write and use the library."""
        return [
            writer
            for writer in self.agents
            if writer.hired is not None
            and writer.hired + timedelta(days=WRITES_AFTER_HIRE_DAYS) <= day
        ] or self.agents

    def pick_agent(self, day: date, weight_per_skill: float) -> _Writer:
        """An agent drawn with weight exp(weight_per_skill x skill on the day)."""
        pool = self.working_agents(day)
        weights = [math.exp(weight_per_skill * self.skill(w, day)) for w in pool]
        return self.rng.choices(pool, weights=weights)[0]

    def pick_staff(self, area: str) -> _Writer:
        """The trainer mostly, QA often, the manager for the ladder's rules."""
        if area == "ladder" and self.managers and self.rng.random() < 0.4:
            return self.rng.choice(self.managers)
        return self.rng.choice(self.trainers if self.rng.random() < 0.6 else self.qa)

    def pick_reviewer(self, author: _Writer) -> _Writer:
        """A team lead of another team, a QA evaluator or the trainer; never the author."""
        other_leads = [
            lead
            for lead in self.leads
            if lead.user.id != author.user.id
            and (author.team_id is None or lead.team_id != author.team_id)
        ]
        while True:
            draw = self.rng.random()
            if draw < 0.4 and other_leads:
                pool = other_leads
            else:
                pool = self.qa if draw < 0.8 else self.trainers
            reviewer = self.rng.choice(pool)
            if reviewer.user.id != author.user.id:
                return reviewer

    def pick_adopter(self, author: _Writer) -> _Writer:
        """The trainer or a QA evaluator, not the author."""
        pool = [w for w in (*self.trainers, *self.qa[:2]) if w.user.id != author.user.id]
        return self.rng.choice(pool)

    # --- the clock ----------------------------------------------------------------------------

    def moment(self, day: date) -> datetime:
        """A moment of the working day, in UTC."""
        local = datetime.combine(day, WORKDAY_START, self.zone) + timedelta(
            minutes=self.rng.randrange(WORKDAY_MINUTES)
        )
        return local.astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        """The centre's calendar day of a moment."""
        return moment.astimezone(self.zone).date()

    def days_later(self, moment: datetime, span: tuple[int, int]) -> datetime:
        """A working moment some days after `moment`."""
        return self.moment(self.local_day(moment) + timedelta(days=self.rng.randint(*span)))

    def between(self, start: datetime, end: datetime) -> datetime:
        """A moment drawn evenly between two (the later one when they come the wrong way
        round: something published in the last hour of the months)."""
        return start + (end - start) * self.rng.random() if start < end else end

    # --- writing ------------------------------------------------------------------------------

    def write(self, file: ItemFile, author: _Writer, day: date) -> _Published:
        """Create, submit and review an item (returned and mended first, sometimes)."""
        session, rng = self.session, self.rng
        created = self.moment(day)
        item = items_service.create_item(
            session=session,
            draft=file.draft,
            by=author.user,
            author_agent_id=author.agent_id,
            slug=file.slug,
            at=created,
        )
        self.item_ids.append(item.id)
        submitted = created + timedelta(minutes=rng.randint(5, 90))
        items_service.submit(session=session, item_id=item.id, by=author.user, at=submitted)
        reviewer = self.pick_reviewer(author)
        reviewed = self.days_later(submitted, REVIEW_AFTER_DAYS)
        if rng.random() < RETURN_SHARE:
            items_service.review(
                session=session,
                item_id=item.id,
                by=reviewer.user,
                decision="return",
                comment=rng.choice(RETURN_COMMENTS),
                at=reviewed,
            )
            mended = self.days_later(reviewed, MEND_AFTER_DAYS)
            zh, en = rng.choice(MENDS)
            items_service.edit_item(
                session=session,
                item_id=item.id,
                draft=_with_paragraph(file.draft, zh, en, "按审核意见修改"),
                by=author.user,
                at=mended,
            )
            resubmitted = mended + timedelta(minutes=rng.randint(2, 30))
            items_service.submit(session=session, item_id=item.id, by=author.user, at=resubmitted)
            reviewed = self.days_later(resubmitted, REVIEW_AFTER_DAYS)
            self.result.returned += 1
        skill = self.skill(author, day)
        mean = STAFF_GRADE if author.agent_id is None else GRADE_BASE + GRADE_PER_SKILL * skill
        grade = max(1, min(5, round(rng.gauss(mean, GRADE_SD))))
        items_service.review(
            session=session,
            item_id=item.id,
            by=reviewer.user,
            decision="approve",
            comment=rng.choice(APPROVE_COMMENTS),
            grade=grade,
            at=reviewed,
        )
        published = _Published(item.id, file.draft.type, author, skill, grade, reviewed, reviewer)
        self.published.append(published)
        return published

    def adopt(self, published: _Published) -> None:
        """The trainer or QA adopt a good case as best practice, some days after publication."""
        if published.author.agent_id is None:
            chance = STAFF_ADOPT_CHANCE
        else:
            chance = _logistic(
                ADOPT_BASE
                + ADOPT_PER_SKILL * published.skill
                + ADOPT_PER_GRADE * (published.grade - 3)
            )
        if self.rng.random() >= chance:
            return
        at = self.days_later(published.published_at, ADOPT_AFTER_DAYS)
        if at > self.end:
            return  # too recent: nobody has looked at it yet
        adopter = self.pick_adopter(published.author)
        items_service.adopt(session=self.session, item_id=published.item_id, by=adopter.user, at=at)
        published.adopted_at, published.adopter = at, adopter
        self.result.adopted += 1

    def write_library(self, files: Sequence[ItemFile]) -> None:
        """Every file written on a day of the call months, in the order of the days."""
        rng = self.rng
        # Leave room for a return, a mend and two reviews before the last day.
        span = max(1, (self.last - self.first).days - 12)
        days = sorted(self.first + timedelta(days=rng.randrange(span)) for _ in files)
        shuffled = list(files)
        rng.shuffle(shuffled)
        authors: set[int] = set()
        for file, day in zip(shuffled, days, strict=True):
            by_agent = file.area not in STAFF_ONLY_AREAS and rng.random() < (
                CASE_BY_AGENT_SHARE if file.draft.type == "case" else OTHER_BY_AGENT_SHARE
            )
            if by_agent:
                weight = CASE_AUTHOR_SKILL if file.draft.type == "case" else SENIOR_AUTHOR_SKILL
                author = self.pick_agent(day, weight)
            else:
                author = self.pick_staff(file.area)
            published = self.write(file, author, day)
            if author.agent_id is not None:
                authors.add(author.agent_id)
                self.result.agent_items += 1
            else:
                self.result.staff_items += 1
            if file.draft.type == "case":
                self.adopt(published)
        self.result.agent_authors = len(authors)

    def make_sops(self) -> None:
        """The best adopted cases made into SOPs by their adopter, reviewed by someone else."""
        adopted = [p for p in self.published if p.adopted_at is not None and p.adopter is not None]
        adopted.sort(key=lambda p: (-p.grade, p.item_id))
        for case in adopted:
            if self.result.sops_from_cases >= SOPS_FROM_CASES:
                break
            assert case.adopted_at is not None
            assert case.adopter is not None
            made = self.days_later(case.adopted_at, (2, 6))
            reviewed = self.days_later(made, REVIEW_AFTER_DAYS)
            if reviewed > self.end:
                continue
            session, adopter = self.session, case.adopter
            sop = items_service.make_sop(
                session=session, item_id=case.item_id, by=adopter.user, at=made
            )
            self.item_ids.append(sop.id)
            items_service.submit(session=session, item_id=sop.id, by=adopter.user, at=made)
            reviewer = self.pick_reviewer(adopter)
            items_service.review(
                session=session,
                item_id=sop.id,
                by=reviewer.user,
                decision="approve",
                comment="由最佳实践整理为标准流程，同意发布。",
                grade=5,
                at=reviewed,
            )
            self.published.append(_Published(sop.id, "sop", adopter, 0.0, 5, reviewed, reviewer))
            self.result.sops_from_cases += 1

    # --- readers ------------------------------------------------------------------------------

    def read(self, calls: Sequence[UsedCall]) -> None:
        """Votes (a few taken back), comments and uses on calls, written in the order of their
        moments (the point rules' monthly caps count what came before), then view counts."""
        self.published.sort(key=lambda p: (p.published_at, p.item_id))
        events: list[tuple[datetime, int, Callable[[], None]]] = []
        self._plan_votes(events)
        self._plan_comments(events)
        self._plan_usages(events, calls)
        events.sort(key=lambda event: (event[0], event[1]))
        for _at, _order, action in events:
            action()
        views: dict[int, int] = {}
        for published in self.published:
            months = (self.end - published.published_at).total_seconds() / 86_400 / 30.4
            views[published.item_id] = round(
                published.votes * self.rng.uniform(4, 8)
                + published.usages * self.rng.uniform(2, 4)
                + self.rng.expovariate(1 / 12) * (0.5 + months)
            )
        items_service.set_view_counts(session=self.session, counts=views)
        self.result.views = sum(views.values())

    def _plan_votes(self, events: list[tuple[datetime, int, Callable[[], None]]]) -> None:
        rng, whole = self.rng, (self.end - self.moment(self.first)).total_seconds()
        for published in self.published:
            if published.author.agent_id is None:
                mean = STAFF_VOTES
            else:
                mean = VOTES_BASE * math.exp(VOTES_PER_SKILL * published.skill)
            if published.adopted_at is not None:
                mean *= ADOPTED_VOTES
            # An item published late has had fewer readers.
            mean *= 0.3 + 0.7 * (self.end - published.published_at).total_seconds() / whole
            voters: set[int] = {published.author.user.id}
            for _ in range(_poisson(rng, mean)):
                at = self.between(published.published_at + timedelta(hours=1), self.end)
                voter = rng.choice(self.working_agents(self.local_day(at)))
                if voter.user.id in voters:
                    continue
                voters.add(voter.user.id)
                events.append((at, len(events), self._vote(published, voter, at, True)))
                back = at + timedelta(days=rng.uniform(1, 10))
                if rng.random() < WITHDRAWN_SHARE and back <= self.end:
                    events.append((back, len(events), self._vote(published, voter, back, False)))

    def _vote(
        self, published: _Published, voter: _Writer, at: datetime, helpful: bool
    ) -> Callable[[], None]:
        def cast() -> None:
            items_service.vote(
                session=self.session,
                item_id=published.item_id,
                by=voter.user,
                helpful=helpful,
                at=at,
            )
            published.votes += 1 if helpful else -1
            self.result.votes += 1 if helpful else -1
            self.result.votes_withdrawn += 0 if helpful else 1

        return cast

    def _plan_comments(self, events: list[tuple[datetime, int, Callable[[], None]]]) -> None:
        rng = self.rng
        for published in self.published:
            if rng.random() >= COMMENTED_SHARE:
                continue
            for text in rng.sample(COMMENTS, k=rng.choice((1, 1, 2))):
                at = self.between(published.published_at + timedelta(hours=2), self.end)
                reader = rng.choice(self.working_agents(self.local_day(at)))
                if reader.user.id == published.author.user.id:
                    continue
                events.append((at, len(events), self._comment(published, reader, text, at)))

    def _comment(
        self, published: _Published, reader: _Writer, text: str, at: datetime
    ) -> Callable[[], None]:
        def write() -> None:
            items_service.add_comment(
                session=self.session, item_id=published.item_id, by=reader.user, body=text, at=at
            )
            self.result.comments += 1

        return write

    def _plan_usages(
        self, events: list[tuple[datetime, int, Callable[[], None]]], calls: Sequence[UsedCall]
    ) -> None:
        """Calls the agents linked an item to (`AGENT_USAGES_PER_AGENT_MONTH`) and evaluated
        calls QA linked one to (`QA_USAGE_SHARE`), each to an item published before the call,
        better items (grade, adoption, type) more often."""
        rng = self.rng
        own = [call for call in calls if call.source == "agent" and call.at < self.end]
        if own:
            months = max(1.0, (own[-1].at - own[0].at).total_seconds() / 86_400 / 30.4)
            wanted = round(AGENT_USAGES_PER_AGENT_MONTH * len(self.agents) * months)
            own = rng.sample(own, k=min(len(own), wanted))
        evaluated = [
            call
            for call in calls
            if call.source == "qa" and call.at < self.end and rng.random() < QA_USAGE_SHARE
        ]
        times = [p.published_at for p in self.published]
        weights: list[float] = []
        for p in self.published:
            adopted = 2.0 if p.adopted_at is not None else 1.0
            weights.append(p.grade * p.grade * adopted * TYPE_USE.get(p.type, 1.0))
        cumulative = list(itertools.accumulate(weights))
        agents = {writer.agent_id: writer for writer in self.agents}
        qa = {writer.user.id: writer for writer in self.qa}
        for call in sorted([*own, *evaluated], key=lambda c: (c.at, c.call_id)):
            known = bisect.bisect_left(times, call.at)
            if known == 0:
                continue
            chosen = self.published[
                bisect.bisect_left(cumulative, rng.random() * cumulative[known - 1])
            ]
            if call.source == "agent":
                by = agents.get(call.agent_id)
            else:
                by = qa.get(call.user_id or 0, self.qa[0])
            if by is None:
                continue
            at = min(self.end, call.at + timedelta(minutes=rng.randint(1, 5)))
            events.append((at, len(events), self._use(chosen, call, by, at)))

    def _use(
        self, published: _Published, call: UsedCall, by: _Writer, at: datetime
    ) -> Callable[[], None]:
        def link() -> None:
            if items_service.record_usage(
                session=self.session,
                item_id=published.item_id,
                call_id=call.call_id,
                by=by.user,
                source=call.source,
                agent_id=call.agent_id,
                at=at,
            ):
                published.usages += 1
                self.result.usages += 1

        return link

    # --- what waits at the end ----------------------------------------------------------------

    def leave_work_in_progress(self, spare: Sequence[ItemFile]) -> None:
        """Agents' drafts and new items waiting for review (from `spare`), agents' edits of
        their published items waiting, reviewers' edits (two reverted), a duplicate archived."""
        session, rng = self.session, self.rng
        for number, file in enumerate(spare[: DRAFTS + NEW_IN_REVIEW]):
            draft = number < DRAFTS
            day = self.last - timedelta(days=rng.randint(1, 25 if draft else 8))
            author = self.pick_agent(day, CASE_AUTHOR_SKILL)
            created = self.moment(day)
            # A draft is unfinished: its author has not written the result yet.
            text = file.draft.model_copy(update={"result": ""}) if draft else file.draft
            item = items_service.create_item(
                session=session,
                draft=text,
                by=author.user,
                author_agent_id=author.agent_id,
                slug=file.slug,
                at=created,
            )
            self.item_ids.append(item.id)
            if not draft:
                submitted = created + timedelta(minutes=rng.randint(5, 60))
                items_service.submit(session=session, item_id=item.id, by=author.user, at=submitted)
        chosen: set[int] = set()
        self._pending_edits(chosen)
        self._reviewer_edits(chosen)
        self._duplicate(chosen)

    def _edit(self, item_id: int, by: _Writer, zh: str, en: str, note: str, at: datetime) -> None:
        row = items_service.get_item_row(session=self.session, item_id=item_id, by=None)
        current = items_service.get_item(
            session=self.session, item_id=item_id, by=None, revision=row.current_revision
        )
        draft = ItemDraft(type=current.type, category=current.category, **current.text.model_dump())
        items_service.edit_item(
            session=self.session,
            item_id=item_id,
            draft=_with_paragraph(draft, zh, en, note),
            by=by.user,
            at=at,
        )

    def _pending_edits(self, chosen: set[int]) -> None:
        """Agents (not team leads, whose edits publish at once) improve their published items;
        the edits wait for a reviewer."""
        candidates = [p for p in self.published if p.author.agent_id and not p.author.lead]
        for published in self.rng.sample(candidates, k=min(PENDING_EDITS, len(candidates))):
            zh, en = self.rng.choice(MENDS)
            day = self.last - timedelta(days=self.rng.randint(0, 6))
            at = min(self.end, max(self.moment(day), published.published_at + timedelta(hours=4)))
            self._edit(published.item_id, published.author, zh, en, "补充回访情况", at)
            chosen.add(published.item_id)

    def _reviewer_edits(self, chosen: set[int]) -> None:
        """Reviewers keep articles, SOPs and scripts up to date: several revisions each; two
        edits taken back by another reviewer (a revert is a new revision)."""
        rng = self.rng
        candidates = [p for p in self.published if p.type != "case" and p.item_id not in chosen]
        edited = rng.sample(candidates, k=min(REVIEWER_EDITED, len(candidates)))
        for number, published in enumerate(edited):
            chosen.add(published.item_id)
            start = max(published.published_at, self.moment(self.last - timedelta(days=40)))
            edits = 3 if number == 0 else rng.randint(1, 2)
            moments = sorted(self.between(start, self.end) for _ in range(edits + 1))
            notes = rng.sample(UPDATES, k=edits)
            for (zh, en), at in zip(notes, moments, strict=False):
                editor = self.pick_reviewer(published.author)
                self._edit(published.item_id, editor, zh, en, "按最新规定更新", at)
            if number < REVERTS:
                item = items_service.get_item(
                    session=self.session, item_id=published.item_id, by=None
                )
                reverter = self.pick_reviewer(published.author)
                items_service.revert(
                    session=self.session,
                    item_id=published.item_id,
                    to_revision=item.current_revision - 1,
                    by=reverter.user,
                    at=moments[-1],
                )

    def _duplicate(self, chosen: set[int]) -> None:
        """An agent writes again a case that exists; a lead lets it through; QA archives it as a
        duplicate of the original, and its points are taken back."""
        session, rng = self.session, self.rng
        late = self.end - timedelta(days=20)
        originals = [
            p
            for p in self.published
            if p.type == "case"
            and p.adopted_at is None
            and p.item_id not in chosen
            and p.published_at < late - timedelta(days=10)
        ]
        if not originals:
            return
        original = rng.choice(originals)
        text = items_service.get_item(session=session, item_id=original.item_id, by=None)
        draft = ItemDraft(
            type="case",
            category=text.category,
            **text.text.model_dump(exclude={"title"}),
            title=f"{text.text.title}（处理经验）",
        )
        created = self.between(original.published_at + timedelta(days=3), late)
        author = self.pick_agent(self.local_day(created), 0.0)
        if author.user.id == original.author.user.id:
            author = next(a for a in self.agents if a.user.id != original.author.user.id)
        item = items_service.create_item(
            session=session,
            draft=draft,
            by=author.user,
            author_agent_id=author.agent_id,
            at=created,
        )
        self.item_ids.append(item.id)
        items_service.submit(session=session, item_id=item.id, by=author.user, at=created)
        reviewer = self.pick_reviewer(author)
        reviewed = self.days_later(created, REVIEW_AFTER_DAYS)
        items_service.review(
            session=session,
            item_id=item.id,
            by=reviewer.user,
            decision="approve",
            grade=3,
            at=reviewed,
        )
        archiver = next(w for w in self.qa if w.user.id != reviewer.user.id)
        items_service.archive(
            session=session,
            item_id=item.id,
            by=archiver.user,
            duplicate_of=original.item_id,
            at=self.days_later(reviewed, (4, 9)),
        )

    # --- searches -----------------------------------------------------------------------------

    def search(self) -> None:
        """Agents' searches at moments spread over the months, logged as they ran."""
        rng, session = self.rng, self.session
        search_service.rebuild_index(session=session)  # an index of an earlier demo is stale
        days = (self.last - self.first).days + 1
        for _ in range(SEARCHES):
            missing = rng.random() < MISSING_SEARCH_SHARE
            query = rng.choice(SEARCHES_MISSING if missing else SEARCHES_FOUND)
            at = min(self.end, self.moment(self.first + timedelta(days=rng.randrange(days))))
            who = rng.choice(self.working_agents(self.local_day(at)))
            found = search_service.search(
                session=session, query=query, user_id=who.user.id, log=False
            )
            search_service.log_search(
                session=session,
                query=found.query,
                results=len(found.items),
                user_id=who.user.id,
                at=at,
            )
            self.result.searches += 1
            self.result.searches_without_results += 0 if found.items else 1

    # --- the summary --------------------------------------------------------------------------

    def count(self, item_ids: Sequence[int]) -> None:
        """Items by type and status, revisions, what waits for review, the points earned."""
        items = [
            items_service.get_item_row(session=self.session, item_id=item_id, by=None)
            for item_id in item_ids
        ]
        self.result.items_by_type = dict(Counter(item.type for item in items))
        self.result.items_by_status = dict(Counter(item.status for item in items))
        self.result.revisions = sum(item.current_revision for item in items)
        self.result.waiting_review = sum(1 for item in items if item.submitted_at is not None)
        start = self.moment(self.first) - timedelta(days=1)
        earned = points_service.points_earned(
            session=self.session, start=start, end=self.end + timedelta(seconds=1)
        )
        self.result.points = round(sum(points for points, _entries in earned.values()), 1)
        self.result.ledger_entries = sum(entries for _points, entries in earned.values())


def run_library_demo(
    *,
    session: Session,
    first: date,
    last: date,
    zone: ZoneInfo,
    skill_on: Callable[[int, date], float | None],
    rng: random.Random,
    calls: Sequence[UsedCall] = (),
) -> LibraryDemo:
    """The library written, reviewed, adopted, read and searched over the call months `first`
    to `last` (see the module docstring); `skill_on(agent_id, day)` is an agent's latent skill
    that day (None: not an agent of the demo); `calls` the calls items may be used on, by
    time."""
    terms, synonyms = library_vocabulary()
    search_service.set_vocabulary(session=session, terms=terms, synonyms=synonyms)
    library = _Library(session, first, last, zone, skill_on, rng)
    files = library_files()
    cases = [file for file in files if file.draft.type == "case"]
    spare = rng.sample(cases, k=min(len(cases) // 4, DRAFTS + NEW_IN_REVIEW))
    set_aside = {id(file) for file in spare}
    kept = [file for file in files if id(file) not in set_aside]
    library.write_library(kept)
    library.make_sops()
    library.read(sorted(calls, key=lambda call: (call.at, call.call_id)))
    library.leave_work_in_progress(spare)
    library.search()
    library.count(library.item_ids)
    return library.result
