"""Hybrid file search: semantic (exact cosine) and keyword (FTS5, BM25) lists merged by reciprocal rank fusion.

Four ranked lists vote: chunks by vector similarity, chunks by BM25, files by the similarity of their name in
words ("bike commute log" for bike-commute-log.txt), and "exact" files (the query is the file's name, or the
query appears verbatim in few enough files to be distinctive). Each list gives an item
at rank r the score weight / (K + r); a keyword hit's weight shrinks with the share of the query's words it
lacks (coverage squared), so one common word in common with the query does not outvote a clear semantic
match. In the two similarity lists (chunks and names) the weight also grows with how far the item's
similarity stands above the rest of its list (its z-score over 3): a lone clear match outvotes first place
in a crowd of near-equal ones, which rank alone cannot tell apart (many files saying much the same thing,
none of them singled out by the query). Similarities are cosines centred on the store's mean vector
(`agent.files.store.CENTRE_MIN_VECTORS`). A file's score is its best chunk's score plus its exact-match and
name scores, so a query equal to a file name or a rare exact phrase puts that file first. Then the best two
files, when near enough each other, are cross-checked sentence by sentence: each gains SENTENCE_WEIGHT times the
cosine of its best sentence (of its best chunk) with the query, so the file that says what was asked beats a
related file that is merely all on the same topic (a second vet visit, a treatment plan beside an invoice).
Results are data: snippets are returned as text, never interpreted.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.files.manifest import fts_terms

if TYPE_CHECKING:
    from agent.files.indexer import FileIndex

__all__ = ["Hit", "SearchResponse", "make_snippet", "search"]

K = 10  # RRF constant: lower than the usual 60 so a clear first place in one list still counts
SEMANTIC_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
EXACT_WEIGHT = 3.0  # an exact file at rank 1 alone outscores first place in both other lists
COVERAGE_POWER = 2.0  # a keyword hit with half the query's words counts a quarter
MIN_SIMILARITY = 0.1  # cosine: below this a chunk is unrelated, not a weak match
NAME_WEIGHT = 1.0  # the files whose names (in words) are nearest the query: a fourth ranked list
NAME_MIN_SIMILARITY = 0.3
MAX_SHARED_NAME = 2  # a name (in words) shared by more of the name list's files than this does not vote
STANDOUT_REF = 3.0  # a similarity 3 standard deviations above its list's mean votes with the list's weight
MIN_SPREAD = 0.01  # a list of near-equal similarities still has this spread (no vote is blown up by a tiny sd)
MAX_EXACT_FILES = 10  # a "phrase" found in more files than this is not distinctive
# Cross-check of the best files: each one's best sentence (of its best chunk) against the query. A chunk's
# vector averages its sentences, so a file whose one matching sentence sits among unrelated ones loses to a
# related file that is all near the topic; the sentence level tells them apart.
CROSS_CHECK_FILES = 2  # how many of the best files are cross-checked (0: off)
SENTENCE_WEIGHT = 0.5  # a file's score grows by this times its best sentence's cosine with the query
MAX_SENTENCES = 16  # per file: the first sentences of its best chunk
MIN_SENTENCE_CHARS = 12
MAX_SWING = 0.5  # best-sentence cosines of two files differ by less than this (so a larger gap is kept as it is)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
SNIPPET_CHARS = 240
_LEAD = 40  # characters kept before the first query term


@dataclass(frozen=True)
class Hit:
    path: str
    snippet: str
    score: float
    chunk: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "snippet": self.snippet, "score": round(self.score, 5), "chunk": self.chunk}


@dataclass
class SearchResponse:
    query: str
    results: list[Hit] = field(default_factory=list)
    ms: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "results": [h.to_json() for h in self.results], "ms": round(self.ms, 2)}


def make_snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """The chunk trimmed to `width` characters, starting just before the query (or its first word found)."""
    flat = re.sub(r"\s+", " ", text).strip()
    pos = flat.lower().find(query.strip().lower()) if query.strip() else -1
    if pos < 0:
        found = [m.start() for t in fts_terms(query)
                 if (m := re.search(rf"\b{re.escape(t[:max(4, len(t) - 2)])}", flat, re.IGNORECASE))]
        pos = min(found) if found else 0
    start = 0
    if pos > _LEAD:
        start = flat.rfind(" ", 0, pos - _LEAD) + 1
    end = start + width
    if end < len(flat):
        space = flat.rfind(" ", start + width // 2, end)
        end = space if space > 0 else end
    snippet = flat[start:end].strip()
    return ("…" if start > 0 else "") + snippet + ("…" if end < len(flat) else "")


def _exact_files(index: FileIndex, query: str) -> list[str]:
    """Files named like the query first, then files holding the query verbatim (if only a few do)."""
    named = index.manifest.files_named(query)
    phrase = index.manifest.phrase_files(query, MAX_EXACT_FILES)
    if len(phrase) > MAX_EXACT_FILES:
        phrase = []
    return list(dict.fromkeys([*named, *phrase]))


def _distinct_names(hits: list[tuple[str, float]]) -> list[str]:
    """Files whose names are near the query, without the names many files share ("work-0012", "work-0013"...
    are all "work" in words: such a name says nothing about which of them is meant)."""
    shared: dict[float, int] = {}
    for _, distance in hits:
        shared[round(distance, 5)] = shared.get(round(distance, 5), 0) + 1
    return [path for path, distance in hits
            if 1.0 - distance >= NAME_MIN_SIMILARITY and shared[round(distance, 5)] <= MAX_SHARED_NAME]


def _standout(sims: list[float]) -> list[float]:
    """How far each similarity stands above its list: (sim - mean) / sd over the list, over STANDOUT_REF, at
    least 0. A list whose top is a crowd of near-equal matches gives each a small vote; a lone clear match a
    large one (rank alone cannot tell the two apart)."""
    if not sims:
        return []
    arr = np.asarray(sims, dtype=np.float64)
    spread = max(float(arr.std()), MIN_SPREAD)
    return [float(x) for x in np.clip((arr - arr.mean()) / spread, 0.0, None) / STANDOUT_REF]


def sentences(text: str, limit: int | None = None) -> list[str]:
    """`text`'s distinct sentences (and lines) of at least MIN_SENTENCE_CHARS characters, the first `limit`
    (MAX_SENTENCES)."""
    parts = (p.strip(" #*-\t") for p in _SENTENCE_END.split(text))
    return list(dict.fromkeys(p for p in parts if len(p) >= MIN_SENTENCE_CHARS))[:limit or MAX_SENTENCES]


def _cross_check(embedder: Any, vector: Any, candidates: list[tuple[str, str]]) -> list[float]:
    """For each (path, text): the best cosine of one of its sentences with the query vector (0 without one)."""
    owners: list[int] = []
    texts: list[str] = []
    for i, (_, text) in enumerate(candidates):
        found = sentences(text)
        texts += found
        owners += [i] * len(found)
    best = [0.0] * len(candidates)
    if not texts:
        return best
    sims = embedder.embed(texts) @ np.asarray(vector, dtype=np.float32)
    for owner, sim in zip(owners, sims, strict=True):
        best[owner] = max(best[owner], float(sim))
    return best


def search(index: FileIndex, query: str, limit: int = 5) -> SearchResponse:
    """The best `limit` files for `query`, one hit per file (its best chunk as the snippet)."""
    response = SearchResponse(query)
    query = query.strip()
    if not query:
        return response
    embedder, store = index.embedder(), index.store  # load on first use: not counted in the search time
    started = t0 = time.perf_counter()
    depth = max(50, limit * 10)
    vector = embedder.embed([query])[0]
    generation = index.manifest.generation()
    semantic = [h for h in store.query(vector, depth, generation) if 1.0 - h.distance >= MIN_SIMILARITY]
    names = store.query_names(vector, depth, generation)
    named = _distinct_names(names)
    sem_factor = _standout([1.0 - h.distance for h in semantic])
    name_factor = dict(zip([p for p, _ in names], _standout([1.0 - d for _, d in names]), strict=True))
    t1 = time.perf_counter()
    keyword = index.manifest.keyword(query, depth)
    exact = _exact_files(index, query)
    t2 = time.perf_counter()
    response.timings_ms = {"semantic": (t1 - t0) * 1000, "keyword": (t2 - t1) * 1000}

    chunk_score: dict[tuple[str, int], float] = {}
    texts: dict[tuple[str, int], str] = {}
    ranked_lists: list[list[tuple[str, int, str, float]]] = [
        [(h.path, h.chunk, "", SEMANTIC_WEIGHT * f) for h, f in zip(semantic, sem_factor, strict=True)],
        [(h.path, h.chunk, h.text, KEYWORD_WEIGHT * h.coverage ** COVERAGE_POWER) for h in keyword]]
    for hits in ranked_lists:
        for rank, (path, chunk, text, weight) in enumerate(hits, 1):
            chunk_score[(path, chunk)] = chunk_score.get((path, chunk), 0.0) + weight / (K + rank)
            if text:
                texts.setdefault((path, chunk), text)
    best: dict[str, tuple[float, int]] = {}
    for (path, chunk), score in chunk_score.items():
        if path not in best or score > best[path][0]:
            best[path] = (score, chunk)
    phrase_chunk = {h.path: h.chunk for h in reversed(index.manifest.phrase(query, depth))} if exact else {}
    file_score = {path: s for path, (s, _) in best.items()}
    for rank, path in enumerate(exact, 1):
        file_score[path] = file_score.get(path, 0.0) + EXACT_WEIGHT / (K + rank)
    for rank, path in enumerate(named, 1):
        file_score[path] = file_score.get(path, 0.0) + NAME_WEIGHT * name_factor[path] / (K + rank)

    indexed = index.manifest.has(file_score)
    ranked = sorted((p for p in file_score if p in indexed), key=lambda p: -file_score[p])
    chosen: list[tuple[str, int, str]] = []
    for path in ranked:
        if len(chosen) >= max(limit, CROSS_CHECK_FILES):
            break
        if not index.allowed(path):  # deleted or excluded since it was indexed (and no watcher saw it)
            continue
        chunk = phrase_chunk.get(path, best[path][1] if path in best else 0)
        chosen.append((path, chunk, texts.get((path, chunk)) or index.manifest.chunk_text(path, chunk)))
    t3 = time.perf_counter()
    # only files near enough the first that their sentences could reorder them: a clear first place (a file
    # name, a rare phrase) costs nothing more
    gap = SENTENCE_WEIGHT * MAX_SWING
    top = [c for c in chosen[:CROSS_CHECK_FILES] if file_score[chosen[0][0]] - file_score[c[0]] < gap]
    if len(top) > 1:
        sims = _cross_check(embedder, vector, [(p, t) for p, _, t in top])
        for (path, _, _), sim in zip(top, sims, strict=True):
            file_score[path] += SENTENCE_WEIGHT * sim
        chosen[:len(top)] = sorted(top, key=lambda c: -file_score[c[0]])
    response.timings_ms["cross_check"] = (time.perf_counter() - t3) * 1000
    for path, chunk, text in chosen[:limit]:
        response.results.append(Hit(path, make_snippet(text, query), file_score[path], chunk))
    response.ms = (time.perf_counter() - started) * 1000
    return response
