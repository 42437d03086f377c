"""The retrieval eval and the scale benchmark run end to end on a tiny course (figures are not checked here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import retrieval_scale
from evals import retrieval_eval

SOURCE = """---
skills: [parts]
style: definition
---

# Parts of a whole

## Halves
A half is one of two equal parts of a whole. Two halves make one whole pizza.

## Thirds
<!-- {style: analogy} -->
Share a cake fairly between three friends and each gets a third of the cake.

## Quarters
<!-- {style: worked_example} -->
A quarter is one of four equal parts: cut 12 sweets into 4 equal groups and each group has 3.
"""

DATASET = """course: tiny
questions:
  - q: "how much cake does each of 3 friends get"
    skill: parts
    answers: [{file: parts.md, heading: Thirds}]
  - q: "what is a half"
    skill: parts
    answers: [{file: parts.md, heading: Halves}]
  - q: "what is a quarter"
    skill: parts
    answers: [{file: parts.md, heading: "No such heading"}]
  - q: "how many sweets are in each of 4 equal groups of 12"
    learning: wholes
    skill: parts
    answers: [{file: parts.md, heading: Quarters}]
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "content" / "tiny" / "sources").mkdir(parents=True)
    (tmp_path / "content" / "tiny" / "course.yaml").write_text("id: tiny\ntitle: Tiny\nskills: []\n")
    (tmp_path / "content" / "tiny" / "sources" / "parts.md").write_text(SOURCE)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "retrieval_tiny.yaml").write_text(DATASET)
    return tmp_path


def test_the_eval_scores_every_mode_and_flags_labels_that_name_no_section(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tiny / "out" / "retrieval.json"
    assert retrieval_eval.main(["--json", str(out), "--content-dir", str(tiny / "content"),
                                "--datasets", str(tiny / "datasets")]) == 0
    report = json.loads(out.read_text())["courses"]["tiny"]
    assert set(report["modes"]) == {"dense", "bm25", "hybrid", "hybrid+rerank", "hybrid+skill", "other_skill"}
    hybrid = report["modes"]["hybrid"]
    assert hybrid["questions"] == 4 and hybrid["recall@5"] == pytest.approx(3 / 4, abs=1e-3)
    other = report["modes"]["other_skill"]
    assert other["hybrid"]["questions"] == 1 and other["hybrid"]["recall@5"] == 1.0 and other["tutor"] == 1.0
    assert (report["chunks"], report["sections"]) == (3, 3)
    assert report["unknown_labels"] == ["parts.md > No such heading"]
    printed = capsys.readouterr().out
    assert "recall@1" in printed and "labels naming no section in the course: parts.md > No such heading" in printed
    assert "asked while learning another skill (1 questions)" in printed


def test_the_benchmark_reports_throughput_and_latency_per_size(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tiny / "bench.json"
    assert retrieval_scale.main(["--sizes", "63", "--model-chunks", "0", "--content-dir", str(tiny / "content"),
                                 "--datasets", str(tiny / "datasets"), "--json", str(out),
                                 "--compare-chunks", "8"]) == 0
    report = json.loads(out.read_text())
    chunking = report["chunk_size"]
    assert chunking["chunks_120"]["chunks"] > chunking["baseline_300"]["chunks"] >= 3 + 4
    assert chunking["chunks_120"]["words"] == chunking["baseline_300"]["words"] and chunking["words_per_s_ratio"] > 0
    size = report["sizes"]["63"]
    assert size["chunks"] == 63  # 3 real passages embedded by the model, 60 filler by sentence means
    assert size["ingest_with_model"]["chunks"] == 3 and size["ingest_without_model"]["chunks"] == 60
    assert size["hybrid"]["p95_ms"] >= size["hybrid"]["p50_ms"] > 0
    assert "ingest/s model" in capsys.readouterr().out


def test_with_sentence_vectors_the_eval_and_the_benchmark_search_by_sentences(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tiny / "out" / "sentences.json"
    assert retrieval_eval.main(["--json", str(out), "--content-dir", str(tiny / "content"),
                                "--datasets", str(tiny / "datasets"), "--sentence-vectors"]) == 0
    report = json.loads(out.read_text())
    assert report["sentence_vectors"] is True
    assert report["courses"]["tiny"]["modes"]["hybrid"]["recall@5"] == pytest.approx(3 / 4, abs=1e-3)
    assert "dense search by each chunk's best sentence" in capsys.readouterr().out
    bench = tiny / "bench-sentences.json"
    assert retrieval_scale.main(["--sizes", "63", "--model-chunks", "0", "--content-dir", str(tiny / "content"),
                                 "--datasets", str(tiny / "datasets"), "--json", str(bench),
                                 "--compare-chunks", "8", "--sentence-vectors"]) == 0
    chunking = json.loads(bench.read_text())["chunk_size"]
    with_sentences, without = chunking["chunks_120_sentences"], chunking["chunks_120"]
    assert with_sentences["chunks"] == without["chunks"] and chunking["sentences_words_per_s_ratio"] > 0
    assert "the same chunks with sentence vectors" in capsys.readouterr().out
