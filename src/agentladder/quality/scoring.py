"""A QA form's score, as docs/reference-definitions section 2 defines it: N/A items leave the
numerator and the denominator, sections without applicable items drop and the others' weights
renormalise, a failed fatal item zeroes the overall, and a compliance score is published beside
it so that a strong call cannot hide a breach."""

from __future__ import annotations

from collections.abc import Mapping

from agentladder.errors import InvalidInput
from agentladder.quality.schemas import Answer, FormItem, FormSpec, ScoredCall


def item_score(item: FormItem, answer: Answer) -> float | None:
    """An answer as 0..1 (None: not applicable), or InvalidInput naming the item."""
    if answer is None:
        if not item.allows_na:
            raise InvalidInput("item {item} cannot be not applicable", item=item.code)
        return None
    if item.kind == "yes_no":
        if not isinstance(answer, bool):
            raise InvalidInput("item {item} is answered yes or no", item=item.code)
        return 1.0 if answer else 0.0
    if isinstance(answer, bool) or not 0 <= answer <= (item.scale_max or 0):
        raise InvalidInput(
            "item {item} takes 0 to {maximum}", item=item.code, maximum=item.scale_max
        )
    return answer / (item.scale_max or 1)


def score_call(form: FormSpec, answers: Mapping[str, Answer]) -> ScoredCall:
    """Score one call's answers (by item code; a missing item is not applicable)."""
    unknown = sorted(set(answers) - {item.code for item in form.items()})
    if unknown:
        raise InvalidInput("the form has no item {items}", items=", ".join(unknown))
    sections: dict[str, float] = {}
    weighted = weights = 0.0
    compliance_points = compliance_weights = 0.0
    fatal_items: list[str] = []
    applicable = nonfatal_passed = nonfatal_applicable = 0
    for section in form.sections:
        points = section_weight = 0.0
        for item in section.items:
            score = item_score(item, answers.get(item.code))
            if score is None:
                continue
            applicable += 1
            points += item.weight * score
            section_weight += item.weight
            if item.fatal is not None and score < 1:
                fatal_items.append(item.code)
            if item.fatal == "compliance":
                compliance_points += item.weight * score
                compliance_weights += item.weight
            if item.fatal is None:
                nonfatal_applicable += 1
                nonfatal_passed += score == 1
        if section_weight > 0:
            sections[section.code] = points / section_weight
            weighted += section.weight * sections[section.code]
            weights += section.weight
    overall = 100 * weighted / weights if weights else None
    return ScoredCall(
        overall=0.0 if fatal_items else overall,
        sections=sections,
        compliance=100 * compliance_points / compliance_weights if compliance_weights else None,
        fatal=bool(fatal_items),
        fatal_items=fatal_items,
        applicable_items=applicable,
        nonfatal_passed=nonfatal_passed,
        nonfatal_applicable=nonfatal_applicable,
    )
