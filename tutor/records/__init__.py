"""The mastery ledger: every question issued and every answer graded, plus explanations shown, gate decisions
and LLM usage. `Records` is the repository; `entries` holds the values the graph records."""

from tutor.records.analysis import ItemStats, item_analysis
from tutor.records.entries import (
    Decision,
    Explanation,
    GradedAnswer,
    IssuedQuestion,
    PendingReview,
    ReviewedAnswer,
    Usage,
)
from tutor.records.models import AttemptRow, Base, DecisionRow, ExplanationRow, QuestionRow, UsageRow
from tutor.records.store import (
    AnswerConflict,
    LedgerError,
    LedgerUnreadable,
    Records,
    UnknownQuestion,
    recorded_attempt,
)

__all__ = [
    "AnswerConflict", "AttemptRow", "Base", "Decision", "DecisionRow", "Explanation", "ExplanationRow",
    "GradedAnswer", "IssuedQuestion", "ItemStats", "LedgerError", "LedgerUnreadable", "PendingReview",
    "QuestionRow", "Records", "ReviewedAnswer",
    "UnknownQuestion", "Usage", "UsageRow", "item_analysis", "recorded_attempt",
]
