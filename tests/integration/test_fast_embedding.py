"""The fused int8 build of the embedding model: built from the verified model, checked, cached, never trusted blindly.

These build the real model into a temporary cache (about ten seconds each on two cores).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest

from tutor.retrieval import MiniLMEmbeddingFunction
from tutor.retrieval import embeddings as embeddings_module
from tutor.retrieval.fast_model import fuse_attention

SENTENCES = [
    "The denominator tells how many equal parts the whole is divided into.",
    "how long do we have to tell the authorities about a data leak",
    "Anonymised data is no longer personal data, but pseudonymised data still is. " * 6,
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[MiniLMEmbeddingFunction, Path]:
    cache = tmp_path_factory.mktemp("model-cache")
    fast = MiniLMEmbeddingFunction(cache_dir=cache)
    fast.load()
    return fast, cache


@pytest.fixture(scope="module")
def exact() -> MiniLMEmbeddingFunction:
    model = MiniLMEmbeddingFunction(fast=False)
    model.load()
    return model


def cached_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if p.suffix == ".onnx")


def test_the_fast_build_agrees_with_the_exact_model_and_is_cached_once(
    built: tuple[MiniLMEmbeddingFunction, Path], exact: MiniLMEmbeddingFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, cache = built
    assert fast.variant == "fused int8" and exact.variant == "exact"
    [model_file] = cached_files(cache)
    a, b = fast.embed(SENTENCES), exact.embed(SENTENCES)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(a * b, axis=1))) >= embeddings_module.MIN_AGREEMENT
    # the fused graph really is different: one attention operator per layer, int8 products
    ops = {node.op_type for node in onnx.load(str(model_file)).graph.node}
    assert {"QAttention", "MatMulInteger"} <= ops and "Softmax" not in ops

    def no_build(source: Path, target: Path) -> None:
        raise AssertionError("the cached build should have been reused")

    monkeypatch.setattr(embeddings_module, "build_fast_model", no_build)
    again = MiniLMEmbeddingFunction(cache_dir=cache)
    again.load()
    assert again.variant == "fused int8"
    assert np.allclose(again.embed(SENTENCES), a, atol=1e-6)  # deterministic


def test_embedding_in_parallel_gives_the_same_vectors_as_one_at_a_time(
    built: tuple[MiniLMEmbeddingFunction, Path],
) -> None:
    fast, cache = built
    serial = MiniLMEmbeddingFunction(cache_dir=cache, threads=1)
    texts = SENTENCES * 5
    assert np.allclose(fast.embed(texts), serial.embed(texts), atol=1e-6)
    assert fast.embed([]).shape == (0, 384)


def test_a_damaged_cached_build_is_rebuilt(
    tmp_path: Path, built: tuple[MiniLMEmbeddingFunction, Path], caplog: pytest.LogCaptureFixture
) -> None:
    fast, cache = built
    [good] = cached_files(cache)
    damaged = tmp_path / good.name
    damaged.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    with caplog.at_level(logging.WARNING, logger="tutor.retrieval.embeddings"):
        model = MiniLMEmbeddingFunction(cache_dir=tmp_path)
        model.load()
    assert model.variant == "fused int8"
    assert "rebuilding the cached embedding model" in caplog.text
    assert damaged.stat().st_size == good.stat().st_size
    assert np.allclose(model.embed(SENTENCES), fast.embed(SENTENCES), atol=1e-6)


def test_a_build_that_fails_or_disagrees_falls_back_to_the_exact_model(
    tmp_path: Path, exact: MiniLMEmbeddingFunction, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(source: Path, target: Path) -> None:
        raise ValueError("unexpected attention chain")

    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, logger="tutor.retrieval.embeddings"):
        patch.setattr(embeddings_module, "build_fast_model", broken)
        model = MiniLMEmbeddingFunction(cache_dir=tmp_path / "a")
        model.load()
    assert model.variant == "exact" and "unexpected attention chain" in caplog.text
    assert np.allclose(model.embed(SENTENCES), exact.embed(SENTENCES), atol=1e-6)

    caplog.clear()
    monkeypatch.setattr(embeddings_module, "MIN_AGREEMENT", 1.01)  # no build can agree this well
    with caplog.at_level(logging.WARNING, logger="tutor.retrieval.embeddings"):
        picky = MiniLMEmbeddingFunction(cache_dir=tmp_path / "b")
        picky.load()
    assert picky.variant == "exact" and "agrees only" in caplog.text
    assert cached_files(tmp_path / "b") == []  # a build that failed its check is never cached


def test_fusing_a_graph_without_attention_is_refused() -> None:
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Relu", ["x"], ["y"])], "plain",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    with pytest.raises(ValueError, match="no attention found"):
        fuse_attention(onnx.helper.make_model(graph))
