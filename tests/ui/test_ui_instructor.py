"""The Instructor page on the real tutor: a group whose learners were driven through the tutor (not rows written by
hand); an instructor sees only their own groups, who mastered what, who is stuck, the evidence, and downloads."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.learner import answer, drain
from tests.ui.conftest import account, all_text, new_app, open_page, sign_in_only
from tutor.auth import Role
from tutor.groups import Groups
from tutor.session import Tutor
from tutor.settings import Settings


@pytest.fixture
def seeded(settings: Settings, loaded_data_dir: Path) -> dict[str, str]:
    """Group North (Ana masters two skills, Bo keeps failing), taught by Iris; group South, taught by Sam."""
    shutil.copytree(loaded_data_dir, settings.data_dir)
    people = {name: account(name, role) for name, role in
              (("ana", Role.LEARNER), ("bo", Role.LEARNER), ("cy", Role.LEARNER),
               ("iris", Role.INSTRUCTOR), ("sam", Role.INSTRUCTOR))}
    tutor = Tutor(settings)
    try:
        groups = Groups(tutor.records.engine)
        now = datetime.now(UTC)
        for name, learners, teacher in (("North", ("ana", "bo"), "iris"), ("South", ("cy",), "sam")):
            groups.create(name, created_by="test", now=now)
            for learner in learners:
                groups.add_member(name, people[learner].id)
            groups.add_member(name, people[teacher].id, "instructor")
            groups.assign_course(name, "fractions")
        for who, turns, right in (("ana", 14, True), ("bo", 8, False), ("cy", 1, True)):
            key = people[who].learner_key
            drain(tutor.start(key, "fractions"))
            for _ in range(turns):
                drain(tutor.send(key, "fractions", answer(tutor, key, "fractions", right=right)))
        mastered = [d.skill_id for d in tutor.records.decisions("fractions", people["ana"].learner_key)
                    if d.status == "mastered"]
    finally:
        tutor.close()
    assert mastered, "the seeded learner masters at least one skill"
    return {"first_mastered": mastered[0]}


def test_an_instructor_sees_their_group_stuck_learners_and_evidence(seeded: dict[str, str]) -> None:
    at = open_page("pages/instructor.py", "iris", Role.INSTRUCTOR)
    assert not at.exception
    assert [o for o in at.selectbox(key="org_group").options] == ["North"]
    page = all_text(at)
    assert "Completed the course" in page and "0 of 2" in page
    assert "mastered ·" in page and "in progress ·" in page and "locked ·" not in page
    stuck = at.table[1].value
    assert list(stuck["learner"]) == ["bo"] * len(stuck) and "re-taught" in " ".join(stuck["why"])
    downloads = {b.proto.label: b for b in at.get("download_button")}
    assert {"Download CSV", "Download JSON", "Completion record"} <= set(downloads)
    assert any(e.label.startswith("Mastered ") for e in at.expander)


def test_an_instructor_cannot_see_another_group_and_a_learner_cannot_open_the_page(seeded: dict[str, str]) -> None:
    at = open_page("pages/instructor.py", "sam", Role.INSTRUCTOR)
    assert [o for o in at.selectbox(key="org_group").options] == ["South"]
    assert "ana" not in [str(o) for o in at.selectbox(key="org_learner").options]
    learner = sign_in_only(new_app(), "ana")
    learner.switch_page("pages/instructor.py")
    learner.run()
    assert "Not allowed" in all_text(learner) and not learner.table
