"""Grading eval: the product's free-text grader against people's labels, beside two baselines.

    python -m evals.grading_eval [--data ../shared/data/semeval-2013-sciEntsBank] [--json OUT] [--limit N]

DIR is in the SemEval-2013 Task 7 layout (README of the SciEntsBank folder; evals/semeval.py): `train/*.xml` and
`test/<split>/*.xml`. Every question becomes a free-response item by the mechanical rubric rule of
evals/semeval.py. In a split whose questions are in train (unseen-answers) the question's training answers are the
item's labelled examples; otherwise (unseen-questions, unseen-domains) it has none. Every test answer is graded by:

- `grader`: the product's offline grader (tutor.freetext: keyword points, MiniLM similarity to the reference and
  the examples, calibrated logistic model, default thresholds): pass, fail or unsure (left to a person);
- `keywords`: the offline rubric grader alone (pass with all rubric points but one), never unsure;
- `overlap`: the share of the reference's content words in the answer, pass at a threshold chosen on train
  (best macro-F1 there), never unsure.

Figures per split: coverage (share graded automatically), false-pass (share of the automatically graded wrong
answers that passed), false-fail (share of the automatically graded right answers that failed), macro-F1 on the
automatically graded answers ("with abstaining") and macro-F1 on all answers when the grader must decide,
passing at the model's `decide_at` probability, chosen on train ("without abstaining").
`--limit N` keeps the first N questions of each folder (a quick check).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score

from evals.semeval import CorpusError, Question, examples_of, item_for, read_folder, test_splits
from tutor.course.models import FreeResponseItem
from tutor.freetext import FreeTextGrader, thresholds, verdict
from tutor.llm.base import required_points
from tutor.llm.offline import content_stems, point_met
from tutor.retrieval.embeddings import MiniLMEmbeddingFunction

DEFAULT_DATA = Path("../shared/data/semeval-2013-sciEntsBank")


@dataclass(frozen=True)
class Graded:
    label: bool
    decision: str  # pass | fail | unsure
    forced: bool  # the decision when abstaining is not allowed


def overlap(item: FreeResponseItem, answer: str) -> float:
    wanted = content_stems(item.reference)
    return len(wanted & content_stems(answer)) / len(wanted) if wanted else 0.0


def keyword_pass(item: FreeResponseItem, answer: str) -> bool:
    return sum(point_met(p, answer) for p in item.rubric) >= required_points(item)


def macro_f1(labels: Sequence[bool], decisions: Sequence[bool]) -> float:
    if not labels:
        return 0.0
    return float(f1_score(labels, decisions, average="macro", labels=[False, True], zero_division=0.0))


def figures(rows: Sequence[Graded]) -> dict[str, float]:
    auto = [r for r in rows if r.decision != "unsure"]
    wrong = [r for r in auto if not r.label]
    right = [r for r in auto if r.label]
    return {
        "answers": len(rows),
        "coverage": len(auto) / len(rows) if rows else 0.0,
        "false_pass": sum(r.decision == "pass" for r in wrong) / len(wrong) if wrong else 0.0,
        "false_fail": sum(r.decision == "fail" for r in right) / len(right) if right else 0.0,
        "macro_f1_abstaining": macro_f1([r.label for r in auto], [r.decision == "pass" for r in auto]),
        "macro_f1_all": macro_f1([r.label for r in rows], [r.forced for r in rows]),
    }


def overlap_threshold(train: Sequence[Question]) -> float:
    """The word-overlap pass threshold with the best macro-F1 on the training answers."""
    scored = [(overlap(item_for(q), a.text), a.correct) for q in train for a in q.answers]
    labels = [c for _, c in scored]
    grid = [t / 100 for t in range(5, 100, 5)]
    return max(grid, key=lambda t: macro_f1(labels, [s >= t for s, _ in scored]))


def grade_split(grader: FreeTextGrader, questions: Sequence[Question], train: dict[str, Question],
                cut: float) -> dict[str, list[Graded]]:
    items = []
    for q in questions:
        item = item_for(q, examples_of(train.get(q.id)))
        items.append((q, item))
    grader.warm([t for q, item in items for t in (item.reference, *(e.answer for e in item.examples),
                                                  *(a.text for a in q.answers))])
    out: dict[str, list[Graded]] = {"grader": [], "keywords": [], "overlap": []}
    for q, item in items:
        for a in q.answers:
            score = grader.score(item, a.text)
            limits = thresholds(None, score.coefficients)
            forced = score.probability >= score.coefficients.decide_at
            out["grader"].append(Graded(a.correct, verdict(score.probability, limits), forced))
            kw = keyword_pass(item, a.text)
            out["keywords"].append(Graded(a.correct, "pass" if kw else "fail", kw))
            ov = overlap(item, a.text) >= cut
            out["overlap"].append(Graded(a.correct, "pass" if ov else "fail", ov))
    return out


def run(data: Path, *, limit: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    train_questions = read_folder(data / "train")[:limit]
    train = {q.id: q for q in train_questions}
    cut = overlap_threshold(train_questions)
    grader = FreeTextGrader(MiniLMEmbeddingFunction().embed)
    report: dict[str, Any] = {"data": str(data), "overlap_threshold": cut, "splits": {}}
    for split in test_splits(data):
        questions = read_folder(data / "test" / split)[:limit]
        graded = grade_split(grader, questions, train, cut)
        with_examples = sum(1 for q in questions if q.id in train)
        report["splits"][split] = {
            "questions": len(questions),
            "questions_with_examples": with_examples,
            **{name: figures(rows) for name, rows in graded.items()},
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"data: {report['data']}  (word-overlap threshold from train: {report['overlap_threshold']:.2f})")
    header = f"{'split':18} {'grader':9} {'answers':>7} {'coverage':>9} {'false-pass':>10} {'false-fail':>10} " \
             f"{'F1 abst.':>9} {'F1 all':>7}"
    print(header)
    for split, entry in report["splits"].items():
        for name in ("grader", "keywords", "overlap"):
            f = entry[name]
            print(f"{split:18} {name:9} {f['answers']:>7} {f['coverage']:>9.1%} {f['false_pass']:>10.1%} "
                  f"{f['false_fail']:>10.1%} {f['macro_f1_abstaining']:>9.3f} {f['macro_f1_all']:>7.3f}")
    print(f"{report['seconds']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each folder")
    args = parser.parse_args(argv)
    try:
        report = run(args.data, limit=args.limit)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
