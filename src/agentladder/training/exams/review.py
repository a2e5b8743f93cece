"""A submitted question as the review shows it, built from the stored answer and the question's
key (no database): options in the order the attempt showed them, matching prompts with the
answer given and the right one, ordering items in the agent's order, the accepted answers of
typed questions. Only `service.attempt_review` calls it, and only after submission."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from agentladder.training.exams.schemas import ReviewLine, SlotResult, SlotReview
from agentladder.training.questions import grading
from agentladder.training.questions.schemas import Question

# A fraction this close to the best counts as the best (floats from imported files).
_BEST = 1e-9
_WILDCARD = re.compile(r"(?<!\\)\*")  # Moodle's short-answer wildcard; \* is a star


def slot_review(
    *,
    result: SlotResult,
    question: Question,
    version_id: int,
    order: Sequence[int],
    grader_comment: str,
) -> SlotReview:
    """The review of one slot: `result` is its scored state, `order` the option order shown."""
    review = SlotReview(
        slot=result.slot,
        version_id=version_id,
        type=question.type,
        name=question.name,
        text=question.text,
        text_format=question.text_format,
        max_mark=result.max_mark,
        mark=result.mark,
        state=result.state,
        general_feedback=question.general_feedback,
        explanation=question.explanation,
        grader_comment=grader_comment,
    )
    response = result.response
    kind = question.type
    if kind in ("single_choice", "multiple_choice"):
        review.lines = _choice_lines(question, order, response)
    elif kind == "matching":
        review.lines = _matching_lines(question, response)
    elif kind == "ordering":
        review.lines = _ordering_lines(question, response)
        review.right_answers = list(question.order)
    elif kind == "true_false":
        review.answer_bool = response if isinstance(response, bool) else None
        review.correct_bool = question.correct_answer
        review.feedback = list(result.feedback)
    elif kind in ("short_answer", "numerical", "essay"):
        review.answer_text = response if isinstance(response, str) else None
        review.feedback = list(result.feedback)
        if kind == "short_answer":
            best = question.max_fraction
            review.right_answers = _readable_answers(
                choice.text
                for choice in question.choices
                if choice.fraction > 0 and choice.fraction >= best - _BEST
            )
        elif kind == "numerical":
            best = question.max_fraction
            review.right_numbers = [
                (answer.value, answer.tolerance)
                for answer in question.numeric_answers
                if answer.value is not None and answer.fraction >= best - _BEST
            ]
    return review


def _readable_answers(patterns: Iterable[str]) -> list[str]:
    """Accepted answers as an agent reads them: a wildcard pattern without its wildcards
    (*来电* -> 来电, \\* kept as *), each once, a bare * (any answer) left out."""
    readable: list[str] = []
    for pattern in patterns:
        text = _WILDCARD.sub("", pattern).replace("\\*", "*").strip()
        if text and text not in readable:
            readable.append(text)
    return readable


def _choice_lines(question: Question, order: Sequence[int], response: Any) -> list[ReviewLine]:
    chosen = {response} if isinstance(response, int) else set(response or ())
    shown = list(order) or list(range(len(question.choices)))
    return [
        ReviewLine(
            text=question.choices[index].text,
            chosen=index in chosen,
            right=question.choices[index].fraction > 0,
            feedback=question.choices[index].feedback if index in chosen else "",
        )
        for index in shown
    ]


def _matching_lines(question: Question, response: Any) -> list[ReviewLine]:
    answers = grading.match_answers(question)
    given_by_prompt = response if isinstance(response, dict) else {}
    lines = []
    for index, pair in enumerate(question.pairs):
        if not pair.prompt:
            continue  # a distractor answer, offered but belonging to no prompt
        given = given_by_prompt.get(str(index))
        given_text = (
            answers[given] if isinstance(given, int) and 0 <= given < len(answers) else None
        )
        lines.append(
            ReviewLine(
                text=pair.prompt,
                chosen=given_text is not None,
                right=given_text == pair.answer,
                given=given_text,
                expected=pair.answer,
            )
        )
    return lines


def _ordering_lines(question: Question, response: Any) -> list[ReviewLine]:
    if not isinstance(response, list) or not response:
        return []
    return [
        ReviewLine(
            text=question.order[item],
            chosen=True,
            right=question.order[item] == question.order[place],
        )
        for place, item in enumerate(response)
    ]
