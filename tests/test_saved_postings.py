"""BM25's postings saved beside the catalog (`bot.saved_postings`): a process's first snapshot reads them instead of
building them from every sentence's stored terms, brought up to date with the changes since; a file that does not
fit is ignored, and one being written when its writer is killed is the old file or the new one."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import index.catalog as catalog_module
from bot.lexical import PostingSegment, TermPostings, Vocabulary
from bot.retrieve import Snapshot
from bot.saved_postings import SavedPostings, load_postings, postings_path, save_postings
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
        arena, rows = snapshot._arena, docs.tolist()
        if rows:
            found[term] = sorted(
                (arena.article_id(r), arena.n[r], tf) for r, tf in zip(rows, tfs.tolist(), strict=True)
            )
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


def test_a_file_of_format_1_restores_what_a_build_gives(indexed):
    """A file an older newsbot saved (format 1: rows in four bytes, no bases) is read, not built anew, and saved
    again in the current format, which the next start reads."""
    service, _ = indexed
    path = postings_path(service.settings.data_dir)
    former_file(path, load_postings(path), bases=False)
    with np.load(path) as written:
        assert "segment_bases" not in written.files
        assert written["docs"].dtype == np.int32
    assert load_postings(path).format == 1
    restored = Snapshot(service.index)
    assert restored.restored
    assert all(s.docs.dtype == np.uint16 for s in restored.lexical._segments)
    current = load_postings(path)
    assert current.format == 2
    assert current.generation == restored.generation
    with np.load(path) as written:
        assert written["docs"].dtype == np.uint16
    again = Snapshot(service.index)
    assert again.restored
    assert live_postings(again) == live_postings(restored)
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


def numbered_anew(catalog_path: Path) -> None:
    """What `sqlite3 catalog.sqlite3 .dump` loaded into a new file does to the sentences: numbered from 1 in their
    order, the gaps of removed articles closed; the terms (FTS5 keeps its own ids) and everything else unchanged."""
    import sqlite3

    db = sqlite3.connect(catalog_path, isolation_level=None)
    try:
        db.execute("BEGIN")
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'sentences'")
        triggers = triggers.fetchall()
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(
            "CREATE TEMP TABLE kept AS SELECT article_id, n, chunk, paragraph, text FROM sentences ORDER BY rowid"
        )
        db.execute("DELETE FROM sentences")
        db.execute("INSERT INTO sentences SELECT * FROM kept ORDER BY rowid")
        for _, sql in triggers:
            db.execute(sql)
        db.execute("COMMIT")
    finally:
        db.close()


def with_a_gap(service: NewsService, folder: Path) -> None:
    sorted(folder.glob("*.txt"))[0].unlink()  # indexed first: its sentences had the lowest numbers
    service.index.sync_folder(folder)


def test_sentences_numbered_anew_keep_their_terms(indexed, tmp_path):
    """Round 8: after a `.dump` of the catalog loaded into a new file, the stored terms stayed on the sentences' old
    numbers: BM25 scored each sentence on another one's terms, and the next `index add` stopped with an
    IntegrityError (a new sentence's number was taken in the terms). Opening the catalog analyses them again."""
    service, folder = indexed
    with_a_gap(service, folder)
    catalog = service.index.catalog
    before = {}
    for question in QUESTIONS:
        terms = service.retriever.snapshot().lexical.query_terms(question)
        before[question] = [(h.article_id, h.n, h.score) for h in catalog.search_terms(terms, 12)]
    numbered_anew(service.settings.catalog_path)

    reopened = NewsService.open(service.settings, service.index.embedder)
    for question in QUESTIONS:
        terms = reopened.retriever.snapshot().lexical.query_terms(question)
        assert [(h.article_id, h.n, h.score) for h in reopened.index.catalog.search_terms(terms, 12)] == before[
            question
        ]
    for path in sorted(news_folder(tmp_path, 30, 1).glob("*.txt")):
        path.replace(folder / path.name)
    assert len(reopened.index.sync_folder(folder).added) == 1
    assert_searches_as_fts5(reopened, reopened.retriever.snapshot())


def test_saved_postings_of_sentences_numbered_anew_are_not_used(indexed):
    """The saved postings keep each row's sentence number (FTS5's order among equal scores, the newest sentences of
    a common term); after the sentences were numbered anew, catalog, generation and versions still fit."""
    import sqlite3

    service, folder = indexed
    with_a_gap(service, folder)
    path = postings_path(service.settings.data_dir)
    path.unlink()
    assert not Snapshot(service.index).restored  # saves the postings of the generation with the gap
    assert load_postings(path).generation == service.index.catalog.generation
    numbered_anew(service.settings.catalog_path)

    reopened = NewsService.open(service.settings, service.index.embedder)
    snapshot = reopened.retriever.snapshot()
    assert not snapshot.restored
    with sqlite3.connect(service.settings.catalog_path) as db:
        numbers = {(a, n): rowid for rowid, a, n in db.execute("SELECT rowid, article_id, n FROM sentences")}
    arena = snapshot._arena
    live = [row for row in range(len(arena)) if snapshot._live[row]]
    assert [int(arena.postings.rowids.data[row]) for row in live] == [
        numbers[arena.article_id(row), arena.n[row]] for row in live
    ]
    assert_searches_as_fts5(reopened, snapshot)


def test_a_vacuumed_catalog_keeps_its_saved_postings(indexed):
    """`sqlite3 catalog.sqlite3 VACUUM` keeps the sentences' rowids (SQLite may renumber only a table without an
    index, and theirs has the primary key's): the saved postings still fit, and search as the catalog does."""
    import sqlite3

    service, folder = indexed
    with_a_gap(service, folder)
    path = postings_path(service.settings.data_dir)
    path.unlink()
    assert not Snapshot(service.index).restored  # saves the postings of the generation with the gap
    db = sqlite3.connect(service.settings.catalog_path, isolation_level=None)
    db.execute("VACUUM")
    db.close()

    reopened = NewsService.open(service.settings, service.index.embedder)
    snapshot = reopened.retriever.snapshot()
    assert snapshot.restored
    assert_same_as_built(reopened.index, snapshot, reopened)


def many_postings(segments: int, per_segment: int) -> SavedPostings:
    """Postings of `segments` segments of `per_segment` postings each (counts of one byte in all but the last)."""
    vocabulary = Vocabulary({"tor": 0, "stadion": 1})
    postings = TermPostings(vocabulary)
    parts = []
    for number in range(segments):
        rows = np.arange(number * per_segment, (number + 1) * per_segment, dtype=np.int32)
        counts = np.full(per_segment, 300 if number == segments - 1 else 2, dtype=np.uint16)
        parts.append(PostingSegment.of(np.zeros(per_segment, dtype=np.int64), rows, counts, per_segment))
    postings.segments = tuple(parts)
    postings.lengths.extend(np.full(segments * per_segment, 3, dtype=np.int32))
    postings.rowids.extend(np.arange(segments * per_segment, dtype=np.int64))
    return SavedPostings("c", 1, "de|1", postings, {"a": (0, segments * per_segment)}, {"a": "v"})


def term_postings(postings: TermPostings) -> dict[int, tuple[list[int], list[int]]]:
    """Every term id's rows and counts over all segments, in row order."""
    found: dict[int, tuple[list[int], list[int]]] = {}
    for term_id in range(len(postings.vocabulary)):
        parts = [p for p in (s.postings(term_id) for s in postings.segments) if p is not None]
        if not parts:
            continue
        found[term_id] = (
            np.concatenate([d for d, _ in parts]).tolist(),
            np.concatenate([t for _, t in parts]).tolist(),
        )
    return found


def former_file(path: Path, saved: SavedPostings, bases: bool = True) -> None:
    """What `np.savez` of the members concatenated writes: the former writer's file, of format 2 (`bases`) or of
    format 1 (each segment's rows whole in four bytes, no bases)."""
    postings, rows = saved.postings, saved.postings.lengths.size
    articles = [[a, saved.versions[a], start, end] for a, (start, end) in saved.spans.items()]
    meta = {"format": 2 if bases else 1, "catalog_id": saved.catalog_id, "generation": saved.generation}
    meta |= {"terms_by": saved.terms_by, "rows": rows, "articles": articles}
    segments = postings.segments
    members = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        "vocabulary": np.frombuffer("\n".join(postings.vocabulary).encode(), dtype=np.uint8),
        "segment_keys": np.array([len(s.keys) for s in segments], dtype=np.int64),
        "segment_rows": np.array([s.rows for s in segments], dtype=np.int64),
    }
    if bases:
        members["segment_bases"] = np.array([s.base for s in segments], dtype=np.int64)
    members |= {
        "keys": np.concatenate([s.keys for s in segments]),
        "indptr": np.concatenate([s.indptr for s in segments]),
        "docs": np.concatenate([s.docs for s in segments] if bases else [s.expanded()[1] for s in segments]),
        "tfs": np.concatenate([s.tfs for s in segments]),
        "lengths": postings.lengths.data[:rows],
        "rowids": postings.rowids.data[:rows],
    }
    np.savez(path, **members)


