"""The data-privacy free-response items carry labelled examples, and the grader (real MiniLM model) grades each
example, left out of the item's examples, as people labelled it: no wrong example passes except rarely, and the
issue's three cases from the browser come out right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.course.loader import load_course
from tutor.course.models import Course, FreeResponseItem
from tutor.freetext import FreeTextGrader, thresholds, verdict
from tutor.retrieval.embeddings import MiniLMEmbeddingFunction

COURSE = Path(__file__).resolve().parents[2] / "content" / "data-privacy"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(COURSE)


@pytest.fixture(scope="module")
def grader() -> FreeTextGrader:
    return FreeTextGrader(MiniLMEmbeddingFunction().embed)


def free_items(course: Course) -> list[FreeResponseItem]:
    return [i for items in course.items.values() for i in items if isinstance(i, FreeResponseItem)]


def test_every_free_response_item_has_right_wrong_negated_and_stuffed_examples(course: Course) -> None:
    items = free_items(course)
    assert len(items) == 14
    for item in items:
        right = [e for e in item.examples if e.correct]
        wrong = [e for e in item.examples if not e.correct]
        assert len(item.examples) >= 6 and len(right) >= 3 and len(wrong) >= 3, item.id
        notes = " ".join(e.note or "" for e in wrong)
        assert "negated" in notes and "keyword-stuffed" in notes, item.id
        assert all(e.answer.strip() != item.reference.strip() for e in item.examples), item.id


def _verdict(grader: FreeTextGrader, course: Course, item: FreeResponseItem, index: int) -> str:
    others = [e for k, e in enumerate(item.examples) if k != index]
    score = grader.score(item, item.examples[index].answer, others)
    return verdict(score.probability, thresholds(course.grading, score.coefficients))


def test_wrong_examples_left_out_rarely_pass(grader: FreeTextGrader, course: Course) -> None:
    outcomes = [(e.correct, _verdict(grader, course, item, n))
                for item in free_items(course) for n, e in enumerate(item.examples)]
    wrong = [v for correct, v in outcomes if not correct]
    right = [v for correct, v in outcomes if correct]
    assert wrong.count("pass") / len(wrong) <= 0.05
    assert right.count("fail") / len(right) <= 0.2
    assert right.count("pass") > wrong.count("pass")


@pytest.mark.parametrize(
    ("item_id", "words", "not_verdict"),
    [
        ("lb-b6", "keep the tick box and use consent", "pass"),
        ("br-a7", "It can wait until Monday: the privacy team doesn't need to hear about it", "pass"),
        ("pd-a6", "extra-protected kind of data", "fail"),
    ],
)
def test_the_issues_browser_cases(grader: FreeTextGrader, course: Course, item_id: str, words: str,
                                  not_verdict: str) -> None:
    item = course.item(item_id)
    assert isinstance(item, FreeResponseItem)
    index = next(n for n, e in enumerate(item.examples) if words in e.answer)
    assert _verdict(grader, course, item, index) != not_verdict
