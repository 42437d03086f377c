"""The not-telling rule on real items of the sample courses."""

from __future__ import annotations

from pathlib import Path

from tutor.course.loader import load_course
from tutor.course.templates import instantiate
from tutor.telling import gives_away

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_a_worked_example_of_the_same_problem_gives_the_answer_away() -> None:
    course = load_course(CONTENT / "fractions")
    item = course.item("fraction-of-amount-a1")  # What is 1/4 of 20?
    instance = instantiate(item, 1)
    assert gives_away("20 ÷ 4 = 5, so 1/4 of 20 is 5.", item, instance)
    assert not gives_away("To find 1/3 of 15, share 15 into 3 groups: 5 each.", item, instance)
    assert not gives_away("Divide 20 by the denominator first.", item, instance)


def test_a_result_of_another_problem_does_not_count() -> None:
    course = load_course(CONTENT / "fractions")
    item = course.item("simplifying-b1")  # Simplify 10/15
    instance = instantiate(item, 1)
    assert not gives_away("12/18 divided by 6 is 2/3.", item, instance)
    assert gives_away("10/15: divide both by 5 to get 2/3.", item, instance)


def test_a_model_answer_counts_by_its_words() -> None:
    course = load_course(CONTENT / "data-privacy")
    item = next(i for items in course.items.values() for i in items if i.kind == "free_response")
    instance = instantiate(item, 1)
    assert gives_away(f"A good answer would be: {item.reference}", item, instance)
    assert not gives_away("Think about who you would tell first.", item, instance)


def test_no_authored_hint_in_the_sample_courses_gives_its_answer_away() -> None:
    telling = []
    for course_id in ("fractions", "data-privacy"):
        course = load_course(CONTENT / course_id)
        for item in (i for group in course.items.values() for i in group):
            for seed in range(3):
                instance = instantiate(item, seed)
                telling += [(item.id, hint) for hint in item.hints if gives_away(hint, item, instance)]
    assert telling == []
