"""Runs one index operation in its own process, optionally SIGKILLing itself at a chosen point.

Used by test_crash_safety.py: `python -m tests.crash_driver DATA_DIR FOLDER MODE [POINT]`.
MODE is `sync` (mirror FOLDER), `check` (print the index's state as JSON), `slow-sync` (a sync
whose embedder sleeps, to be killed from outside at a random moment) or `sync-vectors-off` (a sync with
NEWSBOT_VECTORS_IN_CATALOG off: the catalog keeps only the recent vectors, and says so).
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from index import indexer
from index.catalog import Catalog, distinct_terms
from index.indexer import NewsIndex
from index.settings import Settings
from index.store import VectorStore, chunk_id, sentence_id
from tests.fakes import HashedBagOfWords


class SlowEmbedder(HashedBagOfWords):
    def encode_passages(self, texts):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return super().encode_passages(texts)


def die_after(owner: object, name: str, nth: int = 1) -> None:
    """Replace `owner.name` so that its nth call completes and then the process is killed."""
    original = getattr(owner, name)
    count = {"n": 0}

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        count["n"] += 1
        if count["n"] >= nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    static = isinstance(inspect.getattr_static(owner, name), staticmethod)
    setattr(owner, name, staticmethod(wrapper) if static else wrapper)


POINTS = {
    "journal": (Catalog, "begin_changes", 1),
    "sentences": (VectorStore, "add", 1),
    "chunks": (VectorStore, "add", 2),
    "flip": (Catalog, "commit_versions", 1),
    "in-flip": (Catalog, "_delete_rows", 2),  # inside the flip's transaction: sentences and terms half written
    "cleanup": (VectorStore, "delete", 1),
    # the run that copies every vector from Chroma into the catalog, one article a transaction: after the second
    "vector-fill": (Catalog, "put_vectors", 2),
}


def terms_match(index: NewsIndex) -> bool:
    """Whether the catalog's BM25 terms are exactly those of its current sentences, no more, no fewer."""
    db = sqlite3.connect(index.settings.catalog_path)
    try:
        stored = dict(db.execute("SELECT rowid, terms FROM sentence_terms").fetchall())
    finally:
        db.close()
    _, articles, rows = index.catalog.read_one_generation(with_rowids=True)
    expected: dict[int, str] = {}
    for article in articles:
        own = [(rowid, sentence) for rowid, sentence in rows if sentence.article_id == article.article_id]
        analysed = index.catalog.analyse(article.title, [sentence for _, sentence in own])  # type: ignore[misc]
        expected.update(zip([rowid for rowid, _ in own], analysed, strict=True))
    db = sqlite3.connect(index.settings.catalog_path)
    try:
        gathered = {a: (version, terms) for a, version, terms in db.execute("SELECT * FROM article_terms")}
    finally:
        db.close()
    per_article = {  # each article's distinct terms, of its current version, as its sentences' terms give them
        a.article_id: (a.version, distinct_terms(expected[r] for r, s in rows if s.article_id == a.article_id))
        for a in articles
        if a.sentence_count
    }
    return bool(expected) == bool(articles) and stored == expected and gathered == per_article


def recent_vectors_match(index: NewsIndex) -> bool:
    """Whether the catalog's `recent_vectors` are the vectors Chroma holds for every article's current version,
    no more, no fewer (none are let go at the tests' sizes)."""
    db = sqlite3.connect(index.settings.catalog_path)
    try:
        rows = db.execute("SELECT article_id, kind, n, version, vector FROM recent_vectors").fetchall()
    finally:
        db.close()
    naming = {"s": sentence_id, "c": chunk_id}
    kept = {naming[kind](a, version, n): np.frombuffer(blob, dtype="<f4") for a, kind, n, version, blob in rows}
    expected = {
        name(a.article_id, a.version, n)
        for a in index.catalog.articles()
        for name, count in ((sentence_id, a.sentence_count), (chunk_id, a.chunk_count))
        for n in range(count)
    }
    if set(kept) != expected:
        return False
    stored = {
        **index.store.vectors(index.store.sentences, [i for i in kept if ":s" in i]),
        **index.store.vectors(index.store.chunks, [i for i in kept if ":s" not in i]),
    }
    # as Chroma returns them, bit for bit (it normalises what it stores and scales it back: not the embedder's bits)
    return set(stored) == expected and all(kept[i].tobytes() == stored[i].astype("<f4").tobytes() for i in expected)


