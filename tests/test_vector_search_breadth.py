"""Chroma's HNSW walks a graph with `ef_search` candidates; too few for the sentences a question asks for
lose true neighbours (0.89 of the 40 nearest at Chroma's default on the haystack). The store sizes it by
the number of candidates, for new collections and for those an older newsbot made."""

from __future__ import annotations

import subprocess
import sys

import chromadb
import numpy as np

from index.store import VectorStore, search_breadth, sentence_id

MAKE_AN_OLDER_INDEX = """
import sys
import chromadb

path, collection = sys.argv[1:]
client = chromadb.PersistentClient(path=path)
for kind in ("chunks", "sentences"):  # as newsbot made them before: the space in the metadata
    made = client.create_collection(
        f"{collection}-{kind}", metadata={"embedder": "fake", "dim": 3, "hnsw:space": "cosine"}, embedding_function=None
    )
print(made.configuration["hnsw"]["ef_search"])
"""


def hnsw_of(store: VectorStore) -> dict:
    return store.sentences.configuration["hnsw"]


def test_a_new_index_searches_ten_candidates_per_result_by_cosine(settings):
    store = VectorStore(settings, "fake", 3)

    assert hnsw_of(store)["ef_search"] == 10 * settings.candidates == search_breadth(settings)
    assert hnsw_of(store)["space"] == "cosine"
    # cosine, not Chroma's default l2: an orthogonal vector scores 0 (l2 would give 1 - 2 = -1)
    ids = [sentence_id("a", "v1", 0), sentence_id("a", "v1", 1)]
    store.add(store.sentences, ids, np.eye(3, dtype=np.float32)[:2], ["x", "y"], [{"n": 0}, {"n": 1}])
    scores = sorted(hit.score for hit in store.query(store.sentences, np.array([1.0, 0.0, 0.0]), 2))
    assert scores == [0.0, 1.0]


def made_by_an_older_newsbot(settings) -> str:
    """The collections as an older newsbot made them, in a process that has ended (a client of this process on the
    same folder would still hold Chroma's SQLite now and then); their search breadth as Chroma reports it."""
    settings.chroma_path.mkdir(parents=True)
    made = subprocess.run(
        [sys.executable, "-c", MAKE_AN_OLDER_INDEX, str(settings.chroma_path), settings.collection],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_an_older_index_gets_the_wider_search_and_keeps_cosine(settings):
    assert made_by_an_older_newsbot(settings) == "100"  # Chroma's default breadth, as the older index has it

    store = VectorStore(settings, "fake", 3)

    assert hnsw_of(store)["ef_search"] == search_breadth(settings)
    assert hnsw_of(store)["space"] == "cosine"
    reopened = chromadb.PersistentClient(path=str(settings.chroma_path))
    assert reopened.get_collection(f"{settings.collection}-sentences").configuration["hnsw"]["ef_search"] == 400


def test_more_candidates_widen_the_search(settings):
    settings.candidates = 80
    assert hnsw_of(VectorStore(settings, "fake", 3))["ef_search"] == 800


HOLD_THE_WRITE_LOCK = """
import sqlite3, sys, time

connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")  # a writer of another process, as Chroma's own start-up is for a moment
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


def test_an_older_index_whose_database_is_busy_for_a_moment_still_gets_the_wider_search(settings):
    made_by_an_older_newsbot(settings)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(settings.chroma_path / "chroma.sqlite3"), "1.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        store = VectorStore(settings, "fake", 3)
    finally:
        holder.wait(timeout=60)

    assert hnsw_of(store)["ef_search"] == search_breadth(settings)
