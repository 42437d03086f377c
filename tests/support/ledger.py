"""Test-side helper: put a graded answer in the ledger the way the graph does (issue, then record)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tutor.records import GradedAnswer, IssuedQuestion, Records

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def log_answer(
    records: Records,
    *,
    learner_id: str,
    course_id: str,
    skill_id: str,
    item_id: str,
    correct: bool,
    kind: str = "numeric",
    form: str = "A",
    answer: str = "x",
    when: datetime = WHEN,
) -> str:
    """Issue a question and record one graded answer to it; returns the question id."""
    question_id = uuid.uuid4().hex
    records.issue_question(IssuedQuestion(
        question_id=question_id, learner_id=learner_id, course_id=course_id, skill_id=skill_id, item_id=item_id,
        form=form, kind=kind, seed=0, params={}, mode="learn", issued_at=when,
    ))
    records.record_attempt(GradedAnswer(question_id=question_id, answer=answer, correct=correct, grader="rule",
                                        feedback="", created_at=when))
    return question_id
