"""The mastery gate: mastered / practice / remediate, its reasons, and the batch version's agreement."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tutor.course.models import BKTParams, Choice, MasteryCriterion, MultipleChoiceItem
from tutor.mastery.gate import STATUS_CODES, Attempt, decide, decide_batch

PARAMS = BKTParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1)
RULE = MasteryCriterion(threshold=0.95, min_items=3, window=5, bar=0.8, max_consecutive_misses=2)


def attempts(answers: str, *, tag: str | None = None) -> list[Attempt]:
    """'1' right, '0' wrong; each attempt on a new item q0, q1, ..."""
    return [
        Attempt(item_id=f"q{i}", form="A", correct=c == "1", misconception=tag if c == "0" else None)
        for i, c in enumerate(answers)
    ]


def test_three_right_answers_on_new_items_master_the_skill() -> None:
    decision = decide(attempts("111"), RULE, PARAMS)
    assert decision.status == "mastered"
    assert decision.p_known >= 0.95
    assert decision.distinct_items == 3
    assert decision.reasons[0].startswith("mastered")


def test_no_attempts_means_practice_with_a_plain_reason() -> None:
    decision = decide([], RULE, PARAMS)
    assert decision.status == "practice"
    assert decision.recent_accuracy is None
    assert "not yet: 3 more right answers on new questions needed" in decision.reasons


def test_reason_counts_the_right_answers_still_needed() -> None:
    decision = decide(attempts("1"), RULE, PARAMS)
    assert decision.status == "practice"
    assert decision.answers_needed == 2
    assert decision.reasons[0] == "not yet: 2 more right answers on new questions needed"


def test_the_same_item_answered_again_does_not_count_twice() -> None:
    same = [Attempt(item_id="q0", form="A", correct=True)] * 6
    decision = decide(same, RULE, PARAMS)
    assert decision.status == "practice"
    assert decision.distinct_items == 1
    assert any("1 different question (needs 3)" in reason for reason in decision.reasons)


def test_last_answer_wrong_blocks_mastery() -> None:
    decision = decide(attempts("1111110"), RULE, PARAMS)
    assert decision.status == "practice"
    assert "the last answer was wrong" in decision.reasons


def test_two_misses_in_a_row_trigger_remediation_with_misconceptions() -> None:
    decision = decide(attempts("100", tag="adds_denominators"), RULE, PARAMS)
    assert decision.status == "remediate"
    assert decision.misconceptions == ("adds_denominators",)
    assert decision.reasons[0] == "let's look at this again: 2 wrong answers in a row"
    assert "mistakes seen: adds denominators" in decision.reasons


def test_low_accuracy_over_the_window_triggers_remediation() -> None:
    decision = decide(attempts("10101"), RULE, PARAMS)
    assert decision.status == "remediate"
    assert "only 3 of the last 5 answers right" in decision.reasons[0]


def test_remediation_starts_a_fresh_count() -> None:
    # remediated after "00"; one more miss right after is not yet a new remediation
    assert decide(attempts("000"), RULE, PARAMS).status == "practice"
    assert decide(attempts("0000"), RULE, PARAMS).status == "remediate"
    # after remediation, right answers are not judged against the old misses
    assert decide(attempts("00111"), RULE, PARAMS).status != "remediate"


def test_misconceptions_most_frequent_first() -> None:
    history = [
        Attempt("a", "A", False, "x"),
        Attempt("b", "A", True),
        Attempt("c", "A", False, "y"),
        Attempt("d", "A", True),
        Attempt("e", "A", False, "y"),
    ]
    assert decide(history, RULE, PARAMS).misconceptions == ("y", "x")


def test_multiple_choice_needs_more_evidence_than_open_answers() -> None:
    item = MultipleChoiceItem(
        id="mc",
        form="A",
        prompt="?",
        kind="multiple_choice",
        choices=[Choice(text="yes", correct=True), Choice(text="no")],
    )
    guessable = [Attempt.of(item.model_copy(update={"id": f"mc{i}"}), True) for i in range(3)]
    open_answers = [Attempt(f"n{i}", "A", True, kind="numeric") for i in range(3)]
    assert decide(open_answers, RULE, PARAMS).p_known > decide(guessable, RULE, PARAMS).p_known
    assert decide(guessable, RULE, PARAMS).status == "practice"


def test_attempt_of_records_the_item_misconception_on_a_wrong_answer() -> None:
    item = MultipleChoiceItem(
        id="mc", form="B", prompt="?", kind="multiple_choice", misconception="m",
        choices=[Choice(text="a", correct=True), Choice(text="b"), Choice(text="c")],
    )
    assert Attempt.of(item, False) == Attempt("mc", "B", False, "m", "multiple_choice", 1 / 3)
    assert Attempt.of(item, True).misconception is None


# ---------------------------------------------------------------- properties

criteria = st.builds(
    MasteryCriterion,
    threshold=st.floats(0.5, 0.99),
    min_items=st.integers(1, 6),
    window=st.integers(1, 8),
    bar=st.floats(0.5, 1.0),
    max_consecutive_misses=st.integers(1, 4),
)
histories = st.lists(
    st.builds(Attempt, item_id=st.sampled_from("abcdef"), form=st.just("A"), correct=st.booleans()),
    max_size=25,
)
mostly_right = st.lists(
    st.builds(Attempt, item_id=st.sampled_from("abcdef"), form=st.just("A"),
              correct=st.sampled_from([True, True, True, False])),
    max_size=25,
)
"""Histories where mastery is often reached, so the properties about mastered decisions check something."""
ending_wrong = st.builds(
    lambda history, item: [*history, Attempt(item_id=item, form="A", correct=False)],
    mostly_right, st.sampled_from("abcdef"),
)
ending_right = st.builds(
    lambda history, items: [*history, *(Attempt(item_id=item, form="A", correct=True) for item in items)],
    mostly_right, st.permutations("abcdef"),
)
"""Six right answers on six different questions last: mastered under most rules, not all."""


@st.composite
def too_few_items(draw: st.DrawFn) -> tuple[list[Attempt], MasteryCriterion]:
    """A rule and a history with right answers on fewer different questions than the rule's `min_items`."""
    rule = draw(criteria)
    allowed = "abcdef"[: rule.min_items - 1]
    history = [Attempt(a.item_id, a.form, a.correct and a.item_id in allowed) for a in draw(mostly_right)]
    return history, rule


