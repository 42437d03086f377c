"""Validator warnings and traps: thin skills warn without failing, YAML comma traps are explained, no count is
reported from a file that failed to parse, and fix hints agree with each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.test_validate import edit, validate  # noqa: F401  (fixture)
from tutor.course.loader import load_course, validate_course


def test_thin_skills_warn_but_the_course_still_loads(validate: Any, mini_course: Path) -> None:  # noqa: F811
    run = validate(mini_course)
    assert run.code == 0
    thin = run.find(r"warning: skill 'words' has 2 passage\(s\); 3 or more")
    assert thin
    run.find(r"items/words\.yaml: \[hints\] warning: 6 item\(s\) without hints")
    run.find(r"items/adding\.yaml: \[explanation\] warning: 6 item\(s\) without explanation")
    assert load_course(mini_course).id == "mini"
    assert validate_course(mini_course) == []  # errors only, as before


def test_a_skill_with_one_style_warns(validate: Any, mini_course_copy: Path) -> None:  # noqa: F811
    source = mini_course_copy / "sources" / "halves.md"
    text = source.read_text(encoding="utf-8")
    source.write_text("\n".join(line for line in text.splitlines() if "style:" not in line) + "\n", encoding="utf-8")
    run = validate(mini_course_copy)
    assert run.code == 0
    run.find(r"warning: skill 'halves' has [01] explanation style\(s\); 2 or more")


def test_an_unquoted_comma_in_inline_yaml_is_explained_and_no_false_count_follows(
        validate: Any, mini_course_copy: Path) -> None:  # noqa: F811
    items = mini_course_copy / "items" / "halves.yaml"
    text = items.read_text(encoding="utf-8")
    assert "- text:" in text or "choices:" in text
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("- text:"))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at] = indent + "- {text: one half, not two halves, correct: true}"
    # the rest of that choice's own fields now sit under the inline mapping: drop them
    while at + 1 < len(lines) and lines[at + 1].startswith(indent + "  ") and ":" in lines[at + 1]:
        del lines[at + 1]
    items.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = validate(mini_course_copy)
    assert run.code == 1
    m = run.find(r"Extra inputs are not permitted \(fix: a comma inside \{ \} ends the value.*put the text in quotes")
    assert m
    assert not any("has 0 items" in p or "form(s)" in p for p in run.problems), run.out


def test_a_comma_that_splits_an_inline_list_warns(validate: Any, mini_course_copy: Path) -> None:  # noqa: F811
    course = mini_course_copy / "course.yaml"
    edit(course, "    objectives:\n      - Add two fractions that have the same denominator.\n",
         "    objectives: [Add two fractions that have the same denominator, and simplify the answer]\n")
    run = validate(mini_course_copy)
    assert run.code == 0
    run.find(r"warning: objectives: written inline in \[ \], read as 2 entries split at the commas")


def test_a_bank_naming_an_unknown_skill_gets_one_fix_that_agrees_with_its_file_name(
        validate: Any, mini_course_copy: Path) -> None:  # noqa: F811
    edit(mini_course_copy / "items" / "words.yaml", "skill: words", "skill: word_names")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"skill 'word_names' is not a skill of the course \(fix: write `skill: words`")
    assert not any("rename the file" in p for p in run.problems), run.out
    assert not any("'words' has 0 items" in p for p in run.problems), run.out
