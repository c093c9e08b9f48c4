"""Tier 2: semantic match of the utterance against every skill's example utterances (MiniLM embeddings).

Score per skill = mean of its two nearest examples' cosine similarity (k-NN), which is steadier than
the single nearest neighbour. A decision needs both a minimum score and a margin over the runner-up;
otherwise the tier is unsure and hands its short list to the LLM tier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from agent.models.embedder import Embedder

__all__ = ["SemanticIndex", "SemanticMatch"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class SemanticMatch:
    ranked: list[tuple[str, float]]  # (skill, score), best first

    @property
    def best(self) -> tuple[str, float]:
        return self.ranked[0]

    @property
    def margin(self) -> float:
        return self.ranked[0][1] - self.ranked[1][1] if len(self.ranked) > 1 else 1.0


class SemanticIndex:
    def __init__(self, embedder: Embedder, examples: dict[str, list[str]], k: int = 2) -> None:
        self.embedder = embedder
        self.k = k
        self._labels: list[str] = []
        texts: list[str] = []
        for skill, lines in sorted(examples.items()):
            for line in lines:
                self._labels.append(skill)
                texts.append(line.lower())
        self._skills = sorted(set(self._labels))
        self._matrix = embedder.embed(texts)
        self._label_idx = np.array([self._skills.index(s) for s in self._labels])
        _LOGGER.info("semantic index: %d examples over %d skills", len(texts), len(self._skills))

    def match(self, text: str) -> SemanticMatch:
        vec = self.embedder.embed([text])[0]
        sims = self._matrix @ vec
        ranked = []
        for i, skill in enumerate(self._skills):
            s = np.sort(sims[self._label_idx == i])[::-1][: self.k]
            ranked.append((skill, float(s.mean())))
        ranked.sort(key=lambda r: r[1], reverse=True)
        return SemanticMatch(ranked)
