"""Knowledge-tracing benchmark on real data: our BKT against pyBKT on the ASSISTments 2009 skill builders.

    python -m evals.kt_bench --json evals/out/kt_bench.json            # the 10 skills with most answers
    python -m evals.kt_bench --full --json evals/out/kt_bench_full.json # every skill (pyBKT takes ~30 min+)
    python -m evals.kt_bench --no-pybkt --full                          # ours only (seconds)

Per skill, parameters are fitted on the train split; every test answer is then predicted from the
same learner's earlier answers on that skill only (a forward pass), and AUC and RMSE are pooled over
all test answers. pyBKT (1.4.3, in its own venv: `make kt-bench` creates evals/.pybkt-venv) is run on
the same rows through evals/pybkt_runner.py. Test rows of skills absent from train are left out for
both (pyBKT cannot score them).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tutor.mastery.bkt import BKT, auc, rmse

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "assistments-2009"
PYBKT_PYTHON = REPO / "evals" / ".pybkt-venv" / "bin" / "python"
RUNNER = Path(__file__).resolve().parent / "pybkt_runner.py"
PUBLISHED = {"bkt": 0.76, "bkt_forgets": 0.83}  # pyBKT-examples, AUC on this split

Rows = list[tuple[str, str, bool]]  # (user, skill, correct) in file order
Sequences = dict[str, list[list[bool]]]


def read_rows(path: Path) -> Rows:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return [(row["user_id"], row["skill_name"], row["correct"].strip() == "1") for row in reader]


def sequences(rows: Rows, skills: set[str]) -> Sequences:
    """{skill: [answers of one learner, in file order]}, learners in order of first appearance."""
    by_skill: dict[str, dict[str, list[bool]]] = defaultdict(dict)
    for user, skill, correct in rows:
        if skill in skills:
            by_skill[skill].setdefault(user, []).append(correct)
    return {skill: list(users.values()) for skill, users in by_skill.items()}


@dataclass(frozen=True)
class Split:
    train: Sequences
    test: Sequences
    skills: list[str]
    n_train: int
    n_test: int
    dropped_test: int  # test answers of skills absent from train


def load(data: Path, top: int | None) -> Split:
    train_rows = read_rows(data / "builder_train.csv")
    test_rows = read_rows(data / "builder_test.csv")
    counts = Counter(skill for _, skill, _ in train_rows)
    ranked = [skill for skill, _ in counts.most_common()]
    chosen = ranked if top is None else ranked[:top]
    wanted = set(chosen)
    train = sequences(train_rows, wanted)
    test = sequences(test_rows, wanted)
    n_train = sum(len(s) for seqs in train.values() for s in seqs)
    n_test = sum(len(s) for seqs in test.values() for s in seqs)
    dropped = sum(1 for _, skill, _ in test_rows if skill not in counts) if top is None else 0
    return Split(train=train, test=test, skills=chosen, n_train=n_train, n_test=n_test, dropped_test=dropped)


def run_ours(split: Split, forgets: bool, num_fits: int, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    model = BKT(forgets=forgets, num_fits=num_fits, seed=seed).fit(split.train)
    fit_seconds = time.perf_counter() - started
    predictions = model.predict(split.test)
    truth = np.concatenate([np.asarray(s, dtype=bool) for skill in predictions for s in split.test[skill]])
    scores = np.concatenate([p for skill in predictions for p in predictions[skill]])
    per_skill = {}
    for skill in predictions:
        y = np.concatenate([np.asarray(s, dtype=bool) for s in split.test[skill]])
        p = np.concatenate(predictions[skill])
        value = auc(y, p)
        per_skill[skill] = {"auc": None if np.isnan(value) else value, "n": int(y.size)}
    return {
        "auc": auc(truth, scores),
        "rmse": rmse(truth, scores),
        "fit_seconds": fit_seconds,
        "n_test": int(truth.size),
        "num_fits": num_fits,
        "forgets": forgets,
        "converged_skills": sum(info.converged for info in model.fit_info_.values()),
        "per_skill": per_skill,
        "params": {skill: params.model_dump() for skill, params in model.params_.items()},
    }


def run_pybkt(
    data: Path, split: Split, forgets: bool, num_fits: int, seed: int, python: Path, timeout: float | None
) -> dict[str, object]:
    """Run evals/pybkt_runner.py under pyBKT's own venv; returns its JSON (or why it was skipped)."""
    if not python.exists():
        return {"skipped": f"no pyBKT venv at {python}; run `make kt-bench` to create it"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pybkt.json"
        command = [
            str(python),
            str(RUNNER),
            "--train",
            str(data / "builder_train.csv"),
            "--test",
            str(data / "builder_test.csv"),
            "--json",
            str(out),
            "--num-fits",
            str(num_fits),
            "--seed",
            str(seed),
            "--skills",
            ",".join(split.skills),
        ]
        if forgets:
            command.append("--forgets")
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"skipped": f"pyBKT did not finish within {timeout:.0f} s"}
        if done.returncode != 0:
            return {"skipped": f"pyBKT failed (exit {done.returncode}): {done.stderr.strip()[-500:]}"}
        result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
        result["wall_seconds"] = time.perf_counter() - started
        return result


