"""The file index's writes alone, as the store grows: Chroma chunk and name upserts and the manifest commit.

    .venv/bin/python bench/files_write_bench.py [--files 10000] [--every 2000] [--old]

Random unit vectors stand in for the embedder (which is measured by `files_embed_bench.py`), so the cost of
storing a file can be followed from the first thousand files to the last. Batches are shaped like an index
run's (160 files, one in ten with six chunks). `--old` writes as the index did before issue 17's third pass:
a denser HNSW graph (48 neighbours, ef_construction 400), each chunk's text as a Chroma document, and five
metadata keys. Prints one JSON document: milliseconds (wall and CPU of the whole process) per file, per
segment of `--every` files.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_OLD_HNSW = {"space": "cosine", "ef_construction": 400, "max_neighbors": 48, "ef_search": 400}
_WORDS = ("the tomato sauce needs more salt and a longer simmer heating was repaired on monday quarterly budget "
          "shows spending above forecast").split()
_BATCH_FILES = 160


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--every", type=int, default=2000)
    ap.add_argument("--old", action="store_true", help="write as before the third pass (see the module doc)")
    ns = ap.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings

    from agent.files.indexer import chunk_id
    from agent.files.manifest import FileEntry, Manifest
    from agent.files.store import COLLECTION, HNSW, NAMES

    work = Path(tempfile.mkdtemp(prefix="files-write-bench-"))
    try:
        client = chromadb.PersistentClient(path=str(work / "chroma"), settings=Settings(anonymized_telemetry=False))
        hnsw = _OLD_HNSW if ns.old else HNSW
        chunks = client.get_or_create_collection(COLLECTION, embedding_function=None, configuration={"hnsw": hnsw})
        names = client.get_or_create_collection(NAMES, embedding_function=None, configuration={"hnsw": hnsw})
        manifest = Manifest(work / "manifest.sqlite")
        rng, vec_rng = random.Random(5), np.random.default_rng(5)
        spent: dict[str, list[float]] = {}

        @contextmanager
        def timed(part: str) -> Iterator[None]:
            wall, cpu = time.perf_counter(), time.process_time()
            yield
            got = spent.setdefault(part, [0.0, 0.0])
            got[0] += time.perf_counter() - wall
            got[1] += time.process_time() - cpu

        segments = []
        done = 0
        while done < ns.files:
            paths = [f"/corpus/topic/file-{done + i:06d}.txt" for i in range(_BATCH_FILES)]
            ids: list[str] = []
            texts: list[str] = []
            metas: list[dict[str, Any]] = []
            rows: list[tuple[str, str, int, str, str]] = []
            entries = []
            for path in paths:
                count = 6 if rng.random() < 0.1 else 1
                for i in range(count):
                    cid, text = chunk_id(path, i), " ".join(rng.choice(_WORDS) for _ in range(130))
                    ids.append(cid)
                    texts.append(text)
                    metas.append({"path": path, "chunk": i, "mtime": 1.0, "sha256": "0" * 64,
                                  "name": Path(path).name} if ns.old else {"path": path, "chunk": i})
                    rows.append((cid, path, i, Path(path).name, text))
                entries.append(FileEntry(path, "0" * 64, 1, 1, count))
            vectors = vec_rng.standard_normal((len(ids) + len(paths), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            documents = {"documents": texts} if ns.old else {}
            with timed("chunks"):
                chunks.upsert(ids=ids, embeddings=vectors[:len(ids)], metadatas=metas, **documents)
            with timed("names"):
                names.upsert(ids=[chunk_id(p, -1) for p in paths], embeddings=vectors[len(ids):],
                             metadatas=[{"path": p} for p in paths])
            with timed("manifest"):
                manifest.commit_files(entries, rows, paths)
            done += len(paths)
            if done % ns.every < _BATCH_FILES or done >= ns.files:
                files = done - sum(s["files"] for s in segments)
                segments.append({"up_to_files": done, "files": files} | {
                    part: {"wall_ms": round(w * 1000 / files, 2), "cpu_ms": round(c * 1000 / files, 2)}
                    for part, (w, c) in spent.items()})
                spent.clear()
        print(json.dumps({"old": ns.old, "hnsw": hnsw, "per_file_by_segment": segments,
                          "load_avg": os.getloadavg()[0]}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