@settings(max_examples=200, deadline=None)
@given(history=ending_wrong, rule=criteria)
def test_never_mastered_when_last_answer_wrong(history: list[Attempt], rule: MasteryCriterion) -> None:
    assert decide(history, rule, PARAMS).status != "mastered"


@settings(max_examples=200, deadline=None)
@given(case=too_few_items())
def test_never_mastered_with_too_few_distinct_items(case: tuple[list[Attempt], MasteryCriterion]) -> None:
    history, rule = case
    assert decide(history, rule, PARAMS).status != "mastered"


@settings(max_examples=200, deadline=None)
@given(history=st.one_of(mostly_right, ending_right), rule=criteria)
def test_a_mastered_decision_meets_every_part_of_the_rule(history: list[Attempt], rule: MasteryCriterion) -> None:
    decision = decide(history, rule, PARAMS)
    assume(decision.status == "mastered")
    assert decision.distinct_items >= rule.min_items
    assert decision.p_known >= rule.threshold
    assert history[-1].correct
    assert decision.answers_needed is None


@settings(max_examples=200, deadline=None)
@given(history=histories, rule=criteria)
def test_decision_is_a_probability_with_reasons(history: list[Attempt], rule: MasteryCriterion) -> None:
    decision = decide(history, rule, PARAMS)
    assert 0.0 <= decision.p_known <= 1.0
    assert decision.reasons


@settings(max_examples=200, deadline=None)
@given(history=histories, rule=criteria)
def test_an_unmastered_decision_needs_at_least_one_more_answer(history: list[Attempt], rule: MasteryCriterion) -> None:
    decision = decide(history, rule, PARAMS)
    assume(decision.status != "mastered")
    assert decision.answers_needed is None or decision.answers_needed >= 1


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=12, max_size=12), min_size=1, max_size=8
    ),
    rule=criteria,
)
def test_batch_gate_agrees_with_decide(rows: list[list[tuple[bool, int]]], rule: MasteryCriterion) -> None:
    correct = np.array([[c for c, _ in row] for row in rows], dtype=bool)
    item = np.array([[i for _, i in row] for row in rows], dtype=np.intp)
    statuses, p = decide_batch(correct, item, rule, PARAMS)
    for r, row in enumerate(rows):
        history = [Attempt(item_id=str(i), form="A", correct=c) for c, i in row]
        for t in range(len(row)):
            decision = decide(history[: t + 1], rule, PARAMS)
            assert statuses[r, t] == STATUS_CODES[decision.status]
            assert p[r, t] == decision.p_known


def test_open_answer_questions_need_fewer_right_answers_than_guessable_ones() -> None:
    numeric = [Attempt("n0", "A", True, kind="numeric")]
    plain = [Attempt("p0", "A", True)]
    rule = MasteryCriterion()  # the course default
    assert decide(numeric, rule, PARAMS).answers_needed == 2  # min_items: three different questions
    assert decide(plain, rule, PARAMS).answers_needed == 3  # 98% takes four right answers at guess 0.2


def test_misconception_tags_read_as_words_in_the_reasons() -> None:
    decision = decide(attempts("100", tag="numerator-denominator-swap"), RULE, PARAMS)
    assert "mistakes seen: numerator denominator swap" in decision.reasons
