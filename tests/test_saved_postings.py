"""BM25's postings saved beside the catalog (`bot.saved_postings`): a process's first snapshot reads them instead of
building them from every sentence's stored terms, brought up to date with the changes since; a file that does not
fit is ignored, and one being written when its writer is killed is the old file or the new one."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import index.catalog as catalog_module
from bot.retrieve import Snapshot
from bot.saved_postings import load_postings, postings_path, save_postings
from bot.service import NewsService
from index.indexer import NewsIndex
from tests.conftest import REPO
from tests.test_cross_process import synced_by_another_process
from tests.test_snapshot_bm25 import QUESTIONS, assert_searches_as_fts5, hits, news_folder


def live_postings(snapshot: Snapshot) -> dict[str, list[tuple[str, int, int]]]:
    """Every term's live postings as (article id, sentence number, occurrences), whatever the row numbers."""
    found = {}
    for term in snapshot.lexical._postings.vocabulary:
        docs, tfs = snapshot.lexical.postings(term)
        rows = [snapshot._arena.rows[row] for row in docs.tolist()]
        if rows:
            found[term] = sorted((r.article_id, r.n, tf) for r, tf in zip(rows, tfs.tolist(), strict=True))
    return found


def built_anew(index: NewsIndex) -> Snapshot:
    """A first snapshot that builds its postings from the catalog (the file moved aside, then put back)."""
    path = postings_path(index.settings.data_dir)
    aside = path.with_suffix(".aside")
    path.rename(aside)
    try:
        snapshot = Snapshot(index)
    finally:
        aside.replace(path)  # the build saved one of its own: the one under test goes back
    assert not snapshot.restored
    return snapshot


def assert_same_as_built(index: NewsIndex, restored: Snapshot, service: NewsService) -> None:
    full = built_anew(index)
    assert restored.generation == full.generation
    assert live_postings(restored) == live_postings(full)
    for question in QUESTIONS:
        terms = full.lexical.query_terms(question)
        assert hits(restored, restored.lexical.search(terms, 12)) == hits(full, full.lexical.search(terms, 12))
    assert_searches_as_fts5(service, restored)
    assert {a: restored.position.spans[a][1] - restored.position.spans[a][0] for a in restored.articles} == {
        a: full.position.spans[a][1] - full.position.spans[a][0] for a in full.articles
    }


@pytest.fixture
def indexed(settings, fake_embedder, tmp_path) -> tuple[NewsService, Path]:
    """A service over 30 news articles whose first snapshot has saved the postings, and the folder it mirrors."""
    folder = news_folder(tmp_path, 0, 30)
    service = NewsService.open(settings, fake_embedder)
    service.index.sync_folder(folder)
    first = service.retriever.snapshot()
    assert not first.restored
    assert postings_path(settings.data_dir).is_file()
    return service, folder


def test_the_postings_read_from_the_file_are_those_built_from_the_catalog(indexed):
    service, _ = indexed
    restored = Snapshot(service.index)
    assert restored.restored
    assert_same_as_built(service.index, restored, service)


def test_another_processs_changes_after_the_file_was_written_are_seen(indexed, tmp_path):
    """Added, edited and removed articles (a real second process) since the file's generation: their old rows stay
    dead, their new ones are read from the catalog; a later change appends to the restored postings as usual."""
    service, folder = indexed
    saved_generation = load_postings(postings_path(service.settings.data_dir)).generation
    for path in sorted(news_folder(tmp_path, 30, 3).glob("*.txt")):
        path.replace(folder / path.name)
    files = sorted(folder.glob("*.txt"))
    files[0].unlink()
    files[5].write_text(files[5].read_text(encoding="utf-8") + "\n\nDer Zwettlbach trat am Montag über die Ufer.")
    synced_by_another_process(service.settings.data_dir, folder)

    reopened = NewsService.open(service.settings, service.index.embedder)
    restored = reopened.retriever.snapshot()
    assert restored.restored
    assert restored.generation > saved_generation
    assert_same_as_built(reopened.index, restored, reopened)
    assert hits(restored, restored.lexical.search(["zwettlbach"], 5))

    files[6].unlink()  # a change after the restore: the incremental snapshot on top of the restored one
    reopened.index.sync_folder(folder)
    after = reopened.retriever.snapshot()
    assert after._arena is restored._arena
    assert_searches_as_fts5(reopened, after)


def resaved(path: Path, **changes: object) -> None:
    save_postings(path, dataclasses.replace(load_postings(path), **changes))


def torn(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damaged(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # in the middle of the postings: the member's CRC no longer fits
    path.write_bytes(bytes(data))


def other_catalog(path: Path) -> None:
    resaved(path, catalog_id="0123456789abcdef")  # a data folder built anew has a catalog id of its own


def other_analyser(path: Path) -> None:
    resaved(path, terms_by="en|1")  # the terms of another language or stemmer


def later_generation(path: Path) -> None:
    saved = load_postings(path)
    resaved(path, generation=saved.generation + 3)  # a catalog restored from a copy: behind the file


def other_versions(path: Path) -> None:
    saved = load_postings(path)
    first = next(iter(saved.versions))  # the same generation and catalog, another article version (restored copy)
    resaved(path, versions={**saved.versions, first: "another version"})


@pytest.mark.parametrize(
    "spoil", [torn, damaged, other_catalog, other_analyser, later_generation, other_versions], ids=lambda f: f.__name__
)
def test_a_file_that_does_not_fit_is_ignored(indexed, spoil):
    service, _ = indexed
    path = postings_path(service.settings.data_dir)
    spoil(path)
    snapshot = Snapshot(service.index)
    assert not snapshot.restored
    assert_searches_as_fts5(service, snapshot)
    assert Snapshot(service.index).restored  # built from the catalog, it saved a file that fits


def test_a_file_the_change_log_no_longer_reaches_is_ignored(indexed, tmp_path, monkeypatch):
    service, folder = indexed
    monkeypatch.setattr(catalog_module, "CHANGES_KEPT", 1)
    for path in sorted(news_folder(tmp_path, 30, 3).glob("*.txt")):  # three changes: the log keeps the last
        path.replace(folder / path.name)
        service.index.sync_folder(folder)
    snapshot = Snapshot(service.index)
    assert not snapshot.restored
    assert_searches_as_fts5(service, snapshot)


KEEP_SAVING = """
import dataclasses, sys
from pathlib import Path
from bot.saved_postings import load_postings, save_postings
path = Path(sys.argv[1])
saved = load_postings(path)
print("saving", flush=True)
n = 0
while True:
    n += 1
    save_postings(path, dataclasses.replace(saved, generation=saved.generation + n % 2))
"""


def test_a_writer_killed_while_saving_leaves_a_whole_file(indexed):
    """SIGKILL at varied moments of a loop of saves: the file is the old one or the new one, whole."""
    service, _ = indexed
    path = postings_path(service.settings.data_dir)
    expected = load_postings(path)
    for delay in (0.0, 0.05, 0.13, 0.31):
        writer = subprocess.Popen(
            [sys.executable, "-c", KEEP_SAVING, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == "saving\n"
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        found = load_postings(path)
        assert found is not None
        assert found.generation in (expected.generation, expected.generation + 1)
        assert found.spans == expected.spans
        assert found.versions == expected.versions
        assert np.array_equal(found.postings.segments[0].docs, expected.postings.segments[0].docs)
        assert Snapshot(service.index).restored == (found.generation == expected.generation)
