"""Coverage: per skill, what mastery learning needs and is missing."""

from __future__ import annotations

from pathlib import Path

from tutor.authoring.coverage import course_coverage, report_lines
from tutor.course.loader import load_course

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_a_complete_sample_course_has_no_gaps() -> None:
    course = load_course(CONTENT / "fractions")
    assert [c.gaps for c in course_coverage(course)] == [[] for _ in course.skills]


def test_a_thin_skill_lists_each_missing_thing(mini_course_copy: Path) -> None:
    bank = mini_course_copy / "items" / "words.yaml"
    text = bank.read_text()
    bank.write_text("\n".join(line for line in text.splitlines() if "hints:" not in line and "explanation:" not in line
                              and "misconception:" not in line and "examples:" not in line
                              and not line.lstrip().startswith("- {answer:")) + "\n")
    course = load_course(mini_course_copy)
    words = {c.skill: c for c in course_coverage(course)}["words"]
    assert words.without_hints == tuple(i.id for i in course.items["words"])
    assert any(gap.startswith("hints: ") for gap in words.gaps)
    assert any(gap.startswith("worked explanations: ") for gap in words.gaps)
    assert "passages: 2 of 3" in words.gaps
    assert words.free_response_without_examples == ("words-a3", "words-b3")
    halves = {c.skill: c for c in course_coverage(course)}["halves"]
    assert not any(gap.startswith(("passages", "explanation styles", "forms")) for gap in halves.gaps)
    lines = report_lines(course, course_coverage(course))
    assert lines[0].startswith(f"coverage of {course.id}: ")
    assert any(line.startswith("  missing hints: ") for line in lines)
