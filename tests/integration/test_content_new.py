"""`tutor content new ID`: a course that validates without problems or warnings, with comments that teach."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.cli import main
from tutor.course.loader import load_course, validate_course


def test_content_new_scaffolds_a_valid_commented_course(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(tmp_path))
    assert main(["content", "new", "algebra-1", "--title", "Algebra one"]) == 0
    root = tmp_path / "algebra-1"
    assert validate_course(root, with_warnings=True) == []
    course = load_course(root)
    assert course.id == "algebra-1" and course.title == "Algebra one"
    [skill] = course.skills
    kinds = {item.kind for item in course.items[skill.id]}
    assert {"multiple_choice", "numeric"} <= kinds
    assert {item.form for item in course.items[skill.id]} == {"A", "B"}
    assert sum(line.lstrip().startswith("#") or " # " in line
               for line in (root / "course.yaml").read_text().splitlines()) >= 5  # comments that teach
    assert main(["content", "validate", str(root)]) == 0
    assert main(["content", "new", "algebra-1"]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_content_new_refuses_a_bad_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TUTOR_CONTENT_DIR", str(tmp_path))
    assert main(["content", "new", "Bad Id"]) == 2
    assert "lowercase letters" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
