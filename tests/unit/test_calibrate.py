"""Calibration from logged attempts: recovers known parameters, flags thin data, reports in plain text."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.course.models import BKTParams
from tutor.mastery.calibrate import calibrate, report


def simulate(params: BKTParams, learners: int, attempts: int, seed: int) -> list[list[bool]]:
    rng = np.random.default_rng(seed)
    known = rng.random(learners) < params.prior
    answers = np.zeros((learners, attempts), dtype=bool)
    for t in range(attempts):
        answers[:, t] = rng.random(learners) < np.where(known, 1 - params.slip, params.guess)
        known |= rng.random(learners) < params.learn
    return [list(row) for row in answers]


def test_recovers_learn_guess_slip_within_005() -> None:
    truth = BKTParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1)
    result = calibrate({"fractions": simulate(truth, 2000, 20, seed=11)}, seed=0)["fractions"]
    for name in ("learn", "guess", "slip", "prior"):
        assert getattr(result.params, name) == pytest.approx(getattr(truth, name), abs=0.05), name
    assert result.trusted
    assert (result.learners, result.answers) == (2000, 40000)


def test_thin_data_is_flagged_and_reported() -> None:
    results = calibrate({"rare": [[True, False, True]] * 5, "empty": []})
    assert set(results) == {"rare"}
    assert not results["rare"].enough_data
    text = report(results, current={"rare": BKTParams()})
    assert "rare" in text and "only 5 learners" in text
    assert "(now in the course)" in text


def test_guess_and_slip_respect_the_bounds() -> None:
    noisy = [[bool(x) for x in np.random.default_rng(i).integers(0, 2, 8)] for i in range(200)]
    params = calibrate({"coin": noisy})["coin"].params
    assert params.guess < 0.5 and params.slip < 0.5
