"""Retrieval eval: section-level recall@1, recall@5 and MRR of dense, BM25 and hybrid search on each course's
labelled questions.

    python -m evals.retrieval_eval [--json OUT] [--course ID ...] [--sentence-vectors]

Each course in content/ with a dataset evals/datasets/retrieval_<course>.yaml is ingested into a fresh temporary
store (the real embedded Chroma and offline model; your own store is not touched) and every question is asked
in every mode, filtered to the course only (as for a learner's free question). `hybrid+skill` also filters to
the question's skill, as the tutor does when it explains a skill. `hybrid+rerank` reorders hybrid's first sections
with the cross-encoder, as the tutor does for a learner's own question (setting retrieval_rerank).
`--sentence-vectors` builds the store with sentence vectors (setting retrieval_sentence_vectors: dense search by
each chunk's best sentence).
Search returns sections (each once), and a label names a section (file and heading), so every figure is at the level
of sections.
Questions with `learning:` (and those of questions_other_skills_<course>.yaml, whose `current_skill` means the
same) were asked while learning another skill than the one whose sections answer them; they count in every
figure and are also scored apart, where `tutor` scores the tutor's own choice of sections to answer a question
from (graph `question_passages`): the share of them with a labelled section among those sections.
recall@k = share of questions with at least one labelled section in the top k; MRR = mean of 1/rank of the
first labelled section in the top 10 (0 when none). Latency is per search call, after a warm-up query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from tutor.graph.nodes import question_passages
from tutor.retrieval import PassageStore, ingest_course, open_store
from tutor.retrieval.sections import Section
from tutor.retrieval.store import Mode
from tutor.settings import Settings

DATASETS = Path(__file__).parent / "datasets"
MODES: dict[str, tuple[Mode, bool, bool]] = {  # name: (mode, filtered to the question's skill, reranked)
    "dense": ("dense", False, False),
    "bm25": ("bm25", False, False),
    "hybrid": ("hybrid", False, False),
    "hybrid+rerank": ("hybrid", False, True),
    "hybrid+skill": ("hybrid", True, False),
}
DEPTH = 10


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    heading: str


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1)
    skill: str
    learning: str | None = Field(None, validation_alias=AliasChoices("learning", "current_skill"))
    """Asked while learning this (other) skill; `current_skill` in questions_other_skills_<course>.yaml."""
    answers: list[Answer] = Field(min_length=1)


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course: str
    questions: list[Question] = Field(min_length=1)


@dataclass
class ModeResult:
    ranks: list[int | None]  # 1-based rank of the first labelled passage in the top DEPTH, or None
    latencies_ms: list[float]

    def summary(self) -> dict[str, Any]:
        n = len(self.ranks)
        return {
            "questions": n,
            "recall@1": round(sum(1 for r in self.ranks if r is not None and r <= 1) / n, 4),
            "recall@5": round(sum(1 for r in self.ranks if r is not None and r <= 5) / n, 4),
            "mrr": round(sum(1.0 / r for r in self.ranks if r is not None) / n, 4),
            "latency_ms": {"p50": round(percentile(self.latencies_ms, 50), 2),
                           "p95": round(percentile(self.latencies_ms, 95), 2)},
        }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def load_dataset(path: Path) -> Dataset:
    return Dataset.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def first_hit(sections: list[Section], answers: list[Answer]) -> int | None:
    wanted = {(Path(a.file).name, a.heading) for a in answers}
    for rank, section in enumerate(sections, start=1):
        if (Path(section.source).name, section.heading) in wanted:
            return rank
    return None


def tutor_hit(store: PassageStore, course: str, question: Question) -> bool:
    """Whether the sections the tutor answers `question` from (graph `question_passages`) hold a label."""
    assert question.learning is not None
    gathered = question_passages(store, question.q, course=course, skill_id=question.learning)
    return first_hit([s for s in gathered if isinstance(s, Section)], question.answers) is not None


def other_skill_questions(datasets_dir: Path, course: str) -> list[Question]:
    """Questions of questions_other_skills_<course>.yaml (kept by the tutor's question-answering work), if any."""
    path = datasets_dir / f"questions_other_skills_{course}.yaml"
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Question.model_validate(q) for q in data.get("questions", [])]


def unknown_labels(store: PassageStore, dataset: Dataset) -> list[str]:
    """Labels naming a section that is not in the store (a typo in the dataset or a renamed heading)."""
    index = store.course_index(dataset.course)
    metadatas = index.metadatas if index is not None else []
    known = {(Path(str(m["source"])).name, json.loads(str(m["heading_path"]))[-1]) for m in metadatas}
    return sorted({f"{a.file} > {a.heading}" for q in dataset.questions for a in q.answers
                   if (Path(a.file).name, a.heading) not in known})


