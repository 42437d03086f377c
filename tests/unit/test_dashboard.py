"""The group report's rules: cell states, time and items to mastery, stuck learners, evidence of a mastery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tutor.course.loader import load_course
from tutor.course.models import Course
from tutor.course.version import course_version
from tutor.dashboard import AttemptFact, DecisionFact, group_report, mastery_evidence, minutes_spent
from tutor.mastery.select import SkillProgress

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(mini_course: Path) -> Course:
    return load_course(mini_course)


def _attempt(n: int, skill: str, correct: bool, *, learner: str = "a", minutes: float = 1.0,
             mode: str = "learn") -> AttemptFact:
    asked = T0 + timedelta(minutes=10 * n)
    return AttemptFact(learner, skill, f"q{n}", f"{skill}-item", "prompt", "answer", correct, "rule", asked,
                       asked + timedelta(minutes=minutes), mode)


def _decision(n: int, skill: str, status: str, evidence: tuple[str, ...] = (), *, learner: str = "a") -> DecisionFact:
    return DecisionFact(learner, skill, status, 0.95 if status == "mastered" else 0.4,
                        T0 + timedelta(minutes=10 * n + 5), evidence, {"threshold": 0.9}, "sha256:x")


def test_time_on_a_question_is_capped() -> None:
    assert minutes_spent([_attempt(0, "halves", True, minutes=3), _attempt(1, "halves", True, minutes=240)]) == 13


def test_grid_states_and_time_to_mastery(course: Course) -> None:
    attempts = [_attempt(i, "halves", i > 0, minutes=2) for i in range(4)] + [_attempt(5, "adding", False)]
    decisions = [_decision(3, "halves", "mastered", ("q0", "q1", "q2", "q3")), _decision(5, "adding", "practice")]
    progress = {"halves": SkillProgress(attempts=4, p_known=0.95, mastered=True, mastered_at=T0,
                                        next_review_at=T0 + timedelta(days=1)),
                "adding": SkillProgress(attempts=1, p_known=0.3)}
    report = group_report(course, ["a", "b"], {"a": attempts}, {"a": decisions}, {"a": progress},
                          now=T0 + timedelta(hours=2))
    assert report.grid[("a", "halves")].state == "mastered"
    assert report.grid[("a", "adding")].state == "in_progress"
    assert report.grid[("a", "words")].state == "available"
    assert report.grid[("b", "adding")].state == "locked"
    assert report.grid[("b", "halves")].p_known == course.skill_bkt("halves").prior
    halves = next(f for f in report.figures if f.skill_id == "halves")
    assert (halves.mastered, halves.items_to_mastery, halves.minutes_to_mastery) == (1, (4,), (8.0,))
    assert report.completed == {"a": None, "b": None}
    later = group_report(course, ["a"], {"a": attempts}, {"a": decisions}, {"a": progress},
                         now=T0 + timedelta(days=2))
    assert later.grid[("a", "halves")].state == "review_due"


def test_stuck_learners_say_why(course: Course) -> None:
    attempts = [_attempt(i, "adding", False) for i in range(9)]
    decisions = [_decision(i, "adding", "remediate") for i in (2, 5, 8)]
    progress = {"halves": SkillProgress(mastered=True), "adding": SkillProgress(attempts=9)}
    report = group_report(course, ["a"], {"a": attempts}, {"a": decisions}, {"a": progress},
                          now=T0 + timedelta(days=10), idle_days=7)
    reasons = [s.reason for s in report.stuck]
    assert any("re-taught 3 times" in r for r in reasons)
    assert any(r.startswith("no activity for 9 days") for r in reasons)
    calm = group_report(course, ["a"], {"a": attempts}, {"a": decisions[:2]}, {"a": progress},
                        now=T0 + timedelta(days=1), idle_days=7)
    assert calm.stuck == ()


def test_step_back_loop_is_reported(course: Course) -> None:
    attempts = [_attempt(0, "adding", False), _attempt(1, "halves", True, mode="step_back"),
                _attempt(2, "adding", False), _attempt(3, "halves", True, mode="step_back"),
                _attempt(4, "adding", False)]
    decisions = [_decision(0, "adding", "remediate"), _decision(2, "adding", "remediate")]
    progress = {"halves": SkillProgress(mastered=True), "adding": SkillProgress(attempts=3)}
    report = group_report(course, ["a"], {"a": attempts}, {"a": decisions}, {"a": progress}, now=T0)
    assert [s.reason for s in report.stuck] == ["sent back to a prerequisite of Adding fractions with the same "
                                                "denominator 2 times"]


def test_evidence_lists_exactly_the_attempts_the_gate_read_and_keeps_revocations() -> None:
    attempts = [_attempt(i, "halves", True) for i in range(6)]
    decisions = [_decision(3, "halves", "mastered", ("q1", "q2", "q3")), _decision(4, "halves", "revoked"),
                 _decision(5, "halves", "mastered", ("q4", "q5"))]
    first, second = mastery_evidence(attempts, decisions)
    assert [a.question_id for a in first.attempts] == ["q1", "q2", "q3"]
    assert first.revoked_at == decisions[1].at
    assert [a.question_id for a in second.attempts] == ["q4", "q5"] and second.revoked_at is None


def test_course_version_changes_with_content_only(mini_course_copy: Path, tmp_path: Path) -> None:
    before = course_version(mini_course_copy)
    (mini_course_copy / "drafts").mkdir()
    (mini_course_copy / "drafts" / "x.yaml").write_text("draft: true\n")
    assert course_version(mini_course_copy) == before
    (mini_course_copy / "sources" / "halves.md").write_text("# Halves\n\nChanged.\n")
    assert course_version(mini_course_copy) != before
    outside = tmp_path / "secret.txt"
    outside.write_text("outside")
    changed = course_version(mini_course_copy)
    (mini_course_copy / "sources" / "link.md").symlink_to(outside)
    assert course_version(mini_course_copy) == changed
