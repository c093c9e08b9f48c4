"""The file index's embedder: the agent's MiniLM with its matrix products in int8 (about 1.6x faster).

The embedded MiniLM stores its weights as int8 but runs its matrix products in float32 (onnxruntime folds the
weights back to float): 53% of a batch's time is those products. `quantized_model()` rewrites it once with
dynamic int8 quantization (`onnxruntime.quantization.quantize_dynamic`, per channel) into the cache folder;
its vectors keep a cosine of 0.99 with the original ones, and the index and its searches use the same model,
so they agree. Without the `onnx` package, or if the rewrite fails, the index uses the agent's own embedder.

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

from agent.models.embedder import Embedder
from agent.per_agent import PerAgent

if TYPE_CHECKING:
    from agent.services import Services

__all__ = ["BASE_TAG", "MODEL_TAG", "IndexEmbedder", "build_index_embedder", "embedder_tag", "index_embedder",
           "quantized_model"]

_LOGGER = logging.getLogger(__name__)

MODEL_TAG = "minilm-l6-dynint8-names-v2"  # the manifest remembers which model (and layout) made its vectors
BASE_TAG = "minilm-l6"  # the agent's own embedder
_BUILD_LOCK = threading.Lock()


def quantized_model(source: Path, cache_dir: Path) -> Path | None:
    """The dynamically quantized copy of `source` (made on first use, then reused); None if it cannot be made."""
    digest = hashlib.sha256(f"{source.resolve()}:{source.stat().st_size}:{source.stat().st_mtime_ns}".encode())
    target = cache_dir / f"{MODEL_TAG}-{digest.hexdigest()[:12]}.onnx"
    with _BUILD_LOCK:
        if target.is_file():
            return target
        try:
            import onnxruntime as ort
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError as exc:  # the onnx package is missing
            _LOGGER.info("file index: using the agent's embedder (%s)", exc)
            return None
        started = time.perf_counter()
        cache_dir.mkdir(parents=True, exist_ok=True)
        folded = target.with_suffix(".folded.tmp")
        partial = target.with_suffix(".tmp")
        try:
            opts = ort.SessionOptions()  # fold the int8 → float weight conversion into plain float weights
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            opts.optimized_model_filepath = str(folded)
            opts.log_severity_level = 3
            ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
            quantize_dynamic(str(folded), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
            partial.replace(target)
        except Exception:
            _LOGGER.exception("file index: cannot quantize %s; using the agent's embedder", source)
            return None
        finally:
            folded.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)
        _LOGGER.info("file index: quantized the embedder in %.1f s (%s)", time.perf_counter() - started, target)
        return target


class IndexEmbedder(Embedder):
    """An `Embedder` over `model` whose onnxruntime threads sleep instead of spinning between batches."""

    def __init__(self, model: Path, tokenizer: Path, *, threads: int = 1, max_length: int = 256,
                 tag: str = BASE_TAG) -> None:
        super().__init__(model, tokenizer, threads=threads, max_length=max_length, spin=False,
                         name="file index embedder", fix="delete the file to have it made again")
        self.tag = tag


def build_index_embedder(services: Any) -> Embedder:
    """A new embedder for the file index (the quantized MiniLM, else a copy of the agent's)."""
    import psutil

    from agent.models.catalog import embedder_files

    model, tokenizer = embedder_files(services.settings)
    threads = services.settings.embedder.threads or psutil.cpu_count(logical=False) or 1
    fast = quantized_model(model, services.paths.cache / "models")
    if fast is None:
        return IndexEmbedder(model, tokenizer, threads=threads)
    return IndexEmbedder(fast, tokenizer, threads=threads, tag=MODEL_TAG)


_EMBEDDER: PerAgent[Embedder] = PerAgent(lambda services: build_index_embedder(services))


def index_embedder(services: Services) -> Callable[[], Embedder]:
    """The agent's file index embedder as a factory (loaded on first call, then kept)."""
    return lambda: _EMBEDDER.get(services)


def embedder_tag(embedder: Embedder) -> str:
    """Which model makes an embedder's vectors (vectors of different models must not be mixed)."""
    return str(getattr(embedder, "tag", BASE_TAG))
