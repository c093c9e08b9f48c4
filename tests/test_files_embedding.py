"""The file index's own embedder, built from the real MiniLM: the graph rewrite keeps its vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.config import Settings
from agent.files.embedding import MAX_TOKENS, IndexEmbedder, quantized_model
from agent.files.graph import simplify
from agent.models.catalog import embedder_files
from agent.models.embedder import Embedder

pytestmark = pytest.mark.slow

TEXTS = ["The heating engineer bled the radiators and replaced the pressure valve on the boiler.",
         "when was the central heating last repaired", "tomato sauce recipe", "x",
         "Quarterly budget: spending above forecast, reconciled with the ledger. " * 3]


def test_graph_rewrite_drops_nan_guards_and_fuses_gelu(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort

    model, _ = embedder_files(Settings())
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(tmp_path / "folded.onnx")
    ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
    graph = onnx.load(str(tmp_path / "folded.onnx"))
    assert simplify(graph) == {"nan_guards": 6, "gelu": 6}  # six layers
    ops = [n.op_type for n in graph.graph.node]
    assert "IsNaN" not in ops
    assert "Erf" not in ops
    assert ops.count("Gelu") == 6
    assert simplify(graph) == {"nan_guards": 0, "gelu": 0}  # nothing left to change


def test_index_model_agrees_with_the_original(tmp_path: Path) -> None:
    model, tokenizer = embedder_files(Settings())
    fast = quantized_model(model, tokenizer, tmp_path)
    assert fast is not None
    assert fast.parent == tmp_path
    assert quantized_model(model, tokenizer, tmp_path) == fast  # made once, then reused
    original = Embedder(model, tokenizer).embed(TEXTS)
    index = IndexEmbedder(fast, tokenizer, max_length=MAX_TOKENS, disabled_optimizers=("SkipLayerNormFusion",))
    mine = index.embed(TEXTS)
    cosines = np.sum(original * mine, axis=1)
    assert cosines.min() >= 0.98
    # a text's vector barely depends on its batch (dynamic quantization scales each batch's activations)
    alone = np.vstack([index.embed([t]) for t in TEXTS])
    assert np.sum(alone * mine, axis=1).min() >= 0.95  # 0.97 for "x" beside longer texts, else 0.99
