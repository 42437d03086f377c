"""Retrieval of teaching passages: offline embeddings, Chroma store, ingestion, hybrid search.

Chunks of 60-120 words are searched; whole sections (`Section`, bounded, best chunk marked) are returned.
The tutor uses `open_store(settings)` then `store.search(...)` / `store.passages_for_skill(...)`;
content loading uses `ingest_course` / `ingest_paths`.
"""

from tutor.retrieval.embeddings import EmbeddingModelError, MiniLMEmbeddingFunction
from tutor.retrieval.ingest import (
    FilePreview,
    IngestReport,
    SourceFileError,
    ingest_course,
    ingest_paths,
    preview_paths,
)
from tutor.retrieval.limits import IngestLimits
from tutor.retrieval.sections import Section
from tutor.retrieval.store import Passage, PassageStore, SourceSummary, StoreError, open_store

__all__ = [
    "EmbeddingModelError",
    "FilePreview",
    "IngestLimits",
    "IngestReport",
    "MiniLMEmbeddingFunction",
    "Passage",
    "PassageStore",
    "Section",
    "SourceFileError",
    "SourceSummary",
    "StoreError",
    "ingest_course",
    "ingest_paths",
    "open_store",
    "preview_paths",
]
