"""The organisation's view of a group: who has mastered what, who is stuck and why, and on what evidence.

Pure functions over facts read from the ledger (attempts, gate decisions, each learner's skill progress); the
instructor page, `tutor report` and the completion record all render what these return.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from tutor.course.models import Course
from tutor.mastery.select import SkillProgress

CellState = Literal["locked", "available", "in_progress", "mastered", "review_due", "revoked"]
STATE_LABELS: dict[CellState, str] = {
    "locked": "locked", "available": "not started", "in_progress": "in progress", "mastered": "mastered",
    "review_due": "due for review", "revoked": "revoked",
}
IDLE_CAP = timedelta(minutes=10)  # a question left open longer than this counts as 10 minutes of work
STUCK_REMEDIATIONS = 3  # re-teachings on one skill without mastery since that count as stuck
STUCK_STEP_BACKS = 2  # returns to a prerequisite of one skill that count as a loop


@dataclass(frozen=True)
class AttemptFact:
    """One graded answer as the ledger holds it."""

    learner_id: str
    skill_id: str
    question_id: str
    item_id: str
    prompt: str
    answer: str
    correct: bool | None  # None while the answer waits for a person's review
    grader: str  # rule | offline | llm | person
    asked_at: datetime | None
    answered_at: datetime
    mode: str = "learn"  # learn | review | step_back


@dataclass(frozen=True)
class DecisionFact:
    """One gate decision (or review outcome) as the ledger holds it."""

    learner_id: str
    skill_id: str
    status: str  # mastered | practice | remediate | revoked | review_passed
    p_known: float
    at: datetime
    evidence: tuple[str, ...] = ()  # the question ids the gate read
    criterion: Mapping[str, object] = field(default_factory=dict)
    course_version: str = ""


@dataclass(frozen=True)
class Cell:
    """One learner on one skill."""

    state: CellState
    p_known: float
    items: int
    minutes: float
    mastered_at: datetime | None


@dataclass(frozen=True)
class Stuck:
    learner_id: str
    skill_id: str | None
    reason: str


@dataclass(frozen=True)
class SkillFigures:
    """Per skill across the group: how many mastered and what mastery took."""

    skill_id: str
    title: str
    mastered: int
    learners: int
    items_to_mastery: tuple[int, ...]
    minutes_to_mastery: tuple[float, ...]

    @property
    def median_minutes(self) -> float | None:
        return statistics.median(self.minutes_to_mastery) if self.minutes_to_mastery else None

    @property
    def median_items(self) -> float | None:
        return statistics.median(self.items_to_mastery) if self.items_to_mastery else None


@dataclass(frozen=True)
class GroupReport:
    course_id: str
    learners: tuple[str, ...]
    skills: tuple[str, ...]
    grid: Mapping[tuple[str, str], Cell]  # (learner, skill) -> cell
    completed: Mapping[str, datetime | None]  # learner -> when every skill was first mastered, or None
    figures: tuple[SkillFigures, ...]
    stuck: tuple[Stuck, ...]

    @property
    def completion_share(self) -> float:
        return sum(v is not None for v in self.completed.values()) / max(1, len(self.learners))

    def slowest(self, n: int = 3) -> list[SkillFigures]:
        """The skills that take longest to master (median minutes), slowest first."""
        timed = [f for f in self.figures if f.median_minutes is not None]
        return sorted(timed, key=lambda f: -(f.median_minutes or 0.0))[:n]


def minutes_spent(attempts: Sequence[AttemptFact]) -> float:
    """Time on questions: from asking to answering, each capped at IDLE_CAP."""
    total = timedelta()
    for a in attempts:
        if a.asked_at is not None:
            total += min(max(a.answered_at - a.asked_at, timedelta()), IDLE_CAP)
    return total.total_seconds() / 60


def cell_state(course: Course, skill_id: str, progress: Mapping[str, SkillProgress],
               decisions: Sequence[DecisionFact], now: datetime) -> CellState:
    """A skill's state for one learner (decisions in time order)."""
    entry = progress.get(skill_id, SkillProgress())
    if entry.mastered:
        due = entry.next_review_at is not None and entry.next_review_at <= now
        return "review_due" if due else "mastered"
    if any(d.skill_id == skill_id and d.status == "revoked" for d in decisions):
        return "revoked"
    if not all(progress.get(p, SkillProgress()).mastered for p in course.skill(skill_id).prerequisites):
        return "locked"
    return "in_progress" if entry.attempts > 0 else "available"


def _first_mastery(skill_id: str, decisions: Sequence[DecisionFact]) -> DecisionFact | None:
    return next((d for d in decisions if d.skill_id == skill_id and d.status == "mastered"), None)


