"""The Review page (AppTest, real records): an unsure free-text answer is listed with the grader's score and why,
and one click grades it, which makes it evidence graded by a person."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.ui.conftest import all_text, click, open_page
from tests.ui.fakes import FakeTutor
from tutor.auth import Role
from tutor.records import GradedAnswer, IssuedQuestion

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def unsure_answer(fake: FakeTutor, question_id: str, answer: str) -> None:
    fake.records.issue_question(IssuedQuestion(
        question_id=question_id, learner_id="lee", course_id="fractions", skill_id="meaning", item_id="meaning-a1",
        form="A", kind="free_response", seed=1, params={}, mode="learn", issued_at=NOW))
    fake.records.record_attempt(GradedAnswer(
        question_id=question_id, answer=answer, correct=False, grader="offline", feedback="waiting",
        created_at=NOW, confidence=0.55, reasons=("meaning close to the model answer: 0.61 (cosine)",),
        pending_review=True))


def test_an_instructor_grades_a_pending_answer_with_one_click(fake: FakeTutor) -> None:
    unsure_answer(fake, "q-1", "The bottom number says how many equal bits the whole is cut into.")
    assert fake.records.history("fractions", "lee") == []  # not evidence while it waits
    at = open_page("pages/review.py", "rita", Role.INSTRUCTOR)
    assert not at.exception
    page = all_text(at)
    assert "how many equal bits" in page and "55% likely correct" in page and "cosine" in page
    at = click(at, "Correct")
    assert not at.exception
    assert "Nothing is waiting for review." in all_text(at)
    assert fake.records.pending_reviews() == []
    [attempt] = fake.records.attempts("fractions", "lee")
    assert (attempt.correct, attempt.grader, attempt.review_status) == (True, "person", "reviewed")
    assert [a.answer for a in fake.records.history("fractions", "lee")] == [attempt.answer]


def test_not_correct_is_recorded_too(fake: FakeTutor) -> None:
    unsure_answer(fake, "q-2", "It is the top number.")
    at = click(open_page("pages/review.py", "rita", Role.AUTHOR), "Not correct")
    assert not at.exception
    [attempt] = fake.records.attempts("fractions", "lee")
    assert (attempt.correct, attempt.grader) == (False, "person")
