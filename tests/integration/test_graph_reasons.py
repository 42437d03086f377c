"""The progress panel's decision survives a prerequisite check, and a failed review explains itself like the gate."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_graph import courses, make_tutor, store_dir  # noqa: F401  (fixtures)
from tests.support.learner import Clock, answer, drain
from tutor.session import Tutor


def test_after_a_prerequisite_check_the_panel_keeps_the_skills_reasons(make_tutor) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tutor: Tutor = make_tutor()
    drain(tutor.start("sam", "mini"))
    while tutor.view("sam", "mini").skill_map[0].status != "mastered":
        drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=True)))
    for _ in range(12):
        if tutor.graph.get_state(tutor._config("sam", "mini")).values.get("mode") == "step_back":
            break
        drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=False)))
    drain(tutor.send("sam", "mini", answer(tutor, "sam", "mini", right=True)))  # the check is passed
    view = tutor.view("sam", "mini")
    assert view.skill_id == "adding"
    assert view.decision, "the panel lost the skill's standing after the prerequisite check"
    assert view.decision["answers_needed"] is not None
    assert any(str(r).startswith("not yet:") for r in view.decision["reasons"])


def test_a_failed_review_gives_reasons_and_a_count_like_the_gate(make_tutor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clock = Clock()
    tutor: Tutor = make_tutor(clock)
    drain(tutor.start("di", "mini"))
    while tutor.view("di", "mini").skill_map[0].status != "mastered":
        drain(tutor.send("di", "mini", answer(tutor, "di", "mini", right=True)))
    clock.advance(days=2)
    for _ in range(10):
        if tutor.view("di", "mini").skill_id == "halves":
            break
        drain(tutor.send("di", "mini", answer(tutor, "di", "mini", right=True)))
    drain(tutor.send("di", "mini", answer(tutor, "di", "mini", right=False)))
    decision = tutor.graph.get_state(tutor._config("di", "mini")).values["decision"]
    assert decision["status"] == "remediate"
    needed = decision["answers_needed"]
    assert needed is not None and needed >= 1
    assert decision["reasons"][0] == "let's look at this again: a review answer was wrong, so this skill is open again"
    headline = "not yet: 1 more right answer" if needed == 1 else f"not yet: {needed} more right answers"
    assert any(r.startswith(headline) for r in decision["reasons"]), decision["reasons"]
    assert "the last answer was wrong" in decision["reasons"]
