"""The mastery gate: from a learner's graded attempts on one skill to mastered / practice / remediate.

The rule (MasteryCriterion, per course and skill):

- mastered when ALL hold: the knowledge-tracing estimate p(known) >= threshold; right answers on at
  least `min_items` different questions; at least `bar` of the last `window` answers right (of all
  answers so far while there are fewer than `window`); and the last answer right;
- remediate when the learner misses `max_consecutive_misses` in a row, or, once `window` answers have
  been given since the last remediation, fewer than `bar` of the last `window` are right;
- otherwise practice.

A remediation starts a fresh count: misses and the accuracy window that trigger the next remediation
only look at answers given after it, so one bad start does not trigger remediation again and again.
Mastery always looks at the last `window` answers, whenever they were given.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tutor.course.models import BKTParams, ItemBase, MasteryCriterion
from tutor.mastery.bkt import chance_of, params_for_kind, update

Status = Literal["mastered", "practice", "remediate"]
STATUS_CODES: dict[Status, int] = {"practice": 0, "mastered": 1, "remediate": 2}
LOOKAHEAD = 50  # how far `answers_needed` looks for a path to mastery


@dataclass(frozen=True)
class Attempt:
    """One graded answer to an item of the skill.

    `item_id` identifies the question: instances of one template share the item's id and count as one
    item. `kind` and `chance` (the odds of a blind right answer, multiple choice only) set the guess rate
    used for this attempt; leave them None to use the skill's parameters as they are.
    """

    item_id: str
    form: str
    correct: bool
    misconception: str | None = None
    kind: str | None = None
    chance: float | None = None

    @staticmethod
    def of(item: ItemBase, correct: bool, misconception: str | None = None) -> Attempt:
        """An attempt at `item`; a wrong answer records the given misconception or the item's own tag."""
        tag = (misconception or item.misconception) if not correct else None
        kind = getattr(item, "kind", None)
        return Attempt(
            item_id=item.id,
            form=item.form,
            correct=correct,
            misconception=tag,
            kind=kind if isinstance(kind, str) else None,
            chance=chance_of(item),
        )


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict with the evidence behind it, in words a learner or a content team can read."""

    status: Status
    p_known: float
    reasons: tuple[str, ...]
    misconceptions: tuple[str, ...]  # tags seen in recent wrong answers, most frequent first
    distinct_items: int  # different questions answered right
    recent_accuracy: float | None  # share right in the last `window` answers; None before any answer
    answers_needed: int | None  # right answers on new questions that would reach mastery; None if mastered


def _params(attempt: Attempt, skill_params: BKTParams) -> BKTParams:
    return params_for_kind(skill_params, attempt.kind, attempt.chance)


def _needed_in_window(criterion: MasteryCriterion, size: int) -> int:
    """How many right answers out of `size` meet the bar."""
    return math.ceil(criterion.bar * size - 1e-9)


def _trailing_misses(answers: Sequence[bool]) -> int:
    count = 0
    for correct in reversed(answers):
        if correct:
            break
        count += 1
    return count


def _is_mastered(
    p_known: float, distinct: int, answers: Sequence[bool], criterion: MasteryCriterion
) -> bool:
    recent = answers[-criterion.window :]
    return (
        bool(answers)
        and answers[-1]
        and p_known >= criterion.threshold
        and distinct >= criterion.min_items
        and sum(recent) >= _needed_in_window(criterion, len(recent))
    )


def _remediation_trigger(run: Sequence[bool], criterion: MasteryCriterion) -> str | None:
    """Why the answers since the last remediation call for another one, or None."""
    misses = _trailing_misses(run)
    if misses >= criterion.max_consecutive_misses:
        return f"{misses} wrong answers in a row"
    if len(run) >= criterion.window:
        recent = run[-criterion.window :]
        needed = _needed_in_window(criterion, criterion.window)
        if sum(recent) < needed:
            return (
                f"only {sum(recent)} of the last {criterion.window} answers right "
                f"(at least {needed} needed)"
            )
    return None


def answers_needed(
    attempts: Sequence[Attempt], p_known: float, criterion: MasteryCriterion, params: BKTParams
) -> int | None:
    """Fewest further right answers, each on a new question, that would make the gate say mastered.

    Future questions are assumed to be of the same kind as the last one asked. None when even
    LOOKAHEAD right answers would not do (for instance a skill nobody can learn).
    """
    if attempts:
        params = _params(attempts[-1], params)
    answers = [a.correct for a in attempts]
    right_items = {a.item_id for a in attempts if a.correct}
    p = p_known
    for extra in range(1, LOOKAHEAD + 1):
        p = update(p, True, params)
        answers.append(True)
        if _is_mastered(p, len(right_items) + extra, answers, criterion):
            return extra
    return None


def _misconceptions(attempts: Sequence[Attempt]) -> tuple[str, ...]:
    tags = [a.misconception for a in attempts if not a.correct and a.misconception]
    counts = Counter(tags)
    last_seen = {tag: i for i, tag in enumerate(tags)}
    return tuple(sorted(counts, key=lambda tag: (-counts[tag], -last_seen[tag])))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def decide(attempts: Sequence[Attempt], criterion: MasteryCriterion, params: BKTParams) -> GateDecision:
    """Apply the gate to every attempt on the skill so far (oldest first)."""
    p = params.prior
    since = 0  # first attempt after the last remediation
    status: Status = "practice"
    trigger: str | None = None
    answers: list[bool] = []
    right_items: set[str] = set()
    for index, attempt in enumerate(attempts):
        p = update(p, attempt.correct, _params(attempt, params))
        answers.append(attempt.correct)
        if attempt.correct:
            right_items.add(attempt.item_id)
        if _is_mastered(p, len(right_items), answers, criterion):
            status, trigger = "mastered", None
        else:
            trigger = _remediation_trigger(answers[since:], criterion)
            status = "remediate" if trigger else "practice"
            if trigger:
                since = index + 1
    recent = answers[-criterion.window :]
    accuracy = sum(recent) / len(recent) if recent else None
    window_attempts = list(attempts[-criterion.window :])
    misconceptions = _misconceptions(window_attempts)
    distinct = len(right_items)
    last_params = _params(attempts[-1], params) if attempts else params
    reasons, needed = explain(status, p, distinct, answers, criterion, last_params,
                              trigger=trigger if status == "remediate" else None,
                              misconceptions=misconceptions if status == "remediate" else ())
    return GateDecision(
        status=status,
        p_known=p,
        reasons=reasons,
        misconceptions=misconceptions,
        distinct_items=distinct,
        recent_accuracy=accuracy,
        answers_needed=needed,
    )


@dataclass(frozen=True)
class Unmet:
    """One requirement of mastery not met yet: what the learner has, what is needed, and how many more right
    answers on new questions would meet it on its own (None when LOOKAHEAD would not)."""

    name: Literal["estimate", "distinct", "window", "last"]
    have: float
    need: float
    more: int | None
    text: str


def _more_words(more: int | None) -> str:
    if more is None:
        return ": more right answers needed"
    return f": {_plural(more, 'more right answer')} would do it"


def _shown_share(value: float, decimals: int) -> str:
    """A share as a percentage rounded DOWN, so a value below a threshold never reads as the threshold."""
    scale = 10 ** (decimals + 2)
    return f"{math.floor(value * scale + 1e-9) / scale:.{decimals}%}"


def _share_pair(have: float, need: float) -> tuple[str, str]:
    """have and need as percentages with just enough decimals to tell them apart (97.9% vs 98%)."""
    need_text = f"{need:.0%}" if round(need * 100, 6).is_integer() else f"{need:.1%}"
    for decimals in range(0, 5):
        have_text = _shown_share(have, decimals)
        if have_text != need_text or have >= need:
            return have_text, need_text
    return have_text, need_text


def unmet(p_known: float, distinct: int, answers: Sequence[bool], criterion: MasteryCriterion,
          params: BKTParams) -> tuple[Unmet, ...]:
    """The requirements of mastery (see the module docstring) not met after `answers`, each with the number of
    further right answers on new questions (answered with `params`) that would meet it."""
    found: list[Unmet] = []
    if p_known < criterion.threshold:
        p, more = p_known, None
        for extra in range(1, LOOKAHEAD + 1):
            p = update(p, True, params)
            if p >= criterion.threshold:
                more = extra
                break
        have, need = _share_pair(p_known, criterion.threshold)
        found.append(Unmet("estimate", p_known, criterion.threshold, more,
                           f"estimated mastery {have} (needs {need})" + _more_words(more)))
    if distinct < criterion.min_items:
        more = criterion.min_items - distinct
        found.append(Unmet("distinct", distinct, criterion.min_items, more,
                           f"right answers on {_plural(distinct, 'different question')} "
                           f"(needs {criterion.min_items})" + _more_words(more)))
    recent = list(answers[-criterion.window :])
    # a window of one answer is the last answer, listed on its own below
    if criterion.window > 1 and recent and sum(recent) < _needed_in_window(criterion, len(recent)):
        padded, more = list(answers), None
        for extra in range(1, LOOKAHEAD + 1):
            padded.append(True)
            window = padded[-criterion.window :]
            if sum(window) >= _needed_in_window(criterion, len(window)):
                more = extra
                break
        so_far = (f"{sum(recent)} of the last {len(recent)} answers right" if len(recent) >= criterion.window
                  else f"{sum(recent)} of {_plural(len(recent), 'answer')} so far right")
        found.append(Unmet("window", sum(recent), _needed_in_window(criterion, len(recent)), more,
                           f"{so_far} (needs {criterion.bar:.0%} of the last {criterion.window})"
                           + _more_words(more)))
    if answers and not answers[-1]:
        found.append(Unmet("last", 0, 1, 1, "the last answer was wrong"))
    return tuple(found)


def headline(needed: int | None) -> str:
    """What the learner still needs, in one line; its count is the largest of the unmet requirements'."""
    if needed is None:
        return "not yet: more right answers on new questions needed"
    return f"not yet: {_plural(needed, 'more right answer')} on new questions needed"


