"""Pure pieces of retrieval: chunking, chunk ids, HTML sections, rank fusion, MMR and filters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.course.models import SourceSection, Style
from tutor.retrieval.chunking import chunk_sections, make_chunk, split_pieces, split_text
from tutor.retrieval.ingest import _html_sections
from tutor.retrieval.search import CourseIndex, maximal_marginal_relevance, reciprocal_rank_fusion


def words(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


def sentences(n: int, length: int, word: str = "w") -> list[str]:
    """`n` sentences of `length` words each, every word unique."""
    return [" ".join(f"{word}{i}x{j}" for j in range(length)) + "." for i in range(n)]


def test_a_section_within_the_limit_stays_one_chunk() -> None:
    text = words(60) + ".\n\n" + words(59, "more") + "."
    assert split_text(text, max_words=120) == [text]


def test_a_long_section_splits_into_balanced_chunks_of_whole_sentences() -> None:
    paragraphs = [" ".join(sentences(4, 12, f"p{i}w")) for i in range(5)]  # 5 x 48 = 240 words
    pieces = split_pieces("\n\n".join(paragraphs), max_words=120)
    assert [len(p.text.split()) for p in pieces] == [120, 120]
    assert all(p.text.endswith(".") for p in pieces)
    assert [p.sep for p in pieces] == ["", " "]  # the cut fell inside paragraph 3, between two of its sentences
    pieces = split_pieces(" ".join(sentences(13, 10)), max_words=120)  # 130 words: 70 + 60, not 120 + 10
    assert [len(p.text.split()) for p in pieces] == [70, 60]


def test_a_cut_never_falls_inside_a_sentence_even_after_an_abbreviation() -> None:
    sentence = "Keep records, e.g. the signed consent form and the date it was given, for as long as needed."
    text = " ".join([sentence] * 12)
    pieces = split_text(text, max_words=120)
    assert len(pieces) == 2
    assert all(p.startswith("Keep records, e.g. the signed") and p.endswith("needed.") for p in pieces)


def test_a_single_run_on_sentence_over_the_hard_limit_is_cut_by_words() -> None:
    pieces = split_text(words(600), max_words=120)
    assert max(len(p.split()) for p in pieces) <= 250
    assert " ".join(pieces).split() == words(600).split()


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=40)),
                min_size=1, max_size=8))
def test_chunks_rejoin_to_the_section_and_stay_near_the_size(paragraphs: list[tuple[int, int]]) -> None:
    text = "\n\n".join(" ".join(sentences(n, length, f"p{i}w")) for i, (n, length) in enumerate(paragraphs))
    pieces = split_pieces(text, max_words=120)
    assert pieces[0].sep == "" and all(p.sep in ("\n\n", " ") for p in pieces[1:])
    assert "".join(p.sep + p.text for p in pieces) == text
    assert all(p.text.endswith(".") for p in pieces)  # whole sentences only
    assert all(len(p.text.split()) <= 120 for p in pieces)  # no sentence here is longer than the limit


def section(text: str, heading: tuple[str, ...] = ("Fractions", "Halves"), skills: tuple[str, ...] = ("meaning",),
            style: Style | None = Style.DEFINITION) -> SourceSection:
    return SourceSection(file="a.md", heading_path=heading, text=text, skills=skills, style=style, line=3)


def test_chunk_ids_are_stable_and_change_with_text_or_metadata() -> None:
    base = chunk_sections([section("A half is one of two equal parts.")], course="fractions", source="a.md")
    again = chunk_sections([section("A half is one of two equal parts.")], course="fractions", source="a.md")
    edited = chunk_sections([section("A half is one of 2 equal parts.")], course="fractions", source="a.md")
    restyled = chunk_sections([section("A half is one of two equal parts.", style=Style.ANALOGY)],
                              course="fractions", source="a.md")
    other_course = chunk_sections([section("A half is one of two equal parts.")], course="other", source="a.md")
    assert base[0].id == again[0].id
    assert len({base[0].id, edited[0].id, restyled[0].id, other_course[0].id}) == 4


def test_chunks_carry_heading_path_skills_style_and_default_skills() -> None:
    chunks = chunk_sections(
        [section("Text one.", skills=()), section("Text two.", heading=("Other",), style=None)],
        course="fractions", source="a.md", default_skills=("equivalent",),
    )
    assert [(c.heading_path, c.skills, c.style, c.order) for c in chunks] == [
        (("Fractions", "Halves"), ("equivalent",), "definition", 0),
        (("Other",), ("meaning",), None, 1),
    ]
    meta = chunks[0].metadata()
    assert meta["skills"] == "|equivalent|" and meta["skill:equivalent"] is True and meta["style"] == "definition"
    moved = make_chunk("Text one.", "fractions", "a.md", ("Fractions", "Halves"), ("equivalent",), "definition", 5, 9,
                       section=chunks[0].section, part=3)
    assert moved.id == chunks[0].id  # position in the file is not part of the identity


def test_chunks_know_their_parent_section_and_their_place_in_it() -> None:
    long = " ".join(sentences(10, 20))  # 200 words: two chunks
    chunks = chunk_sections([section(long), section("Short one."), section("Same heading again.")],
                            course="fractions", source="a.md")
    assert [(c.part, c.sep) for c in chunks] == [(0, ""), (1, " "), (0, ""), (0, "")]
    assert chunks[0].section == chunks[1].section != chunks[2].section != chunks[3].section
    meta = chunks[1].metadata()
    assert (meta["section"], meta["part"], meta["sep"]) == (chunks[0].section, 1, " ")
    edited = chunk_sections([section(long + " One more sentence here.")], course="fractions", source="a.md")
    assert edited[0].section == chunks[0].section  # a section's id is its place, not its text


def test_html_headings_become_heading_paths_and_scripts_are_dropped() -> None:
    html = """<html><head><title>Guide</title><script>var x = 1;</script></head><body>
    <nav>Home | About</nav><p>Intro text &amp; more.</p>
    <h1>Fractions</h1><p>Top level.</p>
    <h2>Halves</h2><p>A half is one of <b>two</b> equal parts.</p><ul><li>First</li><li>Second</li></ul>
    <h2>Quarters</h2><p>Four equal parts.</p><style>p {color: red}</style></body></html>"""
    sections = _html_sections(html, "guide.html")
    assert [(s.heading_path, s.text) for s in sections] == [
        (("Guide",), "Intro text & more."),
        (("Fractions",), "Top level."),
        (("Fractions", "Halves"), "A half is one of two equal parts.\n\nFirst\n\nSecond"),
        (("Fractions", "Quarters"), "Four equal parts."),
    ]


def test_rrf_rewards_documents_ranked_well_by_both_lists() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d", "a"]])
    assert [doc for doc, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_mmr_without_diversity_ranks_by_similarity_and_with_it_skips_near_duplicates() -> None:
    query = np.array([0.8, 0.6], dtype=np.float32)
    vectors = {
        "a": np.array([1.0, 0.0], dtype=np.float32),
        "a-copy": np.array([0.999, 0.0447], dtype=np.float32),
        "b": np.array([0.0, 1.0], dtype=np.float32),
    }
    candidates = ["a", "a-copy", "b", "no-vector"]
    assert maximal_marginal_relevance(query, candidates, vectors, 2, 0.0) == ["a-copy", "a"]
    assert maximal_marginal_relevance(query, candidates, vectors, 2, 0.5) == ["a-copy", "b"]
    assert maximal_marginal_relevance(query, candidates, vectors, 5, 0.5) == ["a-copy", "b", "a"]
    with pytest.raises(ValueError, match="between 0 and 1"):
        maximal_marginal_relevance(query, candidates, vectors, 2, 1.5)


def test_course_index_masks_filter_by_skill_style_and_id() -> None:
    metas = [
        {"skills": "|a|", "style": "definition"},
        {"skills": "|a|b|", "style": "analogy"},
        {"skills": "|b|", "style": ""},
    ]
    index = CourseIndex.build("r1", ["x", "y", "z"], ["one", "two", "three"], metas, ["halves", "halves thirds", "x"])
    assert index.allowed().tolist() == [True, True, True]
    assert index.allowed(["b"]).tolist() == [False, True, True]
    assert index.allowed(["a", "b"], ["analogy"]).tolist() == [True, False, True]
    assert index.allowed(["a"], exclude_ids=["x", "unknown"]).tolist() == [False, True, False]
    assert index.allowed(["no-such-skill"]).tolist() == [False, False, False]
    assert [p for p, _ in index.query("halves", 5)] == [0, 1]
    assert [p for p, _ in index.query("halves", 5, index.allowed(["b"]))] == [1]
    assert index.query("zebra", 5) == [] and index.query("halves", 5, index.allowed(["no-such-skill"])) == []
