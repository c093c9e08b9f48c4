"""The file index's embedder per chunk: CPU and wall ms on the bench corpus's chunks, original vs index model.

    .venv/bin/python bench/files_embed_bench.py [--docs 2000] [--chunks 1024] [--threads 1]

Embeds the same chunks (file name + chunk text, as the index does, in 256-chunk groups sorted by length, 16 a
batch) with the agent's MiniLM and with the file index's rewritten model (`agent.files.embedding`), both at 256
and 128 word pieces, and prints one JSON summary: CPU and wall ms per chunk and the cosine of each variant's
vectors with the original's.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import numpy as np

    from agent.config import Settings
    from agent.files.chunk import chunk_text
    from agent.files.embedding import _SLOW_FUSIONS, quantized_model
    from agent.files.extract import extract_text, is_supported
    from agent.models.catalog import embedder_files
    from agent.models.embedder import Embedder
    from bench.files_bench import make_corpus

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--chunks", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=1)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="files-embed-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(corpus, ns.docs)
        inputs = [f"{p.name}\n{c}" for p in sorted(corpus.rglob("*"))
                  if p.is_file() and is_supported(p) and ".git" not in p.parts
                  for c in chunk_text(extract_text(p))]
        random.Random(1).shuffle(inputs)
        inputs = inputs[:ns.chunks]
        model, tokenizer = embedder_files(Settings())
        built = time.perf_counter()
        fast = quantized_model(model, tokenizer, Path(tmp) / "cache")
        build_s = time.perf_counter() - built
        assert fast is not None, "the index model could not be made"
        variants = [("original", model, 256, ()), ("original", model, 128, ()),
                    ("index", fast, 256, _SLOW_FUSIONS), ("index", fast, 128, _SLOW_FUSIONS)]
        results = []
        reference = None
        for name, path, tokens, disabled in variants:
            embedder = Embedder(path, tokenizer, threads=ns.threads, max_length=tokens, spin=False,
                                disabled_optimizers=disabled)
            embedder.embed(inputs[:32], batch_size=16)
            cpu, wall = time.process_time(), time.perf_counter()
            parts, orders = [], []
            for start in range(0, len(inputs), 256):
                group = sorted(range(start, min(start + 256, len(inputs))), key=lambda i: len(inputs[i]))
                parts.append(embedder.embed([inputs[i] for i in group], batch_size=16))
                orders += group
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            vectors = np.empty((len(inputs), embedder.dim), dtype=np.float32)
            vectors[orders] = np.vstack(parts)
            if reference is None:
                reference = vectors
            cosine = np.sum(reference * vectors, axis=1)
            results.append({"model": name, "max_tokens": tokens,
                            "cpu_ms_per_chunk": round(cpu * 1000 / len(inputs), 2),
                            "wall_ms_per_chunk": round(wall * 1000 / len(inputs), 2),
                            "cosine_vs_original_256": {"mean": round(float(cosine.mean()), 4),
                                                       "min": round(float(cosine.min()), 4)}})
    print(json.dumps({"chunks": len(inputs), "threads": ns.threads, "index_model_build_s": round(build_s, 1),
                      "variants": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
