"""The page tests' scripted tutor hands pages the real view types, so a change to them breaks the page tests."""

from __future__ import annotations

from tests.ui.fakes import FakeTutor
from tutor.graph.progress import SkillView
from tutor.session import SessionView


def test_the_fake_tutor_returns_the_real_session_view(fake: FakeTutor) -> None:
    course_id = next(iter(fake.courses))
    list(fake.start("alice", course_id))
    view = fake.view("alice", course_id)
    assert type(view) is SessionView
    assert view.started and view.pending is not None
    assert view.skill_map and all(type(skill) is SkillView for skill in view.skill_map)
    assert view.mastered_share == 0.0
