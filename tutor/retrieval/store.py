"""The passage store: course chunks in Chroma (a collection per course), searched densely, lexically (BM25) or both.

Embedded `PersistentClient` in the data directory by default; `HttpClient` when `settings.chroma_url` is set.
Every chunk carries scalar metadata (Chroma filters scalars in every version):
course, source, heading_path (JSON list), style ("" when none), skills ("|a|b|") plus one `skill:<id>: True`
key per skill for filtering, content_hash (sha256 of the text), order, line, origin ("course" or "added"), and
`sentences` (how many sentence vectors it has) when it has them.

Sentence vectors (opt-in: `sentence_vectors`, setting `retrieval_sentence_vectors`): each sentence of a chunk (with
the chunk's headings, see `index_text`) is embedded on its own and kept in a second collection per course
(`<chunks collection>-sentences`, ids `<chunk id>:<n>`); a chunk's dense score is then that of its best sentence,
so a short question matches the one sentence that answers it rather than a chunk's average over several ideas
(sentence-window retrieval). The chunk's own vector is the normalised mean of its sentences' vectors (used for
diversity), so each word is embedded once, but ingest is about 1.6x slower (each sentence repeats the headings).
A course is searched by sentences only when every chunk of it has them; otherwise by chunk vectors.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn
from urllib.parse import urlparse

import chromadb
import numpy as np
import numpy.typing as npt
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from tutor.retrieval.embeddings import MiniLMEmbeddingFunction
from tutor.retrieval.rerank import RERANK_DEPTH, CrossEncoder, Reranker
from tutor.retrieval.rerank import rerank as rerank_sections
from tutor.retrieval.search import CourseIndex, maximal_marginal_relevance, reciprocal_rank_fusion, skill_key
from tutor.retrieval.sections import SECTION_MAX_WORDS, RankedSection, Section, aggregate
from tutor.retrieval.sentences import sentences
from tutor.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection as ChromaCollection
    from chromadb.api.types import EmbeddingFunction

Mode = Literal["hybrid", "dense", "bm25"]
COLLECTION_PREFIX = "passages"
_COURSE = "course"
_REVISION = "revision"
_EMBEDDING = "embedding_function"
_SENTENCES_OF = "sentences_of"
_SENTENCES_SUFFIX = "-sentences"
SENTENCE_FANOUT = 4  # sentence hits asked for per chunk wanted: a chunk has about 5 sentences, rarely all near
_COURSE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says what to do."""


