"""Retrieval at scale: ingest throughput and query latency at 1k, 10k and 100k chunks.

    python -m benchmarks.retrieval_scale [--sizes 1000,10000,100000] [--model-chunks 2000] [--json OUT]
                                         [--sentence-vectors]

For each size a fresh embedded store gets one course holding both sample courses' real sections plus synthetic
filler sections (real sentences recombined, so they are plausible distractors, 150-240 words like the real ones)
up to the size in search chunks (60-120 words each), written as Markdown files and ingested through
`ingest_paths` (parse, chunk, hash, embed, write).

Embedding is the dominant ingest cost, so only the first `--model-chunks` filler chunks are embedded by the model;
for the rest the vector is the normalised mean of the model's vectors of its sentences (computed once). Two
throughputs are reported: with the model, and of the rest of the pipeline (store write, hashing, parsing).
Queries are the labelled eval questions (always embedded by the model); latency is per search call after the
BM25 index was built (its build time, the cost of the first query after a change, is reported on its own).

First, the embedding model alone: the real passages embedded by the exact model and by its fused int8 build (the
default), median of three runs each in this process, with their ratio and how closely the vectors agree.
Then the chunk size: the same files (the real sources and some filler) ingested with the model into fresh stores
with the old passages (sections up to 300 words whole, ~250-word pieces: the baseline) and with today's 60-120-word
chunks, alternating, median of two runs each, in this process: chunks/s, words/s and their ratios. On a shared
machine absolute figures are noisy; the ratios are measured under the same load.
Search returns sections, so recall@5 and latency are per search call returning 5 distinct sections.
With `--sentence-vectors` the stores of every size also embed each sentence (setting retrieval_sentence_vectors),
and the chunk-size comparison adds the 60-120-word chunks with sentence vectors as a third store, with its ratios
to the same chunks without them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from evals.retrieval_eval import DATASETS, first_hit, load_dataset
from tutor.course.sources import parse_markdown
from tutor.retrieval import IngestLimits, MiniLMEmbeddingFunction, ingest_paths, open_store
from tutor.retrieval.chunking import split_text
from tutor.retrieval.store import Mode, PassageStore
from tutor.settings import Settings

COURSE = "bench"
CHUNKS_PER_FILE = 100
BASELINE_WORDS = 300  # the passage size before chunks: sections up to 300 words whole
STYLES = ["definition", "worked_example", "analogy", "step_by_step", "common_mistakes", "scenario"]


class SentenceMeanEmbedding(EmbeddingFunction[Documents]):
    """Documents: normalised mean of cached per-sentence model vectors; queries: the model itself."""

    def __init__(self, model: MiniLMEmbeddingFunction, sentence_vectors: dict[str, npt.NDArray[np.float32]]):
        self.model = model
        self.sentences = sentence_vectors
        self.model_budget = 0  # documents still to embed with the model

    @staticmethod
    def name() -> str:
        return "bench_sentence_mean"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SentenceMeanEmbedding:
        return SentenceMeanEmbedding(MiniLMEmbeddingFunction(), {})

    def __call__(self, input: Documents) -> Embeddings:
        texts = list(input)
        if self.model_budget >= len(texts):
            self.model_budget -= len(texts)
            return list(self.model.embed(texts))
        out = []
        for text in texts:
            body = text.rpartition("\n\n")[2]  # the store embeds each sentence after its headings
            parts = [self.sentences[s] for s in split_sentences(body) if s in self.sentences]
            vector = np.mean(parts, axis=0) if parts else self.model.embed([text])[0]
            out.append((vector / np.linalg.norm(vector)).astype(np.float32))
        return out

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self.model.embed(list(input)))


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 20]


def real_sources(content_dir: Path) -> list[Path]:
    return sorted(content_dir.glob("*/sources/*.md"))


def filler_files(folder: Path, sentences: list[str], count: int, seed: int) -> list[Path]:
    """Filler sections of 150-240 words made of real sentences, making `count` search chunks, about
    `CHUNKS_PER_FILE` per Markdown file."""
    rng = random.Random(seed)
    paths: list[Path] = []
    made = 0
    while made < count:
        lines = ["---", f"skills: [filler-{len(paths) % 20}]", "---", "", f"# Filler {len(paths)}", ""]
        in_file = 0
        while in_file < CHUNKS_PER_FILE and made + in_file < count:
            body: list[str] = []
            target = rng.randint(150, 240) if count - made - in_file > 1 else rng.randint(60, 110)
            while sum(len(s.split()) for s in body) < target:
                body.append(rng.choice(sentences))
            text = " ".join(body)
            in_file += len(split_text(text))
            lines += [f"## Filler section {made + in_file}", f"<!-- {{style: {rng.choice(STYLES)}}} -->", text, ""]
        path = folder / f"filler-{len(paths):06d}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
        made += in_file
    return paths


def compare_chunking(model: MiniLMEmbeddingFunction, sentences: list[str], content_dir: Path, filler_chunks: int,
                     runs: int = 2, sentence_search: bool = False) -> dict[str, Any]:
    """Ingest with the model at the baseline passage size and at today's chunk size, alternating, same files."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="retrieval-chunking-") as tmp:
        folder = Path(tmp) / "filler"
        folder.mkdir()
        files = real_sources(content_dir) + filler_files(folder, sentences, filler_chunks, seed=7)
        total_words = words(files)
        configs = [("baseline_300", BASELINE_WORDS, False), ("chunks_120", IngestLimits.chunk_words, False)]
        if sentence_search:
            configs.append(("chunks_120_sentences", IngestLimits.chunk_words, True))
        timings: dict[str, list[tuple[int, float]]] = {name: [] for name, _, _ in configs}
        for run in range(runs):
            for name, size, by_sentences in configs:
                store = open_store(Settings(_env_file=None, data_dir=Path(tmp) / f"{name}-{run}", chroma_url=None,
                                            retrieval_sentence_vectors=by_sentences), model)
                report = ingest_paths(store, files, course=COURSE, limits=IngestLimits(chunk_words=size))
                timings[name].append((report.added, report.seconds))
        for name, runs_done in timings.items():
            chunks = runs_done[0][0]
            seconds = statistics.median(t for _, t in runs_done)
            result[name] = {"chunks": chunks, "words": total_words, "chunks_per_s": round(chunks / seconds, 1),
                            "words_per_s": round(total_words / seconds)}
    result["chunks_per_s_ratio"] = round(result["chunks_120"]["chunks_per_s"] / result["baseline_300"]["chunks_per_s"],
                                         2)
    result["words_per_s_ratio"] = round(result["chunks_120"]["words_per_s"] / result["baseline_300"]["words_per_s"], 2)
    if sentence_search:
        result["sentences_words_per_s_ratio"] = round(
            result["chunks_120_sentences"]["words_per_s"] / result["chunks_120"]["words_per_s"], 2)
    return result


