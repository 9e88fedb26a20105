import sqlite3
from pathlib import Path

import pytest

from bot.lexical import Decompounder, LexicalIndex, analyser_name, sentence_text
from bot.service import NewsService
from index.errors import NewsbotError
from index.indexer import NewsIndex
from index.texts import message
from tests.fakes import HashedBagOfWords


def stored_ids(index: NewsIndex) -> tuple[set[str], set[str]]:
    return set(index.store.chunks.get()["ids"]), set(index.store.sentences.get()["ids"])


def test_reindex_skips_unchanged_articles(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    first = service.index_paths([articles_dir])
    calls_after_first = len(fake_embedder.calls)
    second = service.index_paths([articles_dir])
    assert len(first.added) == 3
    assert second.counts() == {"added": 0, "updated": 0, "unchanged": 3, "removed": 0, "failed": 0}
    assert len(fake_embedder.calls) == calls_after_first  # nothing embedded again


def test_changed_article_replaces_all_of_its_chunks(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    path = articles_dir / "gipfel.txt"
    path.write_text("Gipfel abgesagt\n\nDas Treffen in Wien findet nicht statt.", encoding="utf-8")
    report = service.index_paths([articles_dir])
    assert len(report.updated) == 1
    assert len(report.unchanged) == 2
    article_id = path.resolve().as_posix()
    record = service.index.catalog.article(article_id)
    chunks, sentences = stored_ids(service.index)
    own_chunks = {i for i in chunks if i.startswith(article_id + "@")}
    own_sentences = {i for i in sentences if i.startswith(article_id + "@")}
    assert own_chunks == {f"{article_id}@{record.version}:{n}" for n in range(record.chunk_count)}
    assert len(own_sentences) == record.sentence_count == 2
    documents = " ".join(service.index.store.sentences.get()["documents"])
    assert "Budapest" not in documents


def test_removed_article_leaves_index_and_answers(settings, fake_embedder, articles_dir):
    settings.refusal_threshold = 0.0
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    service.remove(str(articles_dir / "gipfel.txt"))
    chunks, sentences = stored_ids(service.index)
    assert not any("gipfel" in i for i in chunks | sentences)
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert "Budapest" not in answer.text
    assert all(not s.source.endswith("gipfel.txt") for s in answer.sources)


def test_remove_unknown_article_is_a_user_error(settings, fake_embedder):
    service = NewsService.open(settings, fake_embedder)
    with pytest.raises(NewsbotError, match="nicht im Index"):
        service.remove("/gibt/es/nicht.txt")


def test_sync_mirrors_a_folder(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index.sync_folder(articles_dir)
    (articles_dir / "wetter.md").unlink()
    (articles_dir / "neu.txt").write_text("Neuer Artikel\n\nEin neuer Text über Linz.", encoding="utf-8")
    (articles_dir / "bahn.html").write_text(
        "<html><title>Bahn</title><body><p>Geändert: die Fahrt dauert jetzt eine Stunde.</p></body></html>",
        encoding="utf-8",
    )
    report = service.index.sync_folder(articles_dir)
    assert report.counts() == {"added": 1, "updated": 1, "unchanged": 1, "removed": 1, "failed": 0}
    titles = {a.title for a in service.articles()}
    assert "Hitzewelle in Wien" not in titles
    assert "Neuer Artikel" in titles


def test_broken_file_fails_alone_and_changes_nothing_else(settings, fake_embedder, articles_dir):
    (articles_dir / "kaputt.txt").write_bytes(b"\x00\x01\x02binary")
    service = NewsService.open(settings, fake_embedder)
    report = service.index_paths([articles_dir])
    assert len(report.added) == 3
    assert len(report.failed) == 1
    assert report.failed[0][0].endswith("kaputt.txt")


def test_index_built_with_another_embedder_stops_with_rebuild_message(settings, fake_embedder, articles_dir):
    NewsService.open(settings, fake_embedder).index_paths([articles_dir])
    other = HashedBagOfWords(dim=128, name="fake:other")
    with pytest.raises(NewsbotError, match="Baue den Index neu"):
        NewsService.open(settings, other)


def test_an_index_whose_vectors_are_gone_says_so_instead_of_refusing_every_question(
    settings, fake_embedder, articles_dir
):
    """Round 7: a data folder with the catalog but without chroma/ (a backup of the catalog alone, chroma/
    deleted) refused every question as if the articles lacked it, `index add` found every article
    unchanged, and `doctor` said the index was fine."""
    NewsService.open(settings, fake_embedder).index_paths([articles_dir])
    restored = settings.model_copy(update={"data_dir": settings.data_dir.parent / "restored"})
    restored.data_dir.mkdir()
    with sqlite3.connect(settings.catalog_path) as source, sqlite3.connect(restored.catalog_path) as copy:
        source.backup(copy)
    chunks = NewsService.open(settings, fake_embedder).status().chunks
    with pytest.raises(NewsbotError) as raised:
        NewsService.open(restored, fake_embedder)
    assert raised.value.message == message(
        "index_vectors_missing", path=str(restored.data_dir), chunks=chunks, store=str(restored.chroma_path)
    )


def test_collections_record_embedder_name_and_dimension(settings, fake_embedder):
    index = NewsService.open(settings, fake_embedder).index
    for collection in (index.store.chunks, index.store.sentences):
        assert collection.metadata["embedder"] == "fake:hashed-bow"
        assert collection.metadata["dim"] == 256


def test_ids_are_stable_across_runs_in_new_data_dirs(tmp_path: Path, settings, fake_embedder, articles_dir):
    first = NewsService.open(settings, fake_embedder)
    first.index_paths([articles_dir])
    ids_first = stored_ids(first.index)
    other = settings.model_copy(update={"data_dir": tmp_path / "other"})
    second = NewsService.open(other, fake_embedder)
    second.index_paths([articles_dir])
    assert stored_ids(second.index) == ids_first


@pytest.mark.parametrize("article_id", ["/pfad/zu/artikel.txt", "https://example.org/@redaktion/artikel:1?x=@y"])
def test_vector_ids_parse_back_to_article_version_and_position(article_id):
    from index.store import chunk_id, parse_id, sentence_id

    assert parse_id(chunk_id(article_id, "0123abcd", 7)) == (article_id, "0123abcd", 7)
    assert parse_id(sentence_id(article_id, "0123abcd", 12)) == (article_id, "0123abcd", 12)


def lexical_rows(service: NewsService, question: str) -> list[str]:
    """The article ids of the BM25 hits for `question`, best first."""
    snapshot = service.retriever.snapshot()
    hits = snapshot.lexical.search(snapshot.lexical.query_terms(question), 10)
    return [snapshot.sentences[row].article_id for row, _ in hits]


def test_lexical_index_follows_every_change_without_a_rebuild(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    assert "Budapest" in service.ask("Wo soll der Gipfel stattfinden?").text
    zoo = articles_dir / "neu.txt"
    zoo.write_text("Neuer Artikel\n\nDer Zoo in Linz bekommt einen Elefanten.", encoding="utf-8")
    service.index_paths([articles_dir])
    assert lexical_rows(service, "Zoo Linz Elefant") == [str(zoo)]
    assert "Elefanten" in service.ask("Welches Tier bekommt der Zoo in Linz?").text

    zoo.write_text("Neuer Artikel\n\nDer Zoo in Linz bekommt eine Giraffe.", encoding="utf-8")
    service.index_paths([articles_dir])
    assert lexical_rows(service, "Elefant") == []  # the old version's terms went with it
    assert lexical_rows(service, "Giraffe") == [str(zoo)]
    service.remove(str(zoo))
    assert lexical_rows(service, "Giraffe") == []
    assert not (settings.data_dir / "lexical").exists()  # nothing built per generation

    reopened = NewsService.open(settings, fake_embedder)  # another process reads the same terms
    assert "Budapest" in reopened.ask("Wo soll der Gipfel stattfinden?").text


def test_a_catalog_without_terms_gets_them_once_on_open(settings, fake_embedder, articles_dir):
    """A catalog of an older newsbot (no terms table filled) is analysed once when it is opened."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    expected = lexical_rows(service, "Gipfel Budapest")
    db = sqlite3.connect(settings.catalog_path)
    with db:
        db.execute("DELETE FROM sentence_terms")
        db.execute("DELETE FROM meta WHERE key = 'sentence_terms'")
    db.close()
    reopened = NewsService.open(settings, fake_embedder)
    assert expected
    assert lexical_rows(reopened, "Gipfel Budapest") == expected
    assert not reopened.index.catalog.fill_terms(reopened.index.catalog.analyse, analyser_name("de"))  # only once


def test_catalog_bm25_ranks_like_bm25s(settings, fake_embedder, articles_dir):
    """FTS5's BM25 (k1 1.2) and bm25s's Lucene variant (k1 1.5) rank the same sentences first."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    snapshot = service.retriever.snapshot()
    texts = [sentence_text(snapshot.articles[s.article_id].title, s) for s in snapshot.sentences]
    reference = LexicalIndex(texts, "de", Decompounder())
    for question in ("Wo soll der Gipfel stattfinden?", "Bahnstrecke Graz Klagenfurt eröffnet", "Präsidenten Treffen"):
        terms = snapshot.lexical.query_terms(question)
        ours, theirs = snapshot.lexical.search(terms, 5), reference.search(terms, 5)
        assert ours
        assert [row for row, _ in ours[:3]] == [row for row, _ in theirs[:3]]
        assert snapshot.lexical.term_weights(terms) == pytest.approx(reference.term_weights(terms))


def test_sentences_an_older_newsbot_writes_get_their_terms_on_the_next_open(settings, fake_embedder, articles_dir):
    """An older newsbot writes sentences without terms: its deletes take the terms along (a trigger), its
    inserts mark the terms incomplete, and the next open analyses them."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    article_id = lexical_rows(service, "Gipfel Budapest")[0]
    db = sqlite3.connect(settings.catalog_path)
    with db:  # what an older newsbot's flip does to the catalog's sentences
        db.execute("DELETE FROM sentences WHERE article_id = ? AND n > 0", (article_id,))
        db.execute("INSERT INTO sentences VALUES (?, 1, 0, 1, 'Der Gipfel findet in Szeged statt.')", (article_id,))
    orphans = db.execute("SELECT COUNT(*) FROM sentence_terms WHERE rowid NOT IN (SELECT rowid FROM sentences)")
    assert orphans.fetchone() == (0,)
    db.close()
    reopened = NewsService.open(settings, fake_embedder)
    assert lexical_rows(reopened, "Szeged") == [article_id]
    assert lexical_rows(reopened, "Präsidenten Regierungschef") == []  # only in the sentences it deleted


def test_an_index_split_by_the_older_sentence_rules_still_answers_updates_and_removes(
    settings, fake_embedder, tmp_path, monkeypatch
):
    """Until ordinals were joined, pysbd cut "des 18. und 19. Jahrhunderts" into three sentences. An index built then
    keeps them (an unchanged article is not split again); a changed article's old version is dropped by the counts
    stored with it, so the new split leaves no old sentence beside it, and removal leaves nothing."""
    from index import chunking

    folder = tmp_path / "artikel"
    folder.mkdir()
    path = folder / "hugenotten.txt"
    path.write_text(
        "Hugenotten\n\nIm Laufe des 18. und 19. Jahrhunderts zogen Hugenotten nach Westen. Sie siedelten in Carolina.",
        encoding="utf-8",
    )
    article_id = path.resolve().as_posix()
    with monkeypatch.context() as older:
        older.setattr(chunking, "_ordinals_joined", lambda segments: segments)  # the older rules: pysbd's cuts
        NewsService.open(settings, fake_embedder).index_paths([folder])

    service = NewsService.open(settings, fake_embedder)
    split_before = [s.text for s in service.index.catalog.sentences()]
    assert "18. und" in split_before
    assert service.index_paths([folder]).unchanged == [article_id]
    assert [s.text for s in service.index.catalog.sentences()] == split_before
    answer = service.ask("Wo siedelten die Hugenotten?")
    assert answer.answered
    assert "Carolina" in answer.text

    path.write_text(
        "Hugenotten\n\nIm Laufe des 18. und 19. Jahrhunderts zogen Hugenotten nach Westen. Sie siedelten in Georgia.",
        encoding="utf-8",
    )
    assert service.index_paths([folder]).updated == [article_id]
    record = service.index.catalog.article(article_id)
    texts = [s.text for s in service.index.catalog.sentences()]
    assert "Im Laufe des 18. und 19. Jahrhunderts zogen Hugenotten nach Westen." in texts
    assert "18. und" not in texts
    assert not any("Carolina" in t for t in texts)
    _, sentence_ids = stored_ids(service.index)
    assert sentence_ids == {f"{article_id}@{record.version}:s{n}" for n in range(record.sentence_count)}
    assert service.index.store.count() == service.index.catalog.counts()[1:]
    assert "Georgia" in service.ask("Wo siedelten die Hugenotten?").text

    service.remove(article_id)
    assert stored_ids(service.index) == (set(), set())
    assert service.index.catalog.counts() == (0, 0, 0)


def test_a_folder_moved_and_synced_at_its_new_path_replaces_its_old_ids_without_embedding(
    settings, fake_embedder, articles_dir, tmp_path
):
    """Round 8: a data folder taken to another machine, or an article folder moved, and `index sync` at the new
    path added every article again (embedding it again: an hour a thousand articles) and kept the old ids, whose
    paths no longer exist: each answer's sources listed the same article twice."""
    service = NewsService.open(settings, fake_embedder)
    count = len(service.index.sync_folder(articles_dir).added)
    before = service.ask("Wo soll der Gipfel stattfinden?")
    moved = articles_dir.rename(tmp_path / "woanders")

    report = service.index.sync_folder(moved)

    assert (len(report.added), len(report.removed), report.embedded_texts) == (count, count, 0)
    assert all(a.article_id.startswith(moved.resolve().as_posix() + "/") for a in service.articles())
    assert service.index.store.count() == service.index.catalog.counts()[1:]
    after = service.ask("Wo soll der Gipfel stattfinden?")
    assert (after.text, after.confidence) == (before.text, pytest.approx(before.confidence))
    expected = [s.source.replace(str(articles_dir), str(moved)) for s in before.sources]
    assert [s.source for s in after.sources] == expected


def test_a_copied_folder_keeps_the_original_and_takes_its_vectors(settings, fake_embedder, articles_dir, tmp_path):
    import shutil

    service = NewsService.open(settings, fake_embedder)
    count = len(service.index.sync_folder(articles_dir).added)
    copy = shutil.copytree(articles_dir, tmp_path / "kopie")
    report = service.index.sync_folder(copy)
    assert (len(report.added), len(report.removed), report.embedded_texts) == (count, 0, 0)
    assert len(service.articles()) == 2 * count


def test_a_moved_folder_reads_its_vectors_from_chroma_in_one_go_not_one_read_per_article(
    settings, fake_embedder, articles_dir, tmp_path, monkeypatch
):
    """Round 9: the moved folder's sync asked Chroma once per article (a thousand reads for a thousand articles);
    copies of one file take the same vectors."""
    import shutil

    from index.store import VectorStore

    service = NewsService.open(settings, fake_embedder)
    (articles_dir / "gipfel-kopie.txt").write_text((articles_dir / "gipfel.txt").read_text("utf-8"), "utf-8")
    count = len(service.index.sync_folder(articles_dir).added)
    reads: list[list[str]] = []
    read_vectors = VectorStore.vectors

    def counted(self, collection, ids):  # type: ignore[no-untyped-def]
        reads.append(list(ids))
        return read_vectors(self, collection, ids)

    monkeypatch.setattr(VectorStore, "vectors", counted)
    moved = shutil.move(articles_dir, tmp_path / "woanders")

    report = service.index.sync_folder(moved)

    assert (len(report.added), len(report.removed), report.embedded_texts) == (count, count, 0)
    # the twins' vectors are read under the old folder's ids; the new ids' read-back is the catalog's copy
    twin_reads = [ids for ids in reads if any(i.startswith(str(articles_dir) + "/") for i in ids)]
    assert len(twin_reads) == 1
    assert len(twin_reads[0]) == len(set(twin_reads[0]))  # Chroma refuses a get that names an id twice
    assert service.index.store.count() == service.index.catalog.counts()[1:]


def test_index_add_of_a_folder_where_a_file_was_renamed_replaces_its_old_id(settings, fake_embedder, articles_dir):
    """Round 9: `index add` of a folder again after a file in it was renamed kept the old id, whose file no longer
    exists, beside the new one: the article twice in the catalog and in Chroma. A copy beside a file that still
    exists stays beside it."""
    service = NewsService.open(settings, fake_embedder)
    count = len(service.index_paths([articles_dir]).added)
    old = articles_dir / "gipfel.txt"
    renamed = old.rename(articles_dir / "gipfeltreffen.txt")
    (articles_dir / "wetter-kopie.md").write_text((articles_dir / "wetter.md").read_text("utf-8"), "utf-8")

    report = service.index_paths([articles_dir])

    assert sorted(report.added) == sorted([renamed.resolve().as_posix(), (articles_dir / "wetter-kopie.md").as_posix()])
    assert (report.removed, report.embedded_texts) == ([old.resolve().as_posix()], 0)
    assert len(service.articles()) == count + 1
    assert service.index.store.count() == service.index.catalog.counts()[1:]
    assert renamed.as_posix() in [s.source for s in service.ask("Wo soll der Gipfel stattfinden?").sources]