def explain(
    status: Status,
    p_known: float,
    distinct: int,
    answers: Sequence[bool],
    criterion: MasteryCriterion,
    params: BKTParams,
    *,
    trigger: str | None = None,
    misconceptions: Sequence[str] = (),
) -> tuple[tuple[str, ...], int | None]:
    """The reasons shown for a decision (headline first, then one line per unmet requirement) and the number of
    right answers on new questions still needed (None once mastered, or when out of reach).

    The one place reasons are written: the gate and the review node both use it, so the headline's count is
    the largest count of the lines below it and only unmet requirements are listed.
    """
    recent = answers[-criterion.window :]
    if status == "mastered":
        return (
            f"mastered: right answers on {_plural(distinct, 'different question')}",
            f"{sum(recent)} of the last {len(recent)} answers right",
            f"estimated mastery {_shown_share(p_known, 0)} (needs {criterion.threshold:.0%})",
        ), None
    reasons: list[str] = []
    if trigger:
        reasons.append(f"let's look at this again: {trigger}")
    if misconceptions:
        reasons.append("mistakes seen: " + ", ".join(m.replace("_", " ").replace("-", " ") for m in misconceptions))
    gaps = unmet(p_known, distinct, answers, criterion, params)
    counts = [g.more for g in gaps]
    needed = None if not gaps or None in counts else max(c for c in counts if c is not None)
    reasons.append(headline(needed))
    reasons.extend(g.text for g in gaps)
    return tuple(reasons), needed


