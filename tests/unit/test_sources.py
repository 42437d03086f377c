"""Source files: front matter, section directives, heading paths, and errors with file:line."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tutor.course.models import Style
from tutor.course.problems import ContentError, Problem
from tutor.course.sources import parse_markdown

DOC = dedent(
    """\
    ---
    skills: [equivalent]
    style: definition
    title: Equivalent fractions
    ---

    # Equivalent fractions

    ## Same amount, different names
    Two fractions are equivalent when they name the same amount.

    ## A pizza cut into more slices
    <!-- {style: analogy} -->
    Cut each slice of a pizza in two: twice as many slices, same pizza.

    ### Eighths
    <!-- {skills: [equivalent, simplifying], style: visual} -->
    Picture 4/8 as four of eight equal strips.

    ## Working it through
    Multiply top and bottom by the same number.
    """
)


def test_front_matter_applies_to_every_section() -> None:
    sections = parse_markdown(DOC, "equivalent.md")
    first = sections[0]
    assert first.heading_path == ("Equivalent fractions", "Same amount, different names")
    assert first.skills == ("equivalent",)
    assert first.style is Style.DEFINITION
    assert first.text == "Two fractions are equivalent when they name the same amount."
    assert first.file == "equivalent.md"


def test_heading_without_body_is_not_a_passage() -> None:
    paths = [s.heading_path for s in parse_markdown(DOC, "equivalent.md")]
    assert ("Equivalent fractions",) not in paths
    assert len(paths) == 4


def test_heading_paths_follow_nesting() -> None:
    paths = [s.heading_path for s in parse_markdown(DOC, "equivalent.md")]
    assert paths == [
        ("Equivalent fractions", "Same amount, different names"),
        ("Equivalent fractions", "A pizza cut into more slices"),
        ("Equivalent fractions", "A pizza cut into more slices", "Eighths"),
        ("Equivalent fractions", "Working it through"),  # a sibling ## leaves the ### behind
    ]


def test_directive_overrides_front_matter_for_its_section_only() -> None:
    sections = parse_markdown(DOC, "equivalent.md")
    pizza, eighths, working = sections[1], sections[2], sections[3]
    assert (pizza.style, pizza.skills) == (Style.ANALOGY, ("equivalent",))
    assert (eighths.style, eighths.skills) == (Style.VISUAL, ("equivalent", "simplifying"))
    assert "<!--" not in pizza.text and "<!--" not in eighths.text
    assert (working.style, working.skills) == (Style.DEFINITION, ("equivalent",))


def test_section_lines_point_at_their_headings() -> None:
    lines = DOC.splitlines()
    for section in parse_markdown(DOC, "equivalent.md"):
        assert lines[section.line - 1].lstrip("#").strip() == section.heading_path[-1]


def test_no_front_matter_and_text_before_any_heading() -> None:
    sections = parse_markdown("Intro text.\n\n# Title\nBody.\n#### Not a heading\nMore.\n", "notes.txt")
    assert [s.heading_path for s in sections] == [(), ("Title",)]
    assert sections[0].skills == () and sections[0].style is None
    assert sections[1].text == "Body.\n#### Not a heading\nMore."


def test_closing_hashes_are_not_part_of_the_heading() -> None:
    sections = parse_markdown("## Adding ##\ntext\n", "a.md")
    assert sections[0].heading_path == ("Adding",)


def test_empty_file_has_no_sections() -> None:
    assert parse_markdown("", "empty.md") == []
    assert parse_markdown("---\nskills: [a]\n---\n\n# Only a title\n\n", "title.md") == []


def problems_of(text: str, file: str = "bad.md") -> list[Problem]:
    with pytest.raises(ContentError) as excinfo:
        parse_markdown(text, file)
    return excinfo.value.problems


def test_unclosed_front_matter() -> None:
    [problem] = problems_of("---\nskills: [a]\n# Title\ntext\n")
    assert (problem.file, problem.line) == ("bad.md", 1)
    assert "not closed" in problem.message and "---" in problem.hint


def test_front_matter_yaml_error_names_its_line() -> None:
    [problem] = problems_of("---\ntitle: ok\nskills: [a, b\n---\n# T\ntext\n")
    assert problem.file == "bad.md"
    assert problem.line == 3  # the line of the unclosed list, not the start of the front matter
    assert "not valid YAML" in problem.message
    assert str(problem).startswith(f"bad.md:{problem.line}:")


def test_unknown_front_matter_field_names_field_line_and_allowed_fields() -> None:
    [problem] = problems_of("---\nskills: [a]\nstyel: analogy\n---\n# T\ntext\n")
    assert (problem.line, problem.field) == (3, "styel")
    assert problem.hint == "allowed fields: skills, style, title"


def test_bad_style_lists_the_styles() -> None:
    [problem] = problems_of("---\nskills: [a]\nstyle: story\n---\n# T\ntext\n")
    assert (problem.line, problem.field) == (3, "style")
    assert "worked_example" in problem.hint and "common_mistakes" in problem.hint


def test_bad_skill_id_in_front_matter() -> None:
    [problem] = problems_of("---\nskills: [Bad Skill]\n---\n# T\ntext\n")
    assert (problem.line, problem.field) == (2, "skills.0")


def test_bad_directive_names_its_line() -> None:
    problems = problems_of("# One\ntext\n\n## Two\n<!-- {style: poem} -->\ntext\n")
    assert [(p.line, p.field) for p in problems] == [(5, "style")]


def test_directive_with_yaml_error() -> None:
    [problem] = problems_of("# One\n<!-- {skills: [a, style: x} -->\ntext\n")
    assert problem.line == 2 and "not valid YAML" in problem.message


def test_front_matter_must_be_a_mapping() -> None:
    [problem] = problems_of("---\n- a\n- b\n---\n# T\ntext\n")
    assert problem.line == 2


@pytest.mark.parametrize(
    "text",
    [
        "# One\n\n<!-- {style: analogy} -->\ntext\n",  # a blank line between heading and directive
        "# One\ntext\n<!-- {style: analogy} -->\n",  # directive at the end of a section
        "# One\n<!-- {style: analogy -->\ntext\n",  # not a complete directive
    ],
)
def test_a_directive_that_would_be_silently_ignored_is_reported(text: str) -> None:
    [problem] = problems_of(text)
    assert "directive is ignored" in problem.message
    assert problem.line is not None
    assert text.splitlines()[problem.line - 1].lstrip().startswith("<!--")


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    problems = problems_of(
        "---\nstyle: story\n---\n# A\n<!-- {style: poem} -->\ntext\n# B\n<!-- {colour: red} -->\nx\n"
    )
    assert [p.line for p in problems] == [2, 5, 8]


def test_ordinary_html_comments_are_body_text() -> None:
    [section] = parse_markdown("# A\n<!-- just a note -->\ntext\n", "a.md")
    assert section.text == "<!-- just a note -->\ntext"
