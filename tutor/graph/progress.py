"""Conversions between the checkpointed (plain JSON) progress in graph state and the mastery engine's types,
plus the skill map the front ends draw. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from tutor.course.models import Course
from tutor.graph.state import ProgressEntry
from tutor.mastery.bkt import params_for_kind, update
from tutor.mastery.gate import Attempt, GateDecision, decide
from tutor.mastery.select import SkillProgress, record_decision, record_review, record_step_back
from tutor.records.entries import RecordedAttempt

SkillStatus = Literal["locked", "available", "in_progress", "mastered", "review_due"]


@dataclass(frozen=True)
class SkillView:
    """One node of the skill map."""

    id: str
    title: str
    status: SkillStatus
    p_known: float
    prerequisites: tuple[str, ...]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def to_progress(entry: Mapping[str, Any]) -> SkillProgress:
    return SkillProgress(
        attempts=int(entry.get("attempts", 0)),
        p_known=float(entry.get("p_known", 0.0)),
        mastered=bool(entry.get("mastered", False)),
        mastered_at=_time(entry.get("mastered_at")),
        reviews_passed=int(entry.get("reviews_passed", 0)),
        next_review_at=_time(entry.get("next_review_at")),
        remediations=int(entry.get("remediations", 0)),
    )


def to_entry(progress: SkillProgress) -> ProgressEntry:
    return {
        "attempts": progress.attempts,
        "p_known": progress.p_known,
        "mastered": progress.mastered,
        "mastered_at": progress.mastered_at.isoformat() if progress.mastered_at else None,
        "reviews_passed": progress.reviews_passed,
        "next_review_at": progress.next_review_at.isoformat() if progress.next_review_at else None,
        "remediations": progress.remediations,
    }


def initial(course: Course, progress: Mapping[str, ProgressEntry]) -> dict[str, ProgressEntry]:
    """Progress with an entry for every skill (new skills start at their prior)."""
    result: dict[str, ProgressEntry] = {}
    for skill in course.skills:
        entry = progress.get(skill.id)
        result[skill.id] = entry if entry is not None else to_entry(
            SkillProgress(p_known=course.skill_bkt(skill.id).prior)
        )
    return result


def to_select(progress: Mapping[str, ProgressEntry]) -> dict[str, SkillProgress]:
    return {skill_id: to_progress(entry) for skill_id, entry in progress.items()}


def attempts(records: list[dict[str, Any]]) -> list[Attempt]:
    return [Attempt(**record) for record in records]


def attempt_record(attempt: Attempt) -> dict[str, Any]:
    return asdict(attempt)


def decision_dict(decision: GateDecision) -> dict[str, Any]:
    return {
        "status": decision.status,
        "p_known": decision.p_known,
        "reasons": list(decision.reasons),
        "misconceptions": list(decision.misconceptions),
        "answers_needed": decision.answers_needed,
    }


def skill_map(
    course: Course, progress: Mapping[str, ProgressEntry], current: str | None, now: datetime
) -> list[SkillView]:
    """Each skill's state for the map: locked, available, in progress, mastered or due for review."""
    views: list[SkillView] = []
    for skill in course.skills:
        entry = to_progress(progress.get(skill.id, {}))
        status: SkillStatus
        if entry.mastered:
            due = entry.next_review_at is not None and entry.next_review_at <= now
            status = "review_due" if due else "mastered"
        elif not all(to_progress(progress.get(p, {})).mastered for p in skill.prerequisites):
            status = "locked"
        elif skill.id == current or entry.attempts > 0:
            status = "in_progress"
        else:
            status = "available"
        views.append(SkillView(skill.id, skill.title, status, entry.p_known, tuple(skill.prerequisites)))
    return views


def gate_attempt(course: Course, recorded: RecordedAttempt) -> Attempt:
    """The gate's view of a ledger attempt (an item since removed from the course still counts as itself)."""
    try:
        item = course.item(recorded.item_id)
    except KeyError:
        return Attempt(recorded.item_id, recorded.form, recorded.correct,
                       None if recorded.correct else recorded.misconception, recorded.kind)
    return Attempt.of(item, recorded.correct, recorded.misconception)


def skill_history(course: Course, history: Sequence[RecordedAttempt], skill_id: str) -> list[Attempt]:
    """Every graded attempt on one skill, oldest first: what the gate decides on."""
    return [gate_attempt(course, r) for r in history if r.skill_id == skill_id]


def from_ledger(course: Course, history: Sequence[RecordedAttempt]) -> dict[str, ProgressEntry]:
    """Progress on every skill, replayed from the ledger's attempts in order: a learn-mode answer goes through
    the gate; a review or step-back answer updates the estimate and the review schedule (the same rules the
    gate and review nodes apply live)."""
    state = {skill_id: to_progress(entry) for skill_id, entry in initial(course, {}).items()}
    by_skill: dict[str, list[Attempt]] = {}
    for recorded in history:
        skill_id = recorded.skill_id
        if skill_id not in state:
            continue  # a skill no longer in the course
        attempt = gate_attempt(course, recorded)
        by_skill.setdefault(skill_id, []).append(attempt)
        skill_bkt = course.skill_bkt(skill_id)
        if recorded.mode == "learn":
            decision = decide(by_skill[skill_id], course.criterion(skill_id), skill_bkt)
            state[skill_id] = record_decision(state[skill_id], decision, now=recorded.created_at)
            continue
        current = state[skill_id]
        params = params_for_kind(skill_bkt, attempt.kind, attempt.chance)
        p_known = update(current.p_known, recorded.correct, params)
        state[skill_id] = record_review(current, recorded.correct, now=recorded.created_at, p_known=p_known)
        if recorded.mode == "step_back" and recorded.return_to in state:
            state[recorded.return_to] = record_step_back(state[recorded.return_to])
    return {skill_id: to_entry(progress) for skill_id, progress in state.items()}