def test_a_file_of_the_former_writer_loads_the_same(tmp_path):
    """The writer streams each member's segments under one header; `np.savez` of the members concatenated (the
    former writer) made the same members, and such a file loads to the same postings."""
    saved = many_postings(3, 1000)
    path = tmp_path / "postings.npz"
    save_postings(path, saved)
    postings = saved.postings
    former = tmp_path / "former.npz"
    former_file(former, saved)
    with np.load(path) as written, np.load(former) as expected:
        assert written.files == expected.files
        for name in expected.files:
            if name != "meta":  # its JSON spacing may differ
                assert written[name].dtype == expected[name].dtype, name
                assert np.array_equal(written[name], expected[name]), name
        assert written["docs"].dtype == np.uint16  # every segment's rows in two bytes
    for loaded in (load_postings(path), load_postings(former)):
        assert loaded is not None
        for segment, original in zip(loaded.postings.segments, postings.segments, strict=True):
            assert np.array_equal(segment.docs, original.docs)
            assert segment.base == original.base
            assert segment.postings(0)[1].tolist() == original.postings(0)[1].tolist()
        assert term_postings(loaded.postings) == term_postings(postings)


def test_a_file_of_format_1_loads_with_two_bytes_a_row(tmp_path):
    """Format 1 saved each segment's rows whole in four bytes, segments of 140,000 rows; such a file loads to the
    same postings, its segments cut where their rows would not fit two bytes."""
    rows = 150_000
    postings = TermPostings(Vocabulary({"tor": 0, "stadion": 1}))
    every = np.arange(rows, dtype=np.int32)
    term_ids = np.concatenate([np.zeros(rows // 3, dtype=np.int64), np.ones(rows // 2, dtype=np.int64)])
    docs = np.concatenate([every[::3], every[::2]])
    counts = (docs % 7 + 1).astype(np.uint16)
    wide = PostingSegment.of(term_ids, docs, counts, rows)
    assert wide.docs.dtype == np.int32  # its rows span more than two bytes
    postings.segments = (wide,)
    postings.lengths.extend(np.full(rows, 3, dtype=np.int32))
    postings.rowids.extend(np.arange(rows, dtype=np.int64))
    path = tmp_path / "format1.npz"
    former_file(path, SavedPostings("c", 1, "de|1", postings, {"a": (0, rows)}, {"a": "v"}), bases=False)
    loaded = load_postings(path)
    assert loaded is not None
    segments = loaded.postings.segments
    assert len(segments) == 3
    assert all(s.docs.dtype == np.uint16 and s.span[1] - s.span[0] < 1 << 16 for s in segments)
    assert term_postings(loaded.postings) == term_postings(postings)
    assert term_postings(loaded.postings)[0][0] == every[::3].tolist()


def test_saving_does_not_copy_the_postings(tmp_path):
    """A first start saves what it built while it holds it: the writer makes no copy of the postings (the former
    one concatenated every segment's arrays, 130 MB more at once at a million sentences)."""
    saved = many_postings(4, 250_000)
    size = sum(s.docs.nbytes + s.tfs.nbytes + s.keys.nbytes + s.indptr.nbytes for s in saved.postings.segments)
    tracemalloc.start()
    try:
        save_postings(tmp_path / "postings.npz", saved)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 4  # one segment's counts made two bytes wide (uint8 to the file's uint16) at most