Passage = Section
"""What search and `passages_for_skill` return: sections (the name is kept for callers written before sections)."""


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
    section: str = ""  # the parent section's id (chunking.section_id)
    part: int = 0  # place in the section
    sep: str = ""  # what joins it to the section's previous chunk: "\n\n", "\n" or " "

    def metadata(self, sentences: int | None = None) -> dict[str, str | int | bool]:
        """The stored metadata; `sentences`: how many sentence vectors the chunk has (none stored when None)."""
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
            "section": self.section or self.id,
            "part": self.part,
            "sep": self.sep,
        }
        if sentences is not None:
            meta["sentences"] = sentences
        meta.update({skill_key(s): True for s in self.skills})
        return meta

    @property
    def index_text(self) -> str:
        return index_text(self.text, self.heading_path)

    @property
    def sentence_texts(self) -> list[str]:
        """What is embedded for dense search: each sentence of the chunk with the headings (see `index_text`)."""
        return [index_text(sentence, self.heading_path) for sentence in sentences(self.text)]


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
    settings: Settings, embedding_function: EmbeddingFunction[Any] | None = None, *, prefix: str = COLLECTION_PREFIX
) -> PassageStore:
    """Open the passage store named by the settings (collections are created as courses are added).

    `embedding_function` defaults to the offline MiniLM one; any Chroma EmbeddingFunction works, but a course
    must always be read with the function it was built with (checked: a mismatch raises StoreError).
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
    embedding = embedding_function or MiniLMEmbeddingFunction(
        fast=settings.embedding_fast, cache_dir=settings.model_cache
    )
    return PassageStore(client, embedding, prefix, settings.retrieval_section_words,
                        sentence_vectors=settings.retrieval_sentence_vectors,
                        reranker=CrossEncoder() if settings.retrieval_rerank else None)


def collection_name(prefix: str, course: str) -> str:
    """One Chroma collection per course (a filter on a shared collection costs time linear in its size)."""
    return f"{prefix}-{course}-{hashlib.sha256(course.encode()).hexdigest()[:8]}"


class PassageStore:
    """Course passages in Chroma (one collection per course) plus an in-memory index of each course (BM25 and
    filter masks) rebuilt whenever that course changes, in this process or any other."""

    def __init__(
        self, client: ClientAPI, embedding_function: EmbeddingFunction[Any], prefix: str = COLLECTION_PREFIX,
        section_words: int = SECTION_MAX_WORDS, *, sentence_vectors: bool = False, reranker: Reranker | None = None,
    ):
        self._section_words = section_words
        self._reranker = reranker
        self._sentence_vectors = sentence_vectors
        self._client = client
        self._ef = embedding_function
        self._prefix = prefix
        self._ef_name = _ef_name(embedding_function)
        self._indexes: dict[str, CourseIndex] = {}
        self._lock = threading.Lock()

    @property
    def embedding_function(self) -> EmbeddingFunction[Any]:
        return self._ef

    # -- reading --------------------------------------------------------------------------------

    def courses(self) -> list[str]:
        found = []
        for collection in self._client.list_collections():
            meta = collection.metadata or {}
            if collection.name.startswith(self._prefix + "-") and meta.get(_COURSE):
                found.append(str(meta[_COURSE]))
        return sorted(found)

    def count(self, course: str | None = None) -> int:
        courses = [course] if course is not None else self.courses()
        return sum(c.count() for c in map(self._collection, courses) if c is not None)

    def source_origin(self, course: str, source: str) -> str | None:
        """How the source came in ("course" folder or "added"), or None when the course has no such source."""
        collection = self._collection(course)
        if collection is None:
            return None
        metas = collection.get(where={"source": source}, limit=1, include=["metadatas"])["metadatas"] or []
        return str(metas[0].get("origin", "added")) if metas else None

    def list_sources(self, course: str | None = None) -> list[SourceSummary]:
        """One line per (course, source file): chunk count, skills and styles."""
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for name in [course] if course is not None else self.courses():
            collection = self._collection(name)
            metas = _get_all(collection, ["metadatas"])[2] if collection is not None else []
            for meta in metas:
                groups.setdefault((name, str(meta["source"])), []).append(meta)
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

    def passages_for_skill(self, course: str, skill: str) -> list[Section]:
        """Every section that teaches `skill`, in file and text order (score 0; bounded like search results)."""
        index = self.course_index(course)
        if index is None:
            return []
        return [index.section(n, max_words=self._section_words) for n in index.sections_with(index.allowed([skill]))]

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
        rerank: bool = False,
    ) -> list[Section]:
        """The k sections of `course` best answering `query`, each once, best first.

        Chunks are searched (dense: by their vectors, or by their best sentence where the course has sentence
        vectors; BM25; or both fused by reciprocal rank: `mode`) and their scores aggregated per section
        (sections.aggregate); each result is the whole section (bounded) with its best chunk marked.
        skills: keep sections teaching any of these. exclude_ids / exclude_styles: never return these sections
        (ids of sections or of their chunks; an alternate explanation skips what was shown). diversity: 0..1,
        re-rank by maximal marginal relevance so a section much like a higher-ranked one is pushed down.
        rerank: reorder the first RERANK_DEPTH sections with the store's cross-encoder (rerank.py), if it has one.
        """
        _check_request(k, mode, diversity)
        collection = self._collection(course)
        if collection is None or not query.strip():
            return []
        index = self._course_index(course, collection)
        restricted = bool(skills) or bool(exclude_styles) or bool(exclude_ids)
        allowed = index.allowed(skills, exclude_styles, exclude_ids) if restricted else None
        vector = self._embed_query(query) if mode != "bm25" or diversity is not None else None
        pool = max(8 * k, 50)  # chunks per ranking: enough for k distinct sections when sections have several
        rankings: list[list[tuple[int, float]]] = []
        if mode != "bm25" and vector is not None:
            filtered = bool(skills) or bool(exclude_styles)
            rankings.append(self._dense_ranking(course, collection, index, vector, pool, allowed, filtered))
        if mode != "dense":
            rankings.append(index.query(query, pool, allowed))
        ranked = aggregate(_fuse(rankings, mode), index.section_of)
        if vector is not None and diversity is not None:
            ranked = self._diversify(collection, index, vector[0], ranked, k, diversity)
        reranker = self._reranker if rerank else None
        depth = max(k, RERANK_DEPTH) if reranker else k  # the reranker sees its RERANK_DEPTH even when k is less
        found = [index.section(r.section, score=r.score, best=r.best, max_words=self._section_words)
                 for r in ranked[:depth]]
        if reranker is not None:
            found = rerank_sections(reranker, query, found)[:k]
        return found

    def course_index(self, course: str) -> CourseIndex | None:
        """The course's in-memory index (BM25, filter masks, documents), or None when the course has no store."""
        collection = self._collection(course)
        return self._course_index(course, collection) if collection is not None else None

    # -- writing --------------------------------------------------------------------------------

    def replace_source(self, course: str, source: str, chunks: Sequence[Chunk]) -> tuple[int, int]:
        """Make `chunks` the content of (course, source): add the new chunks first, then delete the old ones.

        Unchanged chunks (same id) are kept as they are. If adding fails, the chunks added so far are deleted
        again and the old ones are untouched. Returns (added, removed).
        """
        collection = self._collection(course, create=True)
        assert collection is not None
        old_ids, _, old_metas = _get_all(collection, ["metadatas"], {"source": source})
        old = dict(zip(old_ids, old_metas, strict=True))
        new = [c for c in _unique(chunks) if c.id not in old]
        stale = set(old) - {c.id for c in chunks}
        self._refresh_places(course, collection, [c for c in _unique(chunks) if c.id in old], old)
        if not new and not stale:
            return 0, 0
        batch_size = self._client.get_max_batch_size()
        added: list[str] = []
        added_sentences: list[str] = []
        by_sentences = self._sentence_vectors and bool(new)
        sentence_store = self._sentence_collection(course, create=True) if by_sentences else None
        try:
            if new:
                groups = [c.sentence_texts for c in new] if by_sentences else None
                vectors, sentence_ids, sentence_vectors = self._embed_chunks(new, groups)
                counts: list[int | None] = [len(g) for g in groups] if groups is not None else [None] * len(new)
                for start in range(0, len(sentence_ids), batch_size):
                    assert sentence_store is not None
                    ids = sentence_ids[start : start + batch_size]
                    sentence_store.add(ids=ids, embeddings=sentence_vectors[start : start + len(ids)],
                                       metadatas=[{"source": source} for _ in ids])
                    added_sentences.extend(ids)
                for start in range(0, len(new), batch_size):
                    batch = new[start : start + batch_size]
                    collection.add(
                        ids=[c.id for c in batch],
                        documents=[c.text for c in batch],
                        metadatas=[c.metadata(n) for c, n in zip(batch, counts[start : start + len(batch)],
                                                                   strict=True)],
                        embeddings=vectors[start : start + len(batch)],
                    )
                    added.extend(c.id for c in batch)
        except BaseException:
            if added:
                collection.delete(ids=added)
            if added_sentences and sentence_store is not None:
                sentence_store.delete(ids=added_sentences)
            raise
        finally:
            if added:
                self._bump_revision(course, collection)
        if stale:
            collection.delete(ids=sorted(stale))
            self._delete_sentences(course, {i: old[i] for i in stale})
            self._bump_revision(course, collection)
        return len(new), len(stale)

    def _refresh_places(
        self, course: str, collection: ChromaCollection, kept: list[Chunk], old: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Rewrite the metadata (order, line, place in the section) of kept chunks an edit has moved; no
        re-embedding."""
        metadatas = {c.id: _kept_metadata(c, old[c.id]) for c in kept}
        moved = [c for c in kept if dict(old[c.id]) != metadatas[c.id]]
        batch_size = self._client.get_max_batch_size()
        for start in range(0, len(moved), batch_size):
            batch = moved[start : start + batch_size]
            collection.update(ids=[c.id for c in batch], metadatas=[metadatas[c.id] for c in batch])
        if moved:
            self._bump_revision(course, collection)

    def remove(self, course: str | None = None, sources: Iterable[str] | None = None) -> int:
        """Delete the chunks of the given sources of a course, a whole course, or (no course) every course."""
        if course is None:
            return sum(self.remove(name) for name in self.courses())
        collection = self._collection(course)
        if collection is None:
            return 0
        if sources is None:
            removed = collection.count()
            self._client.delete_collection(collection.name)
            if self._sentence_collection(course) is not None:
                self._client.delete_collection(collection.name + _SENTENCES_SUFFIX)
            self._indexes.pop(course, None)
            return removed
        wanted: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {"$in": list(sources)}
        ids, _, metas = _get_all(collection, ["metadatas"], {"source": wanted}) if wanted["$in"] else ([], [], [])
        batch_size = self._client.get_max_batch_size()
        for start in range(0, len(ids), batch_size):
            collection.delete(ids=ids[start : start + batch_size])
        self._delete_sentences(course, dict(zip(ids, metas, strict=True)))
        if ids:
            self._bump_revision(course, collection)
        return len(ids)

    # -- internals ------------------------------------------------------------------------------

    def _collection(self, course: str, *, create: bool = False) -> ChromaCollection | None:
        """The course's collection, fetched afresh (another process may have changed or deleted it)."""
        name = collection_name(self._prefix, course)
        try:
            if create:
                if not _COURSE_ID.fullmatch(course):
                    raise StoreError(f"course id {course!r} is not valid: use lowercase letters, digits, - and _")
                collection = self._client.get_or_create_collection(
                    name,
                    embedding_function=self._ef,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata=self._metadata(course),
                )
            else:
                collection = self._client.get_collection(name, embedding_function=self._ef)
        except NotFoundError:
            return None
        except ValueError as exc:  # chromadb's own check of the persisted embedding function
            persisted = re.search(r"persisted: (\S+)", str(exc))
            if persisted is None:
                raise
            self._refuse(course, persisted.group(1))
        built_with = (collection.metadata or {}).get(_EMBEDDING)
        if built_with != self._ef_name:
            self._refuse(course, str(built_with))
        return collection

    def _sentence_collection(self, course: str, *, create: bool = False) -> ChromaCollection | None:
        """The course's sentence vectors (no documents: the text is in the chunks), or None when it has none."""
        name = collection_name(self._prefix, course) + _SENTENCES_SUFFIX
        try:
            if create:
                collection = self._client.get_or_create_collection(
                    name, embedding_function=self._ef, configuration={"hnsw": {"space": "cosine"}},
                    metadata={_SENTENCES_OF: course, _EMBEDDING: self._ef_name},
                )
            else:
                collection = self._client.get_collection(name, embedding_function=self._ef)
        except NotFoundError:
            return None
        built_with = (collection.metadata or {}).get(_EMBEDDING)
        if built_with != self._ef_name:
            self._refuse(course, str(built_with))
        return collection

    def _delete_sentences(self, course: str, chunks: Mapping[str, Mapping[str, Any]]) -> None:
        """Delete the sentence vectors of these chunks (id -> stored metadata)."""
        ids = [f"{chunk}:{n}" for chunk, meta in chunks.items() for n in range(int(str(meta.get("sentences", 0))))]
        sentence_store = self._sentence_collection(course) if ids else None
        if sentence_store is None:
            return
        batch_size = self._client.get_max_batch_size()
        for start in range(0, len(ids), batch_size):
            sentence_store.delete(ids=ids[start : start + batch_size])

    def _refuse(self, course: str, built_with: str) -> NoReturn:
        raise StoreError(
            f"course {course!r} in the passage store was built with embedding function {built_with!r} but the store "
            f"was opened with {self._ef_name!r}; open it with that function, or remove the course "
            f"(`tutor content remove --course {course}`) and add its material again"
        )

    def _metadata(self, course: str) -> dict[str, str]:
        return {_COURSE: course, _EMBEDDING: self._ef_name, _REVISION: uuid.uuid4().hex}

    def _bump_revision(self, course: str, collection: ChromaCollection) -> None:
        collection.modify(metadata=self._metadata(course))

    def _course_index(self, course: str, collection: ChromaCollection) -> CourseIndex:
        revision = str((collection.metadata or {}).get(_REVISION, ""))
        cached = self._indexes.get(course)
        if cached is not None and cached.revision == revision:
            return cached
        with self._lock:
            ids, docs, metas = _get_all(collection, ["documents", "metadatas"])
            texts = [index_text(d, _heading_path(m)) for d, m in zip(docs, metas, strict=True)]
            index = CourseIndex.build(revision, ids, docs, metas, texts)
            self._indexes[course] = index
            return index

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.asarray(self._ef(texts), dtype=np.float32)

    def _embed_chunks(
        self, chunks: Sequence[Chunk], groups: Sequence[Sequence[str]] | None
    ) -> tuple[npt.NDArray[np.float32], list[str], npt.NDArray[np.float32]]:
        """(a vector per chunk, the ids and vectors of the chunks' sentences: none unless `groups`, each chunk's
        `sentence_texts`, are given). With sentences, a chunk's vector is the normalised mean of its sentences'
        vectors, so nothing is embedded twice."""
        if groups is None:
            return self._embed([c.index_text for c in chunks]), [], np.zeros((0, 0), dtype=np.float32)
        sentence_vectors = self._embed([text for group in groups for text in group])
        sentence_ids = [f"{chunk.id}:{n}" for chunk, group in zip(chunks, groups, strict=True)
                        for n in range(len(group))]
        ends = np.cumsum([len(group) for group in groups])
        vectors = np.stack([sentence_vectors[end - len(group) : end].mean(axis=0)
                            for group, end in zip(groups, ends, strict=True)])
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return (vectors / norms).astype(np.float32), sentence_ids, sentence_vectors

    def _embed_query(self, text: str) -> npt.NDArray[np.float32]:
        return np.asarray(self._ef.embed_query([text]), dtype=np.float32)

    def _dense_ranking(
        self,
        course: str,
        collection: ChromaCollection,
        index: CourseIndex,
        vector: npt.NDArray[np.float32],
        pool: int,
        allowed: npt.NDArray[np.bool_] | None,
        filtered: bool,
    ) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity of its best sentence) of the `pool` nearest allowed chunks, best
        first; by the chunks' own vectors in a course stored before sentences were.

        With a skill or style filter the query names the allowed ids (far cheaper in Chroma than a metadata
        filter); with only exclusions it asks for more and drops the excluded ones."""
        sentence_store = self._sentence_collection(course) if index.by_sentences else None
        target, fanout = (sentence_store, SENTENCE_FANOUT) if sentence_store is not None else (collection, 1)
        by_sentences = sentence_store is not None
        if allowed is not None and filtered:
            ids = index.vector_ids(np.flatnonzero(allowed), by_sentences=by_sentences)
            if not ids:
                return []
            return self._nearest(target, index, vector, min(pool * fanout, len(ids)), by_sentences, ids)[:pool]
        extra = len(index.vector_ids(np.flatnonzero(~allowed), by_sentences=by_sentences)) if allowed is not None else 0
        found = self._nearest(target, index, vector, pool * fanout + extra, by_sentences)
        return [(p, score) for p, score in found if allowed is None or allowed[p]][:pool]

    def _nearest(
        self, collection: ChromaCollection, index: CourseIndex, vector: npt.NDArray[np.float32], n: int,
        by_sentences: bool, ids: list[str] | None = None,
    ) -> list[tuple[int, float]]:
        """(chunk position, similarity) of the chunks of the n nearest vectors (chunks or sentences), each chunk
        once at its best."""
        got = collection.query(query_embeddings=vector, n_results=n, ids=ids, include=["distances"])
        positions = index.positions
        found: dict[int, float] = {}
        for vector_id, distance in zip(got["ids"][0], (got["distances"] or [[]])[0], strict=True):
            position = positions.get(vector_id.rpartition(":")[0] if by_sentences else vector_id)
            if position is not None and position not in found:
                found[position] = 1.0 - float(distance)
        return list(found.items())

    def _diversify(
        self, collection: ChromaCollection, index: CourseIndex, query: npt.NDArray[np.float32],
        ranked: list[RankedSection], k: int, diversity: float,
    ) -> list[RankedSection]:
        """Re-rank sections by maximal marginal relevance on their best chunks' vectors."""
        by_chunk = {index.ids[r.best]: r for r in ranked}
        chosen = maximal_marginal_relevance(query, list(by_chunk), self._vectors(collection, list(by_chunk)), k,
                                            diversity)
        return [by_chunk[i] for i in chosen]

    def _vectors(self, collection: ChromaCollection, ids: list[str]) -> dict[str, npt.NDArray[np.float32]]:
        if not ids:
            return {}
        got = collection.get(ids=ids, include=["embeddings"])
        embeddings = got["embeddings"]
        if embeddings is None:
            return {}
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], embeddings, strict=True)}


