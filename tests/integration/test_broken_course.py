"""A brand-new course folder that does not validate does not stop the tutor: the other courses load, and the
broken one is logged and kept with the validator's problems (the Content page shows them)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tests.conftest import MINI_COURSE
from tutor.course.problems import ContentError
from tutor.course.scaffold import new_course
from tutor.session import Tutor
from tutor.settings import Settings


def broken_new_course(content: Path) -> Path:
    """A course folder as `tutor content new` writes it, then given a prerequisite that is not a skill."""
    folder = new_course(content, "late-course", "Late course")
    course_yaml = folder / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace("prerequisites: []", "prerequisites: [nope]"))
    return folder


def test_a_broken_new_course_is_left_out_and_the_others_load(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    content = tmp_path / "content"
    shutil.copytree(MINI_COURSE, content / "mini-course")
    broken = broken_new_course(content)
    settings = Settings(data_dir=tmp_path / "data", content_dir=content, anthropic_api_key="")
    with caplog.at_level(logging.WARNING, logger="tutor.course.loader"):
        tutor = Tutor(settings)
    try:
        assert sorted(tutor.courses) == ["mini"]
        assert list(tutor.broken_courses) == [broken]
        problems = tutor.broken_courses[broken].problems
        assert any("nope" in p.message and p.file.endswith("course.yaml") for p in problems)
        logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(str(broken) in m and "nope" in m and "tutor content validate" in m for m in logged)
        assert tutor.new_course_folders() == [broken]  # still offered on the Content page once it is fixed
        course_yaml = broken / "course.yaml"
        course_yaml.write_text(course_yaml.read_text().replace("prerequisites: [nope]", "prerequisites: []"))
        assert tutor.add_course(broken).id == "late-course"
        assert tutor.broken_courses == {} and tutor.new_course_folders() == []
    finally:
        tutor.close()


def test_adding_a_course_that_still_does_not_validate_keeps_it_listed_as_broken(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(MINI_COURSE, content / "mini-course")
    tutor = Tutor(Settings(data_dir=tmp_path / "data", content_dir=content, anthropic_api_key=""))
    try:
        broken = broken_new_course(content)  # added while the tutor runs
        with pytest.raises(ContentError):
            tutor.add_course(broken)
        assert list(tutor.broken_courses) == [broken] and sorted(tutor.courses) == ["mini"]
    finally:
        tutor.close()
