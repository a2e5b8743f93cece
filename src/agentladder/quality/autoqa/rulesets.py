"""The automatic QA rule set: validated from YAML (problems named by key), stored by content
hash, the one in force (the latest applied, else the shipped one) and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.db import utcnow
from agentladder.errors import InvalidInput
from agentladder.i18n import N_, translate
from agentladder.org.accounts import service as accounts_service
from agentladder.quality.autoqa.rules import (
    DEFAULT_RULES_PATH,
    RuleSet,
    default_rule_set,
    parse_rule_set,
)
from agentladder.quality.models import AutoqaRuleSetVersion
from agentladder.validation import validation_problems


@dataclass(frozen=True)
class RuleProblem:
    """One problem with a rule set: where (dotted key) and what (an English msgid + params)."""

    key: str
    message: str
    params: dict[str, Any]

    def text(self, language: Language) -> str:
        """What is wrong, in the reader's language."""
        return translate(language, self.message, **self.params)


@dataclass(frozen=True)
class LoadedRuleSet:
    """The rule set in force: validated, its YAML and its stored version (None: shipped)."""

    rules: RuleSet
    yaml_text: str
    version: AutoqaRuleSetVersion | None


def check_rule_set_text(text: str) -> tuple[RuleSet | None, list[RuleProblem]]:
    """A rule set from YAML and its problems, each named by key (none: the rule set)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [
            RuleProblem(
                "",
                N_("not valid YAML (line {line}): {error}"),
                {"line": line, "error": str(getattr(exc, "problem", exc))},
            )
        ]
    if not isinstance(document, dict):
        return None, [RuleProblem("", N_("a rule set is a mapping of keys to values"), {})]
    try:
        return RuleSet.model_validate(document), []
    except ValidationError as exc:
        # In our words (agentladder.validation), so the editor shows them in zh as well.
        return None, [
            RuleProblem(
                ".".join(str(part) for part in problem.loc), problem.message, problem.params
            )
            for problem in validation_problems(exc)
        ]


def parse_rule_set_text(text: str, *, source: str = "") -> RuleSet:
    """A valid rule set from YAML; InvalidInput naming every problem's key otherwise."""
    rules, problems = check_rule_set_text(text)
    if rules is None:
        listed = "; ".join(
            f"{problem.key}: {problem.text('en')}" if problem.key else problem.text("en")
            for problem in problems
        )
        raise InvalidInput(
            "the rule set {source} is not valid: {problems}", source=source, problems=listed
        )
    return rules


def current_rule_set(*, session: Session) -> LoadedRuleSet:
    """The latest applied rule set, else the shipped one."""
    version = session.scalars(
        select(AutoqaRuleSetVersion)
        .where(AutoqaRuleSetVersion.applied_at.is_not(None))
        .order_by(AutoqaRuleSetVersion.applied_at.desc(), AutoqaRuleSetVersion.id.desc())
        .limit(1)
    ).first()
    if version is None:
        return LoadedRuleSet(default_rule_set(), DEFAULT_RULES_PATH.read_text("utf-8"), None)
    return LoadedRuleSet(parse_rule_set(version.yaml_text), version.yaml_text, version)


def rule_set_versions(*, session: Session) -> list[AutoqaRuleSetVersion]:
    """Every stored version, the newest first."""
    return list(
        session.scalars(select(AutoqaRuleSetVersion).order_by(AutoqaRuleSetVersion.id.desc()))
    )


def apply_rule_set(
    *, session: Session, text: str, user_id: int | None = None, source: str = ""
) -> AutoqaRuleSetVersion:
    """Validate the YAML and make it the rule set in force (the same content again only
    records when it was applied); every call is judged again by `run_autoqa`."""
    rules = parse_rule_set_text(text, source=source)
    version = session.scalars(
        select(AutoqaRuleSetVersion).where(AutoqaRuleSetVersion.content_hash == rules.content_hash)
    ).first()
    if version is None:
        version = AutoqaRuleSetVersion(
            content_hash=rules.content_hash,
            name=rules.name[:200],
            yaml_text=text,
            created_by_user_id=user_id,
        )
        session.add(version)
    version.applied_at = utcnow()
    version.applied_by_user_id = user_id
    session.flush()
    return version


@dataclass(frozen=True)
class RuleSetVersionRow:
    """A stored rule set version as the editor lists it."""

    content_hash: str
    name: str
    created_at: datetime
    applied_at: datetime | None
    applied_by: str | None
    in_force: bool


def rule_set_history(*, session: Session) -> list[RuleSetVersionRow]:
    """Every stored version, newest first, with who applied it and which one is in force."""
    in_force = current_rule_set(session=session).version
    names = accounts_service.user_names(session=session)
    return [
        RuleSetVersionRow(
            content_hash=version.content_hash,
            name=version.name,
            created_at=version.created_at,
            applied_at=version.applied_at,
            applied_by=names.get(version.applied_by_user_id)
            if version.applied_by_user_id is not None
            else None,
            in_force=in_force is not None and version.id == in_force.id,
        )
        for version in rule_set_versions(session=session)
    ]
