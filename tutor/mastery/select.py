"""What to ask next: an item within a skill, and a skill within the course (with spaced review).

Pure functions: the caller passes the items, the attempt history, the learner's progress and the time.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from tutor.course.models import Course, ItemBase
from tutor.mastery.gate import Attempt, GateDecision

I = TypeVar("I", bound=ItemBase)  # noqa: E741 - the usual name for an item type

# ---------------------------------------------------------------- items


def failed_form(history: Sequence[Attempt]) -> str | None:
    """The form of the most recent wrong answer: the one to avoid right after a remediation."""
    for attempt in reversed(history):
        if not attempt.correct:
            return attempt.form
    return None


def failed_item(history: Sequence[Attempt]) -> str | None:
    """The item of the most recent wrong answer."""
    for attempt in reversed(history):
        if not attempt.correct:
            return attempt.item_id
    return None


_NUMBERS = re.compile(r"\{[A-Za-z_]\w*\}|\d+(?:[.,]\d+)?")


def shape(item: ItemBase) -> tuple[str, str]:
    """An item's kind and its prompt with every number and template placeholder blanked: two items of the same
    shape ("What is 1/2 + 1/3?", "What is 1/4 + 2/3?") are near copies of each other."""
    return str(getattr(item, "kind", "")), " ".join(_NUMBERS.sub("#", item.prompt).lower().split())


def next_item(items: Sequence[I], history: Sequence[Attempt], *, avoid_form: str | None, seed: int,
              avoid_like: ItemBase | None = None) -> I:
    """The next item of a skill's pool.

    - no item comes back until every item of the pool has been asked (then a second round, and so on);
    - with `avoid_form` (after a remediation: the form just failed), an item of another form is chosen,
      even if that means repeating one, unless the pool has no other form;
    - with `avoid_like` (after a remediation: the item just missed), an item that is not a near copy of it
      (see `shape`) is preferred, even if that means repeating one;
    - the item just asked is not asked again straight away when there is any other choice;
    - ties are broken by a random draw seeded with `seed` and the number of attempts: reproducible.
    """
    if not items:
        raise ValueError("the skill has no items to ask")
    uses = Counter(attempt.item_id for attempt in history)

    def least_used(pool: Sequence[I]) -> list[I]:
        fewest = min(uses[item.id] for item in pool)
        return [item for item in pool if uses[item.id] == fewest]

    candidates = least_used(items)
    if avoid_form is not None and all(item.form == avoid_form for item in candidates):
        other_forms = [item for item in items if item.form != avoid_form]
        if other_forms:
            candidates = least_used(other_forms)
    elif avoid_form is not None:
        candidates = [item for item in candidates if item.form != avoid_form]
    if avoid_like is not None:
        unlike = [item for item in candidates if shape(item) != shape(avoid_like)]
        if not unlike:
            others = [item for item in items if shape(item) != shape(avoid_like)
                      and (avoid_form is None or item.form != avoid_form)]
            unlike = least_used(others) if others else candidates
        candidates = unlike
    if history and len(candidates) > 1:
        candidates = [item for item in candidates if item.id != history[-1].item_id] or candidates
    rng = random.Random(f"{seed}:{len(history)}")
    return candidates[rng.randrange(len(candidates))]


# ---------------------------------------------------------------- skills


@dataclass(frozen=True)
class ReviewSchedule:
    """Growing gaps between reviews of a mastered skill: first, first * factor, first * factor^2, ..."""

    first: timedelta = timedelta(days=1)
    factor: float = 3.0
    longest: timedelta = timedelta(days=90)

    def interval(self, reviews_passed: int) -> timedelta:
        return min(self.first * (self.factor**reviews_passed), self.longest)


DEFAULT_SCHEDULE = ReviewSchedule()
STEP_BACK_AFTER = 2  # remediations on a skill before its weakest prerequisite is checked again


@dataclass(frozen=True)
class SkillProgress:
    """One learner's standing on one skill."""

    attempts: int = 0
    p_known: float = 0.0
    mastered: bool = False
    mastered_at: datetime | None = None
    reviews_passed: int = 0
    next_review_at: datetime | None = None
    remediations: int = 0  # since the skill was opened, last mastered, or last stepped back from


SkillReason = Literal["new", "continue", "review", "step_back"]


