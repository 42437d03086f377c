"""The ledger as one turn sees it: the learner's answers read once per turn, not once per node.

A turn runs several nodes that each need the learner's answers (skill selection and the item to ask read the
evidence and the items waiting for review; the review node reads reviews not yet shown; the gate reads the
evidence after an answer). Within one turn nothing but the turn itself changes that learner's answers in that
course (the turn lock holds) except a person's review, which the next turn sees. So the answers are read once
(Records.learner_attempts: one query); what the turn itself then writes (an answer, reviews marked as shown) is
applied to that read as the ledger commits it, exactly as a fresh read would show it. Everything else passes
straight to the ledger.
"""

from __future__ import annotations

from tutor.graph.state import Ledger
from tutor.records.entries import (
    Decision,
    Explanation,
    GradedAnswer,
    IssuedQuestion,
    LearnerAttempts,
    RecordedAttempt,
    ReviewedAnswer,
    Usage,
)


class TurnLedger:
    """Wraps a Ledger for one turn, remembering each (course, learner)'s answers until this turn changes them."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner
        self._read: dict[tuple[str, str], LearnerAttempts] = {}

    def learner_attempts(self, course_id: str, learner_id: str) -> LearnerAttempts:
        key = (course_id, learner_id)
        if key not in self._read:
            self._read[key] = self._inner.learner_attempts(course_id, learner_id)
        return self._read[key]

    def history(self, course_id: str, learner_id: str) -> list[RecordedAttempt]:
        return list(self.learner_attempts(course_id, learner_id).history)

    def pending_items(self, course_id: str, learner_id: str) -> set[str]:
        return set(self.learner_attempts(course_id, learner_id).pending_items)

    def unseen_reviews(self, course_id: str, learner_id: str) -> list[ReviewedAnswer]:
        return list(self.learner_attempts(course_id, learner_id).unseen_reviews)

    def record_attempt(self, graded: GradedAnswer) -> RecordedAttempt:
        recorded = self._inner.record_attempt(graded)
        key = (recorded.course_id, recorded.learner_id)
        read = self._read.get(key)
        if read is not None:
            self._read[key] = with_attempt(read, recorded)
        return recorded

    def mark_review_seen(self, question_ids: list[str]) -> None:
        self._inner.mark_review_seen(question_ids)
        seen = set(question_ids)
        for key, read in self._read.items():
            unseen = [r for r in read.unseen_reviews if r.question_id not in seen]
            self._read[key] = LearnerAttempts(read.history, read.pending_items, unseen)

    def issue_question(self, question: IssuedQuestion) -> None:
        self._inner.issue_question(question)

    def add_decision(self, decision: Decision) -> None:
        self._inner.add_decision(decision)

    def add_explanation(self, shown: Explanation) -> None:
        self._inner.add_explanation(shown)

    def add_usage(self, usage: Usage) -> None:
        self._inner.add_usage(usage)

    def reviewed_examples(self, course_id: str, item_id: str) -> list[ReviewedAnswer]:
        return self._inner.reviewed_examples(course_id, item_id)


def with_attempt(read: LearnerAttempts, recorded: RecordedAttempt) -> LearnerAttempts:
    """`read` as a fresh read would give it once `recorded` (just written, or an exact replay of an answer
    already there) is in the ledger: evidence is appended, an answer waiting for review holds its item."""
    if recorded.pending_review:
        return LearnerAttempts(read.history, read.pending_items | {recorded.item_id}, read.unseen_reviews)
    if any(a.question_id == recorded.question_id for a in read.history):
        return read
    return LearnerAttempts([*read.history, recorded], read.pending_items, read.unseen_reviews)