# ---------------------------------------------------------------- many learners at once


def decide_batch(
    correct: NDArray[np.bool_],
    item: NDArray[np.integer],
    criterion: MasteryCriterion,
    params: BKTParams,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """The same rule as `decide`, for many learners at once (simulations and benchmarks).

    `correct[i, t]` is learner i's t-th answer and `item[i, t]` the question's index. Returns the status
    code after each attempt (STATUS_CODES: 0 practice, 1 mastered, 2 remediate) and p(known) after it.
    Every attempt uses the skill's parameters (no per-kind guess rate).
    """
    n, horizon = correct.shape
    statuses = np.zeros((n, horizon), dtype=np.int8)
    p_trace = np.zeros((n, horizon))
    p = np.full(n, params.prior)
    since = np.zeros(n, dtype=np.intp)
    misses = np.zeros(n, dtype=np.intp)  # trailing misses since the last remediation
    rows = np.arange(n)
    seen = np.zeros((n, int(item.max()) + 1 if item.size else 1), dtype=bool)  # answered right before
    distinct = np.zeros(n, dtype=np.intp)
    cumulative: NDArray[np.intp] = np.zeros((n, horizon + 1), dtype=np.intp)  # right answers before step t
    cumulative[:, 1:] = np.cumsum(correct, axis=1)
    w = criterion.window
    need_full = _needed_in_window(criterion, w)
    for t in range(horizon):
        y = correct[:, t]
        known = np.where(y, p * (1 - params.slip), p * params.slip)
        unknown = np.where(y, (1 - p) * params.guess, (1 - p) * (1 - params.guess))
        total = known + unknown
        post = np.divide(known, total, out=p.copy(), where=total > 0)
        p = np.clip(post * (1 - params.forget) + (1 - post) * params.learn, 0.0, 1.0)
        p_trace[:, t] = p
        first_right = y & ~seen[rows, item[:, t]]
        seen[rows, item[:, t]] |= y
        distinct += first_right
        size = min(t + 1, w)
        in_window = cumulative[:, t + 1] - cumulative[:, t + 1 - size]
        need = _needed_in_window(criterion, size)
        mastered = y & (p >= criterion.threshold) & (distinct >= criterion.min_items) & (in_window >= need)
        misses = np.where(y, 0, misses + 1)
        run = t + 1 - since
        remediate = ~mastered & (
            (misses >= criterion.max_consecutive_misses) | ((run >= w) & (in_window < need_full))
        )
        statuses[:, t] = np.where(mastered, 1, np.where(remediate, 2, 0))
        since = np.where(remediate, t + 1, since)
        misses = np.where(remediate, 0, misses)
    return statuses, p_trace
