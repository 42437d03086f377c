"""Re-teaching aims at the mistake: the part of a "common mistakes" text about the learner's misconception, the
rest held back; and the item after a remediation is not a near copy of the one just missed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.course.loader import load_course
from tutor.course.models import Course, Style
from tutor.llm.offline import OfflineProvider, mistake_part
from tutor.mastery.gate import Attempt
from tutor.mastery.select import next_item, shape

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fractions() -> Course:
    return load_course(ROOT / "content" / "fractions")


def _mistakes_text(course: Course, skill: str) -> str:
    [section] = [s for s in course.sources if skill in s.skills and s.style == Style.COMMON_MISTAKES][:1]
    return section.text


def test_the_part_about_the_misconception_runs_until_the_next_mistake(fractions: Course) -> None:
    text = _mistakes_text(fractions, "adding-unlike")
    part, rest = mistake_part(text, "add-denominators")
    assert "add-denominators mistake" in part and "3/6 + 2/6 = 5/6" in part  # the mistake and its fix
    assert "Another mistake" not in part and "Another mistake" in rest


def test_a_tag_no_paragraph_is_about_keeps_the_whole_text(fractions: Course) -> None:
    text = _mistakes_text(fractions, "adding-unlike")
    assert mistake_part(text, "zebra-crossing") == (text.strip(), "")


class _Passage:
    def __init__(self, pid: str, text: str, style: str) -> None:
        self.id, self.text, self.style = pid, text, style
        self.source, self.heading_path, self.skills = "adding-unlike.md", ("Common mistakes",), ("adding-unlike",)


def test_a_remediation_shows_the_learners_mistake_and_holds_the_rest_back(fractions: Course) -> None:
    text = _mistakes_text(fractions, "adding-unlike")
    explanation = OfflineProvider().explain(
        course_title="Fractions", skill=fractions.skill("adding-unlike"),
        passages=[_Passage("p1", text, "common_mistakes")], style="common_mistakes",
        misconceptions=["add-denominators"])
    assert "add-denominators mistake" in explanation.text
    assert "Another mistake" not in explanation.text
    assert "Another mistake" in explanation.more


@pytest.mark.parametrize("skill", ["equivalent", "adding-unlike", "adding-like", "mixed-numbers", "simplifying"])
def test_the_item_after_a_remediation_is_not_a_near_copy_of_the_one_missed(fractions: Course, skill: str) -> None:
    items = list(fractions.items[skill])
    for missed in items:
        history = [Attempt(missed.id, missed.form, False), Attempt(missed.id, missed.form, False)]
        others = [i for i in items if shape(i) != shape(missed) and i.form != missed.form]
        if not others:
            continue
        for seed in range(30):
            chosen = next_item(items, history, avoid_form=missed.form, seed=seed, avoid_like=missed)
            assert shape(chosen) != shape(missed), (missed.prompt, chosen.prompt)


def test_near_copies_differ_only_in_numbers(fractions: Course) -> None:
    b3, a3 = fractions.item("equivalent-b3"), fractions.item("equivalent-a3")
    assert shape(a3) == shape(b3)
    assert shape(fractions.item("equivalent-a2")) != shape(a3)
