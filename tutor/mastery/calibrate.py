"""Calibration: fit BKT parameters per skill from logged attempts, with sane bounds, and report them.

`tutor calibrate --course ID` reads the attempt log, groups each learner's answers per skill in the
order given, and calls `calibrate`; `report` turns the results into a table a content team can read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tutor.course.models import BKTParams
from tutor.mastery.bkt import BKT, Bounds

MIN_LEARNERS = 30  # fewer learners than this: too little data to trust the fit
MIN_ANSWERS = 200
CALIBRATION_BOUNDS = Bounds()  # guess and slip at most 0.45


@dataclass(frozen=True)
class CalibrationResult:
    """The fitted parameters of one skill and how far to trust them."""

    skill_id: str
    params: BKTParams
    learners: int
    answers: int
    log_likelihood: float
    iterations: int
    converged: bool
    at_bounds: tuple[str, ...]  # parameters stuck at a bound: the data may not support the model
    enough_data: bool

    @property
    def trusted(self) -> bool:
        return self.enough_data and self.converged


def calibrate(
    sequences_by_skill: Mapping[str, Sequence[Sequence[bool] | NDArray[np.generic]]],
    *,
    forgets: bool = False,
    num_fits: int = 5,
    seed: int = 0,
    bounds: Bounds = CALIBRATION_BOUNDS,
) -> dict[str, CalibrationResult]:
    """Fit prior, learn, guess, slip (and forget) per skill by EM with `num_fits` restarts.

    Each value of `sequences_by_skill` holds one list of answers (True = right) per learner, oldest first.
    Skills without any answer are left out.
    """
    model = BKT(forgets=forgets, num_fits=num_fits, seed=seed, bounds=bounds).fit(sequences_by_skill)
    results: dict[str, CalibrationResult] = {}
    for skill, params in model.params_.items():
        info = model.fit_info_[skill]
        stuck = tuple(
            name
            for name, value, limit in (
                ("guess", params.guess, bounds.max_guess),
                ("slip", params.slip, bounds.max_slip),
            )
            if value >= limit - 1e-6
        )
        results[skill] = CalibrationResult(
            skill_id=skill,
            params=params,
            learners=info.n_sequences,
            answers=info.n_answers,
            log_likelihood=info.log_likelihood,
            iterations=info.iterations,
            converged=info.converged,
            at_bounds=stuck,
            enough_data=info.n_sequences >= MIN_LEARNERS and info.n_answers >= MIN_ANSWERS,
        )
    return results


def report(results: Mapping[str, CalibrationResult], current: Mapping[str, BKTParams] | None = None) -> str:
    """A plain-text table of fitted parameters (and the current ones, when given) with warnings."""
    header = f"{'skill':<28}{'learners':>9}{'answers':>9}  {'prior':>6}{'learn':>7}{'guess':>7}{'slip':>7}{'forget':>7}"
    lines = [header, "-" * len(header)]
    notes: list[str] = []
    for skill, result in results.items():
        p = result.params
        lines.append(
            f"{skill:<28}{result.learners:>9}{result.answers:>9}  "
            f"{p.prior:>6.2f}{p.learn:>7.2f}{p.guess:>7.2f}{p.slip:>7.2f}{p.forget:>7.2f}"
        )
        if current and skill in current:
            c = current[skill]
            values = f"{c.prior:>6.2f}{c.learn:>7.2f}{c.guess:>7.2f}{c.slip:>7.2f}{c.forget:>7.2f}"
            lines.append(f"{'  (now in the course)':<46}{values}")
        if not result.enough_data:
            notes.append(
                f"{skill}: only {result.learners} learners / {result.answers} answers; keep the course values "
                f"until there are at least {MIN_LEARNERS} learners and {MIN_ANSWERS} answers"
            )
        if not result.converged:
            notes.append(f"{skill}: the fit did not settle in {result.iterations} rounds; treat it as rough")
        if result.at_bounds:
            notes.append(
                f"{skill}: {', '.join(result.at_bounds)} hit the upper limit; questions may be too easy to guess "
                "or the skill may mix several skills"
            )
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)
