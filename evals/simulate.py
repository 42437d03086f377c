"""Simulated learners: a hidden known/unknown state per learner that follows the BKT generative model.

Each learner belongs to a profile (fast, average, slow, lucky guesser, careless slipper, missing a
prerequisite) and draws their own parameters around the profile's centre, which is itself set relative
to the course defaults. The gate never sees these parameters: it only sees the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tutor.course.models import BKTParams

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Profile:
    """A kind of learner: how their parameters differ from the course defaults (on the logit scale)."""

    name: str
    weight: float  # share of the population
    prior_shift: float = 0.0  # added to logit(prior)
    learn_scale: float = 1.0  # multiplies learn
    guess: float | None = None  # replaces the course's guess rate
    slip: float | None = None  # replaces the course's slip rate
    can_learn: bool = True  # False: a missing prerequisite blocks learning entirely


PROFILES: tuple[Profile, ...] = (
    Profile("fast", 0.15, prior_shift=0.8, learn_scale=2.0),
    Profile("average", 0.30),
    Profile("slow", 0.15, prior_shift=-0.5, learn_scale=0.35),
    Profile("lucky_guesser", 0.15, guess=0.35),
    Profile("careless_slipper", 0.15, slip=0.25),
    Profile("missing_prerequisite", 0.10, prior_shift=-2.5, can_learn=False),
)
SPREAD = 0.35  # standard deviation of each learner's parameters around the profile, on the logit scale


def _logit(p: FloatArray | float) -> FloatArray:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    result: FloatArray = np.log(q / (1 - q))
    return result


def _expit(x: FloatArray) -> FloatArray:
    result: FloatArray = 1 / (1 + np.exp(-x))
    return result


@dataclass(frozen=True)
class Learners:
    """Hidden parameters of n simulated learners (arrays of length n)."""

    profile: NDArray[np.intp]  # index into `profiles`
    prior: FloatArray
    learn: FloatArray
    guess: FloatArray
    slip: FloatArray
    profiles: tuple[Profile, ...]

    @property
    def n(self) -> int:
        return int(self.profile.size)


def draw_learners(
    n: int, base: BKTParams, rng: np.random.Generator, profiles: Sequence[Profile] = PROFILES
) -> Learners:
    """n learners from the profile mix, each with parameters drawn around their profile's centre."""
    weights = np.array([p.weight for p in profiles], dtype=np.float64)
    which = rng.choice(len(profiles), size=n, p=weights / weights.sum())

    def centre(values: list[float]) -> FloatArray:
        return np.asarray(values, dtype=np.float64)[which]

    def jitter(centre_values: FloatArray, low: float, high: float) -> FloatArray:
        drawn = _expit(_logit(centre_values) + rng.normal(0.0, SPREAD, size=n))
        return np.clip(drawn, low, high)

    prior = jitter(_expit(_logit(base.prior) + centre([p.prior_shift for p in profiles])), 0.0, 1.0)
    learn_centre = centre([min(0.95, base.learn * p.learn_scale) for p in profiles])
    learn = jitter(learn_centre, 0.0, 1.0) * centre([1.0 if p.can_learn else 0.0 for p in profiles])
    guess = jitter(centre([p.guess if p.guess is not None else base.guess for p in profiles]), 0.0, 0.49)
    slip = jitter(centre([p.slip if p.slip is not None else base.slip for p in profiles]), 0.0, 0.49)
    return Learners(
        profile=which.astype(np.intp), prior=prior, learn=learn, guess=guess, slip=slip, profiles=tuple(profiles)
    )


def answer(learners: Learners, horizon: int, rng: np.random.Generator) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Run every learner through `horizon` items. Returns (known, correct), both n x horizon.

    known[i, t]: learner i knew the skill when answering item t; correct[i, t]: their answer was right.
    What happens after an answer does not depend on the policy, so all policies see the same learners.
    """
    n = learners.n
    known = np.zeros((n, horizon), dtype=bool)
    correct = np.zeros((n, horizon), dtype=bool)
    state = rng.random(n) < learners.prior
    for t in range(horizon):
        known[:, t] = state
        chance = np.where(state, 1 - learners.slip, learners.guess)
        correct[:, t] = rng.random(n) < chance
        state = state | (rng.random(n) < learners.learn)
    return known, correct


def simulate_sequences(
    params: BKTParams, n: int, horizon: int, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """n learners who all share `params` exactly (for parameter-recovery checks). Returns (known, correct)."""
    learners = Learners(
        profile=np.zeros(n, dtype=np.intp),
        prior=np.full(n, params.prior),
        learn=np.full(n, params.learn),
        guess=np.full(n, params.guess),
        slip=np.full(n, params.slip),
        profiles=(Profile("exact", 1.0),),
    )
    return answer(learners, horizon, rng)
