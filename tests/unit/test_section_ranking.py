"""Section-level ranking (pure): aggregating chunk scores per section, and rebuilding bounded section text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tutor.retrieval.search import CourseIndex
from tutor.retrieval.sections import aggregate, join_chunks, window


def test_each_section_appears_once_ranked_by_its_best_chunk_plus_a_little_support() -> None:
    section_of = [0, 0, 0, 1, 2]
    scored = [(3, 0.9), (0, 0.8), (1, 0.7), (2, 0.6), (4, 0.1)]
    ranked = aggregate(scored, section_of, support=0.1)
    assert [(r.section, r.best) for r in ranked] == [(0, 0), (1, 3), (2, 4)]
    assert ranked[0].score == pytest.approx(0.8 + 0.1 * (0.7 + 0.6))
    assert ranked[1].score == pytest.approx(0.9)
    alone = aggregate(scored, section_of, support=0.0)
    assert [(r.section, r.best) for r in alone] == [(1, 3), (0, 0), (2, 4)]


def test_the_best_chunk_is_the_highest_scoring_even_when_it_comes_later() -> None:
    [ranked] = aggregate([(0, 0.2), (1, 0.5)], [7, 7], support=0.0)
    assert (ranked.section, ranked.best, ranked.score) == (7, 1, 0.5)


def test_a_long_section_is_cut_to_a_window_around_its_best_chunk() -> None:
    counts = [100, 100, 100, 100, 100]
    assert window(counts, 2, 300) == (1, 4)
    assert window(counts, 0, 300) == (0, 3)
    assert window(counts, 4, 250) == (3, 5)
    assert window([500], 0, 300) == (0, 1)  # the best chunk itself, whatever its length


def test_joined_chunks_mark_the_best_one() -> None:
    text, span = join_chunks(["First part.", "Second part.", "Third."], ["", " ", "\n\n"], 1)
    assert text == "First part. Second part.\n\nThird."
    assert span is not None and text[span[0] : span[1]] == "Second part."


def test_the_course_index_groups_chunks_into_sections_in_file_and_text_order() -> None:
    def meta(section: str, order: int, part: int, sep: str = " ") -> dict[str, object]:
        return {"course": "c", "source": "a.md", "heading_path": '["A"]', "section": section, "order": order,
                "part": part, "sep": sep, "skills": "|k|", "style": ""}

    ids = ["c2", "c0", "c1", "d0"]
    metas: list[Mapping[str, Any]] = [meta("s1", 2, 1), meta("s1", 0, 0, ""), meta("s2", 1, 0, ""),
                                      meta("s3", 3, 0, "")]
    docs = ["Then this.", "First this.", "Elsewhere.", "Other."]
    index = CourseIndex.build("r", ids, docs, metas, docs)
    assert index.section_ids == ["s1", "s2", "s3"]
    assert [index.ids[p] for p in index.members[0]] == ["c0", "c2"]
    whole = index.section(0, best=index.positions["c2"])
    assert (whole.id, whole.text, whole.best_text, whole.chunk_ids) == ("s1", "First this. Then this.", "Then this.",
                                                                        ("c0", "c2"))
    assert index.allowed(exclude_ids=["s1"]).tolist() == [False, False, True, True]
    cut = index.section(0, best=index.positions["c2"], max_words=2)
    assert (cut.text, cut.truncated) == ("Then this.", True)
