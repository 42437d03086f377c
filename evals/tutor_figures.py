"""Figures of a tutor eval from the learners' traces (pure functions: traces in, JSON-ready dicts out).

Intervals: false mastery gets a Wilson 95% interval (scipy.stats.binomtest); differences between two
configurations run on the same learners get a paired bootstrap 95% interval (scipy.stats.bootstrap,
percentile method, resampling learners).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from evals.tutor_driver import Trace

# USD per million tokens (input, output, cache read, cache write), by a part of the model name.
PRICES: dict[str, tuple[float, float, float, float]] = {
    "haiku": (1.0, 5.0, 0.10, 1.25),
    "sonnet": (3.0, 15.0, 0.30, 3.75),
    "opus": (5.0, 25.0, 0.50, 6.25),
}


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """mean, median, p90 and n of a list (None when empty)."""
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    array = np.asarray(values, dtype=np.float64)
    return {"n": int(array.size), "mean": float(array.mean()), "median": float(np.median(array)),
            "p90": float(np.percentile(array, 90))}


def wilson(k: int, n: int) -> dict[str, float | int | None]:
    """A share with its Wilson 95% interval."""
    if n == 0:
        return {"k": k, "n": n, "rate": None, "low": None, "high": None}
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {"k": k, "n": n, "rate": k / n, "low": float(ci.low), "high": float(ci.high)}


def cost_usd(
    provider: str, model: str, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int
) -> float | None:
    """The price of one call's tokens, or None for a model with no known price (offline calls cost 0)."""
    if provider in ("offline", "fallback"):
        return 0.0
    for part, (i, o, r, w) in PRICES.items():
        if part in model:
            return (input_tokens * i + output_tokens * o + cache_read * r + cache_write * w) / 1e6
    return None


def reteaching(traces: Sequence[Trace]) -> dict[str, Any]:
    """Accuracy on the two graded answers after each re-teaching vs the two before (on the same skill)."""
    before: list[bool] = []
    after: list[bool] = []
    cases = 0
    for trace in traces:
        for skill, index in trace.remediations:
            graded = [bool(a.correct) for a in trace.attempts if a.skill == skill and a.correct is not None]
            if index >= 2 and len(graded) >= index + 2:
                before += graded[index - 2:index]
                after += graded[index:index + 2]
                cases += 1
    return {
        "reteachings": sum(len(t.remediations) for t in traces),
        "cases": cases,
        "accuracy_before": float(np.mean(before)) if before else None,
        "accuracy_after": float(np.mean(after)) if after else None,
    }


def usage_figures(traces: Sequence[Trace]) -> dict[str, Any]:
    keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    totals = {k: sum(int(t.usage.get(k, 0)) for t in traces) for k in keys}
    costs = [t.usage.get("cost_usd") for t in traces]
    known = [float(c) for c in costs if c is not None]
    n = max(1, len(traces))
    prompt_side = totals["input_tokens"] + totals["cache_read_tokens"] + totals["cache_write_tokens"]
    return {
        **{f"{k}_per_learner": totals[k] / n for k in keys},
        "calls_per_learner": sum(int(t.usage.get("calls", 0)) for t in traces) / n,
        "fallbacks": sum(int(t.usage.get("fallbacks", 0)) for t in traces),
        "cache_read_share": totals["cache_read_tokens"] / prompt_side if prompt_side else None,
        "cost_per_learner_usd": float(np.mean(known)) if len(known) == len(costs) and known else None,
    }


