"""The passage store: one Chroma collection of course chunks, searched densely, lexically (BM25) or both.

Embedded `PersistentClient` in the data directory by default; `HttpClient` when `settings.chroma_url` is set.
Every chunk carries scalar metadata (Chroma filters scalars in every version):
course, source, heading_path (JSON list), style ("" when none), skills ("|a|b|") plus one `skill:<id>: True`
key per skill for filtering, content_hash (sha256 of the text), order, line, origin ("course" or "added").
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import chromadb
import numpy as np
import numpy.typing as npt
from chromadb.config import Settings as ChromaSettings

from tutor.retrieval.embeddings import MiniLMEmbeddingFunction
from tutor.retrieval.search import (
    LexicalIndex,
    chroma_where,
    maximal_marginal_relevance,
    reciprocal_rank_fusion,
    skill_key,
)
from tutor.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection as ChromaCollection
    from chromadb.api.types import EmbeddingFunction

Mode = Literal["hybrid", "dense", "bm25"]
COLLECTION = "passages"
_REVISION = "revision"
_EMBEDDING = "embedding_function"


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says what to do."""


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk of teaching material, with where it came from (for citations)."""

    id: str
    text: str
    course: str
    skills: tuple[str, ...]
    source: str
    heading_path: tuple[str, ...]
    style: str | None
    score: float

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else self.source

    @property
    def citation(self) -> str:
        return f"{self.source} > {' > '.join(self.heading_path)}" if self.heading_path else self.source


@dataclass(frozen=True)
class Chunk:
    """A chunk ready to store. `id` is derived from the content and metadata, so re-ingesting is a no-op."""

    id: str
    text: str
    course: str
    source: str
    heading_path: tuple[str, ...]
    skills: tuple[str, ...]
    style: str | None
    content_hash: str
    order: int
    line: int
    origin: Literal["course", "added"] = "added"

    def metadata(self) -> dict[str, str | int | bool]:
        meta: dict[str, str | int | bool] = {
            "course": self.course,
            "source": self.source,
            "heading_path": json.dumps(list(self.heading_path), ensure_ascii=False),
            "style": self.style or "",
            "skills": "|" + "|".join(self.skills) + "|" if self.skills else "",
            "content_hash": self.content_hash,
            "order": self.order,
            "line": self.line,
            "origin": self.origin,
        }
        meta.update({skill_key(s): True for s in self.skills})
        return meta

    @property
    def index_text(self) -> str:
        return index_text(self.text, self.heading_path)


def index_text(text: str, heading_path: Sequence[str]) -> str:
    """What is embedded and BM25-indexed: the headings give a short passage its topic."""
    return " / ".join(heading_path) + "\n\n" + text if heading_path else text


@dataclass(frozen=True)
class SourceSummary:
    course: str
    source: str
    chunks: int
    skills: tuple[str, ...]
    styles: tuple[str, ...]
    origin: str


def open_store(
    settings: Settings, embedding_function: EmbeddingFunction[Any] | None = None, *, collection: str = COLLECTION
) -> PassageStore:
    """Open (creating if needed) the passage store named by the settings.

    `embedding_function` defaults to the offline MiniLM one; any Chroma EmbeddingFunction works, but a store
    must always be opened with the function it was built with (checked: a mismatch raises StoreError).
    """
    telemetry_off = ChromaSettings(anonymized_telemetry=False)
    client: ClientAPI
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreError(
                f"TUTOR_CHROMA_URL {settings.chroma_url!r} is not an http(s) URL; use e.g. http://localhost:8000"
            )
        port = url.port or (443 if url.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(
                host=url.hostname, port=port, ssl=url.scheme == "https", settings=telemetry_off
            )
        except ValueError as exc:  # chromadb raises ValueError when it cannot reach the server
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({exc}); start it with "
                "`chroma run --path <folder> --port <port>` or unset TUTOR_CHROMA_URL to use the embedded store"
            ) from exc
    else:
        path = settings.resolved_chroma_path
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=telemetry_off)
    return PassageStore(client, embedding_function or MiniLMEmbeddingFunction(), collection)


class PassageStore:
    """Course passages in Chroma plus a per-course BM25 index rebuilt whenever the store changes."""

    def __init__(self, client: ClientAPI, embedding_function: EmbeddingFunction[Any], name: str = COLLECTION):
        self._client = client
        self._ef = embedding_function
        self._name = name
        self._ef_name = _ef_name(embedding_function)
        try:
            self._collection: ChromaCollection = client.get_or_create_collection(
                name,
                embedding_function=embedding_function,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={_EMBEDDING: self._ef_name, _REVISION: uuid.uuid4().hex},
            )
            built_with = (self._collection.metadata or {}).get(_EMBEDDING)
        except ValueError as exc:  # chromadb's own check of the persisted embedding function
            persisted = re.search(r"persisted: (\S+)", str(exc))
            if persisted is None:
                raise
            built_with = persisted.group(1)
        if built_with != self._ef_name:
            raise StoreError(
                f"the passage store {name!r} was built with embedding function {built_with!r} but was opened with "
                f"{self._ef_name!r}; open it with that function, or start a new store (another TUTOR_CHROMA_PATH, "
                "or delete the old folder) and add the material again"
            )
        self._lexical: dict[str, LexicalIndex] = {}
        self._lock = threading.Lock()

    @property
    def embedding_function(self) -> EmbeddingFunction[Any]:
        return self._ef

    # -- reading --------------------------------------------------------------------------------

    def count(self, course: str | None = None) -> int:
        if course is None:
            return self._collection.count()
        return len(self._collection.get(where={"course": course}, include=[])["ids"])

    def courses(self) -> list[str]:
        return sorted({str(m["course"]) for m in self._metadatas(None)})

    def chunk_ids(self, course: str, source: str) -> set[str]:
        got = self._collection.get(where={"$and": [{"course": course}, {"source": source}]}, include=[])
        return set(got["ids"])

    def list_sources(self, course: str | None = None) -> list[SourceSummary]:
        """One line per (course, source file): chunk count, skills and styles."""
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for meta in self._metadatas(course):
            groups.setdefault((str(meta["course"]), str(meta["source"])), []).append(meta)
        return [
            SourceSummary(
                course=key[0],
                source=key[1],
                chunks=len(metas),
                skills=tuple(sorted({s for m in metas for s in _skills(m)})),
                styles=tuple(sorted({str(m["style"]) for m in metas if m.get("style")})),
                origin=str(metas[0].get("origin", "added")),
            )
            for key, metas in sorted(groups.items())
        ]

    def passages_for_skill(self, course: str, skill: str) -> list[Passage]:
        """Every chunk that teaches `skill`, in file and section order (score 0)."""
        got = self._collection.get(
            where={"$and": [{"course": course}, {skill_key(skill): True}]}, include=["documents", "metadatas"]
        )
        passages = [
            _passage(i, d, m, 0.0)
            for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        ]
        order = {
            i: (str(m["source"]), int(str(m.get("order", 0))))
            for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        }
        return sorted(passages, key=lambda p: order[p.id])

    def search(
        self,
        query: str,
        *,
        course: str,
        skills: Sequence[str] | None = None,
        exclude_ids: Collection[str] = (),
        exclude_styles: Collection[str] = (),
        k: int = 4,
        mode: Mode = "hybrid",
        diversity: float | None = None,
    ) -> list[Passage]:
        """The k passages of `course` best answering `query`.

        skills: keep passages teaching any of these. exclude_ids / exclude_styles: never return these (an
        alternate explanation skips what was shown). mode: dense (embeddings), bm25 (words) or hybrid (both, fused
        by reciprocal rank). diversity: 0..1, re-rank by maximal marginal relevance so near-duplicates of a
        higher-ranked passage are pushed down.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"mode must be hybrid, dense or bm25, got {mode!r}")
        if not query.strip():
            return []
        excluded = set(exclude_ids)
        pool = max(4 * k, 20)
        found: dict[str, Passage] = {}
        rankings: list[list[str]] = []
        vector = self._embed_query(query) if mode != "bm25" or diversity is not None else None
        if vector is not None and mode in ("dense", "hybrid"):
            dense = self._dense(vector, course, skills, exclude_styles, pool + len(excluded))
            dense = [p for p in dense if p.id not in excluded][:pool]
            rankings.append([p.id for p in dense])
            found.update((p.id, p) for p in dense)
        if mode in ("bm25", "hybrid"):
            lexical = self._bm25(query, course, skills, exclude_styles, excluded, pool)
            rankings.append([p.id for p in lexical])
            for p in lexical:
                found.setdefault(p.id, p)
        ranked = (
            reciprocal_rank_fusion(rankings) if mode == "hybrid" else [(i, found[i].score) for i in rankings[0]]
        )
        if vector is not None and diversity is not None:
            ids = [i for i, _ in ranked]
            scores = dict(ranked)
            chosen = maximal_marginal_relevance(vector[0], ids, self._vectors(ids), k, diversity)
            ranked = [(i, scores[i]) for i in chosen]
        return [_with_score(found[i], score) for i, score in ranked[:k]]

    # -- writing --------------------------------------------------------------------------------

    def replace_source(self, course: str, source: str, chunks: Sequence[Chunk]) -> tuple[int, int]:
        """Make `chunks` the content of (course, source): add the new chunks first, then delete the old ones.

        Unchanged chunks (same id) are kept as they are. If adding fails, the chunks added so far are deleted
        again and the old ones are untouched. Returns (added, removed).
        """
        old = self.chunk_ids(course, source)
        new = [c for c in _unique(chunks) if c.id not in old]
        stale = old - {c.id for c in chunks}
        if not new and not stale:
            return 0, 0
        added: list[str] = []
        try:
            if new:
                vectors = self._embed([c.index_text for c in new])
                for start in range(0, len(new), self._client.get_max_batch_size()):
                    batch = new[start : start + self._client.get_max_batch_size()]
                    self._collection.add(
                        ids=[c.id for c in batch],
                        documents=[c.text for c in batch],
                        metadatas=[c.metadata() for c in batch],
                        embeddings=vectors[start : start + len(batch)],
                    )
                    added.extend(c.id for c in batch)
        except BaseException:
            if added:
                self._collection.delete(ids=added)
            raise
        finally:
            if added:
                self._bump_revision()
        if stale:
            self._collection.delete(ids=sorted(stale))
            self._bump_revision()
        return len(new), len(stale)

    def remove(self, course: str | None = None, sources: Iterable[str] | None = None) -> int:
        """Delete the chunks of the given sources of a course, of a whole course, or (no course) everything."""
        if course is None:
            ids = self._collection.get(include=[])["ids"]
        elif sources is None:
            ids = self._collection.get(where={"course": course}, include=[])["ids"]
        else:
            wanted = list(sources)
            if not wanted:
                return 0
            where_src: dict[str, Any] = {"source": {"$in": wanted}}
            ids = self._collection.get(where={"$and": [{"course": course}, where_src]}, include=[])["ids"]
        for start in range(0, len(ids), self._client.get_max_batch_size()):
            self._collection.delete(ids=ids[start : start + self._client.get_max_batch_size()])
        if ids:
            self._bump_revision()
        return len(ids)

    # -- internals ------------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.asarray(self._ef(texts), dtype=np.float32)

    def _embed_query(self, text: str) -> npt.NDArray[np.float32]:
        return np.asarray(self._ef.embed_query([text]), dtype=np.float32)

    def _metadatas(self, course: str | None) -> Iterator[Mapping[str, Any]]:
        got = self._collection.get(where={"course": course} if course else None, include=["metadatas"])
        yield from got["metadatas"] or []

    def _revision(self) -> str:
        meta = self._client.get_collection(self._name, embedding_function=self._ef).metadata or {}
        return str(meta.get(_REVISION, ""))

    def _bump_revision(self) -> None:
        self._collection.modify(metadata={_EMBEDDING: self._ef_name, _REVISION: uuid.uuid4().hex})

    def _dense(
        self,
        vector: npt.NDArray[np.float32],
        course: str,
        skills: Sequence[str] | None,
        exclude_styles: Collection[str],
        n: int,
    ) -> list[Passage]:
        got = self._collection.query(
            query_embeddings=vector,
            n_results=n,
            where=chroma_where(course, skills, exclude_styles),
            include=["documents", "metadatas", "distances"],
        )
        ids, docs = got["ids"][0], (got["documents"] or [[]])[0]
        metas, dists = (got["metadatas"] or [[]])[0], (got["distances"] or [[]])[0]
        return [_passage(i, d, m, 1.0 - float(x)) for i, d, m, x in zip(ids, docs, metas, dists, strict=True)]

    def _bm25(
        self,
        query: str,
        course: str,
        skills: Sequence[str] | None,
        exclude_styles: Collection[str],
        excluded: set[str],
        n: int,
    ) -> list[Passage]:
        index = self.lexical_index(course)
        hits = index.query(query, n, skills=skills, exclude_styles=exclude_styles, exclude_ids=excluded)
        return [_passage(index.ids[i], index.documents[i], index.metadatas[i], s) for i, s in hits]

    def lexical_index(self, course: str) -> LexicalIndex:
        """The course's BM25 index, rebuilt when the store's revision changed (any write, any process)."""
        revision = self._revision()
        cached = self._lexical.get(course)
        if cached is not None and cached.revision == revision:
            return cached
        with self._lock:
            got = self._collection.get(where={"course": course}, include=["documents", "metadatas"])
            metas = list(got["metadatas"] or [])
            docs = list(got["documents"] or [])
            texts = [index_text(d, _heading_path(m)) for d, m in zip(docs, metas, strict=True)]
            index = LexicalIndex.build(revision, list(got["ids"]), docs, metas, texts)
            self._lexical[course] = index
            return index

    def _vectors(self, ids: list[str]) -> dict[str, npt.NDArray[np.float32]]:
        if not ids:
            return {}
        got = self._collection.get(ids=ids, include=["embeddings"])
        embeddings = got["embeddings"]
        if embeddings is None:
            return {}
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], embeddings, strict=True)}


def _ef_name(ef: EmbeddingFunction[Any]) -> str:
    name = ef.name() if hasattr(ef, "name") else NotImplemented
    return str(name) if isinstance(name, str) else type(ef).__name__


def _skills(meta: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(s for s in str(meta.get("skills", "")).split("|") if s)


def _heading_path(meta: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(json.loads(str(meta.get("heading_path") or "[]")))


def _passage(chunk_id: str, text: str | None, meta: Mapping[str, Any], score: float) -> Passage:
    return Passage(
        id=chunk_id,
        text=text or "",
        course=str(meta["course"]),
        skills=_skills(meta),
        source=str(meta["source"]),
        heading_path=_heading_path(meta),
        style=str(meta.get("style") or "") or None,
        score=score,
    )


def _with_score(passage: Passage, score: float) -> Passage:
    return Passage(**{**passage.__dict__, "score": score})


def _unique(chunks: Sequence[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out: list[Chunk] = []
    for chunk in chunks:
        if chunk.id not in seen:
            seen.add(chunk.id)
            out.append(chunk)
    return out
