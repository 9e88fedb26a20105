"""Every vector kept in the catalog too, exactly as Chroma returns it (`NEWSBOT_VECTORS_IN_CATALOG`): a question
reads its candidates' vectors there instead of two Chroma `get`s, and ranks exactly as with Chroma's."""

from __future__ import annotations

import sqlite3

from bot.service import NewsService
from index.settings import Settings
from index.store import VectorStore, chunk_id, sentence_id
from tests.conftest import counting_chroma_reads

QUESTION = "Wann wurde die Bahnstrecke zwischen Graz und Klagenfurt eröffnet?"


def assert_catalog_holds_chromas_vectors(service: NewsService) -> int:
    """Every current article version's sentence and chunk vectors are in the catalog, bit for bit Chroma's."""
    index = service.index
    checked = 0
    for record in index.catalog.articles():
        for kind, collection, name, count in (
            ("s", index.store.sentences, sentence_id, record.sentence_count),
            ("c", index.store.chunks, chunk_id, record.chunk_count),
        ):
            keys = [(record.article_id, record.version, n) for n in range(count)]
            kept = index.catalog.stored_vectors(kind, keys)
            chroma = index.store.vectors(collection, [name(*key) for key in keys])
            for key in keys:
                assert kept[key] == chroma[name(*key)].astype("<f4").tobytes(), key
                checked += 1
    return checked


def kept_rows(settings: Settings) -> list[tuple[str, str, str, int]]:
    db = sqlite3.connect(settings.catalog_path)
    try:
        return db.execute("SELECT article_id, version, kind, n FROM vectors").fetchall()
    finally:
        db.close()


def ranking(service: NewsService, question: str) -> list[tuple[str, int, float | None, float | None, float]]:
    snapshot, retrieval = service.retriever.retrieve(question)
    return [
        (snapshot.article_of(c.row), snapshot.sentences[c.row].n, c.dense, c.passage, c.fused)
        for c in retrieval.candidates
    ]


def test_the_catalog_keeps_every_current_vector_as_chroma_returns_it(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    (articles_dir / "gipfel.txt").write_text(
        "Gipfeltreffen in Wien geplant\n\nDer Gipfel der beiden Präsidenten soll in Wien stattfinden.",
        encoding="utf-8",
    )
    (articles_dir / "wetter.md").unlink()
    service.index_paths([articles_dir])
    removed = next(r.article_id for r in service.index.catalog.articles() if "wetter" in r.article_id)
    service.index.remove([removed])

    assert service.index.catalog.holds_all_vectors()
    assert assert_catalog_holds_chromas_vectors(service) > 6
    versions = {r.article_id: r.version for r in service.index.catalog.articles()}
    assert all(versions.get(article_id) == version for article_id, version, _, _ in kept_rows(settings))


def test_a_question_reads_its_candidates_vectors_from_the_catalog_and_ranks_as_with_chromas(
    settings, fake_embedder, articles_dir, monkeypatch
):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    fetched = counting_chroma_reads(service, monkeypatch)
    from_catalog = ranking(service, QUESTION)
    assert fetched == []  # the old code fetched every candidate's vector and passage vector from Chroma

    off = NewsService.open(settings.model_copy(update={"vectors_in_catalog": False}), fake_embedder)
    from_chroma = ranking(off, QUESTION)
    assert from_catalog == from_chroma  # the same floats: the catalog holds Chroma's bits
    assert len(from_catalog) >= 3
    assert all(dense is not None for _, _, dense, _, _ in from_catalog)


def test_an_index_without_them_gets_them_at_its_next_index_run(settings, fake_embedder, articles_dir, monkeypatch):
    """An index an older newsbot wrote (or this one with the setting off) holds the embedder's vectors of the
    articles changed last, or none: its next index run copies Chroma's, and questions read them from there."""
    off = settings.model_copy(update={"vectors_in_catalog": False})
    service = NewsService.open(off, fake_embedder)
    service.index_paths([articles_dir])
    assert not service.index.catalog.holds_all_vectors()
    assert kept_rows(settings) == []
    bahn = next(r for r in service.index.catalog.articles() if "bahn" in r.article_id)
    db = sqlite3.connect(settings.catalog_path)
    with db:  # a row of a version an older newsbot replaced without knowing the table
        db.execute("INSERT INTO vectors VALUES (?, 's', 0, 'old', zeroblob(1536))", (bahn.article_id,))
    db.close()
    before = ranking(service, QUESTION)

    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])  # nothing changed: the run copies the vectors only
    assert service.index.catalog.holds_all_vectors()
    assert assert_catalog_holds_chromas_vectors(service) > 6
    assert (bahn.article_id, "old", "s", 0) not in kept_rows(settings)
    fetched = counting_chroma_reads(service, monkeypatch)
    assert ranking(NewsService.open(settings, fake_embedder), QUESTION) == before
    assert fetched == []