def kept_vectors(index: NewsIndex) -> tuple[bool, bool]:
    """Whether every row of the catalog's `vectors` is of a current article version and bit for bit the vector
    Chroma returns for it, and whether it holds every current version's vectors."""
    db = sqlite3.connect(index.settings.catalog_path)
    try:
        rows = db.execute("SELECT article_id, kind, n, version, vector FROM vectors").fetchall()
    finally:
        db.close()
    naming = {"s": sentence_id, "c": chunk_id}
    kept = {naming[kind](a, version, n): blob for a, kind, n, version, blob in rows}
    expected = {
        name(a.article_id, a.version, n)
        for a in index.catalog.articles()
        for name, count in ((sentence_id, a.sentence_count), (chunk_id, a.chunk_count))
        for n in range(count)
    }
    stored = {
        **index.store.vectors(index.store.sentences, [i for i in kept if ":s" in i]),
        **index.store.vectors(index.store.chunks, [i for i in kept if ":s" not in i]),
    }
    valid = set(kept) <= expected and all(stored[i].astype("<f4").tobytes() == kept[i] for i in kept)
    # each article's joined sentence vectors: of its current version, all of them in order of n, Chroma's bits
    db = sqlite3.connect(index.settings.catalog_path)
    try:
        joined = db.execute("SELECT article_id, version, vectors FROM article_sentence_vectors").fetchall()
    finally:
        db.close()
    current = {a.article_id: a for a in index.catalog.articles()}
    for article_id, version, vectors in joined:
        article = current.get(article_id)
        if article is None or article.version != version:
            return False, False
        ids = [sentence_id(article_id, version, n) for n in range(article.sentence_count)]
        chroma = index.store.vectors(index.store.sentences, ids)
        valid = valid and vectors == b"".join(chroma[i].astype("<f4").tobytes() for i in ids)
    with_sentences = {a for a, record in current.items() if record.sentence_count}
    return valid, set(kept) == expected and {a for a, _, _ in joined} == with_sentences


def change_log(index: NewsIndex) -> dict[str, object]:
    """The catalog's generation, from which generation on its log of changed articles is complete, and the log."""
    db = sqlite3.connect(index.settings.catalog_path)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'changes_from')"))
        logged: dict[str, list[str]] = {}
        for generation, article_id in db.execute("SELECT after_generation, article_id FROM article_changes"):
            logged.setdefault(str(generation), []).append(article_id)
    finally:
        db.close()
    return {"generation": int(meta.get("generation", 0)), "changes_from": int(meta["changes_from"]), "changes": logged}


def state(index: NewsIndex) -> dict[str, object]:
    chunks = index.store.chunks.get(include=["metadatas"])
    sentences = index.store.sentences.get(include=["metadatas"])
    return {
        **change_log(index),
        "terms_match": terms_match(index),
        "recent_vectors_match": recent_vectors_match(index),
        "all_vectors_kept": index.catalog.holds_all_vectors(),
        "kept_vectors": kept_vectors(index),
        "articles": {a.article_id: [a.version, a.chunk_count, a.sentence_count] for a in index.catalog.articles()},
        "chunk_ids": sorted(chunks["ids"]),
        "sentence_ids": sorted(sentences["ids"]),
        "journal": len(index.catalog.journal()),
    }


def main() -> None:
    data_dir, folder, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        chunk_size=200,
        chunk_overlap=0,
        vectors_in_catalog=mode != "sync-vectors-off",
    )
    if len(sys.argv) > 4:
        owner, name, nth = POINTS[sys.argv[4]]
        die_after(owner, name, nth)
        indexer.VECTOR_FILL_ARTICLES = 1
    embedder = SlowEmbedder() if mode == "slow-sync" else HashedBagOfWords()
    index = NewsIndex(settings, embedder)
    if mode == "check":
        print(json.dumps(state(index)))
        return
    report = index.sync_folder(folder)
    print(json.dumps(report.counts()))


if __name__ == "__main__":
    main()