def _figure(value: object, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "-"


def table(report: dict[str, object]) -> str:
    models = report["models"]
    assert isinstance(models, dict)
    lines = [f"{'model':<22}{'AUC':>8}{'RMSE':>8}{'fit s':>10}  published AUC"]
    for name in ("bkt", "bkt_forgets", "pybkt", "pybkt_forgets"):
        published = "bkt_forgets" if name.endswith("forgets") else "bkt"
        figures = models.get(name)
        if not isinstance(figures, dict):
            continue
        if "skipped" in figures:
            lines.append(f"{name:<22}  skipped: {figures['skipped']}")
            continue
        lines.append(
            f"{name:<22}{_figure(figures.get('auc'), '.4f'):>8}{_figure(figures.get('rmse'), '.4f'):>8}"
            f"{_figure(figures.get('fit_seconds'), '.1f'):>10}  {PUBLISHED[published]:.2f}"
        )
    speedup = report.get("speedup")
    if isinstance(speedup, dict):
        for name, value in speedup.items():
            lines.append(f"fit speed-up over pyBKT ({name}): {value:.1f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="BKT on ASSISTments 2009: ours against pyBKT.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with builder_train/test.csv")
    parser.add_argument("--json", type=Path, default=REPO / "evals" / "out" / "kt_bench.json")
    parser.add_argument("--full", action="store_true", help="every skill instead of the 10 with most answers")
    parser.add_argument("--skills", type=int, default=10, help="how many of the largest skills (without --full)")
    parser.add_argument("--no-pybkt", action="store_true", help="skip pyBKT")
    parser.add_argument("--no-forgets", action="store_true", help="skip the models with forgetting")
    parser.add_argument("--num-fits", type=int, default=5, help="EM restarts per skill (both libraries)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pybkt-python", type=Path, default=PYBKT_PYTHON)
    parser.add_argument("--pybkt-timeout", type=float, default=None, help="seconds per pyBKT fit")
    args = parser.parse_args(argv)

    data = args.data if args.data.is_absolute() else (Path.cwd() / args.data)
    if not (data / "builder_train.csv").exists():
        sys.exit(f"no builder_train.csv in {data}; pass --data DIR")
    split = load(data, None if args.full else args.skills)
    print(f"{len(split.skills)} skills, {split.n_train} train and {split.n_test} test answers", flush=True)
    variants = [False] if args.no_forgets else [False, True]
    models: dict[str, object] = {}
    for forgets in variants:
        name = "bkt_forgets" if forgets else "bkt"
        models[name] = run_ours(split, forgets, args.num_fits, args.seed)
        print(f"ours {name}: done", flush=True)
    if not args.no_pybkt:
        for forgets in variants:
            name = "pybkt_forgets" if forgets else "pybkt"
            print(f"pyBKT {name}: running (minutes) ...", flush=True)
            models[name] = run_pybkt(
                data, split, forgets, args.num_fits, args.seed, args.pybkt_python, args.pybkt_timeout
            )
    speedup: dict[str, float] = {}
    for ours, theirs in (("bkt", "pybkt"), ("bkt_forgets", "pybkt_forgets")):
        a, b = models.get(ours), models.get(theirs)
        if isinstance(a, dict) and isinstance(b, dict) and "fit_seconds" in b:
            speedup[ours] = float(b["fit_seconds"]) / float(a["fit_seconds"])
    report: dict[str, object] = {
        "data": str(data),
        "split": "full" if args.full else f"top-{args.skills}",
        "skills": split.skills,
        "n_train": split.n_train,
        "n_test": split.n_test,
        "dropped_test_answers": split.dropped_test,
        "published_auc": PUBLISHED,
        "models": models,
        "speedup": speedup,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(table(report))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
