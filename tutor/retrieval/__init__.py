"""Retrieval of teaching passages: offline embeddings, Chroma store, ingestion, hybrid search.

The tutor uses `open_store(settings)` then `store.search(...)` / `store.passages_for_skill(...)`;
content loading uses `ingest_course` / `ingest_paths`.
"""

from tutor.retrieval.embeddings import EmbeddingModelError, MiniLMEmbeddingFunction
from tutor.retrieval.ingest import IngestReport, SourceFileError, ingest_course, ingest_paths
from tutor.retrieval.store import Passage, PassageStore, SourceSummary, StoreError, open_store

__all__ = [
    "EmbeddingModelError",
    "IngestReport",
    "MiniLMEmbeddingFunction",
    "Passage",
    "PassageStore",
    "SourceFileError",
    "SourceSummary",
    "StoreError",
    "ingest_course",
    "ingest_paths",
    "open_store",
]
