"""Questions that point to other skills: does the tutor find the course's material for them?

    python -m evals.question_search_eval [--json OUT] [--course ID ...]

Each dataset evals/datasets/questions_other_skills_<course>.yaml holds learner questions asked while learning
`current_skill` about something taught under `skill`. The course is ingested into a fresh temporary store (the
real embedded Chroma and offline model; your own store is untouched) and every question is answered the way the
graph does (`tutor.graph.nodes.question_passages`: the whole course ranked, the current skill favoured), beside
the old way as a baseline (two passages of the current skill first, then two of the course).
hit@1 = share of questions whose first passage is a labelled one; hit@3 = one among the passages the answer is
written from (three); on_skill@1 = the first passage teaches the skill the question points to.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from tutor.graph.nodes import question_passages
from tutor.retrieval import PassageStore, ingest_course, open_store
from tutor.settings import Settings

DATASETS = Path(__file__).parent / "datasets"


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    heading: str


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1)
    current_skill: str
    skill: str
    answers: list[Answer] = Field(min_length=1)


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course: str
    questions: list[Question] = Field(min_length=1)


def restricted_first(store: PassageStore, question: str, *, course: str, skill_id: str) -> list[Any]:
    """The baseline: what the graph did before (the current skill's passages first)."""
    passages = list(store.search(question, course=course, skills=[skill_id], k=2))
    seen = {p.id for p in passages}
    return passages + [p for p in store.search(question, course=course, k=4) if p.id not in seen][:2]


Strategy = Callable[..., Sequence[Any]]
STRATEGIES: dict[str, Strategy] = {"whole course, skill favoured": question_passages,
                                   "current skill first (old)": restricted_first}


def _labelled(passage: Any, answers: list[Answer]) -> bool:
    return (Path(passage.source).name, passage.heading_path[-1] if passage.heading_path else "") in {
        (a.file, a.heading) for a in answers}


def evaluate(store: PassageStore, dataset: Dataset) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for name, strategy in STRATEGIES.items():
        hit1 = hit3 = on_skill = 0
        misses = []
        for question in dataset.questions:
            found = list(strategy(store, question.q, course=dataset.course, skill_id=question.current_skill))
            hit1 += bool(found) and _labelled(found[0], question.answers)
            hit3 += any(_labelled(p, question.answers) for p in found[:3])
            on_skill += bool(found) and question.skill in found[0].skills
            if not found or not _labelled(found[0], question.answers):
                misses.append({"q": question.q, "first": f"{found[0].source} > {found[0].heading}" if found else None})
        n = len(dataset.questions)
        scores[name] = {"questions": n, "hit@1": round(hit1 / n, 3), "hit@3": round(hit3 / n, 3),
                        "on_skill@1": round(on_skill / n, 3), "misses": misses}
    return scores


def run(content_dir: Path, courses: list[str] | None, datasets_dir: Path = DATASETS) -> dict[str, Any]:
    report: dict[str, Any] = {"courses": {}}
    with tempfile.TemporaryDirectory(prefix="question-eval-") as tmp:
        store = open_store(Settings(data_dir=Path(tmp)))
        for path in sorted(datasets_dir.glob("questions_other_skills_*.yaml")):
            dataset = Dataset.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
            if courses and dataset.course not in courses:
                continue
            ingest_course(store, content_dir / dataset.course)
            report["courses"][dataset.course] = {"dataset": path.name, **evaluate(store, dataset)}
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--content-dir", type=Path, default=Path("content"))
    parser.add_argument("--course", action="append")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    report = run(args.content_dir, args.course)
    if not report["courses"]:
        print(f"no datasets found in {DATASETS}", file=sys.stderr)
        return 1
    for course, result in report["courses"].items():
        for name, s in result.items():
            if isinstance(s, dict):
                print(f"{course:14} {name:30} n={s['questions']:3} hit@1={s['hit@1']:.3f} hit@3={s['hit@3']:.3f} "
                      f"on_skill@1={s['on_skill@1']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
