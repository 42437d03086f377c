"""Fit the free-text grader's coefficients and default thresholds; writes tutor/freetext_model.json.

    python -m evals.fit_grader [--data ../shared/data/semeval-2013-sciEntsBank] [--out tutor/freetext_model.json]
        [--max-false-pass 0.04] [--max-false-fail 0.25]

Reads only the corpus's `train/` folder (never `test/`). Every training question becomes a free-response item by
the mechanical rule of evals/semeval.py. Each training answer is described twice: without examples (a new item)
and with the question's other training answers as labelled examples (leave-one-out, like an item whose earlier
answers were graded by people). For each setting scikit-learn fits a logistic regression, calibrated by
CalibratedClassifierCV (sigmoid, folds grouped by question so each fold's questions are unseen); the calibrated
model is again logistic in the features, so it is stored as one weight per feature and an intercept.

Default thresholds, per setting, come from out-of-fold probabilities (5 folds grouped by question): the pair
(`pass_at`, `fail_at`) that grades the most answers automatically while at most `--max-false-pass` of the wrong
answers graded automatically pass and at most `--max-false-fail` of the right ones fail. Between them, answers go
to a person. `decide_at` is where an answer passes when a decision is forced (no person to ask, e.g. the eval's
"without abstaining" figure): the probability with the best out-of-fold macro-F1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold, cross_val_predict

from evals.semeval import CorpusError, Question, item_for, read_folder
from tutor.course.models import Example
from tutor.freetext import BASE_FEATURES, EXAMPLE_FEATURES, MODEL_FILE, Coefficients, FreeTextGrader, GraderModel
from tutor.retrieval.embeddings import MiniLMEmbeddingFunction

DEFAULT_DATA = Path("../shared/data/semeval-2013-sciEntsBank")
FOLDS = 5
Matrix = npt.NDArray[np.float64]


def training_rows(grader: FreeTextGrader, questions: Sequence[Question]) -> tuple[Matrix, Matrix, Matrix, Matrix]:
    """Feature rows without and with examples, labels and question groups, for every training answer."""
    grader.warm([t for q in questions for t in (q.references[0], *(a.text for a in q.answers))])
    plain, withx, labels, groups = [], [], [], []
    for number, question in enumerate(questions):
        item = item_for(question)
        answers = [a for a in question.answers if a.text]
        for index, answer in enumerate(answers):
            others = [Example(answer=a.text, correct=a.correct) for j, a in enumerate(answers) if j != index]
            values = grader.features(item, answer.text, others)
            plain.append([values[f] for f in BASE_FEATURES])
            withx.append([values[f] for f in EXAMPLE_FEATURES])
            labels.append(answer.correct)
            groups.append(number)
    return np.array(plain), np.array(withx), np.array(labels, dtype=float), np.array(groups)


def fit(x: Matrix, y: Matrix, groups: Matrix, names: Sequence[str]) -> tuple[Coefficients, Matrix]:
    """A calibrated logistic model, collapsed to coefficients, and its out-of-fold probabilities."""
    splits = list(GroupKFold(n_splits=FOLDS).split(x, y, groups))
    calibrated = CalibratedClassifierCV(LogisticRegression(max_iter=1000), method="sigmoid", cv=splits,
                                        ensemble=False)
    calibrated.fit(x, y)
    inner = calibrated.calibrated_classifiers_[0]
    base: LogisticRegression = inner.estimator
    sigmoid = inner.calibrators[0]  # p = 1 / (1 + exp(a * f + b)), f the base model's decision function
    a, b = float(sigmoid.a_), float(sigmoid.b_)
    weights = tuple(float(-a * w) for w in base.coef_[0])
    intercept = float(-a * base.intercept_[0] - b)
    oof = cross_val_predict(CalibratedClassifierCV(LogisticRegression(max_iter=1000), method="sigmoid", cv=3,
                                                   ensemble=False), x, y, groups=groups,
                            cv=GroupKFold(n_splits=FOLDS), method="predict_proba")[:, 1]
    return Coefficients(features=tuple(names), weights=weights, intercept=intercept, pass_at=0.5, fail_at=0.5), oof


def macro_f1(y: npt.NDArray[np.bool_], decisions: npt.NDArray[np.bool_]) -> float:
    return float(f1_score(y, decisions, average="macro", zero_division=0.0))


def best_decision(p: Matrix, y: Matrix) -> float:
    """The probability (0.20 to 0.80) at which passing gives the best macro-F1 on these out-of-fold figures."""
    return max((t / 100 for t in range(20, 81)), key=lambda t: macro_f1(y == 1, p >= t))


def rates(p: Matrix, y: Matrix, pass_at: float, fail_at: float) -> dict[str, float]:
    """Coverage, and false-pass / false-fail rates among the automatically graded wrong / right answers."""
    passed, failed = p >= pass_at, p <= fail_at
    auto = passed | failed
    wrong, right = auto & (y == 0), auto & (y == 1)
    return {
        "coverage": float(auto.mean()),
        "false_pass": float((passed & (y == 0)).sum() / max(1, wrong.sum())),
        "false_fail": float((failed & (y == 1)).sum() / max(1, right.sum())),
    }


def choose_thresholds(p: Matrix, y: Matrix, max_false_pass: float, max_false_fail: float) -> tuple[float, float]:
    """The pair with the widest coverage whose false-pass and false-fail rates stay within the limits."""
    grid = [float(t) for t in np.round(np.arange(0.05, 0.96, 0.01), 2)]
    best: tuple[float, float, float] | None = None
    for pass_at in grid:
        for fail_at in (t for t in grid if t < pass_at):
            r = rates(p, y, pass_at, fail_at)
            if r["false_pass"] <= max_false_pass and r["false_fail"] <= max_false_fail and (
                    best is None or r["coverage"] > best[0]):
                best = (r["coverage"], pass_at, fail_at)
    if best is None:
        return 0.95, 0.05
    return best[1], best[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--max-false-pass", type=float, default=0.04)
    parser.add_argument("--max-false-fail", type=float, default=0.3)
    parser.add_argument("--max-false-pass-new", type=float, default=0.01,
                        help="the false-pass limit for items without examples (their figures transfer less well)")
    args = parser.parse_args(argv)
    try:
        questions = read_folder(args.data / "train")
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    grader = FreeTextGrader(MiniLMEmbeddingFunction().embed, model=None if args.out.exists() else _blank())
    plain, withx, y, groups = training_rows(grader, questions)
    without, p_plain = fit(plain, y, groups, BASE_FEATURES)
    withm, p_with = fit(withx, y, groups, EXAMPLE_FEATURES)
    figures: dict[str, float] = {}
    limits: dict[str, tuple[float, float]] = {}
    decide: dict[str, float] = {}
    for name, p in (("without_examples", p_plain), ("with_examples", p_with)):
        limit = args.max_false_pass if name == "with_examples" else args.max_false_pass_new
        limits[name] = choose_thresholds(p, y, limit, args.max_false_fail)
        decide[name] = best_decision(p, y)
        for key, value in rates(p, y, *limits[name]).items():
            figures[f"{name}.{key}"] = round(value, 4)
        figures[f"{name}.macro_f1_at_decide_at"] = round(macro_f1(y == 1, p >= decide[name]), 4)
    model = GraderModel(
        without_examples=without.model_copy(update={**dict(zip(("pass_at", "fail_at"), limits["without_examples"],
                                                               strict=True)), "decide_at": decide["without_examples"]}),
        with_examples=withm.model_copy(update={**dict(zip(("pass_at", "fail_at"), limits["with_examples"],
                                                          strict=True)), "decide_at": decide["with_examples"]}),
        fitted_on=f"{args.data.name}/train: {len(questions)} questions, {len(y)} answers (never test/)",
        made_by=f"python -m evals.fit_grader --max-false-pass {args.max_false_pass} "
                f"--max-false-fail {args.max_false_fail} --max-false-pass-new {args.max_false_pass_new}",
        cross_validated=figures,
    )
    args.out.write_text(json.dumps(model.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    print(json.dumps(model.model_dump(mode="json"), indent=2))
    return 0


def _blank() -> GraderModel:
    """Placeholder coefficients for the very first fit (features do not depend on them)."""
    zero = Coefficients(features=BASE_FEATURES, weights=(0.0,) * len(BASE_FEATURES), intercept=0.0, pass_at=0.9,
                        fail_at=0.1)
    withx = Coefficients(features=EXAMPLE_FEATURES, weights=(0.0,) * len(EXAMPLE_FEATURES), intercept=0.0,
                         pass_at=0.9, fail_at=0.1)
    return GraderModel(without_examples=zero, with_examples=withx, fitted_on="", made_by="")


if __name__ == "__main__":
    raise SystemExit(main())
