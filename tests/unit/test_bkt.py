"""Knowledge tracing: the per-answer update, per-kind guess rates, and the vectorised EM fit."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tutor.course.models import BKTParams, Choice, FreeResponseItem, MultipleChoiceItem, NumericItem, RubricPoint
from tutor.mastery.bkt import (
    BKT,
    GUESS_CAP,
    GroupParams,
    auc,
    forward,
    pack,
    params_for_item,
    rmse,
    smooth,
    trace,
    update,
)

DEFAULT = BKTParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1)

probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
below_half = st.floats(min_value=0.0, max_value=0.49, allow_nan=False)


@st.composite
def bkt_params(draw: st.DrawFn, forget: bool = True) -> BKTParams:
    return BKTParams(
        prior=draw(probability),
        learn=draw(probability),
        guess=draw(below_half),
        slip=draw(below_half),
        forget=draw(probability) if forget else 0.0,
    )


# ---------------------------------------------------------------- golden values


def test_update_golden_values() -> None:
    # hand-computed: posterior by Bayes' rule, then p + (1 - p) * learn
    assert update(0.2, True, DEFAULT) == pytest.approx(0.6)  # 0.18 / 0.34 = 0.52941 -> 0.6
    assert update(0.2, False, DEFAULT) == pytest.approx(0.175758, abs=1e-6)  # 0.02 / 0.66 = 0.030303
    assert update(0.6, True, DEFAULT) == pytest.approx(0.890323, abs=1e-6)  # 0.54 / 0.62 = 0.870968


def test_update_golden_trace() -> None:
    assert trace([True, True, True], DEFAULT) == pytest.approx([0.6, 0.890323, 0.977351], abs=1e-5)


def test_forgetting_pulls_a_sure_learner_down() -> None:
    params = DEFAULT.model_copy(update={"forget": 0.1})
    assert update(1.0, True, params) == pytest.approx(0.9)


def test_impossible_answer_leaves_estimate_unchanged() -> None:
    sure = BKTParams(prior=1.0, learn=0.0, guess=0.0, slip=0.0)
    assert update(1.0, False, sure) == 1.0


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(p=probability, correct=st.booleans(), params=bkt_params())
def test_posterior_stays_a_probability(p: float, correct: bool, params: BKTParams) -> None:
    assert 0.0 <= update(p, correct, params) <= 1.0


@settings(max_examples=300, deadline=None)
@given(p=probability, params=bkt_params(forget=False))
def test_right_answer_never_lowers_mastery_without_forgetting(p: float, params: BKTParams) -> None:
    assert params.guess + params.slip < 1
    assert update(p, True, params) >= p - 1e-12


@settings(max_examples=300, deadline=None)
@given(p=probability, params=bkt_params())
def test_right_answer_counts_at_least_as_much_as_a_wrong_one(p: float, params: BKTParams) -> None:
    assume(params.learn + params.forget <= 1)
    assert update(p, True, params) >= update(p, False, params) - 1e-12


@settings(max_examples=100, deadline=None)
@given(answers=st.lists(st.booleans(), min_size=1, max_size=30), params=bkt_params())
def test_trace_stays_in_unit_interval(answers: list[bool], params: BKTParams) -> None:
    assert all(0.0 <= p <= 1.0 for p in trace(answers, params))


# ---------------------------------------------------------------- per-kind guess rates


def _choice_item(n: int) -> MultipleChoiceItem:
    choices = [Choice(text=str(i), correct=i == 0) for i in range(n)]
    return MultipleChoiceItem(id="q", form="A", prompt="?", kind="multiple_choice", choices=choices)


def test_multiple_choice_guess_is_at_least_chance() -> None:
    assert params_for_item(_choice_item(4), DEFAULT).guess == pytest.approx(0.25)
    assert params_for_item(_choice_item(10), DEFAULT).guess == pytest.approx(0.2)  # skill's own is higher


def test_true_false_guess_is_capped_below_half() -> None:
    assert params_for_item(_choice_item(2), DEFAULT).guess == GUESS_CAP < 0.5


def test_open_answers_are_hard_to_guess() -> None:
    numeric = NumericItem(id="n", form="A", prompt="?", kind="numeric", answer=3)
    essay = FreeResponseItem(
        id="f", form="A", prompt="?", kind="free_response", reference="r", rubric=[RubricPoint(point="p")]
    )
    assert params_for_item(numeric, DEFAULT).guess <= 0.05
    assert params_for_item(essay, DEFAULT).guess <= 0.1
    assert params_for_item(numeric, DEFAULT).slip == DEFAULT.slip


# ---------------------------------------------------------------- vectorised passes


def _brute_force(seq: list[bool], p: BKTParams) -> tuple[float, list[float]]:
    """Log-likelihood and smoothed p(known) by enumerating every hidden path."""
    total = 0.0
    known = [0.0] * len(seq)
    for path in itertools.product([False, True], repeat=len(seq)):
        prob = p.prior if path[0] else 1 - p.prior
        for t, (state, y) in enumerate(zip(path, seq, strict=True)):
            if t:
                before = path[t - 1]
                if before:
                    prob *= (1 - p.forget) if state else p.forget
                else:
                    prob *= p.learn if state else (1 - p.learn)
            prob *= ((1 - p.slip) if y else p.slip) if state else (p.guess if y else 1 - p.guess)
        total += prob
        for t, state in enumerate(path):
            known[t] += prob * state
    return math.log(total), [k / total for k in known]


def test_forward_backward_matches_brute_force() -> None:
    params = BKTParams(prior=0.3, learn=0.2, guess=0.25, slip=0.1, forget=0.05)
    seqs = [[True, False, True, True], [False, False], [True], [True, True, False]]
    packed = pack(seqs)
    smoothed = smooth(packed, GroupParams.of([params]))
    order = packed.flat_index()
    log_likelihood = np.log(smoothed.forward.evidence)[order]
    known = smoothed.known[order]
    offset = 0
    for seq in seqs:
        expected_ll, expected_known = _brute_force(seq, params)
        assert log_likelihood[offset : offset + len(seq)].sum() == pytest.approx(expected_ll)
        assert known[offset : offset + len(seq)] == pytest.approx(expected_known)
        offset += len(seq)


def test_forward_predictions_use_only_earlier_answers() -> None:
    seqs = [[True, False, True], [False, True, True, True, False]]
    fw = forward(pack(seqs), GroupParams.of([DEFAULT]))
    predicted = fw.predicted[pack(seqs).flat_index()]
    expected = []
    for seq in seqs:
        p = DEFAULT.prior
        for y in seq:
            expected.append(p)
            p = update(p, y, DEFAULT)
    assert predicted == pytest.approx(expected)


def _odds_log_likelihood(seq: list[bool], p: BKTParams) -> float:
    """Reference log-likelihood tracked as odds(unknown : known), which cannot round to a sure state."""
    odds = (1 - p.prior) / p.prior
    total = 0.0
    for y in seq:
        like_k = (1 - p.slip) if y else p.slip
        like_u = p.guess if y else (1 - p.guess)
        total += math.log(like_k + odds * like_u) - math.log1p(odds)
        odds *= like_u / like_k
        odds = odds * (1 - p.learn) / (1 + odds * p.learn)  # no forgetting
    return total


def test_long_runs_do_not_saturate() -> None:
    """After a long run of right answers the chance of 'unknown' stays tiny but not zero, so the
    likelihood of the wrong answers that follow is right (a p == 1.0 trap would make it far lower)."""
    params = BKTParams(prior=0.3, learn=0.3, guess=0.45, slip=1e-4)
    seq = [True] * 60 + [False] * 15
    fw = forward(pack([seq]), GroupParams.of([params]))
    assert np.log(fw.evidence).sum() == pytest.approx(_odds_log_likelihood(seq, params), rel=1e-9)


def _simulate(params: BKTParams, n: int, horizon: int, seed: int) -> list[list[bool]]:
    rng = np.random.default_rng(seed)
    state = rng.random(n) < params.prior
    answers = np.zeros((n, horizon), dtype=bool)
    for t in range(horizon):
        answers[:, t] = rng.random(n) < np.where(state, 1 - params.slip, params.guess)
        state = np.where(state, rng.random(n) >= params.forget, rng.random(n) < params.learn)
    return [list(row) for row in answers]


def test_fit_recovers_known_parameters() -> None:
    truth = BKTParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1)
    model = BKT(num_fits=3, seed=1).fit({"s": _simulate(truth, 1000, 15, seed=2)})
    fitted = model.params_["s"]
    for name in ("prior", "learn", "guess", "slip"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), abs=0.05), name
    assert fitted.forget == 0.0


def test_fit_with_forgetting_recovers_forget_rate() -> None:
    truth = BKTParams(prior=0.4, learn=0.2, guess=0.15, slip=0.1, forget=0.1)
    model = BKT(forgets=True, num_fits=3, seed=1).fit({"s": _simulate(truth, 1500, 20, seed=3)})
    assert model.params_["s"].forget == pytest.approx(0.1, abs=0.05)


def test_fit_keeps_guess_and_slip_below_half() -> None:
    # answers that are mostly right whatever the state push guess up; the bound holds it
    data = {"s": [[True, True, False, True, True, True]] * 50 + [[True] * 6] * 50}
    params = BKT(num_fits=2).fit(data).params_["s"]
    assert params.guess < 0.5 and params.slip < 0.5


def test_fit_handles_several_skills_at_once() -> None:
    easy = BKTParams(prior=0.6, learn=0.3, guess=0.3, slip=0.05)
    hard = BKTParams(prior=0.1, learn=0.05, guess=0.1, slip=0.2)
    model = BKT(num_fits=2, seed=0).fit({"easy": _simulate(easy, 600, 10, 4), "hard": _simulate(hard, 600, 10, 5)})
    assert model.params_["easy"].prior > model.params_["hard"].prior
    assert model.fit_info_["easy"].n_sequences == 600


def test_predict_and_evaluate() -> None:
    truth = BKTParams(prior=0.3, learn=0.2, guess=0.2, slip=0.1)
    model = BKT(num_fits=2).fit({"s": _simulate(truth, 500, 10, 6)})
    test = {"s": _simulate(truth, 300, 10, 7), "unknown-skill": [[True]]}
    predictions = model.predict(test)
    assert set(predictions) == {"s"}
    assert [len(p) for p in predictions["s"]] == [10] * 300
    assert 0.6 < model.evaluate(test, "auc") < 1.0
    assert 0.0 < model.evaluate(test, "rmse") < 0.5


def test_each_skill_is_predicted_with_its_own_parameters() -> None:
    easy = BKTParams(prior=0.7, learn=0.3, guess=0.3, slip=0.05)
    hard = BKTParams(prior=0.1, learn=0.05, guess=0.1, slip=0.3)
    model = BKT(num_fits=1).fit({"easy": _simulate(easy, 300, 8, 8), "hard": _simulate(hard, 300, 8, 9)})
    test = {"easy": _simulate(easy, 50, 8, 10), "hard": _simulate(hard, 50, 8, 11)}
    together = model.predict(test)
    for skill in test:
        alone = model.predict({skill: test[skill]})[skill]
        assert np.concatenate(together[skill]) == pytest.approx(np.concatenate(alone))
        assert np.concatenate(alone).max() <= 1 - model.params_[skill].slip + 1e-12


def test_auc_and_rmse() -> None:
    y = np.array([1, 0, 1, 1, 0])
    assert auc(y, np.array([0.9, 0.1, 0.8, 0.7, 0.2])) == 1.0
    assert auc(y, np.array([0.9, 0.1, 0.5, 0.5, 0.5])) == pytest.approx(5 / 6)  # ties count half
    assert math.isnan(auc(np.array([1, 1]), np.array([0.2, 0.3])))
    assert rmse(np.array([1, 0]), np.array([1.0, 0.0])) == 0.0
