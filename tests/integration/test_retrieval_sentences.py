"""Dense search by sentences (setting retrieval_sentence_vectors): each sentence of a chunk is embedded on its own
and a chunk scores by its best one (real Chroma on disk and the real offline model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_retrieval import embedding, settings_for, write
from tutor.retrieval import MiniLMEmbeddingFunction, PassageStore, ingest_paths, open_store
from tutor.retrieval.store import index_text

__all__ = ["embedding"]  # fixture shared with test_retrieval

FIRE = (
    "Fire drills are held every three months, and everyone leaves by the nearest marked exit. Fire doors must never "
    "be propped open, because they stop smoke spreading along the corridors. Extinguishers hang beside every "
    "stairwell: the red ones hold water and the black ones hold carbon dioxide for electrical fires. The assembly "
    "point is the car park behind the canteen, where wardens take a roll call. Visitors sign the guest book at "
    "reception when they arrive. Never use the lifts during an alarm, and do not go back in until a warden says so."
)
OFFICES = (
    "The offices are open from eight in the morning until six in the evening on weekdays. Meeting rooms on the "
    "second floor can be booked through the calendar, and the kitchen on each floor has a kettle and a fridge. "
    "Desks are shared, so clear yours at the end of the day."
)
TEXT = f"---\nskills: [safety]\n---\n\n# Working here\n\n## Fire safety\n{FIRE}\n\n## Our offices\n{OFFICES}\n"
ANSWER = "Visitors sign the guest book at reception when they arrive."


@pytest.fixture
def work(tmp_path: Path, embedding: MiniLMEmbeddingFunction) -> tuple[PassageStore, Path]:
    store = open_store(settings_for(tmp_path, retrieval_sentence_vectors=True), embedding)
    path = write(tmp_path / "m" / "work.md", TEXT)
    assert ingest_paths(store, [path], course="c1").added == 2
    return store, path


def sentence_count(store: PassageStore, course: str) -> int:
    sentences = store._sentence_collection(course)
    return sentences.count() if sentences is not None else 0


def test_a_sentence_buried_in_a_chunk_about_something_else_is_found_by_dense_search(
    work: tuple[PassageStore, Path], embedding: MiniLMEmbeddingFunction
) -> None:
    store, _ = work
    question = "who signs the guest book"
    [top, other] = store.search(question, course="c1", k=2, mode="dense")
    assert top.heading == "Fire safety" and other.heading == "Our offices"
    query = embedding.embed([question])[0]
    sentence = embedding.embed([index_text(ANSWER, ("Working here", "Fire safety"))])[0]
    whole = embedding.embed([index_text(FIRE, ("Working here", "Fire safety"))])[0]
    # the section scores by that one sentence, far above what the whole chunk's vector gives (which the other
    # section beats: averaged over six ideas, the answer is lost)
    assert top.score == pytest.approx(float(query @ sentence), abs=0.02)
    assert float(query @ whole) < other.score < top.score - 0.2


def test_each_sentence_is_stored_once_and_goes_with_its_chunk(
    work: tuple[PassageStore, Path], tmp_path: Path
) -> None:
    store, path = work
    assert sentence_count(store, "c1") == 6 + 3  # FIRE has six sentences, OFFICES three
    write(path, TEXT.replace("Desks are shared, so clear yours at the end of the day.", "Desks are yours to keep."))
    assert ingest_paths(store, [path], course="c1").added == 1  # only the edited chunk is embedded again
    assert sentence_count(store, "c1") == 6 + 3
    [hit] = store.search("can I keep my own desk", course="c1", k=1, mode="dense")
    assert hit.heading == "Our offices"
    assert store.remove("c1", ["work.md"]) == 2
    assert sentence_count(store, "c1") == 0
    ingest_paths(store, [path], course="c1")
    assert store.remove("c1") == 2
    assert store._sentence_collection("c1") is None and store.courses() == []


def test_a_course_stored_without_sentences_is_searched_by_its_chunk_vectors(
    tmp_path: Path, embedding: MiniLMEmbeddingFunction
) -> None:
    path = write(tmp_path / "m" / "work.md", TEXT)
    plain = open_store(settings_for(tmp_path), embedding)  # the default: chunk vectors only
    assert ingest_paths(plain, [path], course="c1").added == 2
    assert plain._sentence_collection("c1") is None
    [top] = plain.search("who signs the guest book", course="c1", k=1, mode="dense")
    assert top.heading == "Our offices"  # the answer is one sentence of six: averaged away (see the test above)
    store = open_store(settings_for(tmp_path, retrieval_sentence_vectors=True), embedding)
    assert ingest_paths(store, [path], course="c1").added == 0  # the setting changes what is added from now on
    index = store.course_index("c1")
    assert index is not None and not index.by_sentences and store._sentence_collection("c1") is None
    assert store.search("when are the offices open", course="c1", k=1, mode="hybrid")[0].heading == "Our offices"
    write(tmp_path / "m" / "more.md", TEXT.replace("# Working here", "# Visiting us"))
    assert ingest_paths(store, [tmp_path / "m" / "more.md"], course="c1").added == 2
    index = store.course_index("c1")
    assert index is not None and not index.by_sentences  # half the course has no sentence vectors: chunks it is
    assert sentence_count(store, "c1") == 9
    found = store.search("when are the offices open", course="c1", k=2, mode="dense")
    assert [s.heading for s in found] == ["Our offices", "Our offices"]
