"""A submitted short answer as the review shows it: the accepted answers as an agent reads
them, not Moodle's wildcard patterns."""

from __future__ import annotations

from agentladder.training.exams.review import slot_review
from agentladder.training.exams.schemas import SlotResult
from agentladder.training.questions.schemas import Question


def _short(*answers: tuple[str, float]) -> Question:
    return Question.model_validate(
        {
            "type": "short_answer",
            "name": "结束语",
            "text": "通话结束时说“感谢您的____”",
            "category": ["服务技能"],
            "choices": [{"text": text, "fraction": fraction} for text, fraction in answers],
        }
    )


def _review(question: Question, response: str) -> list[str]:
    result = SlotResult(
        slot=1,
        question_id=1,
        name=question.name,
        type=question.type,
        max_mark=1,
        mark=1,
        state="right",
        response=response,
    )
    return slot_review(
        result=result, question=question, version_id=1, order=[], grader_comment=""
    ).right_answers


def test_wildcards_are_not_shown_and_each_answer_once() -> None:
    # The demo's answers: the agent saw "来电; *来电*; *致电*; *calling*" before.
    question = _short(("来电", 1), ("*来电*", 1), ("*致电*", 1), ("*calling*", 1), ("*", 0.5))
    assert _review(question, "来电") == ["来电", "致电", "calling"]


def test_an_escaped_star_is_a_star_and_partly_right_answers_are_not_the_answer() -> None:
    question = _short(("5\\*", 1), ("五星*", 1), ("四星", 0.5))
    assert _review(question, "5*") == ["5*", "五星"]