def _get_all(
    collection: ChromaCollection, include: list[Any], where: dict[str, Any] | None = None, page: int = 5000
) -> tuple[list[str], list[str], list[Mapping[str, Any]]]:
    """(ids, documents, metadatas) of every matching record, read in pages (one big read overflows SQLite)."""
    ids: list[str] = []
    docs: list[str] = []
    metas: list[Mapping[str, Any]] = []
    while True:
        got = collection.get(where=where, include=include, limit=page, offset=len(ids))
        ids.extend(got["ids"])
        docs.extend(d or "" for d in got["documents"] or [])
        metas.extend(got["metadatas"] or [])
        if len(got["ids"]) < page:
            return ids, docs, metas


def _kept_metadata(chunk: Chunk, old: Mapping[str, Any]) -> dict[str, str | int | bool]:
    """A kept chunk's new metadata: its place may have moved; whether it has sentence vectors has not."""
    return chunk.metadata(int(str(old["sentences"])) if "sentences" in old else None)


def _ef_name(ef: EmbeddingFunction[Any]) -> str:
    name = ef.name() if hasattr(ef, "name") else NotImplemented
    return str(name) if isinstance(name, str) else type(ef).__name__


def _skills(meta: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(s for s in str(meta.get("skills", "")).split("|") if s)


def _heading_path(meta: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(json.loads(str(meta.get("heading_path") or "[]")))


def _check_request(k: int, mode: str, diversity: float | None) -> None:
    if k < 1:
        raise ValueError("k must be at least 1")
    if mode not in ("hybrid", "dense", "bm25"):
        raise ValueError(f"mode must be hybrid, dense or bm25, got {mode!r}")
    if diversity is not None and not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be between 0 and 1, got {diversity}")


def _fuse(rankings: list[list[tuple[int, float]]], mode: Mode) -> list[tuple[int, float]]:
    """Chunk scores: reciprocal rank fusion of the rankings in hybrid mode, else the one ranking's own scores."""
    if mode != "hybrid":
        return rankings[0] if rankings else []
    return reciprocal_rank_fusion([[p for p, _ in ranking] for ranking in rankings])


def _unique(chunks: Sequence[Chunk]) -> list[Chunk]:
    seen: set[str] = set()
    out: list[Chunk] = []
    for chunk in chunks:
        if chunk.id not in seen:
            seen.add(chunk.id)
            out.append(chunk)
    return out