def stuck_reasons(course: Course, learner_id: str, attempts: Sequence[AttemptFact],
                  decisions: Sequence[DecisionFact], progress: Mapping[str, SkillProgress], *,
                  now: datetime, idle_days: int) -> list[Stuck]:
    """Why a learner looks stuck: repeated re-teaching without progress, a step-back loop, or no activity."""
    found: list[Stuck] = []
    for skill in course.skills:
        if progress.get(skill.id, SkillProgress()).mastered:
            continue
        since = [d for d in decisions if d.skill_id == skill.id]
        last_mastered = max((i for i, d in enumerate(since) if d.status == "mastered"), default=-1)
        remediations = sum(d.status == "remediate" for d in since[last_mastered + 1:])
        if remediations >= STUCK_REMEDIATIONS:
            found.append(Stuck(learner_id, skill.id,
                               f"re-taught {remediations} times on {skill.title} without reaching mastery"))
        prerequisite_checks = _step_back_episodes(attempts, skill.prerequisites)
        if prerequisite_checks >= STUCK_STEP_BACKS and remediations:
            found.append(Stuck(learner_id, skill.id,
                               f"sent back to a prerequisite of {skill.title} {prerequisite_checks} times"))
    if attempts and not all(progress.get(s.id, SkillProgress()).mastered for s in course.skills):
        last = max(a.answered_at for a in attempts)
        if now - last >= timedelta(days=idle_days):
            found.append(Stuck(learner_id, None, f"no activity for {(now - last).days} days "
                                                 f"(last answer {last:%Y-%m-%d})"))
    return found


def _step_back_episodes(attempts: Sequence[AttemptFact], prerequisites: Sequence[str]) -> int:
    """How many separate returns to any of these prerequisites (runs of step-back answers)."""
    episodes, inside = 0, False
    for a in attempts:
        hit = a.mode == "step_back" and a.skill_id in prerequisites
        if hit and not inside:
            episodes += 1
        inside = hit
    return episodes


def group_report(
    course: Course,
    learners: Sequence[str],
    attempts: Mapping[str, Sequence[AttemptFact]],
    decisions: Mapping[str, Sequence[DecisionFact]],
    progress: Mapping[str, Mapping[str, SkillProgress]],
    *,
    now: datetime,
    idle_days: int = 7,
) -> GroupReport:
    """Everything the instructor dashboard shows for one course and a set of learners."""
    grid: dict[tuple[str, str], Cell] = {}
    completed: dict[str, datetime | None] = {}
    stuck: list[Stuck] = []
    to_mastery: dict[str, tuple[list[int], list[float]]] = {s.id: ([], []) for s in course.skills}
    for learner in learners:
        mine_a = sorted(attempts.get(learner, ()), key=lambda a: a.answered_at)
        mine_d = sorted(decisions.get(learner, ()), key=lambda d: d.at)
        mine_p = progress.get(learner, {})
        firsts: list[datetime | None] = []
        for skill in course.skills:
            on_skill = [a for a in mine_a if a.skill_id == skill.id]
            first = _first_mastery(skill.id, mine_d)
            firsts.append(first.at if first else None)
            if first is not None:
                before = [a for a in on_skill if a.answered_at <= first.at and a.mode == "learn"]
                to_mastery[skill.id][0].append(len(before))
                to_mastery[skill.id][1].append(round(minutes_spent(before), 2))
            grid[(learner, skill.id)] = Cell(
                state=cell_state(course, skill.id, mine_p, mine_d, now),
                p_known=mine_p.get(skill.id, SkillProgress(p_known=course.skill_bkt(skill.id).prior)).p_known,
                items=len(on_skill),
                minutes=round(minutes_spent(on_skill), 2),
                mastered_at=first.at if first else None,
            )
        completed[learner] = max(firsts) if firsts and all(f is not None for f in firsts) else None  # type: ignore[type-var]
        stuck.extend(stuck_reasons(course, learner, mine_a, mine_d, mine_p, now=now, idle_days=idle_days))
    figures = tuple(
        SkillFigures(skill.id, skill.title, len(to_mastery[skill.id][0]), len(learners),
                     tuple(to_mastery[skill.id][0]), tuple(to_mastery[skill.id][1]))
        for skill in course.skills
    )
    return GroupReport(course.id, tuple(learners), tuple(s.id for s in course.skills), grid, completed, figures,
                       tuple(stuck))


@dataclass(frozen=True)
class Evidence:
    """What one mastery rests on: the decision, the criterion in force, the course version and the answers."""

    decision: DecisionFact
    attempts: tuple[AttemptFact, ...]
    revoked_at: datetime | None


def mastery_evidence(attempts: Sequence[AttemptFact], decisions: Sequence[DecisionFact]) -> list[Evidence]:
    """Every mastery of one learner with exactly the attempts its gate decision read, and any later revocation."""
    by_question = {a.question_id: a for a in attempts}
    ordered = sorted(decisions, key=lambda d: d.at)
    result: list[Evidence] = []
    for i, decision in enumerate(ordered):
        if decision.status != "mastered":
            continue
        revoked = next((d.at for d in ordered[i + 1:] if d.skill_id == decision.skill_id
                        and d.status in ("revoked", "mastered")), None)
        later = next((d for d in ordered[i + 1:] if d.skill_id == decision.skill_id
                      and d.status in ("revoked", "mastered")), None)
        result.append(Evidence(
            decision=decision,
            attempts=tuple(by_question[q] for q in decision.evidence if q in by_question),
            revoked_at=revoked if later is not None and later.status == "revoked" else None,
        ))
    return result
