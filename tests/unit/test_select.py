"""Item and skill selection: no repeats, a new form after remediation, the prerequisite DAG, step back, review."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.course.models import BKTParams, Course, MasteryCriterion, NumericItem, Skill
from tutor.mastery.gate import Attempt, GateDecision
from tutor.mastery.select import (
    ReviewSchedule,
    SkillProgress,
    course_complete,
    failed_form,
    next_item,
    next_skill,
    record_decision,
    record_review,
    record_step_back,
)

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def item(item_id: str, form: str = "A") -> NumericItem:
    return NumericItem(id=item_id, form=form, prompt="?", kind="numeric", answer=1)


def asked(*ids: str, correct: bool = True, form: str = "A") -> list[Attempt]:
    return [Attempt(item_id=i, form=form, correct=correct) for i in ids]


# ---------------------------------------------------------------- items

POOL = [item("a", "A"), item("b", "A"), item("c", "B"), item("d", "B")]


def test_no_item_repeats_until_the_pool_is_used_up() -> None:
    history: list[Attempt] = []
    for _ in range(len(POOL)):
        chosen = next_item(POOL, history, avoid_form=None, seed=7)
        history += asked(chosen.id)
    assert sorted(a.item_id for a in history) == ["a", "b", "c", "d"]
    fifth = next_item(POOL, history, avoid_form=None, seed=7)
    assert fifth.id != history[-1].item_id  # second round starts, not with the item just asked


def test_selection_is_reproducible_and_depends_on_the_seed() -> None:
    picks = {next_item(POOL, [], avoid_form=None, seed=s).id for s in range(20)}
    assert len(picks) > 1
    assert next_item(POOL, asked("a"), avoid_form=None, seed=3) == next_item(POOL, asked("a"), avoid_form=None, seed=3)


def test_after_remediation_another_form_is_asked() -> None:
    history = asked("a", correct=False, form="A")
    assert failed_form(history) == "A"
    for seed in range(10):
        assert next_item(POOL, history, avoid_form="A", seed=seed).form == "B"


def test_another_form_wins_over_no_repeat() -> None:
    history = asked("c", "d", form="B")  # all B items used, A items fresh
    history += asked("a", correct=False, form="A")
    # fresh items: only b (form A); another form means repeating c or d
    assert next_item(POOL, history, avoid_form="A", seed=1).form == "B"


def test_single_form_pool_still_gives_an_item() -> None:
    pool = [item("a"), item("b")]
    assert next_item(pool, asked("a", correct=False), avoid_form="A", seed=0).id == "b"


@settings(max_examples=100, deadline=None)
@given(order=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12), seed=st.integers(0, 1000))
def test_chosen_item_is_never_used_more_than_another(order: list[str], seed: int) -> None:
    history = asked(*order)
    chosen = next_item(POOL, history, avoid_form=None, seed=seed)
    uses = {i.id: order.count(i.id) for i in POOL}
    assert uses[chosen.id] == min(uses.values())


# ---------------------------------------------------------------- skills


def course(*skills: tuple[str, list[str]]) -> Course:
    return Course(
        id="c",
        title="C",
        description="",
        path=".",
        mastery=MasteryCriterion(),
        bkt=BKTParams(),
        skills=tuple(Skill(id=s, title=s, objectives=["o"], prerequisites=pre) for s, pre in skills),
        items={},
        sources=(),
    )


FRACTIONS = course(
    ("equivalent", []), ("compare", ["equivalent"]), ("add", ["equivalent"]), ("mixed", ["add", "compare"])
)
MASTERED = SkillProgress(
    attempts=3, p_known=0.97, mastered=True, mastered_at=NOW, next_review_at=NOW + timedelta(days=1)
)


def test_first_skill_is_the_first_without_prerequisites() -> None:
    assert next_skill(FRACTIONS, {}, now=NOW) is not None
    assert next_skill(FRACTIONS, {}, now=NOW) == next_skill(FRACTIONS, {"add": SkillProgress()}, now=NOW)
    choice = next_skill(FRACTIONS, {}, now=NOW)
    assert choice is not None and (choice.skill_id, choice.reason) == ("equivalent", "new")


def test_unlocked_skills_come_in_course_order() -> None:
    choice = next_skill(FRACTIONS, {"equivalent": MASTERED}, now=NOW)
    assert choice is not None and (choice.skill_id, choice.reason) == ("compare", "new")


def test_a_started_skill_is_continued() -> None:
    progress = {"equivalent": MASTERED, "add": SkillProgress(attempts=2, p_known=0.5)}
    choice = next_skill(FRACTIONS, progress, now=NOW)
    assert choice is not None and (choice.skill_id, choice.reason) == ("add", "continue")


def test_keeps_failing_steps_back_to_the_weakest_prerequisite() -> None:
    progress = {
        "equivalent": MASTERED,
        "compare": replace(MASTERED, p_known=0.99),
        "add": replace(MASTERED, p_known=0.96),
        "mixed": SkillProgress(attempts=9, p_known=0.3, remediations=2),
    }
    choice = next_skill(FRACTIONS, progress, now=NOW)
    assert choice is not None
    assert (choice.skill_id, choice.reason, choice.from_skill) == ("add", "step_back", "mixed")
    progress["mixed"] = record_step_back(progress["mixed"])
    choice = next_skill(FRACTIONS, progress, now=NOW)
    assert choice is not None and (choice.skill_id, choice.reason) == ("mixed", "continue")


def test_review_comes_back_when_due_and_a_failed_review_reopens_the_skill() -> None:
    progress = {"equivalent": MASTERED}
    assert next_skill(FRACTIONS, progress, now=NOW + timedelta(hours=1)) is not None
    choice = next_skill(FRACTIONS, progress, now=NOW + timedelta(days=2))
    assert choice is not None and (choice.skill_id, choice.reason) == ("equivalent", "review")
    failed = record_review(progress["equivalent"], False, now=NOW + timedelta(days=2), p_known=0.4)
    assert not failed.mastered and failed.next_review_at is None
    choice = next_skill(FRACTIONS, {"equivalent": failed}, now=NOW + timedelta(days=2))
    assert choice is not None and (choice.skill_id, choice.reason) == ("equivalent", "continue")


def test_review_intervals_grow() -> None:
    schedule = ReviewSchedule()
    gaps = [schedule.interval(n) for n in range(6)]
    assert gaps == sorted(gaps) and gaps[0] < gaps[1] < gaps[2]
    assert gaps[-1] == schedule.longest
    passed = record_review(MASTERED, True, now=NOW)
    again = record_review(passed, True, now=NOW)
    assert passed.next_review_at is not None and again.next_review_at is not None
    assert again.next_review_at - NOW > passed.next_review_at - NOW


def test_decisions_update_progress() -> None:
    def decision(status: str, p: float) -> GateDecision:
        return GateDecision(status, p, ("r",), (), 0, None, None)  # type: ignore[arg-type]

    state = SkillProgress()
    state = record_decision(state, decision("remediate", 0.1), now=NOW)
    assert (state.attempts, state.remediations, state.mastered) == (1, 1, False)
    state = record_decision(state, decision("mastered", 0.97), now=NOW)
    assert state.mastered and state.mastered_at == NOW and state.remediations == 0
    assert state.next_review_at == NOW + ReviewSchedule().interval(0)


def test_course_complete_when_everything_is_mastered() -> None:
    everything = {s.id: replace(MASTERED, next_review_at=NOW + timedelta(days=30)) for s in FRACTIONS.skills}
    assert course_complete(FRACTIONS, everything)
    assert next_skill(FRACTIONS, everything, now=NOW) is None
    assert not course_complete(FRACTIONS, {"equivalent": MASTERED})


# ---------------------------------------------------------------- property: prerequisites

progress_values = st.builds(
    SkillProgress,
    attempts=st.integers(0, 5),
    p_known=st.floats(0, 1),
    mastered=st.booleans(),
    next_review_at=st.one_of(st.none(), st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=1)])),
    remediations=st.integers(0, 3),
)


@settings(max_examples=300, deadline=None)
@given(progress=st.dictionaries(st.sampled_from([s.id for s in FRACTIONS.skills]), progress_values))
def test_never_opens_a_skill_with_unmastered_prerequisites(progress: dict[str, SkillProgress]) -> None:
    """new/continue: an unmastered skill whose prerequisites are all mastered;
    review/step_back: a skill that is already mastered (a re-check, not new work)."""
    choice = next_skill(FRACTIONS, progress, now=NOW)
    state = {s.id: progress.get(s.id, SkillProgress()) for s in FRACTIONS.skills}
    if choice is None:
        assert all(p.mastered for p in state.values())
        return
    if choice.reason in ("new", "continue"):
        assert not state[choice.skill_id].mastered
        assert all(state[pre].mastered for pre in FRACTIONS.skill(choice.skill_id).prerequisites)
    else:
        assert state[choice.skill_id].mastered
    if choice.reason == "step_back":
        assert choice.from_skill is not None
        assert choice.skill_id in FRACTIONS.skill(choice.from_skill).prerequisites
