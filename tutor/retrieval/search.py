"""Ranking pieces of hybrid retrieval: course index with BM25 (bm25s), reciprocal rank fusion, maximal marginal
relevance.

Everything here is in-memory and deterministic; the store (store.py) feeds it documents and vectors.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

from tutor.retrieval.sections import Section, join_chunks, window

RRF_K = 60  # the constant of Cormack et al. (2009); ranks below ~60 matter little

_STEMMER = Stemmer.Stemmer("english")


# Numbers stay whole tokens, with fractions, decimals and times ("3/4", "0.5", "9:30"); words need 2+ letters.
TOKEN_PATTERN = r"(?u)\d+(?:[/.,:]\d+)*|\w\w+"


def _tokenize(texts: list[str], *, return_ids: bool = True) -> Any:
    """Lowercased tokens (see TOKEN_PATTERN), English stopwords removed, Snowball-stemmed."""
    return bm25s.tokenize(
        texts, token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=_STEMMER.stemWords, show_progress=False,
        return_ids=return_ids,
    )


Mask = npt.NDArray[np.bool_]
Key = TypeVar("Key", str, int)


@dataclass
class CourseIndex:
    """One course's chunks in memory: BM25 (bm25s) over them, per-skill / per-style masks for filtering, and which
    section each chunk belongs to (sections are numbered in file and text order; `members[s]` are the chunk
    positions of section s in text order).

    `revision` ties it to the store state it was built from; the store rebuilds it when that changes.
    """

    revision: str
    ids: list[str]
    documents: list[str]
    metadatas: list[Mapping[str, Any]]
    _bm25: bm25s.BM25 | None
    _positions: dict[str, int]
    _styles: npt.NDArray[np.str_]
    _skills: dict[str, Mask]
    section_ids: list[str]
    section_of: npt.NDArray[np.int64]
    members: list[list[int]]
    _section_positions: dict[str, int]
    sentence_counts: npt.NDArray[np.int64]
    """How many sentence vectors each chunk has (-1: stored before sentences were, so it has none)."""

    @classmethod
    def build(
        cls, revision: str, ids: list[str], documents: list[str], metadatas: list[Mapping[str, Any]],
        index_texts: list[str],
    ) -> CourseIndex:
        bm25: bm25s.BM25 | None = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(_tokenize(index_texts), show_progress=False)
        skills: dict[str, Mask] = {}
        for position, meta in enumerate(metadatas):
            for skill in str(meta.get("skills", "")).split("|"):
                if skill:
                    skills.setdefault(skill, np.zeros(len(ids), dtype=bool))[position] = True
        styles = np.array([str(m.get("style", "")) for m in metadatas], dtype=np.str_)
        section_ids, section_of, members = _group_sections(ids, metadatas)
        sentence_counts = np.array([int(str(m.get("sentences", -1))) for m in metadatas], dtype=np.int64)
        return cls(revision, ids, documents, metadatas, bm25, {i: n for n, i in enumerate(ids)}, styles, skills,
                   section_ids, section_of, members, {s: n for n, s in enumerate(section_ids)}, sentence_counts)

    @property
    def by_sentences(self) -> bool:
        """Whether every chunk has sentence vectors (dense search then runs over sentences)."""
        return bool(len(self.ids)) and bool((self.sentence_counts >= 0).all())

    def vector_ids(self, positions: Iterable[int], *, by_sentences: bool) -> list[str]:
        """The ids of the vectors of the chunks at `positions`: their sentences' (`<chunk id>:<n>`) or their own."""
        if not by_sentences:
            return [self.ids[p] for p in positions]
        return [f"{self.ids[p]}:{n}" for p in positions for n in range(int(self.sentence_counts[p]))]

    def allowed(
        self,
        skills: Sequence[str] | None = None,
        exclude_styles: Collection[str] = (),
        exclude_ids: Collection[str] = (),
    ) -> Mask:
        """True for chunks teaching any of `skills` (all when None), not in an excluded style, not excluded by id."""
        mask = np.ones(len(self.ids), dtype=bool)
        if skills:
            none = np.zeros(len(self.ids), dtype=bool)
            mask &= np.logical_or.reduce([self._skills.get(s, none) for s in skills])
        if exclude_styles:
            mask &= ~np.isin(self._styles, list(exclude_styles))
        for doc_id in exclude_ids:
            if (position := self._positions.get(doc_id)) is not None:
                mask[position] = False
            if (section := self._section_positions.get(doc_id)) is not None:
                mask[self.members[section]] = False
        return mask

    @property
    def positions(self) -> Mapping[str, int]:
        """Chunk id -> position."""
        return self._positions

    def sections_with(self, allowed: Mask) -> list[int]:
        """Sections (in file and text order) with at least one allowed chunk."""
        return sorted({int(self.section_of[p]) for p in np.flatnonzero(allowed)})

    def section(self, number: int, *, score: float = 0.0, best: int | None = None,
                max_words: int = 400) -> Section:
        """Section `number` rebuilt from its chunks, cut to the window around chunk position `best` (from its start
        when None) if longer than `max_words`, with that chunk's span marked."""
        members = self.members[number]
        counts = [len(self.documents[p].split()) for p in members]
        at = members.index(best) if best is not None else 0
        start, end = window(counts, at, max_words) if sum(counts) > max_words else (0, len(members))
        chosen = members[start:end]
        text, span = join_chunks([self.documents[p] for p in chosen],
                                 [str(self.metadatas[p].get("sep", "")) for p in chosen],
                                 at - start if best is not None else None)
        meta = self.metadatas[members[0]]
        return Section(
            id=self.section_ids[number],
            text=text,
            course=str(meta["course"]),
            skills=tuple(s for s in str(meta.get("skills", "")).split("|") if s),
            source=str(meta["source"]),
            heading_path=tuple(json.loads(str(meta.get("heading_path") or "[]"))),
            style=str(meta.get("style") or "") or None,
            score=score,
            chunk_ids=tuple(self.ids[p] for p in chosen),
            best_chunk=self.ids[best] if best is not None else None,
            best=span,
            truncated=(start, end) != (0, len(members)),
            line=int(str(meta.get("line", 0))),
            order=int(str(meta.get("order", 0))),
        )

    def query(self, text: str, k: int, allowed: Mask | None = None) -> list[tuple[int, float]]:
        """Top-k (position, BM25 score > 0) among the allowed chunks."""
        if self._bm25 is None or k <= 0 or (allowed is not None and not allowed.any()):
            return []
        vocab = self._bm25.vocab_dict
        words = [w for w in _tokenize([text], return_ids=False)[0] if w in vocab]
        if not words:
            return []
        scores = self._bm25.get_scores(words)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # best first; ties by position, so results are stable
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def _group_sections(
    ids: list[str], metadatas: list[Mapping[str, Any]]
) -> tuple[list[str], npt.NDArray[np.int64], list[list[int]]]:
    """(section ids in file and text order, section number of each chunk, chunk positions of each section).

    A chunk stored before chunks had sections (no `section` key) is a section of its own."""
    def place(position: int) -> tuple[str, int, int]:
        meta = metadatas[position]
        return str(meta.get("source", "")), int(str(meta.get("order", 0))), int(str(meta.get("part", 0)))

    section_ids: list[str] = []
    numbers: dict[str, int] = {}
    members: list[list[int]] = []
    section_of = np.zeros(len(ids), dtype=np.int64)
    for position in sorted(range(len(ids)), key=place):
        key = str(metadatas[position].get("section") or ids[position])
        if key not in numbers:
            numbers[key] = len(section_ids)
            section_ids.append(key)
            members.append([])
        section_of[position] = numbers[key]
        members[numbers[key]].append(position)
    for chunk_positions in members:
        chunk_positions.sort(key=lambda p: int(str(metadatas[p].get("part", 0))))
    return section_ids, section_of, members


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Key]], k: int = RRF_K) -> list[tuple[Key, float]]:
    """Fuse ranked id lists: score(d) = sum over lists of 1 / (k + rank), rank from 1. Ties keep first-seen order."""
    scores: dict[Key, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def maximal_marginal_relevance(
    query: npt.NDArray[np.float32],
    candidates: Sequence[str],
    vectors: Mapping[str, npt.NDArray[np.float32]],
    k: int,
    diversity: float,
) -> list[str]:
    """Pick k ids greedily by (1 - diversity) * cos(query, d) - diversity * max cos(d, already picked).

    Maximal marginal relevance (Carbonell & Goldstein, 1998) on unit vectors. `diversity` 0 orders by similarity
    to the query; around 0.3-0.5 a near-duplicate of a picked passage loses to a different relevant one; near 1
    it prefers whatever is least like the picks. Ties keep candidate order; candidates without a vector are skipped.
    """
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be between 0 and 1, got {diversity}")
    remaining = [c for c in candidates if c in vectors]
    relevance = {c: float(vectors[c] @ query) for c in remaining}
    redundancy = dict.fromkeys(remaining, 0.0)
    chosen: list[str] = []
    while remaining and len(chosen) < k:
        best = max(remaining, key=lambda c: (1.0 - diversity) * relevance[c] - diversity * redundancy[c])
        chosen.append(best)
        remaining.remove(best)
        for c in remaining:
            redundancy[c] = max(redundancy[c], float(vectors[c] @ vectors[best]))
    return chosen


def skill_key(skill: str) -> str:
    """Metadata key holding True on every chunk that teaches `skill` (Chroma filters scalars everywhere)."""
    return f"skill:{skill}"
