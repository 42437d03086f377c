"""Sections (pure): what the tutor is given. Search ranks chunks; these functions turn chunk scores into ranked
sections and rebuild a section's text from its chunks, bounded in length, with the best-matching chunk marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

SUPPORT = 0.0
"""Weight of a section's other matching chunks next to its best one. 0: a section ranks by its best chunk. Measured
on the eval sets: 0.1 lowered hybrid recall@1 to 0.59 on fractions (long sections win on volume), 0.02 and 0.05
were mixed, 0 was best on both courses."""
SECTION_MAX_WORDS = 400  # a longer section is cut to the window of its chunks around the best one


@dataclass(frozen=True)
class Section:
    """One section of teaching material as the tutor receives it: whole (or the window around its best chunk when
    longer than the bound), with where it came from for citations. `id` is the section's id; `chunk_ids` are its
    chunks in the text; `best` is the character span of the chunk that matched the query best (None when the
    section was not found by a query)."""

    id: str
    text: str
    course: str
    skills: tuple[str, ...]
    source: str
    heading_path: tuple[str, ...]
    style: str | None
    score: float
    chunk_ids: tuple[str, ...] = ()
    best_chunk: str | None = None
    best: tuple[int, int] | None = None
    truncated: bool = False
    line: int = 0
    order: int = field(default=0, compare=False)

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else self.source

    @property
    def citation(self) -> str:
        return f"{self.source} > {' > '.join(self.heading_path)}" if self.heading_path else self.source

    @property
    def best_text(self) -> str:
        """The text of the best-matching chunk (the whole text when none was marked)."""
        return self.text[self.best[0] : self.best[1]] if self.best else self.text


@dataclass(frozen=True)
class RankedSection:
    """A section's place in a ranking: its number in the course index, its score and its best chunk (position)."""

    section: int
    score: float
    best: int


def aggregate(
    scored_chunks: Iterable[tuple[int, float]], section_of: Sequence[int] | npt.NDArray[np.int64],
    support: float = SUPPORT,
) -> list[RankedSection]:
    """Rank sections by their chunks' scores: best chunk score + `support` x the sum of the section's other chunk
    scores (a section matching in several places edges ahead of one matching once). Best first; ties keep the
    order in which the sections' best chunks came."""
    best: dict[int, tuple[float, int]] = {}
    rest: dict[int, float] = {}
    for position, score in scored_chunks:
        section = int(section_of[position])
        if section not in best:
            best[section] = (score, position)
            rest[section] = 0.0
        elif score > best[section][0]:
            rest[section] += best[section][0]
            best[section] = (score, position)
        else:
            rest[section] += score
    ranked = [RankedSection(s, b + support * rest[s], p) for s, (b, p) in best.items()]
    return sorted(ranked, key=lambda r: -r.score)


def window(word_counts: Sequence[int], best: int, max_words: int) -> tuple[int, int]:
    """The [start, end) range of consecutive chunks holding chunk `best` and as many neighbours as fit in
    `max_words` (alternately after and before it); at least the best chunk itself."""
    start, end = best, best + 1
    total = word_counts[best]
    grew = True
    while grew:
        grew = False
        if end < len(word_counts) and total + word_counts[end] <= max_words:
            total += word_counts[end]
            end += 1
            grew = True
        if start > 0 and total + word_counts[start - 1] <= max_words:
            start -= 1
            total += word_counts[start]
            grew = True
    return start, end


def join_chunks(texts: Sequence[str], seps: Sequence[str], best: int | None) -> tuple[str, tuple[int, int] | None]:
    """A section's text from its chunks (each joined by its separator) and the span of chunk `best` in it."""
    out = ""
    span = None
    for n, (text, sep) in enumerate(zip(texts, seps, strict=True)):
        if n:
            out += sep or "\n\n"
        if n == best:
            span = (len(out), len(out) + len(text))
        out += text
    return out, span
