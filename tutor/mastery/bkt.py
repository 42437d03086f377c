"""Bayesian Knowledge Tracing: the per-attempt update and an EM fit vectorised with NumPy.

One learner, one skill: a hidden state, known or not. Before each answer the learner knows the skill
with probability p_known; a learner who knows it answers right unless they slip, one who does not
answers right only by a guess. After each answer they may learn it (and, with forgetting, lose it).

Names follow pyBKT and scikit-learn: prior, learn, guess, slip, forget; `BKT.fit/predict/evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tutor.course.models import BKTParams, ItemBase, MultipleChoiceItem

FloatArray = NDArray[np.float64]

# Guess rates per item kind. A multiple-choice question can be guessed at least at chance
# (1 / number of choices), capped below 0.5 so a right answer always counts as evidence; an open
# answer (a number, a word, a written explanation) is hard to guess, so its guess rate is capped low.
GUESS_CAP = 0.45
OPEN_ANSWER_GUESS = {"numeric": 0.05, "short_text": 0.1, "free_response": 0.1}

_EPS = 1e-9


# ---------------------------------------------------------------- one learner


def posterior(p_known: float, correct: bool, params: BKTParams) -> float:
    """p(known) given one more answer (Bayes' rule), before any learning.

    An answer the parameters call impossible (a wrong answer from a sure learner with slip 0) leaves
    p_known unchanged rather than dividing by zero.
    """
    if correct:
        known, unknown = p_known * (1 - params.slip), (1 - p_known) * params.guess
    else:
        known, unknown = p_known * params.slip, (1 - p_known) * (1 - params.guess)
    total = known + unknown
    if total <= 0:
        return p_known
    return min(1.0, max(0.0, known / total))


def transition(p_known: float, params: BKTParams) -> float:
    """p(known) after the learning (and forgetting) step that follows an attempt."""
    value = p_known * (1 - params.forget) + (1 - p_known) * params.learn
    return min(1.0, max(0.0, value))


def update(p_known: float, correct: bool, params: BKTParams) -> float:
    """p(known) after one graded attempt: the posterior given the answer, then the learning transition."""
    return transition(posterior(p_known, correct, params), params)


def p_correct(p_known: float, params: BKTParams) -> float:
    """Probability that the next answer is right."""
    return p_known * (1 - params.slip) + (1 - p_known) * params.guess


def trace(answers: Sequence[bool], params: BKTParams) -> list[float]:
    """p(known) after each answer, starting from the prior."""
    values: list[float] = []
    p = params.prior
    for correct in answers:
        p = update(p, correct, params)
        values.append(p)
    return values


@lru_cache(maxsize=4096)  # pure, on frozen parameters; the gate replays it for every attempt in a learner's ledger
def params_for_kind(skill_params: BKTParams, kind: str | None, chance: float | None = None) -> BKTParams:
    """The skill's parameters with the guess rate adjusted to the kind of question.

    - multiple choice: guess is at least `chance` (the odds of picking a right choice blindly),
      and at most GUESS_CAP;
    - numeric, short text, free response: guess is at most OPEN_ANSWER_GUESS[kind];
    - unknown kind (None or anything else): the skill's parameters unchanged.
    """
    guess = skill_params.guess
    if kind == "multiple_choice":
        guess = min(max(guess, chance if chance is not None else 0.0), GUESS_CAP)
    elif kind in OPEN_ANSWER_GUESS:
        guess = min(guess, OPEN_ANSWER_GUESS[kind])
    if guess == skill_params.guess:
        return skill_params
    return skill_params.model_copy(update={"guess": guess})


def chance_of(item: ItemBase) -> float | None:
    """The odds of answering an item right by picking blindly (multiple choice only)."""
    if isinstance(item, MultipleChoiceItem):
        n_correct = max(1, sum(choice.correct for choice in item.choices))
        return n_correct / len(item.choices)
    return None


def params_for_item(item: ItemBase, skill_params: BKTParams) -> BKTParams:
    """Parameters for an attempt at `item`: per-kind guess rate (see `params_for_kind`)."""
    kind = getattr(item, "kind", None)
    return params_for_kind(skill_params, kind if isinstance(kind, str) else None, chance_of(item))


# ---------------------------------------------------------------- metrics


def auc(truth: NDArray[np.generic], scores: NDArray[np.generic]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties share their average rank). NaN if one class is missing."""
    y = np.asarray(truth, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(s.size, dtype=np.float64)
    # average ranks over runs of equal scores
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [s.size]))
    average = (starts + ends + 1) / 2.0  # ranks are 1-based: mean of start+1 .. end
    ranks[order] = np.repeat(average, ends - starts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def rmse(truth: NDArray[np.generic], scores: NDArray[np.generic]) -> float:
    y = np.asarray(truth, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    return float(np.sqrt(np.mean((y - s) ** 2)))


# ---------------------------------------------------------------- packed sequences


@dataclass(frozen=True)
class Packed:
    """Many answer sequences in one flat, time-major array, longest first.

    Block t holds step t of the `active[t]` sequences still running, so every step of the forward and
    backward passes is one slice operation across learners, with no padding.
    """

    obs: NDArray[np.bool_]  # flat answers, block t = obs[starts[t]:starts[t] + active[t]]
    starts: NDArray[np.intp]  # offset of each step's block; len T + 1
    active: NDArray[np.intp]  # sequences still running at step t (non-increasing)
    group: NDArray[np.intp]  # group of each sequence, in packed (longest-first) order
    order: NDArray[np.intp]  # order[k] = input index of the sequence packed at position k
    lengths: NDArray[np.intp]  # lengths in packed order
    flat_group: NDArray[np.intp]  # group of each flat element
    has_next: NDArray[np.bool_]  # flat: the sequence goes on after this step
    first: NDArray[np.bool_]  # flat: step 0

    @property
    def n_sequences(self) -> int:
        return int(self.lengths.size)

    def subset(self, keep_group: NDArray[np.bool_]) -> Packed:
        """The sequences of the groups marked in `keep_group` (indexed by group), still packed."""
        keep_seq = keep_group[self.group]
        keep_flat = keep_group[self.flat_group]
        lengths = self.lengths[keep_seq]
        horizon = int(lengths[0]) if lengths.size else 0
        active = np.searchsorted(-lengths, -np.arange(horizon), side="left").astype(np.intp)
        kept_inputs = self.order[keep_seq]
        return Packed(
            obs=self.obs[keep_flat],
            starts=np.concatenate(([0], np.cumsum(active))).astype(np.intp),
            active=active,
            group=self.group[keep_seq],
            order=np.argsort(np.argsort(kept_inputs)).astype(np.intp),
            lengths=lengths,
            flat_group=self.flat_group[keep_flat],
            has_next=self.has_next[keep_flat],
            first=self.first[keep_flat],
        )

    def flat_index(self) -> NDArray[np.intp]:
        """Flat position of every answer, sequences concatenated in input order."""
        lengths_in = np.empty_like(self.lengths)
        lengths_in[self.order] = self.lengths
        packed_pos = np.empty_like(self.order)
        packed_pos[self.order] = np.arange(self.order.size)
        seq = np.repeat(packed_pos, lengths_in)
        step = _steps(lengths_in)
        result: NDArray[np.intp] = self.starts[step] + seq
        return result


def _steps(lengths: NDArray[np.intp]) -> NDArray[np.intp]:
    """0, 1, .., len-1 for each sequence, concatenated."""
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    offsets = np.repeat(ends - lengths, lengths)
    result: NDArray[np.intp] = np.arange(total, dtype=np.intp) - offsets
    return result


def pack(sequences: Sequence[Sequence[bool] | NDArray[np.generic]], groups: Sequence[int] | None = None) -> Packed:
    """Pack answer sequences (each a list of booleans or 0/1) with an optional group index each."""
    arrays = [np.asarray(seq, dtype=bool).ravel() for seq in sequences]
    lengths_in = np.array([a.size for a in arrays], dtype=np.intp)
    if np.any(lengths_in == 0):
        raise ValueError("empty answer sequence; drop learners without answers before fitting")
    group_in = np.zeros(len(arrays), dtype=np.intp) if groups is None else np.asarray(groups, dtype=np.intp)
    order = np.argsort(-lengths_in, kind="stable").astype(np.intp)
    lengths = lengths_in[order]
    horizon = int(lengths[0]) if lengths.size else 0
    # active[t] = number of sequences longer than t (lengths are sorted, longest first)
    active = np.searchsorted(-lengths, -np.arange(horizon), side="left").astype(np.intp)
    starts = np.concatenate(([0], np.cumsum(active))).astype(np.intp)
    packed_pos = np.empty_like(order)
    packed_pos[order] = np.arange(order.size)
    flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=bool)
    index = starts[_steps(lengths_in)] + np.repeat(packed_pos, lengths_in)
    obs = np.empty(flat.size, dtype=bool)
    obs[index] = flat
    group = group_in[order]
    steps_flat = np.repeat(np.arange(horizon, dtype=np.intp), active)
    within = np.arange(flat.size, dtype=np.intp) - starts[steps_flat]
    next_active = np.concatenate((active[1:], [0])).astype(np.intp)
    return Packed(
        obs=obs,
        starts=starts,
        active=active,
        group=group,
        order=order,
        lengths=lengths,
        flat_group=group[within],
        has_next=within < next_active[steps_flat],
        first=steps_flat == 0,
    )


@dataclass(frozen=True)
class GroupParams:
    """BKT parameters as arrays, one entry per group (a skill, or a skill x restart)."""

    prior: FloatArray
    learn: FloatArray
    guess: FloatArray
    slip: FloatArray
    forget: FloatArray

    @staticmethod
    def of(params: Sequence[BKTParams]) -> GroupParams:
        return GroupParams(
            prior=np.array([p.prior for p in params], dtype=np.float64),
            learn=np.array([p.learn for p in params], dtype=np.float64),
            guess=np.array([p.guess for p in params], dtype=np.float64),
            slip=np.array([p.slip for p in params], dtype=np.float64),
            forget=np.array([p.forget for p in params], dtype=np.float64),
        )

    def at(self, index: int) -> BKTParams:
        return BKTParams(
            prior=float(self.prior[index]),
            learn=float(self.learn[index]),
            guess=float(self.guess[index]),
            slip=float(self.slip[index]),
            forget=float(self.forget[index]),
        )


@dataclass(frozen=True)
class Forward:
    """Results of a forward pass, flat in packed order.

    Both states are carried (known and unknown), never one as 1 minus the other, so a learner who is
    almost surely known (or unknown) after a long run keeps an exact small probability of the other.
    """

    predicted: FloatArray  # p(known) before each answer, from earlier answers only
    predicted_unknown: FloatArray  # p(unknown) before each answer
    filtered: FloatArray  # p(known) after each answer (before the transition)
    filtered_unknown: FloatArray
    p_correct: FloatArray  # predicted probability of a right answer, from earlier answers only
    evidence: FloatArray  # p(this answer | earlier answers): the log-likelihood terms


def forward(packed: Packed, params: GroupParams) -> Forward:
    """Filter every sequence at once; each prediction uses only the answers before it."""
    g, fg, obs = packed.group, packed.flat_group, packed.obs
    prior, learn, forget = params.prior[g], params.learn[g], params.forget[g]
    stay_unknown, stay_known = 1 - learn, 1 - forget
    forgets = bool(np.any(forget > 0))
    slip, guess = params.slip[fg], params.guess[fg]
    like_k = np.where(obs, 1 - slip, slip)  # p(answer | known), per answer
    like_u = np.where(obs, guess, 1 - guess)  # p(answer | unknown)
    size = obs.size
    pred_k, pred_u = np.empty(size), np.empty(size)
    filt_k, filt_u = np.empty(size), np.empty(size)
    evidence = np.empty(size)
    scratch = np.empty(int(packed.active[0]) if packed.active.size else 0)
    starts, active = packed.starts, packed.active
    for t in range(active.size):
        n, lo = int(active[t]), int(starts[t])
        hi = lo + n
        pk, pu = pred_k[lo:hi], pred_u[lo:hi]
        if t == 0:
            pk[:] = prior[:n]
            np.subtract(1.0, prior[:n], out=pu)
        else:
            prev = int(starts[t - 1])
            k0, u0 = filt_k[prev : prev + n], filt_u[prev : prev + n]
            np.multiply(u0, learn[:n], out=pk)
            np.multiply(u0, stay_unknown[:n], out=pu)
            if forgets:
                tmp = scratch[:n]
                np.multiply(k0, stay_known[:n], out=tmp)
                pk += tmp
                np.multiply(k0, forget[:n], out=tmp)
                pu += tmp
            else:
                pk += k0
        jk, ju, ev = filt_k[lo:hi], filt_u[lo:hi], evidence[lo:hi]
        np.multiply(pk, like_k[lo:hi], out=jk)
        np.multiply(pu, like_u[lo:hi], out=ju)
        np.add(jk, ju, out=ev)
        jk /= ev
        ju /= ev
    p_right = pred_k * (1 - slip) + pred_u * guess
    return Forward(
        predicted=pred_k,
        predicted_unknown=pred_u,
        filtered=filt_k,
        filtered_unknown=filt_u,
        p_correct=p_right,
        evidence=evidence,
    )


@dataclass(frozen=True)
class Smoothed:
    """Forward-backward results, flat in packed order."""

    forward: Forward
    known: FloatArray  # p(known at t | all answers of the sequence)
    unknown: FloatArray  # p(unknown at t | all answers)
    gained: FloatArray  # p(unknown at t, known at t + 1 | all answers); 0 at a sequence's last step
    lost: FloatArray  # p(known at t, unknown at t + 1 | all answers); 0 at a sequence's last step


def smooth(packed: Packed, params: GroupParams) -> Smoothed:
    """Forward-backward over all sequences at once (the backward pass works on filtered probabilities)."""
    fw = forward(packed, params)
    g = packed.group
    learn, forget = params.learn[g], params.forget[g]
    stay_unknown, stay_known = 1 - learn, 1 - forget
    forgets = bool(np.any(forget > 0))
    inv_k = 1 / np.maximum(fw.predicted, 1e-300)
    inv_u = 1 / np.maximum(fw.predicted_unknown, 1e-300)
    known, unknown = fw.filtered.copy(), fw.filtered_unknown.copy()  # right at each sequence's last step
    gained = np.zeros_like(known)
    lost = np.zeros_like(known)
    width = int(packed.active[0]) if packed.active.size else 0
    up_buf, down_buf = np.empty(width), np.empty(width)
    starts, active = packed.starts, packed.active
    for t in range(active.size - 2, -1, -1):
        m = int(active[t + 1])
        lo, nxt = int(starts[t]), int(starts[t + 1])
        up, down = up_buf[:m], down_buf[:m]
        np.multiply(known[nxt : nxt + m], inv_k[nxt : nxt + m], out=up)  # p(known next | all) / p(known next | past)
        np.multiply(unknown[nxt : nxt + m], inv_u[nxt : nxt + m], out=down)
        a_k, a_u = fw.filtered[lo : lo + m], fw.filtered_unknown[lo : lo + m]
        gain, kn, un = gained[lo : lo + m], known[lo : lo + m], unknown[lo : lo + m]
        np.multiply(a_u, learn[:m], out=gain)
        gain *= up
        np.multiply(a_k, up, out=kn)
        if forgets:
            leave = lost[lo : lo + m]
            kn *= stay_known[:m]
            np.multiply(a_k, forget[:m], out=leave)
            leave *= down
            kn += leave
        np.multiply(a_u, stay_unknown[:m], out=un)
        un *= down
        un += gain
    return Smoothed(forward=fw, known=known, unknown=unknown, gained=gained, lost=lost)


@dataclass(frozen=True)
class Expected:
    """One E-step, per group: the log-likelihood and the M-step's (unbounded) re-estimates."""

    log_likelihood: FloatArray
    params: GroupParams


def e_step(packed: Packed, params: GroupParams, forgets: bool) -> Expected:
    """Expected counts from forward-backward, turned into new parameter estimates."""
    sm = smooth(packed, params)
    n_groups = params.prior.size
    fg = packed.flat_group

    def total(weights: FloatArray, mask: NDArray[np.bool_] | None = None) -> FloatArray:
        counts = (
            np.bincount(fg, weights=weights, minlength=n_groups)
            if mask is None
            else np.bincount(fg[mask], weights=weights[mask], minlength=n_groups)
        )
        return np.asarray(counts, dtype=np.float64)

    y = packed.obs
    known, unknown = sm.known, sm.unknown
    hn, first = packed.has_next, packed.first
    log_likelihood = total(np.log(np.maximum(sm.forward.evidence, 1e-300)))
    prior = total(known, first) / np.maximum(total(np.ones_like(known), first), _EPS)
    learn = total(sm.gained, hn) / np.maximum(total(unknown, hn), _EPS)
    forget = total(sm.lost, hn) / np.maximum(total(known, hn), _EPS) if forgets else np.zeros(n_groups)
    guess = total(unknown * y) / np.maximum(total(unknown), _EPS)
    slip = total(known * ~y) / np.maximum(total(known), _EPS)
    return Expected(
        log_likelihood=log_likelihood,
        params=GroupParams(prior=prior, learn=learn, guess=guess, slip=slip, forget=forget),
    )


# ---------------------------------------------------------------- fitting


@dataclass(frozen=True)
class Bounds:
    """Sane limits for fitted parameters. guess and slip stay below 0.5 so 'knows' means 'answers right'."""

    max_guess: float = 0.45
    max_slip: float = 0.45
    min_rate: float = 1e-4  # keeps every answer possible and EM away from absorbing zeros

    def clip(self, params: GroupParams, forgets: bool) -> GroupParams:
        lo = self.min_rate
        return GroupParams(
            prior=np.clip(params.prior, lo, 1 - lo),
            learn=np.clip(params.learn, lo, 1 - lo),
            guess=np.clip(params.guess, lo, self.max_guess),
            slip=np.clip(params.slip, lo, self.max_slip),
            forget=np.clip(params.forget, lo, 1 - lo) if forgets else np.zeros_like(params.forget),
        )


@dataclass(frozen=True)
class FitInfo:
    """How one group's fit went."""

    log_likelihood: float
    iterations: int
    converged: bool
    n_sequences: int
    n_answers: int


def starting_points(
    n_fits: int, forgets: bool, rng: np.random.Generator, bounds: Bounds
) -> list[BKTParams]:
    """The first start is a middle-of-the-road model; the others are drawn at random, as in pyBKT."""
    starts = [BKTParams(prior=0.5, learn=0.1, guess=0.2, slip=0.1, forget=0.05 if forgets else 0.0)]
    for _ in range(n_fits - 1):
        starts.append(
            BKTParams(
                prior=float(rng.uniform(0.05, 0.95)),
                learn=float(rng.uniform(0.01, 0.4)),
                guess=float(rng.uniform(0.01, min(0.4, bounds.max_guess))),
                slip=float(rng.uniform(0.01, min(0.3, bounds.max_slip))),
                forget=float(rng.uniform(0.0, 0.3)) if forgets else 0.0,
            )
        )
    return starts


def em(
    packed: Packed,
    start: GroupParams,
    *,
    forgets: bool,
    bounds: Bounds,
    max_iter: int,
    tol: float,
) -> tuple[GroupParams, FloatArray, NDArray[np.intp], NDArray[np.bool_]]:
    """Expectation-maximisation for every group at once.

    A group stops once its mean log-likelihood per answer improves by less than `tol`; its sequences
    then leave the working set, so the remaining passes only cover groups still moving.
    Returns (params, log-likelihood, iterations, converged) per group.
    """
    n_groups = start.prior.size
    answers = np.maximum(np.bincount(packed.flat_group, minlength=n_groups), 1)
    params = bounds.clip(start, forgets)
    previous = np.full(n_groups, -np.inf)
    log_likelihood = np.full(n_groups, -np.inf)
    iterations = np.zeros(n_groups, dtype=np.intp)
    converged = np.zeros(n_groups, dtype=bool)
    work, working = packed, n_groups
    for _ in range(max_iter):
        moving = ~converged
        expected = e_step(work, params, forgets)
        log_likelihood = np.where(moving, expected.log_likelihood, log_likelihood)
        converged |= moving & ((expected.log_likelihood - previous) / answers < tol)
        moving = ~converged
        if not moving.any():
            break
        iterations[moving] += 1
        new = bounds.clip(expected.params, forgets)
        params = GroupParams(
            prior=np.where(moving, new.prior, params.prior),
            learn=np.where(moving, new.learn, params.learn),
            guess=np.where(moving, new.guess, params.guess),
            slip=np.where(moving, new.slip, params.slip),
            forget=np.where(moving, new.forget, params.forget),
        )
        previous = np.where(moving, expected.log_likelihood, previous)
        if moving.sum() < 0.9 * working:
            work, working = packed.subset(moving), int(moving.sum())
    else:
        moving = ~converged
        log_likelihood = np.where(moving, e_step(work, params, forgets).log_likelihood, log_likelihood)
    return params, log_likelihood, iterations, converged


SequencesBySkill = Mapping[str, Sequence[Sequence[bool] | NDArray[np.generic]]]


@dataclass
class BKT:
    """Per-skill BKT fitted by EM with random restarts, vectorised across learners, skills and restarts.

    >>> model = BKT(forgets=True).fit({"fractions": [[False, True, True], [True, True]]})
    >>> model.params_["fractions"]  # doctest: +SKIP
    """

    forgets: bool = False
    num_fits: int = 5
    seed: int = 0
    max_iter: int = 200
    tol: float = 1e-7
    bounds: Bounds = field(default_factory=Bounds)
    params_: dict[str, BKTParams] = field(default_factory=dict, init=False)
    fit_info_: dict[str, FitInfo] = field(default_factory=dict, init=False)

    def fit(self, data: SequencesBySkill) -> BKT:
        """Fit parameters per skill from {skill: [answers of one learner, in order], ...}."""
        skills = [skill for skill, seqs in data.items() if any(len(s) for s in seqs)]
        if not skills:
            raise ValueError("no answers to fit")
        rng = np.random.default_rng(self.seed)
        starts = {skill: starting_points(self.num_fits, self.forgets, rng, self.bounds) for skill in skills}
        sequences: list[Sequence[bool] | NDArray[np.generic]] = []
        groups: list[int] = []
        for s_index, skill in enumerate(skills):
            seqs = [seq for seq in data[skill] if len(seq)]
            for r in range(self.num_fits):
                sequences.extend(seqs)
                groups.extend([s_index * self.num_fits + r] * len(seqs))
        packed = pack(sequences, groups)
        start = GroupParams.of([p for skill in skills for p in starts[skill]])
        params, log_likelihood, iterations, converged = em(
            packed, start, forgets=self.forgets, bounds=self.bounds, max_iter=self.max_iter, tol=self.tol
        )
        self.params_ = {}
        self.fit_info_ = {}
        for s_index, skill in enumerate(skills):
            block = slice(s_index * self.num_fits, (s_index + 1) * self.num_fits)
            best = s_index * self.num_fits + int(np.argmax(log_likelihood[block]))
            self.params_[skill] = params.at(best)
            seqs = [seq for seq in data[skill] if len(seq)]
            self.fit_info_[skill] = FitInfo(
                log_likelihood=float(log_likelihood[best]),
                iterations=int(iterations[best]),
                converged=bool(converged[best]),
                n_sequences=len(seqs),
                n_answers=int(sum(len(seq) for seq in seqs)),
            )
        return self

    def predict(self, data: SequencesBySkill) -> dict[str, list[FloatArray]]:
        """Probability of a right answer at each step, from the answers before it only.

        Skills the model was not fitted on are left out.
        """
        skills = [skill for skill in data if skill in self.params_]
        sequences: list[Sequence[bool] | NDArray[np.generic]] = []
        groups: list[int] = []
        owners: list[str] = []
        for s_index, skill in enumerate(skills):
            for seq in data[skill]:
                sequences.append(seq)
                groups.append(s_index)
                owners.append(skill)
        result: dict[str, list[FloatArray]] = {skill: [] for skill in skills}
        nonempty = [i for i, seq in enumerate(sequences) if len(seq)]
        if not nonempty:
            for i in range(len(sequences)):
                result[owners[i]].append(np.zeros(0))
            return result
        packed = pack([sequences[i] for i in nonempty], [groups[i] for i in nonempty])
        fw = forward(packed, GroupParams.of([self.params_[s] for s in skills]))
        flat = fw.p_correct[packed.flat_index()]
        pieces = np.split(flat, np.cumsum([len(sequences[i]) for i in nonempty])[:-1])
        by_index = dict(zip(nonempty, pieces, strict=True))
        for i in range(len(sequences)):
            result[owners[i]].append(by_index.get(i, np.zeros(0)))
        return result

    def evaluate(self, data: SequencesBySkill, metric: Literal["auc", "rmse"] = "auc") -> float:
        """AUC or RMSE of next-answer predictions, pooled over every answer of the fitted skills."""
        predictions = self.predict(data)
        truth = [np.asarray(seq, dtype=bool) for skill in predictions for seq in data[skill]]
        scores = [p for skill in predictions for p in predictions[skill]]
        if not truth:
            return math.nan
        y, s = np.concatenate(truth), np.concatenate(scores)
        return auc(y, s) if metric == "auc" else rmse(y, s)
