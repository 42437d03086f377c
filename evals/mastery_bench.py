"""Mastery benchmark: our gate against the classic stopping rules, on the same simulated learners.

    python -m evals.mastery_bench --learners 10000 --seed 0 --json evals/out/mastery.json

Every learner answers up to `--horizon` items (40); each policy declares mastery at some item or never.
Per policy (over the whole profile mix, and per profile):

- items_mean / items_median: items answered up to and including the one where mastery was declared,
  over the learners declared mastered;
- false_mastery_rate: share of the declared masteries where the learner did not know the skill when
  giving the deciding answer (the hidden state);
- over_practice_mean: items answered after the first item answered in the learned state, up to the
  policy's stop (or the horizon), over the learners who learned before the stop;
- unmastered_rate: share of learners never declared mastered within the horizon.

It also fits BKT parameters back from learners simulated with known parameters (2,000 x 20) and reports
the recovery error. Writes OUT (JSON) and a plot next to it (OUT with the suffix .png).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from evals.simulate import Learners, answer, draw_learners, simulate_sequences
from tutor.course.models import BKTParams, MasteryCriterion
from tutor.mastery.calibrate import calibrate
from tutor.mastery.gate import STATUS_CODES, decide_batch

HORIZON = 40
POOL = 10  # items in the simulated skill's pool; asked in turn, no repeat until the pool is used up
RECOVERY_TRUTH = BKTParams(prior=0.3, learn=0.15, guess=0.2, slip=0.1)

Policy = Callable[[NDArray[np.bool_]], NDArray[np.intp]]  # answers (n x T) -> stop index or -1


def first_true(hits: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Index of the first True in each row, -1 when none."""
    any_hit = hits.any(axis=1)
    result: NDArray[np.intp] = np.where(any_hit, hits.argmax(axis=1), -1).astype(np.intp)
    return result


def item_index(n: int, horizon: int) -> NDArray[np.intp]:
    """The question asked at each step: the pool in turn (every learner sees a new item until it runs out)."""
    result: NDArray[np.intp] = np.tile(np.arange(horizon, dtype=np.intp) % POOL, (n, 1))
    return result


def gate_policy(criterion: MasteryCriterion, params: BKTParams) -> Policy:
    def stop(correct: NDArray[np.bool_]) -> NDArray[np.intp]:
        statuses, _ = decide_batch(correct, item_index(*correct.shape), criterion, params)
        return first_true(statuses == STATUS_CODES["mastered"])

    return stop


def bkt_policy(threshold: float, params: BKTParams) -> Policy:
    """BKT p(known) >= threshold alone (the same course parameters as the gate)."""
    loose = MasteryCriterion(threshold=threshold, min_items=1, window=1, bar=1e-9, max_consecutive_misses=10**6)

    def stop(correct: NDArray[np.bool_]) -> NDArray[np.intp]:
        _, p = decide_batch(correct, item_index(*correct.shape), loose, params)
        return first_true(p >= threshold)

    return stop


def consecutive_policy(n_right: int) -> Policy:
    """N right answers in a row (ASSISTments skill builders use 3)."""

    def stop(correct: NDArray[np.bool_]) -> NDArray[np.intp]:
        run = np.zeros(correct.shape[0], dtype=np.intp)
        hits = np.zeros_like(correct)
        for t in range(correct.shape[1]):
            run = np.where(correct[:, t], run + 1, 0)
            hits[:, t] = run >= n_right
        return first_true(hits)

    return stop


def bloom_policy(share: float, window: int) -> Policy:
    """A fixed bar: at least `share` right over the last `window`, after at least `window` items."""

    def stop(correct: NDArray[np.bool_]) -> NDArray[np.intp]:
        cumulative: NDArray[np.intp] = np.zeros((correct.shape[0], correct.shape[1] + 1), dtype=np.intp)
        cumulative[:, 1:] = np.cumsum(correct, axis=1)
        hits = np.zeros_like(correct)
        for t in range(window - 1, correct.shape[1]):
            hits[:, t] = cumulative[:, t + 1] - cumulative[:, t + 1 - window] >= share * window - 1e-9
        return first_true(hits)

    return stop


