"""The gate's reasons add up: what is listed as unmet is unmet, and the headline's count agrees with the lines."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tutor.course.models import BKTParams, MasteryCriterion
from tutor.mastery.gate import Attempt, decide, explain, unmet

PARAMS = BKTParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1)
RULE = MasteryCriterion(threshold=0.98, min_items=3, window=5, bar=0.8, max_consecutive_misses=2)

criteria = st.builds(
    MasteryCriterion,
    threshold=st.floats(0.5, 0.99),
    min_items=st.integers(1, 6),
    window=st.integers(1, 8),
    bar=st.floats(0.5, 1.0),
    max_consecutive_misses=st.integers(1, 4),
)
params = st.builds(BKTParams, prior=st.floats(0.01, 0.9), learn=st.floats(0.01, 0.5),
                   guess=st.floats(0.01, 0.4), slip=st.floats(0.01, 0.4))
histories = st.lists(
    st.builds(Attempt, item_id=st.sampled_from("abcdef"), form=st.just("A"), correct=st.booleans()), max_size=14
)
_COUNT = re.compile(r": (\d+) more right answers? would do it$")
_HEADLINE = re.compile(r"^not yet: (\d+) more right answers? on new questions needed$")


def _percentages(text: str) -> list[str]:
    return re.findall(r"(\d+(?:\.\d+)?)%", text)


def test_an_estimate_just_below_the_threshold_never_reads_as_the_threshold() -> None:
    [estimate] = [u for u in unmet(0.9795, 3, [True] * 3, RULE, PARAMS) if u.name == "estimate"]
    have, need = _percentages(estimate.text)[:2]
    assert have != need
    assert estimate.text.startswith("estimated mastery 97")


def test_one_wrong_answer_is_not_reported_as_0_of_the_last_1_needing_1() -> None:
    reasons = decide([Attempt("a", "A", False)], RULE, PARAMS).reasons
    assert not any("of the last 1 answers" in r or "(needs 1)" in r for r in reasons), reasons


def test_the_headline_count_is_the_largest_count_below_it() -> None:
    reasons = decide([Attempt("a", "A", True)], RULE, PARAMS).reasons
    headline = _HEADLINE.match(reasons[0])
    assert headline is not None
    counts = [int(m.group(1)) for r in reasons[1:] if (m := _COUNT.search(r))]
    assert counts and int(headline.group(1)) == max(counts)


@settings(max_examples=300, deadline=None)
@given(history=histories, rule=criteria, skill=params)
def test_what_is_listed_as_unmet_is_unmet(history: list[Attempt], rule: MasteryCriterion, skill: BKTParams) -> None:
    decision = decide(history, rule, skill)
    assume(decision.status != "mastered")
    answers = [a.correct for a in history]
    for gap in unmet(decision.p_known, decision.distinct_items, answers, rule, skill):
        assert gap.have < gap.need, gap
        assert gap.text in decision.reasons
        if gap.name == "estimate":
            have, need = _percentages(gap.text)[:2]
            assert have != need, gap.text
        if gap.name == "last":
            assert not answers[-1]
        if gap.name == "window":
            assert "of the last 1 answers" not in gap.text


@settings(max_examples=300, deadline=None)
@given(history=histories, rule=criteria, skill=params)
def test_counts_agree_and_that_many_right_answers_master_the_skill(
        history: list[Attempt], rule: MasteryCriterion, skill: BKTParams) -> None:
    assume(skill.guess + skill.slip < 1)  # a right answer then never lowers the estimate
    decision = decide(history, rule, skill)
    assume(decision.status != "mastered" and decision.answers_needed is not None)
    needed = decision.answers_needed
    headline = [m for r in decision.reasons if (m := _HEADLINE.match(r))]
    assert len(headline) == 1 and int(headline[0].group(1)) == needed
    counts = [int(m.group(1)) for r in decision.reasons if (m := _COUNT.search(r))]
    assert max(counts + [1]) == needed
    more = [Attempt(f"new{i}", "A", True) for i in range(needed)]
    assert decide(history + more, rule, skill).status == "mastered"
    if needed > 1:
        assert decide(history + more[:-1], rule, skill).status != "mastered"


@given(history=histories, rule=criteria)
def test_explain_is_what_the_gate_says(history: list[Attempt], rule: MasteryCriterion) -> None:
    decision = decide(history, rule, PARAMS)
    assume(decision.status == "practice")
    answers = [a.correct for a in history]
    assert explain("practice", decision.p_known, decision.distinct_items, answers, rule, PARAMS) == (
        decision.reasons, decision.answers_needed)
