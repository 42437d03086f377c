"""Bounds on what one source file may put into the store, and the rule for PDF pages without real prose (pure).

A file over a bound is not ingested at all (a half-ingested book would teach from an arbitrary part of it); the
message names the bound and the setting that raises it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.retrieval.chunking import MAX_WORDS
from tutor.settings import Settings

MIN_PAGE_WORDS = 25  # a page with fewer words and no whole sentence is near-empty (a title page, a figure, a blank)
_PAGE_REFERENCE = re.compile(r"(?:\.{2,}|…|\s)\s*(?:\d{1,4}|[ivxlc]{1,6})(?:\s*[,–-]\s*\d{1,4})*\s*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")
_SENTENCE = re.compile(r"(?:[^\s.!?]+\s+){3,}[^\s.!?]*[^\W_][.!?](?:\s|$)")  # 4+ words, then . ! or ?


@dataclass(frozen=True)
class IngestLimits:
    """Per-file bounds (Settings `ingest_max_*`), the chunk size, and the near-empty page threshold."""

    max_bytes: int = 5 * 1024 * 1024
    max_pages: int = 2000
    max_chunks: int = 20000
    max_chars: int = 5_000_000
    chunk_words: int = MAX_WORDS
    min_page_words: int = MIN_PAGE_WORDS

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: int) -> IngestLimits:
        values = {"max_pages": settings.ingest_max_pages, "max_chunks": settings.ingest_max_chunks,
                  "max_chars": settings.ingest_max_chars}
        return cls(**{**values, **overrides})

    def pages_problem(self, pages: int) -> str | None:
        if pages > self.max_pages:
            return (f"the PDF has {pages} pages, over the limit of {self.max_pages}; split it, or raise "
                    "TUTOR_INGEST_MAX_PAGES")
        return None

    def chars_problem(self, chars: int) -> str | None:
        if chars > self.max_chars:
            return (f"the file has {chars:,} characters of text, over the limit of {self.max_chars:,}; split it, or "
                    "raise TUTOR_INGEST_MAX_CHARS")
        return None

    def chunks_problem(self, chunks: int) -> str | None:
        if chunks > self.max_chunks:
            return (f"the file makes {chunks} search chunks, over the limit of {self.max_chunks}; split it, or raise "
                    "TUTOR_INGEST_MAX_CHUNKS")
        return None


def is_prose(page: str, min_words: int = MIN_PAGE_WORDS) -> bool:
    """False for a page without real prose: near-empty (under `min_words` words and not one whole sentence), or a
    table of contents or an index (most of its lines end in page numbers), or mostly numbers and symbols (a table,
    a figure's labels)."""
    words = _WORD.findall(page)
    if len(words) < min_words and (len(page) > 40 * min_words or not _SENTENCE.search(page)):
        return False
    lines = [line for line in page.splitlines() if line.strip()]
    referencing = sum(1 for line in lines if _PAGE_REFERENCE.search(line) and len(line.split()) <= 12)
    if len(lines) >= 5 and referencing / len(lines) >= 0.5:
        return False
    tokens = page.split()
    return len(words) / max(len(tokens), 1) >= 0.5
