"""Sentence splitting (pure), shared by chunking (chunks are cut at sentence ends) and dense search (each sentence of
a chunk is embedded on its own; see store.py)."""

from __future__ import annotations

import re

ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|Mr|Mrs|Ms|Dr|St|No|Art|Fig|approx)\.|\b[A-Z]\.)$")
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+")
LIST_ITEM = re.compile(r"\n(?=\s*(?:[-*+]|\d+[.)])\s)")
MIN_SENTENCE_WORDS = 3
"""A shorter piece ("Step 3.", a lone label) says too little to be searched densely on its own."""


def line_sentences(line: str) -> list[str]:
    """Sentences of one line of prose; a split after an abbreviation ("e.g.", "Dr.", an initial) is undone."""
    out: list[str] = []
    for part in SENTENCE_END.split(line.strip()):
        if out and ABBREVIATION.search(out[-1]):
            out[-1] += " " + part
        elif part:
            out.append(part)
    return out


def sentences(text: str, min_words: int = MIN_SENTENCE_WORDS) -> list[str]:
    """The sentences and list items of `text` (lines, a list item being one, then sentence ends) with at least
    `min_words` words; the whole text (stripped) when none has, or [] when it is blank."""
    found = [
        sentence
        for line in re.split(r"\n+", text) if line.strip()
        for sentence in line_sentences(line)
        if len(sentence.split()) >= min_words
    ]
    return found or ([text.strip()] if text.strip() else [])
