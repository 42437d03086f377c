"""Search small chunks, teach whole sections: section results, other-skill questions, bounded ingest (real Chroma
on disk and the real offline model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_retrieval import embedding, pdf_bytes, settings_for, snapshot, store, write
from tutor.cli import main
from tutor.retrieval import IngestLimits, MiniLMEmbeddingFunction, PassageStore, ingest_course, ingest_paths, open_store
from tutor.retrieval.chunking import split_text
from tutor.settings import Settings

__all__ = ["embedding", "store"]  # fixtures shared with test_retrieval

CONTENT = Path(__file__).resolve().parents[2] / "content"

# One long section (four chunks) on halves, written as four paragraphs on distinct sub-topics, and a short one.
HALVES = [
    "A half is one of two equal parts of a whole. When a shape is cut into two pieces of exactly the same size, "
    "each piece is one half, and we write it as 1/2. The two halves together make the whole shape again. If the "
    "two pieces are not the same size, neither of them is a half, however carefully you name them. Children often "
    "call the bigger piece the bigger half, but halves are always equal, so there is no bigger half. Folding a "
    "paper square corner to corner is a quick way to check, because the two halves lie exactly on top of each other.",
    "Halving a number means sharing it into two equal groups. Half of 10 is 5, because 5 and 5 make 10. Half of 7 "
    "is 3 and a half, because 7 cannot be shared into two equal whole groups. To halve an even number you can "
    "split its tens and its ones: half of 36 is half of 30 plus half of 6, which is 15 plus 3, so 18 in all. "
    "Doubling is the opposite of halving, so you can always check a half by doubling it to get the number back "
    "again.",
    "Money gives a good picture of halves. Half of one pound is fifty pence, and half of fifty pence is twenty five "
    "pence. Two coins of twenty five pence make a half of one pound again. When two friends split a bill evenly, "
    "each pays half of it, so a bill of twelve pounds costs each of them six pounds. Shops use halves too: a sale "
    "with half off means the price is cut to one half of what it was, so a coat that cost forty pounds now costs "
    "twenty pounds, and the saving is also twenty pounds.",
    "Time uses halves as well. Half an hour is thirty minutes because an hour has sixty minutes, and half past "
    "three is thirty minutes after three o'clock. A half-time whistle in football comes after forty five minutes "
    "of a ninety minute match, exactly halfway through the time of play on the clock. A half day at school ends "
    "at lunchtime, and half a week is three and a half days, since a week has seven days. A clock face shows it "
    "well: the minute hand pointing down at the six means half past the hour.",
]
COURSE_TEXT = (
    "---\nskills: [halves]\nstyle: definition\n---\n\n# Halves\n\n## All about halves\n"
    + "\n\n".join(HALVES)
    + "\n\n## Quarters\n<!-- {style: analogy} -->\nA quarter is one of four equal parts: cut each half in half "
    "again and you get quarters.\n"
)


@pytest.fixture
def halves(tmp_path: Path, embedding: MiniLMEmbeddingFunction) -> tuple[PassageStore, Path]:
    store = open_store(settings_for(tmp_path), embedding)
    path = write(tmp_path / "m" / "halves.md", COURSE_TEXT)
    report = ingest_paths(store, [path], course="c1")
    assert report.ok and report.added == len(split_text("\n\n".join(HALVES))) + 1 == 5, report.files
    return store, path


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_a_section_found_by_several_chunks_comes_back_once_whole_with_the_best_chunk_marked(
    halves: tuple[PassageStore, Path], mode: str
) -> None:
    store, _ = halves
    found = store.search("how many minutes is half an hour", course="c1", k=5, mode=mode)  # type: ignore[arg-type]
    assert [s.heading for s in found][:1] == ["All about halves"]
    assert len({s.id for s in found}) == len(found) == 2  # two sections in the course, each once
    top = found[0]
    assert top.text == "\n\n".join(HALVES) and not top.truncated and len(top.chunk_ids) == 4
    assert top.best_text == HALVES[3] and top.best_chunk == top.chunk_ids[3]
    assert top.citation == "halves.md > Halves > All about halves"


def test_a_section_longer_than_the_bound_is_cut_around_its_best_chunk(
    tmp_path: Path, embedding: MiniLMEmbeddingFunction
) -> None:
    store = open_store(settings_for(tmp_path, retrieval_section_words=250), embedding)
    ingest_paths(store, [write(tmp_path / "m" / "halves.md", COURSE_TEXT)], course="c1")
    [top] = store.search("split a bill evenly between two friends", course="c1", k=1, mode="bm25")
    assert top.truncated and HALVES[2] in top.text and HALVES[0] not in top.text
    assert len(top.text.split()) <= 250 and top.best_text == HALVES[2]
    whole = store.passages_for_skill("c1", "halves")
    assert [s.heading for s in whole] == ["All about halves", "Quarters"]  # each section once, in file order
    assert whole[0].text.startswith(HALVES[0]) and whole[0].best is None


def test_not_already_shown_and_styles_work_on_sections(halves: tuple[PassageStore, Path]) -> None:
    store, _ = halves
    first = store.search("what is a half", course="c1", k=1)[0]
    assert first.heading == "All about halves"
    rest = store.search("what is a half", course="c1", k=5, exclude_ids=[first.id])
    assert [s.heading for s in rest] == ["Quarters"]
    by_chunk = store.search("what is a half", course="c1", k=5, exclude_ids=[first.chunk_ids[0]])
    assert "All about halves" in [s.heading for s in by_chunk]  # excluding one chunk leaves the section's others
    assert [s.style for s in store.search("half", course="c1", k=5, exclude_styles=["definition"])] == ["analogy"]


def test_an_edit_re_embeds_only_changed_chunks_and_the_section_reads_in_order(
    halves: tuple[PassageStore, Path]
) -> None:
    store, path = halves
    before = snapshot(store, "c1")
    edited = COURSE_TEXT.replace("Money gives a good picture of halves.", "Coins give a good picture of halves.")
    write(path, edited)
    report = ingest_paths(store, [path], course="c1")
    assert (report.added, report.removed) == (1, 1)
    assert len(set(snapshot(store, "c1")) & set(before)) == 4
    assert ingest_paths(store, [path], course="c1").added == 0  # idempotent again
    [section] = [s for s in store.passages_for_skill("c1", "halves") if s.heading == "All about halves"]
    assert section.text == "\n\n".join(HALVES).replace("Money gives", "Coins give")


def test_a_question_about_another_skill_is_answered_from_that_skills_section(
    tmp_path: Path, embedding: MiniLMEmbeddingFunction
) -> None:
    store = open_store(settings_for(tmp_path), embedding)
    assert ingest_course(store, CONTENT / "data-privacy").ok
    question = "someone's laptop with customer records got stolen, what's the deadline to notify the regulator?"
    # what the tutor does for a learner's question (graph answer_question): the current skill first, then the course
    own = store.search(question, course="data-privacy", skills=["personal-data"], k=2)
    course_wide = store.search(question, course="data-privacy", k=4)
    assert all("breach-reporting" not in s.skills for s in own)
    assert course_wide[0].skills == ("breach-reporting",)
    [deadline] = [s for s in course_wide if s.heading == "The 72-hour rule and telling the people affected"]
    assert "72 hours" in deadline.best_text and deadline.text.count("72") > deadline.best_text.count("72")
    assert len({s.id for s in course_wide}) == 4


# ---------------------------------------------------------------- bounded ingest

PROSE = ("A fraction names part of a whole that has been cut into equal parts and counted again.",
         "The bottom number says how many equal parts there are in the whole shape or amount.",
         "The top number says how many of those equal parts we are talking about right now.")


def book(chapters: int) -> bytes:
    """A PDF: a title page, a contents page, `chapters` prose pages with a blank page after every tenth, an index."""
    pages: list[list[str]] = [["Fractions for Everyone"], ["Contents"]
                              + [f"Chapter {n} Equal parts ........ {n * 2 + 3}" for n in range(1, 15)]]
    for n in range(chapters):
        pages.append([f"Chapter {n + 1}.", *PROSE])
        if n % 10 == 9:
            pages.append([])
    pages.append(["Index"] + [f"{word}, {n * 3}, {n * 7}" for n, word in
                              enumerate(["denominator", "equal", "fraction", "half", "numerator", "quarter", "whole"])])
    return pdf_bytes(pages)


def test_pages_without_prose_are_skipped_and_counted(store: PassageStore, tmp_path: Path) -> None:
    path = write(tmp_path / "m" / "book.pdf", book(40))
    report = ingest_paths(store, [path], course="c1", skills=["meaning"])
    [result] = report.files
    assert result.status == "added", result.message
    assert result.junk_pages == 3  # title, contents, index; blank pages have no text at all
    assert result.chunks == 40
    assert "3 page(s) without prose skipped" in str(result) and "3 page(s) without prose" in report.summary()
    headings = {s.heading for s in store.passages_for_skill("c1", "meaning")}
    assert "Page 1" not in headings and "Page 2" not in headings and "Page 3" in headings


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_pages": 50}, "the PDF has 69 pages, over the limit of 50; split it, or raise TUTOR_INGEST_MAX_PAGES"),
        ({"max_chars": 5000}, "over the limit of 5,000; split it, or raise TUTOR_INGEST_MAX_CHARS"),
        ({"max_chunks": 30}, "the file makes 60 search chunks, over the limit of 30; split it, or raise "
                             "TUTOR_INGEST_MAX_CHUNKS"),
    ],
    ids=["pages", "characters", "chunks"],
)
def test_a_file_over_a_limit_is_not_ingested_and_the_reason_names_the_setting(
    store: PassageStore, tmp_path: Path, limits: dict[str, int], message: str
) -> None:
    path = write(tmp_path / "m" / "book.pdf", book(60))
    report = ingest_paths(store, [path], course="c1", skills=["meaning"], limits=IngestLimits(**limits))
    [result] = report.files
    assert result.status == "skipped" and message in result.message, result.message
    assert store.count("c1") == 0


def test_the_limits_come_from_the_settings_and_the_command_line_prints_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedding: MiniLMEmbeddingFunction,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUTOR_INGEST_MAX_PAGES", "20")
    monkeypatch.delenv("TUTOR_CHROMA_URL", raising=False)
    monkeypatch.setattr("tutor.retrieval.store.MiniLMEmbeddingFunction", lambda **_: embedding)
    assert Settings(_env_file=None).ingest_max_pages == 20
    write(tmp_path / "m" / "book.pdf", book(30))
    assert main(["content", "add", str(tmp_path / "m"), "--course", "c1", "--skill", "meaning", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "the PDF has 36 pages, over the limit of 20; split it, or raise TUTOR_INGEST_MAX_PAGES" in out
