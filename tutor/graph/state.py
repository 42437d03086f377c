"""Graph state (checkpointed per learner and course) and the run context (dependencies passed per call)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, TypedDict

from tutor.course.models import Course
from tutor.llm.base import PassageLike, Provider
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


class Message(TypedDict, total=False):
    """One entry of the transcript the learner sees."""

    role: Literal["tutor", "learner"]
    kind: str  # explanation | remediation | item | feedback | answer | hint | status | mastered | notice | complete
    text: str
    skill: str
    style: str | None
    citations: list[dict[str, str]]  # {id, source, heading, text}
    item: dict[str, Any]  # the public item payload (never an answer key)
    correct: bool
    question_id: str  # feedback: the question the graded answer was to
    more: str  # remediation: material held back, shown on request (the other common mistakes)


class ProgressEntry(TypedDict, total=False):
    """What the tutor knows of one skill for this learner (plain JSON, checkpointed)."""

    attempts: int
    p_known: float
    mastered: bool
    mastered_at: str | None  # ISO time
    next_review_at: str | None
    reviews_passed: int
    remediations: int  # remediations since the skill was opened, mastered or last stepped back from


class TutorState(TypedDict, total=False):
    # --- identity
    learner_id: str
    course_id: str
    # --- output: what the UI and chat read
    messages: Annotated[list[Message], operator.add]
    """The transcript, appended to by every node."""
    progress: dict[str, ProgressEntry]
    """Per skill: mastery estimate, mastered flag and review schedule, as last computed from the ledger."""
    decision: dict[str, Any] | None
    """The gate's last decision on the current skill: status, p_known, reasons, misconceptions."""
    pending: dict[str, Any] | None
    """The item the learner is asked now: question_id, kind, prompt, choices' texts, units. No key."""
    complete: bool
    """True when every skill is mastered."""
    # --- working fields
    skill_id: str | None
    """The skill being taught, practised or reviewed."""
    mode: Literal["learn", "review", "step_back"]
    """learn: teaching toward mastery; review: a spaced check of a mastered skill; step_back: re-checking a
    prerequisite of a skill the learner keeps failing."""
    return_to: str | None
    """During a step back, the skill whose prerequisite is being checked."""
    reexplain_skill: str | None
    """A skill owed a re-explanation (after a remediation decision or a failed review)."""
    reexplain: bool
    """Set by pick_skill when the chosen skill is owed one: routes to remediate."""
    shown: dict[str, dict[str, list[str]]]
    """Per skill, styles and passage ids already shown, so a re-explanation differs."""
    instance: dict[str, Any] | None
    """Server-side handle of the pending item: question id, item id and seed (the key is recomputed, never
    stored here)."""
    skipped: list[str]
    """Items skipped on the current skill."""
    inbox: str
    """The learner's latest message."""
    intent: str
    """What that message is: hint, skip, status, question or answer (routing.classify)."""
    unread: bool
    """The last message could not be read as an answer (no such choice, not a number): ask again."""
    hint_level: int
    avoid_form: str | None
    """After a remediation, the form of the failed item, so the next item is a parallel one."""
    turn: int
    """Counts learner messages (seeds item choice)."""
    awaiting_review: bool
    """The last free-text answer was graded unsure and waits for a person: no gate now, ask another question."""
    objective_first: bool
    """Prefer an objective item for the next question (after an answer went to review)."""


class PassageSource(Protocol):
    """What the graph needs of the passage store."""

    def passages_for_skill(self, course: str, skill: str) -> Sequence[PassageLike]: ...

    def search(
        self,
        query: str,
        *,
        course: str,
        skills: Sequence[str] | None = None,
        exclude_ids: Collection[str] = (),
        k: int = 4,
        rerank: bool = False,
    ) -> Sequence[PassageLike]: ...


class Ledger(Protocol):
    """What the graph records and reads back (tutor.records.Records is the real one)."""

    def issue_question(self, question: IssuedQuestion) -> None: ...

    def record_attempt(self, graded: GradedAnswer) -> RecordedAttempt: ...

    def history(self, course_id: str, learner_id: str) -> list[RecordedAttempt]: ...

    def learner_attempts(self, course_id: str, learner_id: str) -> LearnerAttempts: ...

    def add_decision(self, decision: Decision) -> None: ...

    def add_explanation(self, shown: Explanation) -> None: ...

    def add_usage(self, usage: Usage) -> None: ...

    def unseen_reviews(self, course_id: str, learner_id: str) -> list[ReviewedAnswer]: ...

    def mark_review_seen(self, question_ids: list[str]) -> None: ...

    def reviewed_examples(self, course_id: str, item_id: str) -> list[ReviewedAnswer]: ...

    def pending_items(self, course_id: str, learner_id: str) -> set[str]: ...


@dataclass(frozen=True)
class Context:
    """Run dependencies, passed per invocation (never checkpointed)."""

    course: Course
    provider: Provider
    store: PassageSource
    records: Ledger
    clock: Callable[[], datetime]
    max_remediations: int
    """Remediations on one skill without progress before stepping back to a prerequisite (from Settings)."""
    course_version: str = ""
    """The course files' content hash (tutor.course.version), recorded with every gate decision."""