def words(paths: list[Path]) -> int:
    """Words of passage text in these Markdown files (chunk sizes differ; words/s does not depend on them)."""
    return sum(len(section.text.split()) for p in paths for section in parse_markdown(p.read_text("utf-8"), p.name))


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]


def measure_queries(store: PassageStore, questions: list[Any]) -> dict[str, Any]:
    start = time.perf_counter()
    store.course_index(COURSE)
    build = time.perf_counter() - start
    result: dict[str, Any] = {"bm25_index_build_s": round(build, 2)}
    modes: list[Mode] = ["dense", "bm25", "hybrid"]
    for mode in modes:
        store.search("warm up", course=COURSE, mode=mode)
        latencies, hits = [], 0
        for question in questions:
            t = time.perf_counter()
            passages = store.search(question.q, course=COURSE, k=5, mode=mode)
            latencies.append((time.perf_counter() - t) * 1000)
            hits += first_hit(passages, question.answers) is not None
        result[mode] = {"p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
                        "recall@5": round(hits / len(questions), 3)}
    return result


def compare_models(texts: list[str], runs: int = 3) -> dict[str, Any]:
    """Passages/s of the exact model and the fused int8 build on the same texts, and their vectors' agreement."""
    result: dict[str, Any] = {"passages": len(texts)}
    vectors = {}
    for name, fast in (("exact", False), ("fused_int8", True)):
        model = MiniLMEmbeddingFunction(fast=fast)
        model.embed(texts[:4])  # load (and on first use build) outside the timing
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            vectors[name] = model.embed(texts)
            times.append(time.perf_counter() - start)
        result[name] = {"variant": model.variant, "passages_per_s": round(len(texts) / statistics.median(times), 1)}
    cosine = np.sum(vectors["exact"] * vectors["fused_int8"], axis=1)
    result["speedup"] = round(result["fused_int8"]["passages_per_s"] / result["exact"]["passages_per_s"], 2)
    result["cosine_min"], result["cosine_mean"] = round(float(cosine.min()), 4), round(float(cosine.mean()), 4)
    return result