def policies(criterion: MasteryCriterion, params: BKTParams) -> dict[str, Policy]:
    return {
        "gate": gate_policy(criterion, params),
        "consecutive-3": consecutive_policy(3),
        "consecutive-5": consecutive_policy(5),
        "bloom-80-of-10": bloom_policy(0.8, 10),
        "bkt-0.95": bkt_policy(0.95, params),
    }


@dataclass(frozen=True)
class Outcome:
    items_mean: float | None
    items_median: float | None
    false_mastery_rate: float | None
    over_practice_mean: float | None
    unmastered_rate: float

    def as_json(self) -> dict[str, float | None]:
        return {
            "items_mean": self.items_mean,
            "items_median": self.items_median,
            "false_mastery_rate": self.false_mastery_rate,
            "over_practice_mean": self.over_practice_mean,
            "unmastered_rate": self.unmastered_rate,
        }


def score(stop: NDArray[np.intp], known: NDArray[np.bool_]) -> Outcome:
    """Figures for one policy's stops against the hidden states."""
    n, horizon = known.shape
    mastered = stop >= 0
    items = stop[mastered] + 1
    rows = np.arange(n)
    false = mastered & ~known[rows, np.maximum(stop, 0)]
    first_known = np.where(known.any(axis=1), known.argmax(axis=1), horizon)
    end = np.where(mastered, stop, horizon - 1)
    learned_in_time = first_known <= end
    over = (end - first_known)[learned_in_time]
    return Outcome(
        items_mean=float(items.mean()) if items.size else None,
        items_median=float(np.median(items)) if items.size else None,
        false_mastery_rate=float(false.sum() / mastered.sum()) if mastered.any() else None,
        over_practice_mean=float(over.mean()) if over.size else None,
        unmastered_rate=float(1 - mastered.mean()),
    )


def recovery(seed: int, n: int = 2000, horizon: int = 20, truth: BKTParams = RECOVERY_TRUTH) -> dict[str, object]:
    """Fit parameters back from learners simulated with `truth`; report the errors."""
    _, correct = simulate_sequences(truth, n, horizon, np.random.default_rng(seed))
    started = time.perf_counter()
    result = calibrate({"simulated": list(correct)}, seed=seed)["simulated"]
    seconds = time.perf_counter() - started
    fitted = result.params
    errors = {name: abs(getattr(fitted, name) - getattr(truth, name)) for name in ("prior", "learn", "guess", "slip")}
    return {
        "learners": n,
        "attempts": horizon,
        "truth": truth.model_dump(),
        "fitted": fitted.model_dump(),
        "abs_error": errors,
        "max_abs_error": max(errors.values()),
        "within_0_05": max(errors[name] for name in ("learn", "guess", "slip")) <= 0.05,
        "fit_seconds": seconds,
    }


def run(
    n_learners: int,
    seed: int,
    criterion: MasteryCriterion | None = None,
    params: BKTParams | None = None,
    horizon: int = HORIZON,
    with_recovery: bool = True,
) -> dict[str, object]:
    """The whole benchmark as a JSON-ready dict."""
    criterion = criterion or MasteryCriterion()
    params = params or BKTParams()
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    learners: Learners = draw_learners(n_learners, params, rng)
    known, correct = answer(learners, horizon, rng)
    results: dict[str, dict[str, float | None]] = {}
    by_profile: dict[str, dict[str, dict[str, float | None]]] = {p.name: {} for p in learners.profiles}
    timings: dict[str, float] = {}
    for name, policy in policies(criterion, params).items():
        t0 = time.perf_counter()
        stop = policy(correct)
        timings[name] = time.perf_counter() - t0
        results[name] = score(stop, known).as_json()
        for index, profile in enumerate(learners.profiles):
            rows = learners.profile == index
            if rows.any():
                by_profile[profile.name][name] = score(stop[rows], known[rows]).as_json()
    report: dict[str, object] = {
        "policies": results,
        "profiles": by_profile,
        "meta": {
            "learners": n_learners,
            "seed": seed,
            "horizon": horizon,
            "pool": POOL,
            "criterion": criterion.model_dump(),
            "course_params": params.model_dump(),
            "profile_mix": {p.name: p.weight for p in learners.profiles},
            "seconds": time.perf_counter() - started,
            "policy_seconds": timings,
        },
    }
    if with_recovery:
        report["recovery"] = recovery(seed)
    return report


