"""Item analysis per distractor and per misconception tag, and the free-text answers of an item with their grades.

Pure functions over the attempt log (rows with item_id, answer, correct, misconception, question_id) and the
course: which wrong choice each multiple-choice answer picked (in the order that learner was shown), and how often
each misconception tag was recorded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from tutor.course.models import Course, FreeResponseItem, MultipleChoiceItem, ShortTextItem
from tutor.course.templates import instantiate
from tutor.grading import choice_index


class AttemptLike(Protocol):
    @property
    def question_id(self) -> str: ...
    @property
    def item_id(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def correct(self) -> bool: ...
    @property
    def misconception(self) -> str | None: ...


@dataclass(frozen=True)
class ChoiceCount:
    item_id: str
    choice: str
    correct: bool
    misconception: str | None
    chosen: int
    share: float  # of the item's answers


def choice_counts(course: Course, attempts: Iterable[AttemptLike], seeds: Mapping[str, int]) -> list[ChoiceCount]:
    """How often each choice of each multiple-choice item was picked. `seeds` maps a question id to the seed it
    was issued with, so a letter answer is read in the order that learner saw."""
    picked: Counter[tuple[str, int]] = Counter()
    answered: Counter[str] = Counter()
    for attempt in attempts:
        try:
            item = course.item(attempt.item_id)
        except KeyError:
            continue
        if not isinstance(item, MultipleChoiceItem):
            continue
        seed = seeds.get(attempt.question_id)
        order = instantiate(item, seed).choice_order if seed is not None else ()
        index = choice_index(item, attempt.answer, order)
        if index is None:
            continue
        picked[(item.id, index)] += 1
        answered[item.id] += 1
    rows = []
    for item_id in sorted(answered):
        item = course.item(item_id)
        assert isinstance(item, MultipleChoiceItem)
        for i, choice in enumerate(item.choices):
            n = picked[(item_id, i)]
            rows.append(ChoiceCount(item_id, choice.text, choice.correct,
                                    None if choice.correct else (choice.misconception or item.misconception),
                                    n, n / answered[item_id]))
    return rows


def misconception_counts(attempts: Iterable[AttemptLike]) -> list[tuple[str, int]]:
    """Each misconception tag recorded on a wrong answer, with how often, most frequent first."""
    counts = Counter(a.misconception for a in attempts if not a.correct and a.misconception)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def free_text_items(course: Course, attempts: Iterable[AttemptLike]) -> list[str]:
    """Ids of short-text and free-response items that have answers, sorted."""
    ids = {a.item_id for a in attempts}
    return sorted(i for i in ids if i in _text_item_ids(course))


def _text_item_ids(course: Course) -> set[str]:
    return {item.id for items in course.items.values() for item in items
            if isinstance(item, FreeResponseItem | ShortTextItem)}


def answers_of(item_id: str, attempts: Iterable[AttemptLike]) -> list[tuple[str, bool]]:
    """The answers given to one item with their grades, oldest first."""
    return [(a.answer, a.correct) for a in attempts if a.item_id == item_id]
