"""Item analysis from the attempt log (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class AttemptLike(Protocol):
    @property
    def learner_id(self) -> str: ...
    @property
    def item_id(self) -> str: ...
    @property
    def skill_id(self) -> str: ...
    @property
    def correct(self) -> bool: ...


@dataclass(frozen=True)
class ItemStats:
    """Item analysis from the attempt log."""

    item_id: str
    skill_id: str
    attempts: int
    share_correct: float
    discrimination: float | None  # point-biserial correlation with the learner's accuracy on the other items
    flag: str | None


def item_analysis(rows: Sequence[AttemptLike]) -> list[ItemStats]:
    """Per item: attempts, share correct and discrimination; flags items that look broken."""
    by_learner: dict[str, list[AttemptLike]] = {}
    for row in rows:
        by_learner.setdefault(row.learner_id, []).append(row)
    by_item: dict[str, list[AttemptLike]] = {}
    for row in rows:
        by_item.setdefault(row.item_id, []).append(row)
    stats: list[ItemStats] = []
    for item_id, item_rows in sorted(by_item.items()):
        scores: list[float] = []
        others: list[float] = []
        for row in item_rows:
            rest = [r.correct for r in by_learner[row.learner_id] if r.item_id != item_id]
            if rest:
                scores.append(float(row.correct))
                others.append(sum(rest) / len(rest))
        share = sum(r.correct for r in item_rows) / len(item_rows)
        disc = _correlation(scores, others)
        flag = None
        if len(item_rows) >= 5 and share < 0.15:
            flag = "almost everyone gets this wrong: check the answer key and wording"
        elif disc is not None and disc < 0 and len(scores) >= 5:
            flag = "negative discrimination: strong learners miss it more often than weak ones"
        stats.append(ItemStats(item_id, item_rows[0].skill_id, len(item_rows), share, disc, flag))
    return stats


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return float(cov / (sxx * syy) ** 0.5)