def test_a_vector_the_catalog_lacks_is_fetched_from_chroma(settings, fake_embedder, articles_dir, monkeypatch):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    expected = ranking(service, QUESTION)
    bahn = next(r for r in service.index.catalog.articles() if "bahn" in r.article_id)
    db = sqlite3.connect(settings.catalog_path)
    with db:
        db.execute("DELETE FROM vectors WHERE article_id = ?", (bahn.article_id,))
    db.close()

    service = NewsService.open(settings, fake_embedder)
    fetched = counting_chroma_reads(service, monkeypatch)
    assert ranking(service, QUESTION) == expected
    assert fetched
    assert all(vector_id.startswith(f"{bahn.article_id}@") for vector_id in fetched)


def test_with_the_setting_off_questions_fetch_from_chroma(settings, fake_embedder, articles_dir, monkeypatch):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    service = NewsService.open(settings.model_copy(update={"vectors_in_catalog": False}), fake_embedder)
    (articles_dir / "extra.txt").write_text("Meldung\n\nEine kurze Meldung.", encoding="utf-8")
    service.index_paths([articles_dir])
    assert not service.index.catalog.holds_all_vectors()  # the new article's vectors are not kept
    assert not any("extra" in article_id for article_id, _, _, _ in kept_rows(settings))
    fetched = counting_chroma_reads(service, monkeypatch)
    service.ask(QUESTION)
    assert fetched  # from Chroma, as before


def test_a_process_that_only_asks_never_touches_the_chunks_collection(
    settings, fake_embedder, articles_dir, monkeypatch
):
    """Embedded Chroma loads a collection's whole HNSW segment at its first use (340 MB for the chunks' at 1.1M
    sentences): with the passages' vectors in the catalog, neither the start's check nor a question needs it."""
    NewsService.open(settings, fake_embedder).index_paths([articles_dir])
    touched: list[str] = []
    original = VectorStore._calling

    def calling(self, collection):
        touched.append(collection.name)
        return original(self, collection)

    monkeypatch.setattr(VectorStore, "_calling", calling)
    service = NewsService.open(settings, fake_embedder)
    service.warm_up()
    service.ask(QUESTION)
    assert touched  # the sentences' collection: the dense search
    assert not [name for name in touched if name.endswith("-chunks")]


