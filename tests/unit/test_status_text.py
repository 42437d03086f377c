"""The "where am i" reply: each gate reason on a line of its own and the open-question reminder a paragraph of its
own, so the Markdown the page and the terminal render never runs the last reason into the reminder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tutor.course.loader import load_course
from tutor.course.models import BKTParams, Course, MasteryCriterion
from tutor.graph.nodes import STILL_OPEN, status_text
from tutor.mastery.gate import Attempt, decide

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fractions() -> Course:
    return load_course(ROOT / "content" / "fractions")


def _blocks(markdown: str) -> tuple[list[str], list[str]]:
    """(paragraph texts outside lists, list item texts) of a Markdown text, as CommonMark reads it."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    paragraphs: list[str] = []
    items: list[str] = []
    depth = 0
    for i, token in enumerate(tokens):
        depth += token.type == "list_item_open"
        depth -= token.type == "list_item_close"
        if token.type == "inline":
            assert tokens[i - 1].type == "paragraph_open"
            (items if depth else paragraphs).append(token.content)
    return paragraphs, items


def _state(course: Course, answers: list[bool]) -> dict[str, Any]:
    attempts = [Attempt(item_id=f"i{n}", form="numeric", correct=ok) for n, ok in enumerate(answers)]
    decision = decide(attempts, MasteryCriterion(), BKTParams())
    skill = course.skills[0].id
    return {"skill_id": skill, "progress": {skill: {"p_known": decision.p_known, "mastered": False}},
            "decision": {"reasons": list(decision.reasons)}, "pending": {"item_id": "x"}}


@pytest.mark.parametrize("answers", [[True], [True, False], [False, True, True]])
def test_each_reason_is_a_line_and_the_reminder_a_paragraph_of_its_own(fractions: Course,
                                                                       answers: list[bool]) -> None:
    state = _state(fractions, answers)
    reasons = state["decision"]["reasons"]
    assert len(reasons) >= 2  # a headline and at least one unmet requirement
    paragraphs, items = _blocks(status_text(fractions, state))  # type: ignore[arg-type]
    assert items == reasons
    assert paragraphs[-1] == STILL_OPEN + " Type `hint` or `skip` if you are stuck."
    assert not any(STILL_OPEN in item for item in items)


def test_without_an_open_question_the_reply_ends_with_the_reasons(fractions: Course) -> None:
    state = _state(fractions, [True, False])
    del state["pending"]
    text = status_text(fractions, state)  # type: ignore[arg-type]
    paragraphs, items = _blocks(text)
    assert items == state["decision"]["reasons"] and STILL_OPEN not in text
    assert paragraphs[0].startswith("You have mastered 0 of ")
