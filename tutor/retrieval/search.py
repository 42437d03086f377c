"""Ranking pieces of hybrid retrieval: course index with BM25 (bm25s), reciprocal rank fusion, maximal marginal
relevance.

Everything here is in-memory and deterministic; the store (store.py) feeds it documents and vectors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

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


@dataclass
class CourseIndex:
    """One course's chunks in memory: BM25 (bm25s) over them, and per-skill / per-style masks for filtering.

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
        return cls(revision, ids, documents, metadatas, bm25, {i: n for n, i in enumerate(ids)}, styles, skills)

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
        return mask

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


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(d) = sum over lists of 1 / (k + rank), rank from 1. Ties keep first-seen order."""
    scores: dict[str, float] = {}
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
