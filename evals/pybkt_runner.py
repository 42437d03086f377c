"""Fit pyBKT on a train split and score it on a test split; writes JSON. Run with the isolated pyBKT venv.

This file runs under evals/.pybkt-venv (pyBKT 1.4.3 needs scikit-learn < 1.6 and NumPy 1): it must import
nothing from `tutor`. `evals.kt_bench` calls it through subprocess and reads the JSON it writes.

    evals/.pybkt-venv/bin/python evals/pybkt_runner.py --train T.csv --test S.csv --json OUT [--forgets]
        [--skills 7,82] [--num-fits 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--skills", default="", help="comma-separated skill names; empty = all")
    parser.add_argument("--forgets", action="store_true")
    parser.add_argument("--num-fits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from pyBKT.models import Model
    from sklearn.metrics import roc_auc_score

    warnings.filterwarnings("ignore")
    np.seterr(divide="ignore", invalid="ignore")
    train = pd.read_csv(args.train)
    test = pd.read_csv(args.test)
    train["skill_name"] = train["skill_name"].astype(str)
    test["skill_name"] = test["skill_name"].astype(str)
    if args.skills:
        wanted = set(args.skills.split(","))
        train = train[train["skill_name"].isin(wanted)]
        test = test[test["skill_name"].isin(wanted)]
    # pyBKT cannot score a skill it has not fitted: keep test rows of trained skills only
    test = test[test["skill_name"].isin(set(train["skill_name"]))].reset_index(drop=True)

    model = Model(seed=args.seed, num_fits=args.num_fits)
    started = time.perf_counter()
    model.fit(data=train, forgets=args.forgets)
    fit_seconds = time.perf_counter() - started
    auc, rmse = model.evaluate(data=test, metric=["auc", "rmse"])
    predictions = model.predict(data=test)
    per_skill = {}
    for skill, rows in predictions.groupby("skill_name"):
        truth = rows["correct"].to_numpy()
        score = rows["correct_predictions"].to_numpy()
        per_skill[str(skill)] = {
            "auc": float(roc_auc_score(truth, score)) if len(set(truth)) > 1 else None,
            "n": int(len(rows)),
        }
    params = {
        skill: {
            "prior": float(coef["prior"]),
            "learn": float(np.ravel(coef["learns"])[0]),
            "guess": float(np.ravel(coef["guesses"])[0]),
            "slip": float(np.ravel(coef["slips"])[0]),
            "forget": float(np.ravel(coef["forgets"])[0]) if "forgets" in coef else 0.0,
        }
        for skill, coef in model.coef_.items()
    }
    result = {
        "auc": float(auc),
        "rmse": float(rmse),
        "fit_seconds": fit_seconds,
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "skills": int(train["skill_name"].nunique()),
        "num_fits": args.num_fits,
        "forgets": args.forgets,
        "per_skill": per_skill,
        "params": params,
    }
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