def config_figures(traces: Sequence[Trace], skills: Sequence[str], budget: int) -> dict[str, Any]:
    """Every figure of one configuration."""
    firsts = [{m.skill: m for m in reversed(t.masteries)} for t in traces]  # first mastery per skill
    per_skill = {
        skill: {
            "items": summary([f[skill].items for f in firsts if skill in f]),
            "turns": summary([f[skill].turns for f in firsts if skill in f]),
            "false_mastery": wilson(sum(m.false for t in traces for m in t.masteries if m.skill == skill),
                                    sum(1 for t in traces for m in t.masteries if m.skill == skill)),
        }
        for skill in skills
    }
    items_all = [m.items for f in firsts for m in f.values()]
    latencies = [x for t in traces for x in t.latencies_ms]
    graded = [a for t in traces for a in t.attempts if a.correct is not None]
    profiles = sorted({t.profile for t in traces})
    return {
        "learners": len(traces),
        "skills": per_skill,
        "items_to_mastery": summary(items_all),
        "turns_to_mastery": summary([m.turns for f in firsts for m in f.values()]),
        "items_to_mastery_values": items_all,
        "false_mastery": wilson(sum(m.false for t in traces for m in t.masteries),
                                sum(len(t.masteries) for t in traces)),
        "completed": {**wilson(sum(t.complete for t in traces), len(traces)), "turn_budget": budget},
        "turns_per_learner": summary([t.turns for t in traces]),
        "reteaching": reteaching(traces),
        "step_backs": {"total": sum(t.step_backs for t in traces),
                       "per_learner": sum(t.step_backs for t in traces) / max(1, len(traces)),
                       "learners_with": sum(t.step_backs > 0 for t in traces)},
        "leaks": {"count": sum(len(t.leaks) for t in traces),
                  "questions": sum(t.questions_asked for t in traces),
                  "examples": [vars(leak) for t in traces for leak in t.leaks][:5]},
        "latency_ms": {"turns": len(latencies),
                       "p50": float(np.percentile(latencies, 50)) if latencies else None,
                       "p95": float(np.percentile(latencies, 95)) if latencies else None},
        "usage": usage_figures(traces),
        "tutor_errors": {"count": sum(len(t.errors) for t in traces),
                         "examples": [e for t in traces for e in t.errors][:5]},
        "answers": {"graded": len(graded),
                    "unread": sum(1 for t in traces for a in t.attempts if a.correct is None),
                    "graded_against_intent": sum(a.correct != a.intended for a in graded),
                    "hints": sum(t.hints for t in traces), "questions": sum(t.learner_questions for t in traces),
                    "questions_graded_as_answers": sum(t.questions_graded for t in traces)},
        "profiles": {
            p: {
                "learners": sum(t.profile == p for t in traces),
                "completed": sum(t.complete for t in traces if t.profile == p),
                "false_mastery": wilson(sum(m.false for t in traces if t.profile == p for m in t.masteries),
                                        sum(len(t.masteries) for t in traces if t.profile == p)),
                "items_to_mastery": summary([m.items for t, f in zip(traces, firsts, strict=True)
                                             if t.profile == p for m in f.values()]),
            }
            for p in profiles
        },
    }


# ---------------------------------------------------------------- paired comparisons

Metric = Callable[[Trace], tuple[float, float]]  # per learner: (numerator, denominator)


def _metrics() -> dict[str, Metric]:
    def items(t: Trace) -> tuple[float, float]:
        firsts = {m.skill: m for m in reversed(t.masteries)}
        return float(sum(m.items for m in firsts.values())), float(len(firsts))

    return {
        "false_mastery_rate": lambda t: (float(sum(m.false for m in t.masteries)), float(len(t.masteries))),
        "items_to_mastery_mean": items,
        "completed_share": lambda t: (float(t.complete), 1.0),
        "turns_per_learner": lambda t: (float(t.turns), 1.0),
        "step_backs_per_learner": lambda t: (float(t.step_backs), 1.0),
        "leaks_per_learner": lambda t: (float(len(t.leaks)), 1.0),
        "latency_ms_mean": lambda t: (float(sum(t.latencies_ms)), float(len(t.latencies_ms))),
        "cost_per_learner_usd": lambda t: (float(t.usage.get("cost_usd") or 0.0), 1.0),
    }


def _ratio_difference(na: Any, da: Any, nb: Any, db: Any, axis: int = -1) -> Any:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(nb, axis=axis) / np.sum(db, axis=axis) - np.sum(na, axis=axis) / np.sum(da, axis=axis)


def compare(baseline: Sequence[Trace], other: Sequence[Trace], seed: int, resamples: int = 2000) -> dict[str, Any]:
    """other - baseline for each metric, over the learners both ran, with a paired bootstrap 95% interval."""
    by_index = {t.learner: t for t in baseline}
    pairs = [(by_index[t.learner], t) for t in other if t.learner in by_index]
    result: dict[str, Any] = {}
    for name, metric in _metrics().items():
        a = np.array([metric(p[0]) for p in pairs], dtype=np.float64).reshape(-1, 2)
        b = np.array([metric(p[1]) for p in pairs], dtype=np.float64).reshape(-1, 2)
        columns = (a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        value = float(_ratio_difference(*columns)) if len(pairs) and a[:, 1].sum() and b[:, 1].sum() else None
        low = high = None
        if value is not None and len(pairs) >= 2:
            ci = stats.bootstrap(columns, _ratio_difference, paired=True, vectorized=True, n_resamples=resamples,
                                 method="percentile", random_state=np.random.default_rng(seed))
            low, high = float(ci.confidence_interval.low), float(ci.confidence_interval.high)
            low, high = (None if np.isnan(low) else low), (None if np.isnan(high) else high)
        result[name] = {
            "baseline": float(a[:, 0].sum() / a[:, 1].sum()) if a[:, 1].sum() else None,
            "other": float(b[:, 0].sum() / b[:, 1].sum()) if b[:, 1].sum() else None,
            "difference": value, "low": low, "high": high, "learners": len(pairs),
        }
    return result