def run_size(size: int, model: MiniLMEmbeddingFunction, sentence_vectors: dict[str, Any], sentences: list[str],
             questions: list[Any], content_dir: Path, model_chunks: int,
             sentence_search: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"retrieval-scale-{size}-") as tmp:
        ef = SentenceMeanEmbedding(model, sentence_vectors)
        store = open_store(Settings(_env_file=None, data_dir=Path(tmp), chroma_url=None,
                                    retrieval_sentence_vectors=sentence_search), ef)
        ef.model_budget = 10**9
        real = ingest_paths(store, real_sources(content_dir), course=COURSE)
        filler_dir = Path(tmp) / "filler"
        filler_dir.mkdir()
        files = filler_files(filler_dir, sentences, max(0, size - real.added), seed=size)
        n_model = min(model_chunks, max(0, size - real.added))
        model_files = files[: -(-n_model // CHUNKS_PER_FILE)] if n_model else []  # about n_model chunks
        ef.model_budget = 10**9
        with_model = ingest_paths(store, model_files, course=COURSE)
        ef.model_budget = 0
        rest = ingest_paths(store, files[len(model_files):], course=COURSE)
        for report in (real, with_model, rest):
            if not report.ok:
                raise SystemExit("ingest failed: " + str(report.skipped[0])[:2000])
        chunks = store.count(COURSE)
        result: dict[str, Any] = {
            "chunks": chunks,
            "ingest_with_model": {"chunks": with_model.added + real.added,
                                  "chunks_per_s": round((with_model.added + real.added)
                                                        / max(with_model.seconds + real.seconds, 1e-9), 1),
                                  "words_per_s": round(words(real_sources(content_dir) + model_files)
                                                       / max(with_model.seconds + real.seconds, 1e-9))},
            "ingest_without_model": {"chunks": rest.added,
                                     "chunks_per_s": round(rest.added / rest.seconds, 1) if rest.added else None},
        }
        result.update(measure_queries(store, questions))
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    parser.add_argument("--model-chunks", type=int, default=2000,
                        help=f"filler chunks embedded by the model at each size, in whole files of {CHUNKS_PER_FILE} "
                             "(the rest use sentence means)")
    parser.add_argument("--compare-chunks", type=int, default=400,
                        help="filler chunks added to the real sources for the chunk-size comparison")
    parser.add_argument("--content-dir", type=Path, default=Path("content"))
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="folder of retrieval_<course>.yaml files")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--sentence-vectors", action="store_true",
                        help="stores also embed each sentence (dense search by a chunk's best sentence)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    model = MiniLMEmbeddingFunction()
    sentences = sorted({s for p in real_sources(args.content_dir)
                        for section in parse_markdown(p.read_text(encoding="utf-8"), p.name)
                        for s in split_sentences(section.text)})
    vectors = dict(zip(sentences, model.embed(sentences), strict=True))
    questions = [q for path in sorted(args.datasets.glob("retrieval_*.yaml")) for q in load_dataset(path).questions]
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()[0],
                              "model_chunks": args.model_chunks, "queries": len(questions), "sizes": {}}
    print(f"{len(sentences)} real sentences, {len(questions)} queries, load average {os.getloadavg()[0]:.2f}")
    passages = [section.text for p in real_sources(args.content_dir)
                for section in parse_markdown(p.read_text(encoding="utf-8"), p.name)]
    models = report["embedding_models"] = compare_models(passages)
    print(f"embedding {models['passages']} real passages: exact {models['exact']['passages_per_s']}/s, fused int8 "
          f"{models['fused_int8']['passages_per_s']}/s ({models['fused_int8']['variant']}), "
          f"{models['speedup']}x; cosine min {models['cosine_min']} mean {models['cosine_mean']}")
    report["sentence_vectors"] = args.sentence_vectors
    chunking = report["chunk_size"] = compare_chunking(model, sentences, args.content_dir, args.compare_chunks,
                                                       sentence_search=args.sentence_vectors)
    base, new = chunking["baseline_300"], chunking["chunks_120"]
    print(f"chunk size, same {new['words']} words ingested with the model (median of 2, alternating): baseline "
          f"(<=300-word passages) {base['chunks']} chunks {base['chunks_per_s']}/s {base['words_per_s']} words/s; "
          f"60-120-word chunks {new['chunks']} chunks {new['chunks_per_s']}/s {new['words_per_s']} words/s; "
          f"ratio chunks/s {chunking['chunks_per_s_ratio']}x, words/s {chunking['words_per_s_ratio']}x", flush=True)
    if args.sentence_vectors:
        with_sentences = chunking["chunks_120_sentences"]
        print(f"the same chunks with sentence vectors: {with_sentences['chunks_per_s']}/s "
              f"{with_sentences['words_per_s']} words/s, {chunking['sentences_words_per_s_ratio']}x the words/s "
              "without them", flush=True)
    print(f"ingest below uses the {model.variant} model")
    print(f"{'chunks':>8} {'ingest/s model':>15} {'words/s model':>14} {'ingest/s rest':>14} {'bm25 build s':>13} "
          f"{'dense p50/p95':>14} {'bm25 p50/p95':>14} {'hybrid p50/p95':>15} {'hybrid R@5':>11}")
    for size in sizes:
        r = run_size(size, model, vectors, sentences, questions, args.content_dir, args.model_chunks,
                     args.sentence_vectors)
        report["sizes"][str(size)] = r
        rest = r["ingest_without_model"]["chunks_per_s"]
        print(f"{r['chunks']:>8} {r['ingest_with_model']['chunks_per_s']:>15.1f} "
              f"{r['ingest_with_model']['words_per_s']:>14} "
              f"{'-' if rest is None else f'{rest:.0f}':>14} {r['bm25_index_build_s']:>13.2f} "
              + " ".join(f"{r[m]['p50_ms']:>6.1f}/{r[m]['p95_ms']:<7.1f}" for m in ("dense", "bm25", "hybrid"))
              + f" {r['hybrid']['recall@5']:>11.3f}", flush=True)
    report["load_average_at_end"] = os.getloadavg()[0]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
