"""Test-side helpers: a server-side answer oracle and a Tutor wired to real stores in a temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tutor.course.models import FreeResponseItem, MultipleChoiceItem, NumericItem, ShortTextItem
from tutor.course.templates import instantiate, show
from tutor.grading import expected_number
from tutor.session import Tutor


def pending_instance(tutor: Tutor, learner: str, course_id: str) -> tuple[Any, Any]:
    """The pending item and its instance, read from the server-side checkpoint (never from the page)."""
    values = tutor.graph.get_state(tutor._config(learner, course_id)).values
    handle = values["instance"]
    item = tutor.course(course_id).item(handle["item_id"])
    return item, instantiate(item, int(handle["seed"]))


def answer(tutor: Tutor, learner: str, course_id: str, *, right: bool) -> str:
    """A right (or a wrong but readable) answer to the pending item."""
    return _answer(*pending_instance(tutor, learner, course_id), right=right)


def answer_to(tutor: Tutor, course_id: str, question_id: str, *, right: bool) -> str:
    """A right (or a wrong but readable) answer to an issued question, its item and instance read from the ledger."""
    question = tutor.records.question(question_id)
    assert question is not None, f"no question {question_id} in the ledger"
    item = tutor.course(course_id).item(question.item_id)
    return _answer(item, instantiate(item, question.seed), right=right)


def _answer(item: Any, instance: Any, *, right: bool) -> str:
    if isinstance(item, MultipleChoiceItem):
        choice = next(c for c in item.choices if c.correct == right)
        return choice.text
    if isinstance(item, NumericItem):
        key = expected_number(item, instance).value
        return show(key) if right else show(key + 7)
    if isinstance(item, ShortTextItem):
        return item.accepted[0] if right else "zzz qqq"
    assert isinstance(item, FreeResponseItem)
    return item.reference if right else "I am not sure."


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def drain(events: Any) -> list[dict[str, Any]]:
    return list(events)


def course_dir(name: str) -> Path:
    root = Path(__file__).resolve().parents[2]
    return root / "tests" / "fixtures" / name if name == "mini-course" else root / "content" / name
