"""Chunking (pure): sections of a source file become small search chunks, each knowing its parent section.

Search runs over chunks of roughly `MIN_WORDS`-`MAX_WORDS` words (the encoder reads ~190 words, and a small chunk
is about one idea, so it matches a question more sharply); the tutor is given whole sections, rebuilt from their
chunks (see sections.py). A section of at most `MAX_WORDS` words stays one chunk; a longer one is cut into
balanced pieces at sentence ends (paragraph and list-item breaks are kept), never inside a sentence, except a
single run-on "sentence" over `HARD_MAX_WORDS` words (PDF debris, tables), which is cut by words.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tutor.course.models import SourceSection
from tutor.retrieval.sentences import LIST_ITEM, line_sentences
from tutor.retrieval.store import Chunk

MAX_WORDS = 120
MIN_WORDS = 60
HARD_MAX_WORDS = 250

PARAGRAPH, LINE, SPACE = "\n\n", "\n", " "


@dataclass(frozen=True)
class Unit:
    """A sentence (or list item) and the separator that came before it in the section text."""

    text: str
    sep: str

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Piece:
    """A chunk's text and the separator that joins it to the previous chunk of its section."""

    text: str
    sep: str


def split_text(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """The chunk texts of one section (see `split_pieces`)."""
    return [p.text for p in split_pieces(text, max_words)]


def split_pieces(text: str, max_words: int = MAX_WORDS, hard_max: int = HARD_MAX_WORDS) -> list[Piece]:
    """`text` whole if it has at most `max_words` words, else about-equal pieces of at most `max_words` words made
    of whole sentences (a sentence longer than that is a piece of its own; over `hard_max` it is cut by words).

    Joining the pieces with their `sep` gives back the text (whitespace inside a line normalised).
    """
    text = re.sub(r"\n{3,}", PARAGRAPH, text.strip())
    if not text:
        return []
    units = _units(text, max(hard_max, max_words))
    total = sum(u.words for u in units)
    if total <= max_words:
        return [Piece(_join(units), "")]
    return [Piece(_join(group), group[0].sep if n else "") for n, group in enumerate(_pack(units, total, max_words))]


def _units(text: str, hard_max: int) -> list[Unit]:
    units: list[Unit] = []
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text)):
        for line_number, line in enumerate(LIST_ITEM.split(paragraph)):
            sep = PARAGRAPH if number and not line_number else (LINE if line_number else SPACE)
            for sentence in line_sentences(line):
                words = sentence.split()
                for start in range(0, len(words), hard_max):
                    units.append(Unit(" ".join(words[start : start + hard_max]), sep))
                    sep = SPACE
    return units


def _pack(units: list[Unit], total: int, max_words: int) -> list[list[Unit]]:
    """Consecutive groups of units, as many as needed to stay under `max_words`, filled towards equal sizes and
    cut at a paragraph end when one comes within a quarter of the target size."""
    groups_left = math.ceil(total / max_words)
    remaining = total
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    count = 0
    for unit in units:
        target = remaining / groups_left
        too_big = count + unit.words > max_words
        past_target = abs(count + unit.words - target) > abs(count - target)
        new_paragraph = unit.sep == PARAGRAPH and count >= 0.75 * target  # a paragraph end near the target
        rest_fits = remaining - count <= (groups_left - 1) * max_words
        if current and (too_big or ((past_target or new_paragraph) and groups_left > 1 and rest_fits)):
            groups.append(current)
            remaining -= count
            groups_left = max(1, groups_left - 1)
            current, count = [], 0
        current.append(unit)
        count += unit.words
    groups.append(current)
    return groups


def _join(units: Sequence[Unit]) -> str:
    return units[0].text + "".join(u.sep + u.text for u in units[1:])


def section_id(course: str, source: str, heading_path: Sequence[str], occurrence: int) -> str:
    """A section's id: its place (course, file, heading path, nth section with that path), not its text, so an
    edited section keeps its id and the tutor's "already shown" still knows it."""
    key = "\x1f".join([course, source, "\x1e".join(heading_path), str(occurrence)])
    return "s-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def chunk_sections(
    sections: Sequence[SourceSection],
    *,
    course: str,
    source: str,
    default_skills: Sequence[str] = (),
    origin: Literal["course", "added"] = "added",
    max_words: int = MAX_WORDS,
) -> list[Chunk]:
    """The chunks of a file's sections (see `split_pieces`), each keeping its section's id, heading path, skills
    and style, and its place in the section."""
    chunks: list[Chunk] = []
    seen: dict[tuple[str, ...], int] = {}
    for section in sections:
        skills = tuple(section.skills) or tuple(default_skills)
        style = section.style.value if section.style else None
        occurrence = seen[section.heading_path] = seen.get(section.heading_path, -1) + 1
        parent = section_id(course, source, section.heading_path, occurrence)
        for part, piece in enumerate(split_pieces(section.text, max_words)):
            chunks.append(make_chunk(piece.text, course, source, section.heading_path, skills, style, len(chunks),
                                     section.line, origin, section=parent, part=part, sep=piece.sep))
    return chunks


def make_chunk(
    text: str,
    course: str,
    source: str,
    heading_path: Sequence[str],
    skills: Sequence[str],
    style: str | None,
    order: int,
    line: int,
    origin: Literal["course", "added"] = "added",
    *,
    section: str = "",
    part: int = 0,
    sep: str = "",
) -> Chunk:
    """A chunk whose id hashes everything stored about it except its position, so unchanged text keeps its id
    (its position is refreshed in place when an edit moves it)."""
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    key = "\x1f".join([course, source, "\x1e".join(heading_path), ",".join(skills), style or "", origin, section,
                       content_hash])
    return Chunk(
        id=hashlib.sha256(key.encode()).hexdigest()[:32],
        text=text,
        course=course,
        source=source,
        heading_path=tuple(heading_path),
        skills=tuple(skills),
        style=style,
        content_hash=content_hash,
        order=order,
        line=line,
        origin=origin,
        section=section,
        part=part,
        sep=sep,
    )
