"""The ledger as one turn sees it: the learner's history read once per turn, not once per node.

A turn runs several nodes that each need the learner's graded history (skill selection, the item to ask, the
gate after an answer). Within one turn nothing but the turn itself adds evidence for that learner and course (the
turn lock holds), except a person's review; so the history is read once and read again only after this turn
writes an attempt or sees a new review. Everything else passes straight to the ledger.
"""

from __future__ import annotations

from tutor.graph.state import Ledger
from tutor.records.entries import (
    Decision,
    Explanation,
    GradedAnswer,
    IssuedQuestion,
    RecordedAttempt,
    ReviewedAnswer,
    Usage,
)


class TurnLedger:
    """Wraps a Ledger for one turn, remembering each (course, learner) history until this turn changes it."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner
        self._history: dict[tuple[str, str], list[RecordedAttempt]] = {}

    def history(self, course_id: str, learner_id: str) -> list[RecordedAttempt]:
        key = (course_id, learner_id)
        if key not in self._history:
            self._history[key] = self._inner.history(course_id, learner_id)
        return list(self._history[key])

    def record_attempt(self, graded: GradedAnswer) -> RecordedAttempt:
        self._history.clear()
        return self._inner.record_attempt(graded)

    def unseen_reviews(self, course_id: str, learner_id: str) -> list[ReviewedAnswer]:
        reviewed = self._inner.unseen_reviews(course_id, learner_id)
        if reviewed:  # a person graded an answer since: it is evidence now
            self._history.clear()
        return reviewed

    def issue_question(self, question: IssuedQuestion) -> None:
        self._inner.issue_question(question)

    def add_decision(self, decision: Decision) -> None:
        self._inner.add_decision(decision)

    def add_explanation(self, shown: Explanation) -> None:
        self._inner.add_explanation(shown)

    def add_usage(self, usage: Usage) -> None:
        self._inner.add_usage(usage)

    def mark_review_seen(self, question_ids: list[str]) -> None:
        self._inner.mark_review_seen(question_ids)

    def reviewed_examples(self, course_id: str, item_id: str) -> list[ReviewedAnswer]:
        return self._inner.reviewed_examples(course_id, item_id)

    def pending_items(self, course_id: str, learner_id: str) -> set[str]:
        return self._inner.pending_items(course_id, learner_id)
