"""The question bank: categories as a tree of names, questions with their versions, tags and
retirement, and the bank browser's search.

A question's content is a `schemas.Question`; storing one that changed either edits the
current version (nobody answered it yet) or adds a version (attempts keep theirs). A question
once attempted is retired, never deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from agentladder.db import utcnow
from agentladder.errors import Conflict, NotFound
from agentladder.i18n import N_
from agentladder.training.models import AttemptSlot, ExamAttempt, QuestionCategory, QuestionTag
from agentladder.training.models import Question as QuestionRow
from agentladder.training.models import QuestionVersion as VersionRow
from agentladder.training.questions.schemas import (
    CategoryRead,
    Image,
    Question,
    QuestionFilter,
    QuestionPage,
    QuestionRead,
    QuestionSummary,
    QuestionVersionSummary,
    clean_path,
)

StoreAction = Literal["create", "update", "new_version", "unchanged"]


def _path_key(path: Sequence[str]) -> str:
    return json.dumps(list(path), ensure_ascii=False)


def category_for_path(
    *, session: Session, path: Sequence[str], idnumber: str | None = None, info: str = ""
) -> QuestionCategory | None:
    """The category at `path`, made (with its parents) if missing; None for the empty path
    (the bank's top has no row)."""
    path = clean_path(path)
    if not path:
        return None
    found = session.scalar(
        select(QuestionCategory).where(QuestionCategory.path_json == _path_key(path))
    )
    if found is not None:
        if idnumber and not found.idnumber:
            found.idnumber = idnumber
        if info and not found.info:
            found.info = info
        return found
    parent = category_for_path(session=session, path=path[:-1])
    category = QuestionCategory(
        parent_id=parent.id if parent else None,
        name=path[-1],
        path_json=_path_key(path),
        idnumber=idnumber,
        info=info,
    )
    session.add(category)
    session.flush()
    return category


def existing_category_paths(*, session: Session) -> set[tuple[str, ...]]:
    """Every category path stored."""
    return {tuple(json.loads(key)) for key in session.scalars(select(QuestionCategory.path_json))}


def category_tree(*, session: Session) -> list[CategoryRead]:
    """Every category in tree order (parents before children, names sorted), with the number
    of active questions filed directly in it."""
    counts = dict(
        session.execute(
            select(QuestionRow.category_id, func.count())
            .where(QuestionRow.status == "active")
            .group_by(QuestionRow.category_id)
        ).all()
    )
    rows = session.scalars(select(QuestionCategory)).all()
    reads = [
        CategoryRead(
            id=row.id,
            parent_id=row.parent_id,
            name=row.name,
            path=tuple(json.loads(row.path_json)),
            idnumber=row.idnumber,
            questions=counts.get(row.id, 0),
        )
        for row in rows
    ]
    return sorted(reads, key=lambda category: category.path)


def was_attempted(*, session: Session, question_id: int) -> bool:
    """Whether any attempt showed a version of the question."""
    return bool(
        session.scalar(
            select(
                exists()
                .where(AttemptSlot.question_version_id == VersionRow.id)
                .where(VersionRow.question_id == question_id)
            )
        )
    )


def _current_version(session: Session, row: QuestionRow) -> VersionRow:
    version = session.scalar(
        select(VersionRow).where(
            VersionRow.question_id == row.id, VersionRow.version == row.latest_version
        )
    )
    if version is None:  # pragma: no cover - a question is always stored with its version
        raise NotFound(N_("question {id} has no version"), id=row.id)
    return version


def _fill_version(version: VersionRow, question: Question, source: str) -> None:
    version.type = question.type
    version.name = question.name
    version.difficulty = question.difficulty
    version.default_mark = question.default_mark
    version.content_json = question.model_dump_json(exclude={"category"})
    version.content_hash = question.content_hash()
    version.source = source


def _set_tags(session: Session, question_id: int, tags: Iterable[str]) -> None:
    session.execute(delete(QuestionTag).where(QuestionTag.question_id == question_id))
    for tag in sorted({tag.strip() for tag in tags if tag.strip()}):
        session.add(QuestionTag(question_id=question_id, tag=tag[:100]))


@dataclass(frozen=True)
class Stored:
    """What storing a question did."""

    question_id: int
    version_id: int
    version: int
    action: StoreAction


def store_question(
    *,
    session: Session,
    question: Question,
    source: str,
    user_id: int | None = None,
    question_id: int | None = None,
) -> Stored:
    """Add the question to the bank, or (with `question_id`) store its new content: unchanged
    content changes nothing, an unattempted question is edited in place, an attempted one gets
    a new version. The category is the question's own path (made if missing)."""
    category = category_for_path(session=session, path=question.category)
    if category is None:
        category = category_for_path(session=session, path=(DEFAULT_CATEGORY,))
    assert category is not None
    if question_id is None:
        row = QuestionRow(
            category_id=category.id,
            idnumber=question.idnumber,
            latest_version=1,
            created_by_user_id=user_id,
        )
        session.add(row)
        session.flush()
        version = VersionRow(question_id=row.id, version=1, created_by_user_id=user_id)
        _fill_version(version, question, source)
        session.add(version)
        _set_tags(session, row.id, question.tags)
        session.flush()
        return Stored(row.id, version.id, 1, "create")
    row = _question_row(session, question_id)
    current = _current_version(session, row)
    moved = row.category_id != category.id
    row.category_id = category.id
    row.idnumber = question.idnumber
    if current.content_hash == question.content_hash():
        return Stored(row.id, current.id, current.version, "update" if moved else "unchanged")
    _set_tags(session, row.id, question.tags)
    if not was_attempted(session=session, question_id=row.id):
        _fill_version(current, question, source)
        current.created_by_user_id = user_id
        current.created_at = utcnow()
        session.flush()
        return Stored(row.id, current.id, current.version, "update")
    version = VersionRow(
        question_id=row.id, version=row.latest_version + 1, created_by_user_id=user_id
    )
    _fill_version(version, question, source)
    session.add(version)
    row.latest_version = version.version
    session.flush()
    return Stored(row.id, version.id, version.version, "new_version")


DEFAULT_CATEGORY = "默认 Default"


def _question_row(session: Session, question_id: int) -> QuestionRow:
    row = session.get(QuestionRow, question_id)
    if row is None:
        raise NotFound(N_("question {id} does not exist"), id=question_id)
    return row


def _category_path(session: Session, category_id: int) -> tuple[str, ...]:
    category = session.get(QuestionCategory, category_id)
    return tuple(json.loads(category.path_json)) if category else ()


def version_question(version: VersionRow, category: Sequence[str] = ()) -> Question:
    """The question a stored version holds (filed under `category`)."""
    content = json.loads(version.content_json)
    content["category"] = list(category)
    return Question.model_validate(content)


def get_question(*, session: Session, question_id: int, version: int | None = None) -> QuestionRead:
    """A question with its content (the current version unless `version` names another)."""
    row = _question_row(session, question_id)
    wanted = row.latest_version if version is None else version
    stored = session.scalar(
        select(VersionRow).where(VersionRow.question_id == row.id, VersionRow.version == wanted)
    )
    if stored is None:
        raise NotFound(N_("question {id} has no version {version}"), id=question_id, version=wanted)
    path = _category_path(session, row.category_id)
    return QuestionRead(
        id=row.id,
        version_id=stored.id,
        version=stored.version,
        versions=row.latest_version,
        status=row.status,
        attempted=was_attempted(session=session, question_id=row.id),
        question=version_question(stored, path),
        updated_at=stored.created_at,
    )


def question_history(*, session: Session, question_id: int) -> list[QuestionVersionSummary]:
    """Every version of a question, newest first, each with whether an attempt showed it."""
    row = _question_row(session, question_id)
    attempted = set(
        session.scalars(
            select(AttemptSlot.question_version_id)
            .join(VersionRow, AttemptSlot.question_version_id == VersionRow.id)
            .where(VersionRow.question_id == row.id)
            .distinct()
        )
    )
    versions = session.scalars(
        select(VersionRow)
        .where(VersionRow.question_id == row.id)
        .order_by(VersionRow.version.desc())
    )
    return [
        QuestionVersionSummary(
            version_id=version.id,
            version=version.version,
            name=version.name,
            type=version.type,
            source=version.source,
            created_at=version.created_at,
            attempted=version.id in attempted,
        )
        for version in versions
    ]


def bank_tags(*, session: Session) -> list[str]:
    """Every tag a question carries, sorted."""
    return list(session.scalars(select(QuestionTag.tag).distinct().order_by(QuestionTag.tag)))


def question_image(
    *, session: Session, version_id: int, name: str, agent_id: int | None = None
) -> Image:
    """A picture a stored version's text shows, by its stored name (never a path); with
    `agent_id`, only of a version one of that agent's attempts showed (an agent sees no
    question before an exam draws it)."""
    version = session.get(VersionRow, version_id)
    if version is None:
        raise NotFound(N_("image {name} not found"), name=name)
    if agent_id is not None:
        shown = session.scalar(
            select(
                exists()
                .where(AttemptSlot.question_version_id == version_id)
                .where(AttemptSlot.attempt_id == ExamAttempt.id)
                .where(ExamAttempt.agent_id == agent_id)
            )
        )
        if not shown:
            raise NotFound(N_("image {name} not found"), name=name)
    for image in version_question(version).images:
        if image.name == name:
            return image
    raise NotFound(N_("image {name} not found"), name=name)


def question_versions(*, session: Session, version_ids: Iterable[int]) -> dict[int, Question]:
    """Stored versions by id, as questions (their category left empty)."""
    ids = list(set(version_ids))
    if not ids:
        return {}
    rows = session.scalars(select(VersionRow).where(VersionRow.id.in_(ids)))
    return {row.id: version_question(row) for row in rows}


def retire_question(*, session: Session, question_id: int, user_id: int | None) -> None:
    """Take the question out of new exams' draws; attempts and statistics keep it."""
    row = _question_row(session, question_id)
    if row.status == "retired":
        return
    row.status = "retired"
    row.retired_at = utcnow()
    row.retired_by_user_id = user_id


def restore_question(*, session: Session, question_id: int) -> None:
    """Put a retired question back in the bank."""
    row = _question_row(session, question_id)
    row.status = "active"
    row.retired_at = None
    row.retired_by_user_id = None


def delete_question(*, session: Session, question_id: int) -> None:
    """Delete a question nobody has answered; an attempted one can only be retired."""
    row = _question_row(session, question_id)
    if was_attempted(session=session, question_id=question_id):
        raise Conflict(N_("question {id} has been attempted: retire it instead"), id=question_id)
    session.delete(row)
    session.flush()


def _current_join() -> ColumnElement[bool]:
    return and_(
        VersionRow.question_id == QuestionRow.id,
        VersionRow.version == QuestionRow.latest_version,
    )


def _category_ids_under(session: Session, path: Sequence[str]) -> list[int]:
    prefix = _path_key(path)[:-1]  # '["a", "b"' matches the path and everything below it
    rows = session.execute(
        select(QuestionCategory.id, QuestionCategory.path_json).where(
            or_(
                QuestionCategory.path_json == _path_key(path),
                QuestionCategory.path_json.startswith(prefix + ", "),
            )
        )
    ).all()
    return [row_id for row_id, _key in rows]


def find_questions(*, session: Session, query: QuestionFilter) -> QuestionPage:
    """The bank browser: current versions filtered by category (and below), type,
    difficulty, tag, status and words in the name or text, newest first."""
    statement = select(QuestionRow, VersionRow).join(VersionRow, _current_join())
    if query.category:
        statement = statement.where(
            QuestionRow.category_id.in_(_category_ids_under(session, query.category))
        )
    if query.type:
        statement = statement.where(VersionRow.type == query.type)
    if query.difficulty:
        statement = statement.where(VersionRow.difficulty == query.difficulty)
    if query.status != "all":
        statement = statement.where(QuestionRow.status == query.status)
    if query.tag:
        statement = statement.where(
            exists().where(QuestionTag.question_id == QuestionRow.id, QuestionTag.tag == query.tag)
        )
    if query.search:
        # The stored JSON escapes nothing but quotes and backslashes (ensure_ascii off), so
        # Chinese words are found in it as typed.
        for word in query.search.split():
            pattern = f"%{word}%"
            statement = statement.where(
                or_(VersionRow.name.ilike(pattern), VersionRow.content_json.ilike(pattern))
            )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.execute(
        statement.order_by(QuestionRow.id.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    ).all()
    paths = {
        row.id: tuple(json.loads(row.path_json))
        for row in session.scalars(select(QuestionCategory))
    }
    tags: dict[int, list[str]] = {}
    question_ids = [question.id for question, _version in rows]
    for question_id, tag in session.execute(
        select(QuestionTag.question_id, QuestionTag.tag)
        .where(QuestionTag.question_id.in_(question_ids))
        .order_by(QuestionTag.tag)
    ):
        tags.setdefault(question_id, []).append(tag)
    items = [
        QuestionSummary(
            id=question.id,
            name=version.name,
            type=version.type,
            difficulty=version.difficulty,
            default_mark=version.default_mark,
            category=paths.get(question.category_id, ()),
            tags=tuple(tags.get(question.id, ())),
            status=question.status,
            version=version.version,
            updated_at=version.created_at,
        )
        for question, version in rows
    ]
    return QuestionPage(items=items, total=total, page=query.page, page_size=query.page_size)


def bank_questions(
    *, session: Session, category: Sequence[str] = (), include_retired: bool = False
) -> list[tuple[int, Question]]:
    """Every question's current version under `category` (all of them for the top), in
    category then id order: what an export writes."""
    statement = select(QuestionRow, VersionRow).join(VersionRow, _current_join())
    if category:
        statement = statement.where(
            QuestionRow.category_id.in_(_category_ids_under(session, clean_path(category)))
        )
    if not include_retired:
        statement = statement.where(QuestionRow.status == "active")
    paths = {
        row.id: tuple(json.loads(row.path_json))
        for row in session.scalars(select(QuestionCategory))
    }
    found = [
        (question.id, version_question(version, paths.get(question.category_id, ())))
        for question, version in session.execute(statement.order_by(QuestionRow.id)).all()
    ]
    return sorted(found, key=lambda item: (item[1].category, item[0]))


def matching_questions(
    *, session: Session, questions: Sequence[Question]
) -> dict[int, tuple[int, Question]]:
    """For each question (by position) the stored question an import updates: the same
    idnumber, else the only active question of that name in that category. Value: (question
    id, its current content)."""
    by_idnumber: dict[str, tuple[int, VersionRow, int]] = {}
    by_name: dict[tuple[str, str], list[tuple[int, VersionRow, int]]] = {}
    idnumbers = {question.idnumber for question in questions if question.idnumber}
    names = {question.name for question in questions}
    paths = {row.id: row.path_json for row in session.scalars(select(QuestionCategory))}
    statement = (
        select(QuestionRow.id, QuestionRow.idnumber, QuestionRow.category_id, VersionRow)
        .join(VersionRow, _current_join())
        .where(or_(QuestionRow.idnumber.in_(idnumbers), VersionRow.name.in_(names)))
    )
    for question_id, idnumber, category_id, version in session.execute(statement).all():
        found = (question_id, version, category_id)
        if idnumber and idnumber in idnumbers:
            by_idnumber[idnumber] = found
        by_name.setdefault((paths.get(category_id, ""), version.name), []).append(found)
    matches: dict[int, tuple[int, Question]] = {}
    for position, question in enumerate(questions):
        match = by_idnumber.get(question.idnumber or "")
        if match is None:
            candidates = by_name.get((_path_key(clean_path(question.category)), question.name), [])
            match = candidates[0] if len(candidates) == 1 else None
        if match is not None:
            question_id, version, category_id = match
            path = json.loads(paths.get(category_id, "[]"))
            matches[position] = (question_id, version_question(version, path))
    return matches


def draw_pool(
    *,
    session: Session,
    category: Sequence[str] = (),
    difficulty: str | None = None,
    types: Sequence[str] = (),
    tag: str | None = None,
) -> list[tuple[int, int]]:
    """The active questions an exam section may draw, as (question id, current version id):
    under `category` (the whole bank for the top), at `difficulty`, of `types` (any type but
    description when empty), with `tag`."""
    statement = (
        select(QuestionRow.id, VersionRow.id)
        .join(VersionRow, _current_join())
        .where(QuestionRow.status == "active")
    )
    if category:
        statement = statement.where(
            QuestionRow.category_id.in_(_category_ids_under(session, clean_path(category)))
        )
    if difficulty:
        statement = statement.where(VersionRow.difficulty == difficulty)
    if types:
        statement = statement.where(VersionRow.type.in_(list(types)))
    else:
        statement = statement.where(VersionRow.type != "description")
    if tag:
        statement = statement.where(
            exists().where(QuestionTag.question_id == QuestionRow.id, QuestionTag.tag == tag)
        )
    return [(qid, vid) for qid, vid in session.execute(statement.order_by(QuestionRow.id)).all()]


def current_versions(
    *, session: Session, question_ids: Iterable[int]
) -> dict[int, tuple[int, str]]:
    """Question id -> (current version id, status) for the questions that exist."""
    ids = list(set(question_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(QuestionRow.id, VersionRow.id, QuestionRow.status)
        .join(VersionRow, _current_join())
        .where(QuestionRow.id.in_(ids))
    ).all()
    return {qid: (vid, status) for qid, vid, status in rows}


def version_owners(*, session: Session, version_ids: Iterable[int]) -> dict[int, int]:
    """Version id -> its question's id."""
    ids = list(set(version_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VersionRow.id, VersionRow.question_id).where(VersionRow.id.in_(ids))
    ).all()
    return dict(rows)