def test_whole_articles_vectors_are_read_in_order_of_n_and_only_whole(settings, fake_embedder, articles_dir):
    """`Catalog.article_vectors` (the exact rescoring's read): each article version's vectors joined in order of n,
    the same bytes as read one by one; an article with a vector missing, of another version or asked with another
    count is left out (its vectors are then fetched by id); articles past one query's 300 are read too."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    catalog = service.index.catalog
    records = [r for r in catalog.articles() if r.sentence_count > 1]
    assert len(records) >= 3
    whole, gapped, counted = records[0], records[1], records[2]
    db = sqlite3.connect(settings.catalog_path)
    with db:
        db.execute("DELETE FROM vectors WHERE article_id = ? AND kind = 's' AND n = 1", (gapped.article_id,))
        db.execute("DELETE FROM article_sentence_vectors")  # a catalog of an older newsbot: its rows only
    db.close()
    absent = [(f"none/{i}", "v", 3) for i in range(299)]  # whole, then the others in the next query
    asked = [
        *absent,
        (whole.article_id, whole.version, whole.sentence_count),
        (gapped.article_id, gapped.version, gapped.sentence_count),
        (counted.article_id, counted.version, counted.sentence_count + 1),
        (counted.article_id, "another version", counted.sentence_count),
    ]
    found = catalog.article_vectors("s", asked)
    assert set(found) == {(whole.article_id, whole.version)}
    keys = [(whole.article_id, whole.version, n) for n in range(whole.sentence_count)]
    one_by_one = catalog.stored_vectors("s", keys)
    assert found[(whole.article_id, whole.version)] == b"".join(one_by_one[key] for key in keys)
    chunks = catalog.article_vectors("c", [(whole.article_id, whole.version, whole.chunk_count)])
    keys = [(whole.article_id, whole.version, n) for n in range(whole.chunk_count)]
    assert chunks[(whole.article_id, whole.version)] == b"".join(catalog.stored_vectors("c", keys)[k] for k in keys)


def joined_rows(settings: Settings) -> dict[str, tuple[str, bytes]]:
    db = sqlite3.connect(settings.catalog_path)
    try:
        rows = db.execute("SELECT article_id, version, vectors FROM article_sentence_vectors").fetchall()
    finally:
        db.close()
    return {article_id: (version, vectors) for article_id, version, vectors in rows}


def test_each_article_keeps_its_sentence_vectors_joined_in_one_row_as_its_rows_hold_them(
    settings, fake_embedder, articles_dir
):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    (articles_dir / "wetter.md").unlink()
    service.index_paths([articles_dir])
    catalog = service.index.catalog
    records = [r for r in catalog.articles() if r.sentence_count]
    joined = joined_rows(settings)
    assert set(joined) == {r.article_id for r in records}  # the removed article's row went with it
    wanted = [(r.article_id, r.version, r.sentence_count) for r in records]
    for record in records:
        keys = [(record.article_id, record.version, n) for n in range(record.sentence_count)]
        rows = catalog.stored_vectors("s", keys)
        assert joined[record.article_id] == (record.version, b"".join(rows[key] for key in keys))
    from_joined = catalog.article_vectors("s", wanted)
    db = sqlite3.connect(settings.catalog_path)
    with db:
        db.execute("DELETE FROM article_sentence_vectors")
    db.close()
    assert catalog.article_vectors("s", wanted) == from_joined  # read from the rows a sentence: the same bytes
    assert len(from_joined) == len(records)


def test_joined_vectors_of_another_version_or_count_are_not_read(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    catalog = service.index.catalog
    record = next(r for r in catalog.articles() if r.sentence_count > 1)
    db = sqlite3.connect(settings.catalog_path)
    with db:  # only the joined row is left: what is read comes from there
        db.execute("DELETE FROM vectors WHERE article_id = ?", (record.article_id,))
    db.close()
    count = record.sentence_count
    assert set(catalog.article_vectors("s", [(record.article_id, record.version, count)])) == {
        (record.article_id, record.version)
    }
    assert catalog.article_vectors("s", [(record.article_id, record.version, count + 1)]) == {}
    assert catalog.article_vectors("s", [(record.article_id, "another version", count)]) == {}


def test_an_article_deleted_by_a_newsbot_that_does_not_know_the_joined_vectors_loses_them(
    settings, fake_embedder, articles_dir
):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    bahn = next(r for r in service.index.catalog.articles() if "bahn" in r.article_id)
    db = sqlite3.connect(settings.catalog_path)
    with db:  # what an older newsbot's removal does: the rows it knows of
        for table in ("articles", "chunks", "sentences", "vectors"):
            db.execute(f"DELETE FROM {table} WHERE article_id = ?", (bahn.article_id,))
    db.close()
    assert bahn.article_id not in joined_rows(settings)


def test_a_catalog_without_joined_vectors_gets_them_at_its_next_index_run_and_ranks_the_same(
    settings, fake_embedder, articles_dir
):
    """A catalog of a newsbot before `article_sentence_vectors` holds every vector in rows of one sentence: the next
    index run joins them, and a question's exact rescoring reads the joined rows, with the same scores."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    expected = joined_rows(settings)
    db = sqlite3.connect(settings.catalog_path)
    with db:
        db.execute("DELETE FROM article_sentence_vectors")
        db.execute("DELETE FROM meta WHERE key = 'joined_vectors'")
    db.close()
    before = ranking(NewsService.open(settings, fake_embedder), QUESTION)

    service = NewsService.open(settings, fake_embedder)
    assert not service.index.catalog.holds_joined_vectors()
    service.index_paths([articles_dir])  # nothing changed: the run joins the vectors only
    assert service.index.catalog.holds_joined_vectors()
    assert joined_rows(settings) == expected
    assert ranking(NewsService.open(settings, fake_embedder), QUESTION) == before
