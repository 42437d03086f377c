"""Template items: seeded, reproducible instances that respect their constraints."""

from __future__ import annotations

import math
import random
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.course.loader import load_course
from tutor.course.models import MultipleChoiceItem, NumericItem, Template
from tutor.course.templates import TemplateError, draw, instantiate, render, show


def template_item(prompt: str = "Fill in: {a}/{b} = ?/{d}", **template: Any) -> NumericItem:
    spec: dict[str, Any] = {
        "params": {"a": {"min": 1, "max": 5}, "b": {"min": 2, "max": 9}, "k": {"values": [2, 3, 4]}},
        "derived": {"d": "b * k"},
        "constraints": ["a < b", "gcd(a, b) == 1"],
        "answer": "a * k",
    }
    spec.update(template)
    return NumericItem.model_validate(
        {"id": "eq-t1", "kind": "numeric", "form": "A", "prompt": prompt, "template": spec}
    )


def test_same_seed_gives_the_same_instance() -> None:
    item = template_item()
    assert instantiate(item, 42) == instantiate(item, 42)


def test_different_seeds_give_varied_instances() -> None:
    item = template_item()
    prompts = {instantiate(item, seed).prompt for seed in range(40)}
    assert len(prompts) >= 10


def test_instance_fills_the_prompt_and_keeps_the_exact_answer() -> None:
    instance = instantiate(template_item(), 7)
    a, b, k, d = (int(instance.params[n]) for n in ("a", "b", "k", "d"))
    assert instance.prompt == f"Fill in: {a}/{b} = ?/{d}"
    assert "{" not in instance.prompt
    assert instance.answer == Fraction(a * k)
    assert (instance.item_id, instance.kind, instance.form) == ("eq-t1", "numeric", "A")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_constraints_hold_for_every_seed(seed: int) -> None:
    instance = instantiate(template_item(), seed)
    a, b, k, d = (int(instance.params[n]) for n in ("a", "b", "k", "d"))
    assert 1 <= a <= 5 and 2 <= b <= 9 and k in (2, 3, 4)
    assert a < b and math.gcd(a, b) == 1
    assert d == b * k
    assert instance.answer == a * k
    # The answer really is the missing numerator: a/b == answer/d.
    assert Fraction(a, b) == instance.answer / d


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_steps_and_value_lists_are_respected(seed: int) -> None:
    item = template_item(
        prompt="{n} and {m}",
        params={"n": {"min": 2, "max": 20, "step": 3}, "m": {"values": [-5, 0, 7]}},
        derived={},
        constraints=[],
        answer="n + m",
    )
    instance = instantiate(item, seed)
    assert int(instance.params["n"]) in range(2, 21, 3)
    assert int(instance.params["m"]) in (-5, 0, 7)


def test_fraction_answers_are_exact() -> None:
    item = template_item(prompt="{a}/{d} + {b}/{d}", params={"a": {"values": [1]}, "b": {"values": [2]},
                                                              "d": {"values": [4]}},
                         derived={}, constraints=[], answer="frac(a + b, d)")
    assert instantiate(item, 0).answer == Fraction(3, 4)
    half = template_item(prompt="half of {n}", params={"n": {"values": [3]}}, derived={}, constraints=[],
                         answer="n / 2")
    assert instantiate(half, 0).answer == Fraction(3, 2)


def test_unknown_placeholder_is_an_error_naming_it() -> None:
    item = template_item(prompt="What is {a} + {c}?")
    with pytest.raises(TemplateError, match=r"\{c\}.*not a parameter or derived value"):
        instantiate(item, 1)


def test_braces_that_are_not_names_are_left_alone() -> None:
    assert render("Sets like {1, 2} stay; {a} is filled", {"a": Fraction(3)}) == "Sets like {1, 2} stay; 3 is filled"


def test_unsatisfiable_constraints_give_a_clear_error() -> None:
    item = template_item(constraints=["a > 100"])
    with pytest.raises(TemplateError) as excinfo:
        instantiate(item, 3)
    message = str(excinfo.value)
    assert "no parameters satisfied the constraints" in message
    assert "a > 100" in message
    assert "widen the ranges" in message


def test_division_by_zero_in_every_draw_is_reported_as_such() -> None:
    item = template_item(derived={"d": "b / (a - a)"})
    with pytest.raises(TemplateError, match="divided by zero"):
        instantiate(item, 0)


def test_occasional_division_by_zero_is_redrawn() -> None:
    item = template_item(prompt="{q}", params={"a": {"min": 0, "max": 3}}, derived={"q": "6 / a"},
                         constraints=[], answer="q")
    for seed in range(30):
        instance = instantiate(item, seed)
        assert instance.params["a"] != "0"


def test_draws_whose_answer_divides_by_zero_are_redrawn() -> None:
    item = template_item(prompt="6 / {a}", params={"a": {"min": 0, "max": 2}}, derived={}, constraints=[],
                         answer="6 / a")
    answers = {instantiate(item, seed).answer for seed in range(60)}
    assert answers == {Fraction(6), Fraction(3)}


def test_failing_answer_expression_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="answer expression: unknown name 'z'"):
        instantiate(template_item(answer="z + 1"), 0)


def test_true_false_answer_is_refused() -> None:
    with pytest.raises(TemplateError, match="true/false"):
        instantiate(template_item(answer="a < b"), 0)


def test_forbidden_construct_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="Attribute is not allowed"):
        instantiate(template_item(derived={"d": "b.__class__"}), 0)


def test_draw_is_deterministic_for_a_seeded_generator() -> None:
    template = template_item().template
    assert isinstance(template, Template)
    assert draw(template, random.Random(5)) == draw(template, random.Random(5))


def test_plain_items_are_their_own_instance() -> None:
    item = MultipleChoiceItem.model_validate(
        {"id": "q", "kind": "multiple_choice", "form": "B", "prompt": "Pick {one}",
         "choices": [{"text": "x", "correct": True}, {"text": "y"}]}
    )
    instance = instantiate(item, 3)
    assert instance.prompt == "Pick {one}"
    assert instance.answer is None and instance.params == {}
    assert (instance.item_id, instance.form) == ("q", "B")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Fraction(3), "3"), (Fraction(3, 4), "3/4"), (Fraction(-1, 2), "-1/2"), (Fraction(6, 4), "3/2"), (True, "true")],
)
def test_values_are_shown_as_a_learner_reads_them(value: Fraction | bool, shown: str) -> None:
    assert show(value) == shown


def test_every_template_in_the_fixture_course_instantiates(mini_course: Path) -> None:
    course = load_course(mini_course)
    templates = [i for items in course.items.values() for i in items if isinstance(i, NumericItem) and i.template]
    assert len(templates) >= 3
    for item in templates:
        for seed in range(100):
            instance = instantiate(item, seed)
            assert instance.answer is not None
            assert not re.search(r"\{[a-z_]+\}", instance.prompt)
