"""`tutor content validate`: every rule fires on a broken copy of the mini course, with file, line, field and fix.

Each test copies tests/fixtures/mini-course, breaks it one way, runs the real CLI and checks the exact problem line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.cli import main

REPO = Path(__file__).resolve().parents[2]
TUTOR = Path(sys.executable).parent / "tutor"


class Run:
    """The outcome of one `tutor content validate` run."""

    def __init__(self, code: int, out: str) -> None:
        self.code = code
        self.out = out
        self.problems = [line.strip() for line in out.splitlines() if line.startswith("  ")]

    def find(self, pattern: str) -> re.Match[str]:
        """The one problem line matching `pattern` (a regex searched in each line)."""
        found = [m for line in self.problems if (m := re.search(pattern, line))]
        assert len(found) == 1, f"expected one problem matching {pattern!r}, got {len(found)} in:\n{self.out}"
        return found[0]


@pytest.fixture
def validate(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*paths: Path) -> Run:
        code = main(["content", "validate", *map(str, paths)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Run(code, out)

    return run


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, text: str, nth: int = 1) -> int:
    """The line number of the nth line of `path` containing `text`."""
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line]
    return hits[nth - 1]


def rewrite_items(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["items"])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def fixed(text: str) -> str:
    return re.escape(text)


# ---------------------------------------------------------------- clean


def test_clean_course_exits_0(validate: Any, mini_course: Path) -> None:
    run = validate(mini_course)
    assert run.code == 0
    assert run.out.startswith(f"{mini_course}: ok")  # warnings (thin skills) do not fail it
    assert all(" warning: " in p for p in run.problems)


def test_no_paths_validates_every_course_in_the_content_dir(
    validate: Any, mini_course_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(mini_course_copy.parent))
    run = validate()
    assert run.code == 0
    assert run.out.startswith(f"{mini_course_copy}: ok")


def test_no_courses_in_the_content_dir_is_an_error(
    validate: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(tmp_path))
    run = validate()
    assert run.code == 1
    assert "no course folders" in run.out and str(tmp_path) in run.out


# ---------------------------------------------------------------- YAML and fields


def test_yaml_syntax_error_in_course_yaml(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "title: Halves\n", "title: [Halves\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    m = run.find(r"^mini-course/course\.yaml:(\d+): YAML syntax error: .+ \(fix: fix the indentation or quoting\)$")
    assert int(m.group(1)) >= line_of(course, "title: [Halves")


def test_yaml_syntax_error_in_an_items_file(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    edit(items, "    form: B\n    prompt: How do you say 1/4", "    form: B\n   prompt: How do you say 1/4")
    run = validate(mini_course_copy)
    assert run.code == 1
    m = run.find(r"^mini-course/items/words\.yaml:(\d+): YAML syntax error: .*\(fix: fix the indentation or quoting\)")
    assert int(m.group(1)) == line_of(items, "   prompt: How do you say 1/4")
    # The file could not be read: no count of its items is reported (it holds more than it would say).
    assert not any("has 0 items" in p or "form(s)" in p for p in run.problems), run.out


def test_unknown_field_in_course_yaml(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "    title: Fraction words\n", "    title: Fraction words\n    prerequisits: [halves]\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    line = line_of(course, "prerequisits")
    run.find(
        rf"^mini-course/course\.yaml:{line}: \[skills\.2\.prerequisits\] Extra inputs are not permitted "
        r"\(fix: remove the field or fix its spelling\)$"
    )


def test_unknown_field_in_an_item(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "halves.yaml"
    edit(items, "    answer: 5\n", "    answer: 5\n    tolerence: 0.1\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    line = line_of(items, "tolerence")
    run.find(
        rf"^mini-course/items/halves\.yaml:{line}: \[items\.2\.numeric\.tolerence\] Extra inputs are not permitted "
        r"\(fix: remove the field or fix its spelling\)$"
    )


def test_missing_field_and_unknown_kind(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    edit(items, "    kind: free_response\n    form: B\n", "    kind: essay\n    form: B\n")
    edit(items, "    prompt: How do you say 1/2 in words?\n", "")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/words\.yaml:{line_of(items, 'id: words-a1')}: \[items\.0\.short_text\.prompt\] "
             r"Field required \(fix: add the field\)$")
    run.find(rf"^mini-course/items/words\.yaml:{line_of(items, 'id: words-b3')}: \[items\.5\] .*'essay'.* "
             r"\(fix: set kind to one of: multiple_choice, numeric, short_text, free_response\)$")


def test_bad_id_and_number_where_text_belongs(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "  - id: words\n", "  - id: Fraction Words\n")
    items = mini_course_copy / "items" / "halves.yaml"
    edit(items, '      - text: "1/3"\n', "      - text: 0.5\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/course\.yaml:{line_of(course, 'Fraction Words')}: \[skills\.2\.id\] .*pattern.* "
             r"\(fix: use lowercase letters, digits, '-' and '_' only\)$")
    run.find(rf"^mini-course/items/halves\.yaml:{line_of(items, 'text: 0.5')}: "
             r"\[items\.0\.multiple_choice\.choices\.2\.text\] Input should be a valid string \(fix: .*quotes")


def test_duplicate_yaml_key_is_reported(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "halves.yaml"
    edit(items, "    prompt: What is half of 10?\n",
         "    prompt: What is half of 10?\n    prompt: What is half of 12?\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/halves\.yaml:{line_of(items, 'half of 12')}: \[prompt\] duplicate key 'prompt'.*"
             r"\(fix: remove or rename one of them\)$")


# ---------------------------------------------------------------- ids and references


def test_duplicate_skill_id(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "  - id: words\n", "  - id: adding\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/course\.yaml:{line_of(course, '- id: adding', 2)}: \[skills\.2\.id\] "
             r"duplicate skill id 'adding' \(fix: give each skill a unique id\)$")


def test_duplicate_item_id(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    edit(items, "  - id: words-b2\n", "  - id: halves-a1\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/words\.yaml:{line_of(items, 'halves-a1')}: \[items\.3\.id\] "
             r"duplicate item id 'halves-a1' \(also in mini-course/items/halves\.yaml\) "
             r"\(fix: give every item in the course a unique id\)$")


def test_unknown_prerequisite(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "    prerequisites: [halves]\n    mastery", "    prerequisites: [halfs]\n    mastery")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/course\.yaml:{line_of(course, '[halfs]')}: \[skills\.1\.prerequisites\.0\] "
             r"skill 'adding' names unknown prerequisite 'halfs' \(fix: use one of: halves, adding, words\)$")


def test_unknown_skill_in_an_items_file(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    edit(items, "skill: words\n", "skill: wordz\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"^mini-course/items/words\.yaml:1: \[skill\] skill 'wordz' is not a skill of the course "
             r"\(fix: use one of: adding, halves, words\)$")
    run.find(r"^mini-course/items/words\.yaml:1: \[skill\] file is named 'words' but holds skill 'wordz' "
             r"\(fix: rename the file to items/wordz\.yaml\)$")


def test_unknown_skill_in_a_source(validate: Any, mini_course_copy: Path) -> None:
    source = mini_course_copy / "sources" / "halves.md"
    edit(source, "{skills: [halves, adding], style: worked_example}", "{skills: [halves, addition], style: visual}")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/sources/halves\.md:{line_of(source, '### Half of a number')}: \[skills\] "
             r"section 'Halves > Sharing a pizza > Half of a number' names unknown skill 'addition' "
             r"\(fix: use one of: adding, halves, words\)$")


def test_prerequisite_cycle_is_named(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "    prerequisites: []\n", "    prerequisites: [words]\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/course\.yaml:{line_of(course, '[words]')}: \[skills\.0\.prerequisites\] "
             r"prerequisite cycle: halves -> words -> halves \(fix: remove one prerequisite in the cycle\)$")


def test_self_prerequisite_is_a_cycle(validate: Any, mini_course_copy: Path) -> None:
    edit(mini_course_copy / "course.yaml", "    prerequisites: []\n", "    prerequisites: [halves]\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"prerequisite cycle: halves -> halves")


def test_longer_cycle_names_every_skill_in_it(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "    prerequisites: []\n", "    prerequisites: [words]\n")
    edit(course, "      - Name the numerator and the denominator and say simple fractions in words.\n"
                 "    prerequisites: [halves]",
         "      - Name the numerator and the denominator and say simple fractions in words.\n"
         "    prerequisites: [adding]")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"prerequisite cycle: halves -> words -> adding -> halves ")


# ---------------------------------------------------------------- items


def test_multiple_choice_with_no_correct_choice(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "adding.yaml"
    edit(items, '      - text: "3/5"\n        correct: true\n', '      - text: "3/5"\n')
    run = validate(mini_course_copy)
    assert run.code == 1
    line = line_of(items, "choices:", 2)
    run.find(rf"^mini-course/items/adding\.yaml:{line}: \[items\.1\.choices\] "
             r"item 'adding-b1': the answer is not among the choices \(no choice is marked correct\) "
             r"\(fix: mark one choice correct: true\)$")


def test_multiple_choice_with_two_correct_choices(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "adding.yaml"
    edit(items, '      - text: "2/4"\n', '      - text: "2/4"\n        correct: true\n')
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"^mini-course/items/adding\.yaml:\d+: \[items\.0\.choices\] item 'adding-a1': 2 choices are marked "
             r"correct \(fix: mark exactly one choice correct: true\)$")


def test_numeric_answer_that_is_not_a_number(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "adding.yaml"
    edit(items, '    answer: "2/3"\n', '    answer: "two thirds"\n')
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/adding\.yaml:{line_of(items, 'two thirds')}: \[items\.2\.answer\] "
             r"item 'adding-a2': answer 'two thirds' is not a number \(fix: write a number")


def test_numeric_answer_that_is_infinite(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "halves.yaml"
    edit(items, "    answer: 5\n", "    answer: .inf\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/halves\.yaml:{line_of(items, '.inf')}: \[items\.2\.answer\] "
             r"item 'halves-a2': answer inf is not a finite number")


def test_short_text_with_a_broken_pattern(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    edit(items, '    pattern: "(the )?numerator( number)?"\n', '    pattern: "(the numerator"\n')
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/words\.yaml:{line_of(items, 'pattern:')}: \[items\.2\.pattern\] "
             r"item 'words-a2': pattern is not a valid regular expression: .* \(fix: fix the pattern\)$")


def test_free_response_needing_more_points_than_it_has(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    edit(items, "    pass_points: 1\n", "    pass_points: 3\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/words\.yaml:{line_of(items, 'pass_points')}: \[items\.4\.pass_points\] "
             r"item 'words-a3': pass_points 3 is more than the 2 rubric points")


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("old", "new", "marker", "field", "message"),
    [
        ("answer: frac(a + b, d)", "answer: frac(a + b, q)", "frac(a + b, q)", r"items\.4\.template\.answer",
         r"template answer 'frac\(a \+ b, q\)' uses unknown name\(s\) q \(fix: define them under params or derived\)"),
        ('constraints: ["a + b < d"]', 'constraints: ["a + b > 20"]', "template:", r"items\.4\.template",
         r"template fails: no parameters satisfied the constraints \(a \+ b > 20\) in 2000 draws; widen the ranges "
         r"or relax the constraints \(fix: fix the template's expressions or ranges\)"),
        ("answer: frac(a + b, d)", "answer: a + b < d", "answer: a + b < d", r"items\.4\.template\.answer",
         r"template fails: the answer is true/false, expected a number"),
        ("answer: frac(a + b, d)", "answer: frac(a + b, d - d)", "d - d", r"items\.4\.template\.answer",
         r"template fails: answer expression: frac\(\) with a zero denominator"),
        ("prompt: What is {a}/{d} + {b}/{d}?", "prompt: What is {a}/{d} + {c}/{d}?", "{c}", r"items\.4\.prompt",
         r"template fails: the prompt uses \{c\}, which is not a parameter or derived value"),
    ],
)
def test_template_whose_expression_fails(
    validate: Any, mini_course_copy: Path, old: str, new: str, marker: str, field: str, message: str
) -> None:
    items = mini_course_copy / "items" / "adding.yaml"
    edit(items, old, new)
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/adding\.yaml:{line_of(items, marker)}: \[{field}\] item 'adding-t1': {message}")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('touch pwned')", "only these functions may be called"),
        ("frac(a + b, d).__class__", "Attribute is not allowed in expressions"),
        ("[x for x in (a, b)][0]", "is not allowed in expressions"),
        ("(lambda: a)()", "only these functions may be called"),
        ("(lambda: a)", "Lambda is not allowed in expressions"),
        ("'a' * b", "only numbers are allowed as constants"),
        ("a ** 10 ** 10", "exponents must be whole numbers up to 64"),
    ],
)
def test_template_with_a_forbidden_construct(
    validate: Any, mini_course_copy: Path, expression: str, message: str
) -> None:
    items = mini_course_copy / "items" / "adding.yaml"
    edit(items, "answer: frac(a + b, d)", f'answer: "{expression}"')
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/items/adding\.yaml:{line_of(items, expression)}: \[items\.4\.template\.answer\] "
             rf"item 'adding-t1': template .*{re.escape(message)}.*\(fix: ")
    assert not (mini_course_copy / "pwned").exists() and not Path("pwned").exists()


def test_every_broken_template_expression_is_reported(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "adding.yaml"
    edit(items, 'constraints: ["total < d", "a != b"]', 'constraints: ["total.real < d", "a in b"]')
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"\[items\.5\.template\.constraints\.0\] item 'adding-t2': template constraint 'total.real < d'")
    run.find(r"\[items\.5\.template\.constraints\.1\] item 'adding-t2': template constraint 'a in b': comparison In")


# ---------------------------------------------------------------- per-skill minimums


def test_skill_with_fewer_than_6_items(validate: Any, mini_course_copy: Path) -> None:
    rewrite_items(mini_course_copy / "items" / "words.yaml", lambda items: items.pop())
    run = validate(mini_course_copy)
    assert run.code == 1
    course = mini_course_copy / "course.yaml"
    run.find(rf"^mini-course/course\.yaml:{line_of(course, '- id: words')}: \[skills\.2\.id\] "
             r"skill 'words' has 5 items; at least 6 needed \(fix: add items to items/words\.yaml\)$")


def test_skill_with_fewer_than_2_forms(validate: Any, mini_course_copy: Path) -> None:
    rewrite_items(mini_course_copy / "items" / "halves.yaml", lambda items: [i.update(form="A") for i in items])
    run = validate(mini_course_copy)
    assert run.code == 1
    course = mini_course_copy / "course.yaml"
    run.find(rf"^mini-course/course\.yaml:{line_of(course, '- id: halves')}: \[skills\.0\.id\] "
             r"skill 'halves' has 1 form\(s\); at least 2 needed "
             r"\(fix: give items in items/halves\.yaml at least two different `form` labels\)$")


def test_skill_with_no_items_file(validate: Any, mini_course_copy: Path) -> None:
    (mini_course_copy / "items" / "adding.yaml").unlink()
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"skill 'adding' has 0 items; at least 6 needed")
    run.find(r"skill 'adding' has 0 form\(s\); at least 2 needed")


def test_skill_with_no_source_material(validate: Any, mini_course_copy: Path) -> None:
    (mini_course_copy / "sources" / "words.txt").unlink()
    run = validate(mini_course_copy)
    assert run.code == 1
    assert len(run.problems) == 1
    course = mini_course_copy / "course.yaml"
    run.find(rf"^mini-course/course\.yaml:{line_of(course, '- id: words')}: \[skills\.2\.id\] "
             r"skill 'words' has no source material "
             r"\(fix: add a file under sources/ whose front matter lists this skill\)$")


def test_source_sections_naming_no_skill(validate: Any, mini_course_copy: Path) -> None:
    source = mini_course_copy / "sources" / "adding.md"
    edit(source, "skills: [adding]\n", "")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/sources/adding\.md:{line_of(source, '## Count the pieces')}: section "
             r"'Adding fractions with the same denominator > Count the pieces' names no skills \(fix: add `skills")


def test_bad_source_front_matter_names_file_line_and_field(validate: Any, mini_course_copy: Path) -> None:
    source = mini_course_copy / "sources" / "words.txt"
    edit(source, "style: summary\n", "style: recap\n")
    edit(source, "<!-- {style: step_by_step} -->", "<!-- {style: step_by_step, skill: [words]} -->")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/sources/words\.txt:{line_of(source, 'recap')}: \[style\] .* "
             r"\(fix: use one of: definition, worked_example, .*summary\)$")
    run.find(rf"^mini-course/sources/words\.txt:{line_of(source, 'skill: [words]')}: \[skill\] Extra inputs .* "
             r"\(fix: allowed fields: skills, style, title\)$")


def test_misplaced_section_directive(validate: Any, mini_course_copy: Path) -> None:
    source = mini_course_copy / "sources" / "adding.md"
    edit(source, "## A common mistake\n<!-- {style: common_mistakes} -->\n",
         "## A common mistake\n\n<!-- {style: common_mistakes} -->\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/sources/adding\.md:{line_of(source, '<!-- {style: common_mistakes}')}: "
             r"this section directive is ignored")


# ---------------------------------------------------------------- files


def test_non_utf8_course_yaml(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    line = line_of(course, "    title: Halves")
    course.write_bytes(course.read_bytes().replace(b"title: Halves\n", "title: Moiti\u00e9s\n".encode("latin-1")))
    run = validate(mini_course_copy)
    assert run.code == 1
    assert run.problems == [
        f"mini-course/course.yaml:{line}: not UTF-8 text (byte 0xe9) (fix: save the file as UTF-8)"
    ]


def test_non_utf8_source(validate: Any, mini_course_copy: Path) -> None:
    source = mini_course_copy / "sources" / "adding.md"
    line = line_of(source, "A common mistake is")
    source.write_bytes(source.read_bytes().replace(b"A common mistake is", b"A common mistake\x92s", 1))
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(rf"^mini-course/sources/adding\.md:{line}: not UTF-8 text \(byte 0x92\) "
             r"\(fix: save the file as UTF-8\)$")


def test_non_utf8_items_file(validate: Any, mini_course_copy: Path) -> None:
    items = mini_course_copy / "items" / "words.yaml"
    items.write_bytes(items.read_bytes() + b"# caf\xe9\n")
    run = validate(mini_course_copy)
    assert run.code == 1
    lines = items.read_bytes().count(b"\n")
    run.find(rf"^mini-course/items/words\.yaml:{lines}: not UTF-8 text \(byte 0xe9\)")


def test_byte_order_mark_is_accepted(validate: Any, mini_course_copy: Path) -> None:
    for path in (mini_course_copy / "course.yaml", mini_course_copy / "sources" / "halves.md"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert validate(mini_course_copy).code == 0


def test_missing_course_yaml(validate: Any, mini_course_copy: Path) -> None:
    (mini_course_copy / "course.yaml").unlink()
    run = validate(mini_course_copy)
    assert run.code == 1
    assert run.problems == [
        "mini-course/course.yaml: course.yaml is missing (fix: create course.yaml (see README: course format))"
    ]


def test_path_that_is_not_a_course_folder(validate: Any, tmp_path: Path) -> None:
    run = validate(tmp_path / "nowhere")
    assert run.code == 1
    assert run.problems == [
        f"{tmp_path / 'nowhere'}: no such folder (fix: give the path of a course folder (the one holding course.yaml))"
    ]


def test_several_problems_are_all_reported_at_once(validate: Any, mini_course_copy: Path) -> None:
    course = mini_course_copy / "course.yaml"
    edit(course, "    prerequisites: [halves]\n    mastery", "    prerequisites: [halfs]\n    mastery")
    edit(mini_course_copy / "items" / "adding.yaml", '      - text: "3/5"\n        correct: true\n',
         '      - text: "3/5"\n')
    edit(mini_course_copy / "items" / "halves.yaml", "answer: n / 2", "answer: n.real")
    (mini_course_copy / "sources" / "words.txt").unlink()
    run = validate(mini_course_copy)
    assert run.code == 1
    assert run.out.splitlines()[0] == f"{mini_course_copy}: 4 problem(s)"
    run.find(r"mini-course/course\.yaml:\d+: \[skills\.1\.prerequisites\.0\] .*unknown prerequisite 'halfs'")
    run.find(r"mini-course/items/adding\.yaml:\d+: \[items\.1\.choices\] .*not among the choices")
    run.find(r"mini-course/items/halves\.yaml:\d+: \[items\.5\.template\.answer\] .*Attribute is not allowed")
    run.find(r"mini-course/course\.yaml:\d+: \[skills\.2\.id\] skill 'words' has no source material")


def test_several_courses_in_one_run(validate: Any, mini_course: Path, mini_course_copy: Path) -> None:
    (mini_course_copy / "course.yaml").unlink()
    run = validate(mini_course, mini_course_copy)
    assert run.code == 1
    assert f"{mini_course}: ok" in run.out.splitlines()
    assert f"{mini_course_copy}: 1 problem(s)" in run.out.splitlines()


# ---------------------------------------------------------------- garbage never gives a traceback


GARBAGE: dict[str, bytes] = {
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "top-level list": b"- id: x\n- title: y\n",
    "top-level scalar": b"just some words\n",
    "control characters": b"id: x\x00\x01\ntitle: y\n",
    "deeply nested": b"skills: " + b"[" * 5000,
    "recursive alias": b"id: x\ntitle: y\nskills: &a [*a]\n",
    "python tag": b"id: !!python/object/apply:os.system ['touch pwned']\n",
    "two documents": b"id: x\n---\nid: y\n",
    "tabs": b"id: x\n\ttitle: y\n",
}


@pytest.mark.parametrize("content", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_course_yaml_gives_problems_not_a_traceback(
    validate: Any, mini_course_copy: Path, content: bytes
) -> None:
    (mini_course_copy / "course.yaml").write_bytes(content)
    run = validate(mini_course_copy)
    assert run.code == 1
    assert any(p.startswith("mini-course/course.yaml") for p in run.problems)
    assert all("(fix: " in p for p in run.problems)
    assert not (mini_course_copy / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.parametrize("content", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_items_and_sources_give_problems_not_a_traceback(
    validate: Any, mini_course_copy: Path, content: bytes
) -> None:
    (mini_course_copy / "items" / "words.yaml").write_bytes(content)
    (mini_course_copy / "sources" / "words.txt").write_bytes(b"---\n" + content)
    (mini_course_copy / "sources" / "more.md").write_bytes(b"---\n" + content + b"\n---\n# T\ntext\n")
    (mini_course_copy / "sources" / "body.md").write_bytes(b"# T\n" + content)
    run = validate(mini_course_copy)
    assert run.code == 1
    assert any(p.startswith("mini-course/items/words.yaml") for p in run.problems)
    assert any(p.startswith("mini-course/sources/more.md") for p in run.problems)


def test_folders_where_files_are_expected(validate: Any, mini_course_copy: Path) -> None:
    (mini_course_copy / "items" / "extra.yaml").mkdir()
    (mini_course_copy / "sources" / "folder.md").mkdir()
    run = validate(mini_course_copy)
    assert run.code == 1
    run.find(r"^mini-course/items/extra\.yaml: cannot read the file")
    run.find(r"^mini-course/sources/folder\.md: cannot read the file")


def test_installed_command_on_garbage(tmp_path: Path) -> None:
    if not TUTOR.exists():
        pytest.skip(f"the console script is not installed at {TUTOR}")
    course = tmp_path / "garbage"
    course.mkdir()
    (course / "course.yaml").write_bytes(bytes(range(256)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    result = subprocess.run([str(TUTOR), "content", "validate", str(course)], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "garbage/course.yaml:2: not UTF-8 text (byte 0x80) (fix: save the file as UTF-8)" in result.stdout


def test_installed_command_on_the_clean_fixture(mini_course: Path, tmp_path: Path) -> None:
    if not TUTOR.exists():
        pytest.skip(f"the console script is not installed at {TUTOR}")
    result = subprocess.run([str(TUTOR), "content", "validate", str(mini_course)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{mini_course}: ok\n", "")


# ---------------------------------------------------------------- the real sample courses


@pytest.mark.parametrize("course", ["fractions", "data-privacy"])
def test_sample_course_is_valid(validate: Any, course: str) -> None:
    path = REPO / "content" / course
    if not (path / "course.yaml").exists():
        pytest.skip(f"content/{course} is not written yet")
    run = validate(path)
    assert run.code == 0, run.out
