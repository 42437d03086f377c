"""Pure pieces of retrieval: chunking, chunk ids, HTML sections, rank fusion, MMR and filters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.course.models import SourceSection, Style
from tutor.retrieval.ingest import _html_sections, chunk_sections, make_chunk, split_text
from tutor.retrieval.search import CourseIndex, maximal_marginal_relevance, reciprocal_rank_fusion


def words(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


def test_a_section_within_the_limit_stays_one_passage() -> None:
    text = words(120) + "\n\n" + words(100, "more")
    assert split_text(text, max_words=300) == [text]


def test_a_long_section_splits_at_paragraphs_into_pieces_under_the_target() -> None:
    paragraphs = [words(90, f"p{i}x") for i in range(5)]
    pieces = split_text("\n\n".join(paragraphs), max_words=300, target_words=200)
    assert pieces == ["\n\n".join(paragraphs[0:2]), "\n\n".join(paragraphs[2:4]), paragraphs[4]]


def test_a_long_paragraph_splits_at_sentences_and_keeps_them_in_one_line() -> None:
    sentence = words(40) + "."
    pieces = split_text(" ".join([sentence] * 10), max_words=100, target_words=100)
    assert [len(p.split()) for p in pieces] == [80, 80, 80, 80, 80]
    assert all("\n" not in p for p in pieces)


@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=8))
def test_splitting_keeps_every_word_in_order(paragraph_sizes: list[int]) -> None:
    text = "\n\n".join(words(n, f"p{i}w") for i, n in enumerate(paragraph_sizes))
    pieces = split_text(text, max_words=300, target_words=200)
    assert " ".join(pieces).split() == text.split()
    assert all(len(p.split()) <= 300 for p in pieces)


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
    moved = make_chunk("Text one.", "fractions", "a.md", ("Fractions", "Halves"), ("equivalent",), "definition", 5, 9)
    assert moved.id == chunks[0].id  # position in the file is not part of the identity


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