@dataclass(frozen=True)
class SkillChoice:
    """Where to go next and why.

    `new`/`continue`: an unmastered skill whose prerequisites are all mastered (not started / started).
    `review`: a mastered skill whose review is due. `step_back`: a mastered prerequisite of `from_skill`
    (the learner keeps needing remediation there) to be checked again with a review item.
    """

    skill_id: str
    reason: SkillReason
    from_skill: str | None = None


def record_decision(
    progress: SkillProgress, decision: GateDecision, *, now: datetime, schedule: ReviewSchedule = DEFAULT_SCHEDULE
) -> SkillProgress:
    """Progress after the gate's decision on a new attempt."""
    updated = replace(progress, attempts=progress.attempts + 1, p_known=decision.p_known)
    if decision.status == "mastered" and not progress.mastered:
        return replace(
            updated,
            mastered=True,
            mastered_at=now,
            reviews_passed=0,
            next_review_at=now + schedule.interval(0),
            remediations=0,
        )
    if decision.status == "remediate":
        return replace(updated, remediations=progress.remediations + 1)
    return updated


def record_review(
    progress: SkillProgress,
    passed: bool,
    *,
    now: datetime,
    p_known: float | None = None,
    schedule: ReviewSchedule = DEFAULT_SCHEDULE,
) -> SkillProgress:
    """A review item answered: a pass pushes the next review further out; a fail reopens the skill."""
    p = progress.p_known if p_known is None else p_known
    if passed:
        done = progress.reviews_passed + 1
        return replace(progress, p_known=p, reviews_passed=done, next_review_at=now + schedule.interval(done))
    return replace(
        progress,
        p_known=p,
        mastered=False,
        mastered_at=None,
        reviews_passed=0,
        next_review_at=None,
        remediations=0,
    )


def record_step_back(progress: SkillProgress) -> SkillProgress:
    """The skill's weakest prerequisite has been checked again: start counting remediations afresh."""
    return replace(progress, remediations=0)


def _get(progress: Mapping[str, SkillProgress], skill_id: str) -> SkillProgress:
    return progress.get(skill_id, SkillProgress())


def is_unlocked(course: Course, progress: Mapping[str, SkillProgress], skill_id: str) -> bool:
    """Every prerequisite of the skill is mastered."""
    return all(_get(progress, pre).mastered for pre in course.skill(skill_id).prerequisites)


def course_complete(course: Course, progress: Mapping[str, SkillProgress]) -> bool:
    return all(_get(progress, skill.id).mastered for skill in course.skills)


def next_skill(
    course: Course,
    progress: Mapping[str, SkillProgress],
    *,
    now: datetime,
    step_back_after: int = STEP_BACK_AFTER,
) -> SkillChoice | None:
    """The next skill to work on, or None when every skill is mastered and no review is due.

    In order of priority:
    1. step back: the first skill in progress (started, unmastered, unlocked) with at least
       `step_back_after` remediations and some prerequisite -> its weakest prerequisite (lowest p_known);
    2. review: the mastered skill whose review is most overdue;
    3. continue: the first skill in progress, in course order;
    4. new: the first unlocked, unstarted, unmastered skill in course order.
    Call it at the start of a session, after a skill is mastered and after a remediation.
    """
    order = {skill.id: index for index, skill in enumerate(course.skills)}
    open_skills = [
        skill
        for skill in course.skills
        if not _get(progress, skill.id).mastered and is_unlocked(course, progress, skill.id)
    ]
    started = [skill for skill in open_skills if _get(progress, skill.id).attempts > 0]
    for skill in started:
        if _get(progress, skill.id).remediations >= step_back_after and skill.prerequisites:
            weakest = min(skill.prerequisites, key=lambda pre: (_get(progress, pre).p_known, order.get(pre, 0)))
            return SkillChoice(weakest, "step_back", from_skill=skill.id)
    due = [
        skill
        for skill in course.skills
        if (state := _get(progress, skill.id)).mastered
        and state.next_review_at is not None
        and state.next_review_at <= now
    ]
    if due:
        first_due = min(due, key=lambda skill: (_get(progress, skill.id).next_review_at, order[skill.id]))
        return SkillChoice(first_due.id, "review")
    if started:
        return SkillChoice(started[0].id, "continue")
    if open_skills:
        return SkillChoice(open_skills[0].id, "new")
    return None
