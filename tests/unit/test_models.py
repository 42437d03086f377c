"""Course-format models: what a course folder loads into, and what they refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tutor.course.loader import load_course
from tutor.course.models import (
    BKTParams,
    Course,
    CourseFile,
    FreeResponseItem,
    ItemBankFile,
    MasteryCriterion,
    MasteryOverride,
    MultipleChoiceItem,
    NumericItem,
    ParamRange,
    ShortTextItem,
    Skill,
    Style,
)


@pytest.fixture
def course(mini_course: Path) -> Course:
    return load_course(mini_course)


def test_loading_returns_typed_objects(course: Course) -> None:
    assert (course.id, course.title) == ("mini", "Mini fractions")
    assert [s.id for s in course.skills] == ["halves", "adding", "words"]  # course order is kept
    assert course.skill("adding").prerequisites == ["halves"]
    assert {k: len(v) for k, v in course.items.items()} == {"halves": 6, "adding": 6, "words": 6}
    kinds = {type(i) for items in course.items.values() for i in items}
    assert kinds == {MultipleChoiceItem, NumericItem, ShortTextItem, FreeResponseItem}
    assert isinstance(course.item("halves-a1"), MultipleChoiceItem)
    assert Path(course.path).is_absolute()


def test_sources_are_loaded_as_sections(course: Course) -> None:
    styles = {s.style for s in course.sources}
    assert Style.ANALOGY in styles and Style.COMMON_MISTAKES in styles
    assert all(s.text for s in course.sources)
    assert {"halves", "adding", "words"} <= {sk for s in course.sources for sk in s.skills}


def test_mastery_criterion_merges_skill_over_course_over_default(course: Course) -> None:
    default = MasteryCriterion()
    assert course.criterion("halves") == default.model_copy(update={"threshold": 0.9, "window": 4})
    adding = course.criterion("adding")
    assert (adding.threshold, adding.window, adding.bar) == (0.9, 4, 0.75)
    assert adding.min_items == default.min_items


def test_bkt_parameters_merge_skill_over_course_over_default(course: Course) -> None:
    assert course.bkt == BKTParams(prior=0.25, learn=0.2)
    assert course.skill_bkt("halves") == course.bkt
    assert course.skill_bkt("adding") == BKTParams(prior=0.25, learn=0.2, guess=0.3)


def test_unknown_skill_or_item_is_a_key_error(course: Course) -> None:
    with pytest.raises(KeyError, match="no skill 'nope'"):
        course.skill("nope")
    with pytest.raises(KeyError, match="no item 'nope'"):
        course.item("nope")


def test_models_are_frozen(course: Course) -> None:
    with pytest.raises(ValidationError):
        course.skills[0].title = "changed"  # type: ignore[misc]


def skill(**extra: Any) -> dict[str, Any]:
    return {"id": "meaning", "title": "Meaning", "objectives": ["Explain it."], **extra}


@pytest.mark.parametrize("bad_id", ["Meaning", "has space", "-lead", "", "é", "a" * 81, "a.b"])
def test_ids_must_be_lowercase_slugs(bad_id: str) -> None:
    with pytest.raises(ValidationError, match="id"):
        Skill.model_validate(skill(id=bad_id))


@pytest.mark.parametrize("good_id", ["meaning", "adding-unlike", "step_2", "9lives"])
def test_good_ids(good_id: str) -> None:
    assert Skill.model_validate(skill(id=good_id)).id == good_id


def test_unknown_fields_are_errors_not_ignored() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Skill.model_validate(skill(prerequisits=["x"]))
    assert excinfo.value.errors()[0]["type"] == "extra_forbidden"
    assert excinfo.value.errors()[0]["loc"] == ("prerequisits",)


def test_a_skill_needs_an_objective_and_a_course_needs_a_skill() -> None:
    with pytest.raises(ValidationError, match="objectives"):
        Skill.model_validate(skill(objectives=[]))
    with pytest.raises(ValidationError, match="skills"):
        CourseFile.model_validate({"id": "c", "title": "C", "skills": []})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"min": 5, "max": 1}, "min \\(5\\) is greater than max \\(1\\)"),
        ({"min": 1}, "give either min and max, or values"),
        ({}, "give either min and max, or values"),
        ({"min": 1, "max": 3, "values": [1]}, "not both"),
        ({"values": []}, "values must not be empty"),
        ({"min": 1, "max": 3, "step": 0}, "step"),
    ],
)
def test_parameter_ranges_must_make_sense(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ParamRange.model_validate(spec)


def test_item_kind_selects_the_model_and_unknown_kinds_are_refused() -> None:
    base = {"id": "i", "form": "A", "prompt": "?"}
    bank = ItemBankFile.model_validate(
        {"skill": "s", "items": [{**base, "kind": "short_text", "accepted": ["x"]}]}
    )
    assert isinstance(bank.items[0], ShortTextItem)
    with pytest.raises(ValidationError) as excinfo:
        ItemBankFile.model_validate({"skill": "s", "items": [{**base, "kind": "essay"}]})
    assert excinfo.value.errors()[0]["type"] == "union_tag_invalid"


def test_multiple_choice_needs_two_choices_and_free_response_a_rubric() -> None:
    base = {"id": "i", "form": "A", "prompt": "?"}
    with pytest.raises(ValidationError, match="choices"):
        MultipleChoiceItem.model_validate({**base, "kind": "multiple_choice", "choices": [{"text": "x"}]})
    with pytest.raises(ValidationError, match="rubric"):
        FreeResponseItem.model_validate({**base, "kind": "free_response", "reference": "r", "rubric": []})


def test_numeric_answer_keeps_fraction_text_and_reads_numbers() -> None:
    base = {"id": "i", "form": "A", "prompt": "?", "kind": "numeric"}
    assert NumericItem.model_validate({**base, "answer": "3/4"}).answer == "3/4"
    assert NumericItem.model_validate({**base, "answer": 9}).answer == 9
    with pytest.raises(ValidationError, match="tolerance"):
        NumericItem.model_validate({**base, "answer": 1, "tolerance": -1})
    with pytest.raises(ValidationError, match="tolerance"):
        NumericItem.model_validate({**base, "answer": 1, "tolerance": float("inf")})


@pytest.mark.parametrize("field", ["guess", "slip"])
def test_bkt_guess_and_slip_stay_below_one_half(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        BKTParams.model_validate({field: 0.5})


@pytest.mark.parametrize("field", ["threshold", "bar"])
def test_mastery_thresholds_are_proportions(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        MasteryOverride.model_validate({field: 1.5})
    with pytest.raises(ValidationError, match=field):
        MasteryOverride.model_validate({field: 0})


def test_mastery_override_changes_only_what_it_sets() -> None:
    merged = MasteryOverride(min_items=5).apply(MasteryCriterion())
    assert merged == MasteryCriterion(min_items=5)