def evaluate_course(store: PassageStore, dataset: Dataset) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    store.search("warm up", course=dataset.course, mode="hybrid", rerank=True)  # loads the models, builds BM25
    results = {name: ModeResult([], []) for name in MODES}
    other = {name: ModeResult([], []) for name in MODES if not MODES[name][1]}
    misses: list[dict[str, Any]] = []
    for question in dataset.questions:
        for name, (mode, by_skill, reranked) in MODES.items():
            start = time.perf_counter()
            sections = store.search(question.q, course=dataset.course, k=DEPTH, mode=mode,
                                    skills=[question.skill] if by_skill else None, rerank=reranked)
            latency = (time.perf_counter() - start) * 1000
            rank = first_hit(sections, question.answers)
            groups = [results, other] if question.learning and name in other else [results]
            for group in groups:
                group[name].latencies_ms.append(latency)
                group[name].ranks.append(rank)
            if name == "hybrid" and (rank is None or rank > 5):
                misses.append({"q": question.q, "rank": rank, "expected": [a.heading for a in question.answers],
                               "got": [p.heading for p in sections[:3]]})
    scores = {name: r.summary() for name, r in results.items()}
    asked = [q for q in dataset.questions if q.learning]
    if asked:
        tutor = sum(tutor_hit(store, dataset.course, q) for q in asked) / len(asked)
        scores["other_skill"] = {**{name: r.summary() for name, r in other.items()}, "tutor": round(tutor, 4)}
    return scores, misses


def run(content_dir: Path, courses: list[str] | None, datasets_dir: Path = DATASETS,
        sentence_vectors: bool = False) -> dict[str, Any]:
    datasets = sorted(datasets_dir.glob("retrieval_*.yaml"))
    report: dict[str, Any] = {"courses": {}, "definitions": __doc__.split("\n\n")[-1].strip() if __doc__ else "",
                              "sentence_vectors": sentence_vectors}
    with tempfile.TemporaryDirectory(prefix="retrieval-eval-") as tmp:
        store = open_store(Settings(_env_file=None, data_dir=Path(tmp), chroma_url=None,
                                    retrieval_sentence_vectors=sentence_vectors, retrieval_rerank=True))
        for path in datasets:
            dataset = load_dataset(path)
            if courses and dataset.course not in courses:
                continue
            dataset.questions.extend(other_skill_questions(datasets_dir, dataset.course))
            ingest = ingest_course(store, content_dir / dataset.course)
            unknown = unknown_labels(store, dataset)
            scores, misses = evaluate_course(store, dataset)
            report["embedding"] = getattr(store.embedding_function, "variant", type(store.embedding_function).__name__)
            report["courses"][dataset.course] = {
                "dataset": path.name,
                "chunks": store.count(dataset.course),
                "sections": len(index.section_ids) if (index := store.course_index(dataset.course)) else 0,
                "ingest_seconds": round(ingest.seconds, 2),
                "unknown_labels": unknown,
                "modes": scores,
                "hybrid_misses_at_5": misses,
            }
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"embedding model: {report.get('embedding', '?')}; dense search by "
          + ("each chunk's best sentence" if report.get("sentence_vectors") else "chunk vectors"))
    for course, data in report["courses"].items():
        modes = dict(data["modes"])
        other = modes.pop("other_skill", None)
        print(f"\n{course}: {modes['hybrid']['questions']} questions, {data['chunks']} chunks, "
              f"{data['sections']} sections")
        print(f"  {'mode':<14}{'recall@1':>9}{'recall@5':>9}{'MRR':>8}{'p50 ms':>9}{'p95 ms':>9}")
        for name, s in modes.items():
            print(f"  {name:<14}{s['recall@1']:>9.3f}{s['recall@5']:>9.3f}{s['mrr']:>8.3f}"
                  f"{s['latency_ms']['p50']:>9.1f}{s['latency_ms']['p95']:>9.1f}")
        if other:
            other = dict(other)
            tutor = other.pop("tutor")
            print(f"  asked while learning another skill ({other['hybrid']['questions']} questions): "
                  + ", ".join(f"{name} R@1 {s['recall@1']:.3f} R@5 {s['recall@5']:.3f}" for name, s in other.items())
                  + f"; the sections the tutor answers from hold the answer for {tutor:.3f}")
        if data["unknown_labels"]:
            print(f"  labels naming no section in the course: {', '.join(data['unknown_labels'])}")
        for miss in data["hybrid_misses_at_5"]:
            print(f"  hybrid miss (rank {miss['rank']}): {miss['q']!r} -> got {miss['got']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--course", action="append", help="only this course (repeatable)")
    parser.add_argument("--content-dir", type=Path, default=Path("content"))
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="folder of retrieval_<course>.yaml files")
    parser.add_argument("--sentence-vectors", action="store_true",
                        help="embed each sentence too and search densely by a chunk's best sentence")
    args = parser.parse_args(argv)
    report = run(args.content_dir, args.course, args.datasets, args.sentence_vectors)
    if not report["courses"]:
        print(f"no retrieval datasets found in {args.datasets}", file=sys.stderr)
        return 1
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
