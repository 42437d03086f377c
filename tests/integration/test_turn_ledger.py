"""One turn reads the learner's history once, and again only after it changes (an answer, a person's review)."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support.ledger import WHEN, log_answer
from tutor.graph.turn_ledger import TurnLedger
from tutor.records import GradedAnswer, IssuedQuestion, Records
from tutor.records.entries import RecordedAttempt


class CountingRecords(Records):
    """The real SQLite ledger, counting history reads."""

    reads = 0

    def history(self, course_id: str, learner_id: str) -> list[RecordedAttempt]:
        self.reads += 1
        return super().history(course_id, learner_id)


def _records(tmp_path: Path) -> CountingRecords:
    return CountingRecords(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def test_history_is_read_once_per_turn_until_the_turn_records_an_answer(tmp_path: Path) -> None:
    records = _records(tmp_path)
    log_answer(records, learner_id="ann", course_id="c", skill_id="s", item_id="i1", correct=True)
    turn = TurnLedger(records)
    assert len(turn.history("c", "ann")) == 1
    assert len(turn.history("c", "ann")) == 1
    assert records.reads == 1
    question_id = uuid.uuid4().hex
    turn.issue_question(IssuedQuestion(question_id=question_id, learner_id="ann", course_id="c", skill_id="s",
                                       item_id="i2", form="A", kind="numeric", seed=0, params={}, mode="learn",
                                       issued_at=WHEN))
    turn.record_attempt(GradedAnswer(question_id=question_id, answer="4", correct=False, grader="rule",
                                     feedback="", created_at=WHEN))
    after = turn.history("c", "ann")
    assert [a.correct for a in after] == [True, False] and records.reads == 2
    records.close()


def test_a_review_seen_in_the_turn_makes_the_reviewed_answer_evidence(tmp_path: Path) -> None:
    records = _records(tmp_path)
    question_id = uuid.uuid4().hex
    records.issue_question(IssuedQuestion(question_id=question_id, learner_id="ann", course_id="c", skill_id="s",
                                          item_id="f1", form="A", kind="free_response", seed=0, params={},
                                          mode="learn", issued_at=WHEN))
    records.record_attempt(GradedAnswer(question_id=question_id, answer="because", correct=False, grader="offline",
                                        feedback="", created_at=WHEN, pending_review=True))
    turn = TurnLedger(records)
    assert turn.history("c", "ann") == []  # waiting for a person: not evidence
    records.review(question_id, correct=True, reviewer="ines", at=WHEN)  # meanwhile, on the review page
    assert [r.question_id for r in turn.unseen_reviews("c", "ann")] == [question_id]
    assert [a.correct for a in turn.history("c", "ann")] == [True]
    records.close()


def test_another_learner_or_course_is_not_served_from_the_cache(tmp_path: Path) -> None:
    records = _records(tmp_path)
    log_answer(records, learner_id="ann", course_id="c", skill_id="s", item_id="i1", correct=True)
    log_answer(records, learner_id="bo", course_id="c", skill_id="s", item_id="i1", correct=False)
    turn = TurnLedger(records)
    assert [a.correct for a in turn.history("c", "ann")] == [True]
    assert [a.correct for a in turn.history("c", "bo")] == [False]
    assert turn.history("d", "ann") == []
    records.close()
