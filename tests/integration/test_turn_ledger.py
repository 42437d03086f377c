"""One turn reads the learner's answers once, and again only after it changes them (an answer, reviews shown)."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from tests.support.ledger import WHEN, log_answer
from tutor.graph.turn_ledger import TurnLedger
from tutor.records import GradedAnswer, IssuedQuestion, Records
from tutor.records.entries import LearnerAttempts


class CountingRecords(Records):
    """The real SQLite ledger, counting reads of a learner's answers."""

    reads = 0

    def learner_attempts(self, course_id: str, learner_id: str) -> LearnerAttempts:
        self.reads += 1
        return super().learner_attempts(course_id, learner_id)


def _records(tmp_path: Path) -> CountingRecords:
    return CountingRecords(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


def test_history_is_read_once_per_turn_and_the_turns_own_answer_is_applied_to_it(tmp_path: Path) -> None:
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
    assert [a.correct for a in after] == [True, False] and records.reads == 1
    assert after == records.history("c", "ann")  # what a fresh read gives
    records.close()


def test_a_review_is_read_with_the_evidence_and_shown_once(tmp_path: Path) -> None:
    records = _records(tmp_path)
    question_id = uuid.uuid4().hex
    records.issue_question(IssuedQuestion(question_id=question_id, learner_id="ann", course_id="c", skill_id="s",
                                          item_id="f1", form="A", kind="free_response", seed=0, params={},
                                          mode="learn", issued_at=WHEN))
    records.record_attempt(GradedAnswer(question_id=question_id, answer="because", correct=False, grader="offline",
                                        feedback="", created_at=WHEN, pending_review=True))
    turn = TurnLedger(records)
    assert turn.history("c", "ann") == [] and turn.pending_items("c", "ann") == {"f1"}  # not evidence yet
    records.review(question_id, correct=True, reviewer="ines", at=WHEN)  # on the review page
    next_turn = TurnLedger(records)
    assert [r.question_id for r in next_turn.unseen_reviews("c", "ann")] == [question_id]
    assert [a.correct for a in next_turn.history("c", "ann")] == [True] and not next_turn.pending_items("c", "ann")
    next_turn.mark_review_seen([question_id])
    assert next_turn.unseen_reviews("c", "ann") == [] and records.reads == 2
    assert records.unseen_reviews("c", "ann") == []  # and so does the ledger
    records.close()


def test_a_turns_view_of_its_answers_always_equals_a_fresh_read(tmp_path: Path) -> None:
    """Random turns of answers (evidence, sent to review, replays, reviews shown): after each write the turn's
    cached read is what reading the ledger again gives."""
    for seed in range(20):
        rng = random.Random(seed)
        records = CountingRecords(f"sqlite:///{tmp_path / f'ledger{seed}.sqlite'}")
        answered: list[GradedAnswer] = []
        for _ in range(rng.randint(1, 4)):  # turns
            turn = TurnLedger(records)
            turn.learner_attempts("c", "ann")
            for _ in range(rng.randint(1, 4)):  # writes in the turn
                action = rng.random()
                if action < 0.15 and answered:  # a retry of an answer already recorded
                    turn.record_attempt(rng.choice(answered))
                elif action < 0.3:  # a person reviews, then the turn shows the reviews
                    for pending in records.pending_reviews(["c"]):
                        records.review(pending.question_id, correct=rng.random() < 0.5, reviewer="ines", at=WHEN)
                    turn = TurnLedger(records)
                    shown = turn.unseen_reviews("c", "ann")
                    turn.mark_review_seen([r.question_id for r in shown])
                else:
                    question_id = uuid.uuid4().hex
                    item = f"i{rng.randint(1, 3)}"
                    turn.issue_question(IssuedQuestion(
                        question_id=question_id, learner_id="ann", course_id="c", skill_id="s", item_id=item,
                        form="A", kind="free_response", seed=0, params={}, mode="learn", issued_at=WHEN))
                    graded = GradedAnswer(question_id=question_id, answer=f"a{rng.random()}",
                                          correct=rng.random() < 0.5, grader="offline", feedback="",
                                          created_at=WHEN, pending_review=rng.random() < 0.3)
                    turn.record_attempt(graded)
                    answered.append(graded)
                assert turn.learner_attempts("c", "ann") == records.learner_attempts("c", "ann"), seed
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
