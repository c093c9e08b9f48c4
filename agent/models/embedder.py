"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: normalised 384-d vectors."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent.errors import ModelError

__all__ = ["Embedder"]

_LOGGER = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


class Embedder:
    """MiniLM sentence embeddings on onnxruntime. `spin=False`: its threads sleep between batches (a background
    user such as the file index); `name` and `fix` word the error when the model does not load;
    `disabled_optimizers`: onnxruntime graph fusions not to apply (by name)."""

    def __init__(self, model: Path, tokenizer: Path, *, threads: int = 1, max_length: int = 256, spin: bool = True,
                 name: str = "embedder", fix: str = "the file may be corrupt; run `make run` to reinstall",
                 disabled_optimizers: Sequence[str] = ()) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - declared dependencies
            raise ModelError("onnxruntime/tokenizers missing", model="embedder", fix="run `make run`") from exc
        started = time.perf_counter()
        try:
            self._tok = Tokenizer.from_file(str(tokenizer))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            if not spin:
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"],
                                                 disabled_optimizers=list(disabled_optimizers) or None)
        except Exception as exc:
            raise ModelError(f"could not load {model}: {exc}", model=name, fix=fix) from exc
        self._tok.enable_truncation(max_length=max_length)
        self._tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()
        self.dim = 384
        self.load_ms = (time.perf_counter() - started) * 1000
        _LOGGER.info("%s loaded in %.0f ms", name, self.load_ms)

    def embed(self, texts: list[str], batch_size: int = 32) -> Vectors:
        """Mean-pooled, L2-normalised embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            out.append(self._embed_batch(texts[start:start + batch_size]))
        return np.asarray(np.vstack(out), dtype=np.float32)

    def _embed_batch(self, texts: list[str]) -> Vectors:
        encs = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = self._session.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Vectors = (pooled / np.clip(norms, 1e-9, None)).astype(np.float32)
        return result