def verdict(report: dict[str, object]) -> list[str]:
    """The issue's targets, checked against a report."""
    policies_ = report["policies"]
    assert isinstance(policies_, dict)
    gate = policies_["gate"]
    lines = []
    fm = gate["false_mastery_rate"]
    lines.append(f"gate false mastery {fm:.3f} <= 0.05: {'yes' if fm is not None and fm <= 0.05 else 'NO'}")
    rivals = [
        name
        for name, fig in policies_.items()
        if name != "gate" and fig["false_mastery_rate"] is not None and fig["false_mastery_rate"] <= 0.05
    ]
    beaten = all(
        gate["items_mean"] is not None and gate["items_mean"] <= policies_[name]["items_mean"] for name in rivals
    )
    lines.append(
        f"gate mean items {gate['items_mean']:.2f} <= every baseline at <= 5% false mastery "
        f"({', '.join(rivals) or 'none'}): {'yes' if beaten else 'NO'}"
    )
    if "recovery" in report:
        rec = report["recovery"]
        assert isinstance(rec, dict)
        lines.append(
            f"recovery max error (learn/guess/slip) within 0.05: {'yes' if rec['within_0_05'] else 'NO'} "
            f"(errors {', '.join(f'{k} {v:.3f}' for k, v in rec['abs_error'].items())})"
        )
    return lines


def table(report: dict[str, object]) -> str:
    policies_ = report["policies"]
    assert isinstance(policies_, dict)

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    columns = f"{'items mean':>11}{'median':>8}{'false mastery':>15}{'over-practice':>15}{'unmastered':>12}"
    lines = [f"{'policy':<16}{columns}"]
    for name, fig in policies_.items():
        lines.append(
            f"{name:<16}{fmt(fig['items_mean'], '.2f'):>11}{fmt(fig['items_median'], '.1f'):>8}"
            f"{fmt(fig['false_mastery_rate'], '.3f'):>15}{fmt(fig['over_practice_mean'], '.2f'):>15}"
            f"{fmt(fig['unmastered_rate'], '.3f'):>12}"
        )
    return "\n".join(lines)


def plot(report: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies_ = report["policies"]
    assert isinstance(policies_, dict)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, figs in policies_.items():
        if figs["items_mean"] is None or figs["false_mastery_rate"] is None:
            continue
        colour = "tab:red" if name == "gate" else "tab:blue"
        ax.scatter(figs["items_mean"], figs["false_mastery_rate"], color=colour, s=50)
        ax.annotate(name, (figs["items_mean"], figs["false_mastery_rate"]), textcoords="offset points", xytext=(6, 4))
    ax.axhline(0.05, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("mean items to mastery")
    ax.set_ylabel("false-mastery rate")
    meta = report["meta"]
    assert isinstance(meta, dict)
    ax.set_title(f"Mastery policies on {meta['learners']} simulated learners (seed {meta['seed']})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Compare mastery policies on simulated learners.")
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path("evals/out/mastery_bench.json"))
    parser.add_argument("--horizon", type=int, default=HORIZON)
    parser.add_argument("--no-recovery", action="store_true", help="skip the parameter-recovery fit")
    args = parser.parse_args(argv)
    report = run(args.learners, args.seed, horizon=args.horizon, with_recovery=not args.no_recovery)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    picture = args.json.with_suffix(".png")
    plot(report, picture)
    print(table(report))
    for line in verdict(report):
        print(line)
    meta = report["meta"]
    assert isinstance(meta, dict)
    print(f"{meta['learners']} learners in {meta['seconds']:.1f} s; wrote {args.json} and {picture}")


if __name__ == "__main__":
    main()
