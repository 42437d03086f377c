"""What the graph hands the ledger to record (plain values, no database types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Mode = Literal["learn", "review", "step_back"]
Grader = Literal["rule", "offline", "llm", "person"]


@dataclass(frozen=True)
class IssuedQuestion:
    """A question about to be shown to a learner."""

    question_id: str
    learner_id: str
    course_id: str
    skill_id: str
    item_id: str
    form: str
    kind: str
    seed: int
    params: dict[str, Any]
    mode: Mode
    issued_at: datetime
    return_to: str | None = None


@dataclass(frozen=True)
class GradedAnswer:
    """A learner's answer to an issued question, with its grade and the feedback about to be shown."""

    question_id: str
    answer: str
    correct: bool
    grader: Grader
    feedback: str
    created_at: datetime
    misconception: str | None = None
    hints_used: int = 0
    confidence: float | None = None
    """Free text: the grader's probability that the answer is correct."""
    reasons: tuple[str, ...] = ()
    """Free text: why the grader scored it so (shown to reviewers)."""
    pending_review: bool = False
    """Graded unsure: not evidence for the gate until a person grades it."""


@dataclass(frozen=True)
class PendingReview:
    """An unsure free-text answer waiting for a person (the review page lists these)."""

    question_id: str
    learner_id: str
    course_id: str
    skill_id: str
    item_id: str
    answer: str
    confidence: float | None
    reasons: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class ReviewedAnswer:
    """A free-text answer a person graded: the learner is told at their next turn; it is an example of its item."""

    question_id: str
    skill_id: str
    item_id: str
    answer: str
    correct: bool


@dataclass(frozen=True)
class Explanation:
    """An explanation, remediation or answer to a learner's question that was shown."""

    learner_id: str
    course_id: str
    skill_id: str
    purpose: str  # explain | remediate | answer
    style: str
    passages: list[str]
    provider: str
    created_at: datetime


@dataclass(frozen=True)
class Decision:
    """The gate's decision after the attempt on `question_id`."""

    question_id: str
    learner_id: str
    course_id: str
    skill_id: str
    status: str  # mastered | practice | remediate; after a review: review_passed | revoked; completed
    p_known: float
    reasons: list[str]
    misconceptions: list[str]
    created_at: datetime
    evidence: list[str] = field(default_factory=list)
    """The question ids of the attempts the gate read, oldest first."""
    criterion: dict[str, Any] = field(default_factory=dict)
    """The mastery criterion in force (MasteryCriterion as a dict)."""
    course_version: str = ""
    """tutor.course.version of the course files at the time."""
    kind: str = "decision"
    """What this row records about the attempt: the gate's `decision`, a `review` outcome or the course
    `completed`; at most one of each per attempt."""


@dataclass(frozen=True)
class Usage:
    """One LLM call's cost (or an offline fallback and its reason)."""

    learner_id: str
    course_id: str
    purpose: str
    provider: str
    model: str
    created_at: datetime
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    fallback_reason: str | None = field(default=None)


@dataclass(frozen=True)
class RecordedAttempt:
    """An attempt as the ledger holds it: what the gate and progress are computed from."""

    question_id: str
    skill_id: str
    item_id: str
    form: str
    kind: str
    answer: str
    correct: bool
    misconception: str | None
    feedback: str
    mode: Mode
    return_to: str | None
    created_at: datetime
    learner_id: str
    course_id: str
    pending_review: bool
    """Waiting for a person's review: not evidence yet."""


@dataclass(frozen=True)
class LearnerAttempts:
    """What a turn needs of a learner's answers in a course, read together (one query)."""

    history: list[RecordedAttempt]
    """Attempts that are evidence, oldest first (answers waiting for a person's review left out)."""
    pending_items: set[str]
    """Items whose answer waits for a person's review (not asked again meanwhile)."""
    unseen_reviews: list[ReviewedAnswer]
    """Answers a person graded whose result the learner has not been shown yet, oldest first."""

