"""The file index's embedder: the agent's MiniLM made 2.3x cheaper a chunk, built once into the cache.

The embedded MiniLM stores its weights as int8 but runs its matrix products in float32 (onnxruntime folds the
weights back to float). `quantized_model()` rewrites it once: folded to float, its NaN guards dropped and its
GELUs fused (`agent.files.graph`), then dynamic int8 quantization of the matrix products
(`onnxruntime.quantization.quantize_dynamic`, per channel). The result is checked against the original
(cosine >= 0.98 on a few texts) before it is used; the index and its searches use the same model, so they
agree. Without the `onnx` package, or if the rewrite fails, the index uses the agent's own embedder.
Chunks are embedded up to 128 word pieces (MiniLM's training length; 45 % of 800-character chunks are longer,
by 9 % of all tokens): their tail is still found by keywords and by the next chunk's overlap.

Measured per chunk (CPU, one thread, 1,024 chunks of the bench corpus): int8 matrix products alone (the
previous index model) 21.9 ms; without the NaN guards 17.6; GELU fused 16.5; without onnxruntime's fused
SkipLayerNormalization (slow in 1.32 on this CPU) 12.9; at 128 word pieces 9.5.

`IndexEmbedder` is an `Embedder` whose onnxruntime threads do not spin while waiting for work: on a busy
2-core machine spinning threads take CPU time from the turn the user is waiting for.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.files.graph import simplify
from agent.models.embedder import Embedder
from agent.per_agent import PerAgent

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["BASE_TAG", "MODEL_TAG", "IndexEmbedder", "build_index_embedder", "embedder_tag", "index_embedder",
           "quantized_model"]

_LOGGER = logging.getLogger(__name__)

MODEL_TAG = "minilm-l6-dynint8-fused-v3"  # the manifest remembers which model (and layout) made its vectors
BASE_TAG = "minilm-l6"  # the agent's own embedder
_BUILD_LOCK = threading.Lock()
MAX_TOKENS = 128
# onnxruntime 1.32's fused SkipLayerNormalization takes 17 % of a batch of the quantized model on this CPU; its
# unfused Add + LayerNormalization are cheaper (12.9 vs 15.5 ms CPU a chunk measured with both).
_SLOW_FUSIONS = ("SkipLayerNormFusion",)
_CHECK = ["The heating engineer replaced the pressure valve on the boiler.", "tomato sauce recipe",
          "Quarterly budget: spending above forecast, reconciled with the ledger. " * 6]
_MIN_COSINE = 0.98


def _check_same(source: Path, made: Path, tokenizer: Path) -> None:
    """Raise unless the rewritten model's vectors agree with the original's (cosine >= 0.98 on a few texts)."""
    import numpy as np

    ref = Embedder(source, tokenizer, spin=False).embed(_CHECK)
    new = Embedder(made, tokenizer, spin=False, disabled_optimizers=_SLOW_FUSIONS).embed(_CHECK)
    cosine = float(np.min(np.sum(ref * new, axis=1)))
    if cosine < _MIN_COSINE:
        raise ValueError(f"the rewritten embedder disagrees with the original (cosine {cosine:.3f})")


def quantized_model(source: Path, tokenizer: Path, cache_dir: Path) -> Path | None:
    """The dynamically quantized copy of `source` (made on first use, then reused); None if it cannot be made."""
    digest = hashlib.sha256(f"{source.resolve()}:{source.stat().st_size}:{source.stat().st_mtime_ns}".encode())
    target = cache_dir / f"{MODEL_TAG}-{digest.hexdigest()[:12]}.onnx"
    with _BUILD_LOCK:
        if target.is_file():
            return target
        try:
            import onnx
            import onnxruntime as ort
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError as exc:  # the onnx package is missing
            _LOGGER.info("file index: using the agent's embedder (%s)", exc)
            return None
        started = time.perf_counter()
        cache_dir.mkdir(parents=True, exist_ok=True)
        folded = target.with_suffix(".folded.tmp")
        simple = target.with_suffix(".simple.tmp")
        partial = target.with_suffix(".tmp")
        try:
            opts = ort.SessionOptions()  # fold the int8 → float weight conversion into plain float weights
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            opts.optimized_model_filepath = str(folded)
            opts.log_severity_level = 3
            ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
            graph = onnx.load(str(folded))
            simplify(graph)
            onnx.save(graph, str(simple))
            quantize_dynamic(str(simple), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
            _check_same(source, partial, tokenizer)
            partial.replace(target)
        except Exception:
            _LOGGER.exception("file index: cannot quantize %s; using the agent's embedder", source)
            return None
        finally:
            for tmp in (folded, simple, partial):
                tmp.unlink(missing_ok=True)
        _LOGGER.info("file index: quantized the embedder in %.1f s (%s)", time.perf_counter() - started, target)
        return target


class IndexEmbedder(Embedder):
    """An `Embedder` over `model` whose onnxruntime threads sleep instead of spinning between batches."""

    def __init__(self, model: Path, tokenizer: Path, *, threads: int = 1, max_length: int = 256,
                 tag: str = BASE_TAG, disabled_optimizers: tuple[str, ...] = ()) -> None:
        super().__init__(model, tokenizer, threads=threads, max_length=max_length, spin=False,
                         name="file index embedder", fix="delete the file to have it made again",
                         disabled_optimizers=disabled_optimizers)
        self.tag = tag


def build_index_embedder(services: Any) -> Embedder:
    """A new embedder for the file index (the quantized MiniLM, else a copy of the agent's)."""
    import psutil

    from agent.models.catalog import embedder_files

    model, tokenizer = embedder_files(services.settings)
    threads = services.settings.embedder.threads or psutil.cpu_count(logical=False) or 1
    fast = quantized_model(model, tokenizer, services.paths.cache / "models")
    if fast is None:
        return IndexEmbedder(model, tokenizer, threads=threads)
    return IndexEmbedder(fast, tokenizer, threads=threads, max_length=MAX_TOKENS, tag=MODEL_TAG,
                         disabled_optimizers=_SLOW_FUSIONS)


_EMBEDDER: PerAgent[Embedder] = PerAgent(lambda services: build_index_embedder(services))


def index_embedder(services: Services) -> Callable[[], Embedder]:
    """The agent's file index embedder as a factory (loaded on first call, then kept)."""
    return lambda: _EMBEDDER.get(services)


def embedder_tag(embedder: Embedder) -> str:
    """Which model makes an embedder's vectors (vectors of different models must not be mixed)."""
    return str(getattr(embedder, "tag", BASE_TAG))
