"""A new snapshot after a catalog change reads only the articles that changed, and holds what a full read
of the catalog would."""

from __future__ import annotations

from pathlib import Path

from bot.retrieve import Snapshot
from bot.saved_postings import postings_path
from bot.service import NewsService


def contents(snapshot: Snapshot) -> dict[tuple[str, int], object]:
    """What a snapshot holds, whatever its rows' numbers: each sentence by (article id, n)."""
    return {key: snapshot.sentences[row] for key, row in snapshot.position.items()}


def assert_same_as_a_full_read(service: NewsService) -> Snapshot:
    snapshot = service.retriever.snapshot()
    postings_path(service.settings.data_dir).unlink(missing_ok=True)  # else its postings come from the saved file
    full = Snapshot(service.index)
    assert snapshot.generation == full.generation
    assert snapshot.articles == full.articles
    assert snapshot.versions == full.versions
    assert contents(snapshot) == contents(full)
    assert len(snapshot.sentences) == len(full.sentences) == len(contents(full)) == len(snapshot.position)
    assert sorted(snapshot.sentences, key=lambda s: (s.article_id, s.n)) == list(full.sentences)
    assert sorted(snapshot.passage_keys) == sorted(full.passage_keys)
    for row, sentence in snapshot.sentences.items():  # a sentence's neighbours are of its own article version
        assert snapshot.position[(sentence.article_id, sentence.n)] == row
        assert all(snapshot.sentences[r].article_id == sentence.article_id for r in snapshot.around(row, 3))
        assert set(snapshot.around(row, 3)) <= set(range(*snapshot.position.spans[sentence.article_id]))
    return snapshot


def test_a_change_reads_only_the_changed_articles(settings, fake_embedder, articles_dir, monkeypatch):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    service.retriever.snapshot()
    read: list[tuple[bool, list[str], list[str]]] = []
    original = service.index.catalog.read_changes

    def recording(since, most, terms_to=None):
        changes = original(since, most, terms_to)
        if since is not None:  # not the full reads this test compares with
            spans = changes.sentences.spans
            read.append((changes.full, sorted(a.article_id for a in changes.articles), sorted(spans)))
        return changes

    monkeypatch.setattr(service.index.catalog, "read_changes", recording)

    zoo = articles_dir / "zzz-zoo.txt"  # sorts last: its rows are the last ones, the next version's follow them
    zoo.write_text("Neuer Zoo\n\nDer Zoo in Linz bekommt einen Elefanten. Er heißt Toni.", encoding="utf-8")
    service.index_paths([articles_dir])
    assert_same_as_a_full_read(service)
    assert "Elefanten" in service.ask("Welches Tier bekommt der Zoo in Linz?").text

    zoo.write_text("Neuer Zoo\n\nDer Zoo in Linz bekommt eine Giraffe. Sie heißt Lotte.", encoding="utf-8")
    service.index_paths([articles_dir])
    snapshot = assert_same_as_a_full_read(service)
    assert "Giraffe" in service.ask("Welches Tier bekommt der Zoo in Linz?").text

    service.remove(str(zoo))
    after_removal = assert_same_as_a_full_read(service)
    assert len(after_removal.sentences) == len(snapshot.sentences) - snapshot.articles[str(zoo)].sentence_count
    # the other articles' records and sentences were never read again
    assert read == [(False, [str(zoo)], [str(zoo)]), (False, [str(zoo)], [str(zoo)]), (False, [], [])]
    assert after_removal.position.get((str(zoo), 0)) is None
    assert str(zoo) not in after_removal.articles
    assert "Giraffe" in " ".join(s.text for s in snapshot.sentences)  # the older snapshot still holds its rows


def test_a_reader_the_change_log_does_not_reach_back_to_reads_everything(
    settings, fake_embedder, articles_dir, monkeypatch
):
    """Too far behind (the log keeps CHANGES_KEPT generations), a catalog of an older newsbot (no log, or one
    only from when this newsbot first opened it), a data folder built anew: the new snapshot reads the whole
    catalog, and holds what it holds."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    catalog = service.index.catalog
    gipfel = articles_dir / "gipfel.txt"

    def change(text: str) -> Snapshot:
        before = service.retriever.snapshot()
        gipfel.write_text(f"Gipfeltreffen\n\n{text}", encoding="utf-8")
        service.index_paths([articles_dir])
        changes = catalog.read_changes((before.catalog_id, before.generation), most=100)
        assert_same_as_a_full_read(service)
        return changes

    assert not change("Der Gipfel findet in Graz statt.").full

    monkeypatch.setattr("index.catalog.CHANGES_KEPT", 1)  # the next commit trims the log to its own generation
    before = service.retriever.snapshot()
    gipfel.write_text("Gipfeltreffen\n\nDer Gipfel findet in Linz statt.", encoding="utf-8")
    service.index_paths([articles_dir])
    service.remove(str(articles_dir / "wetter.md"))
    assert catalog.read_changes((before.catalog_id, before.generation), most=100).full
    assert not catalog.read_changes((before.catalog_id, catalog.generation - 1), most=100).full
    monkeypatch.undo()

    with catalog.transaction() as db:  # no mark from where the log is complete
        db.execute("DELETE FROM meta WHERE key = 'changes_from'")
    assert change("Der Gipfel findet in Wels statt.").full

    with catalog.transaction() as db:  # as an older newsbot left it: no log at all
        for trigger in ("insert", "update", "delete"):
            db.execute(f"DROP TRIGGER article_changes_on_{trigger}")
        db.execute("DROP TABLE article_changes")
        db.execute("DELETE FROM meta WHERE key IN ('catalog_id', 'changes_from')")
    service = NewsService.open(settings, fake_embedder)  # this newsbot opens it: logged from now on
    catalog = service.index.catalog
    assert not change("Der Gipfel findet in Steyr statt.").full

    with catalog.transaction() as db:  # another catalog file (say, a folder built anew) counts anew
        db.execute("UPDATE meta SET value = 'anderer' WHERE key = 'catalog_id'")
    assert change("Der Gipfel findet in Krems statt.").full
    assert "Krems" in service.ask("Wo findet der Gipfel statt?").text


def test_an_articles_terms_come_from_the_catalog(settings, fake_embedder, articles_dir, monkeypatch):
    """The coverage signals read the terms of every candidate's whole article: the catalog stored them with
    the sentences, so they are not analysed again, and they are what analysing the text gives."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    snapshot = service.retriever.snapshot()
    analysed = {}
    for article_id in snapshot.articles:
        rows = [s.text for s in snapshot.sentences if s.article_id == article_id]
        analysed[article_id] = snapshot.lexical.terms(" ".join([snapshot.articles[article_id].title, *rows]))

    def no_analysis(text):
        raise AssertionError("analysed again")

    monkeypatch.setattr(snapshot.lexical, "terms", no_analysis)
    assert {a: snapshot.article_terms(a) for a in snapshot.articles} == analysed
    assert all(analysed.values())

    # an article changed since the snapshot: its new terms are not this snapshot's, the text is analysed
    monkeypatch.undo()
    zoo = next(a for a in snapshot.articles if snapshot.articles[a].sentence_count > 1)
    fresh = Snapshot(service.index)
    Path(zoo).write_text("Neuer Zoo\n\nDer Zoo in Linz bekommt einen Elefanten.", encoding="utf-8")
    service.index_paths([articles_dir])
    assert fresh.article_terms(zoo) == analysed[zoo]


def test_a_question_reads_each_candidate_articles_terms_once(settings, fake_embedder, articles_dir, monkeypatch):
    """The topic weight, the story rule and the refusal's signals all need the coverage of the candidates'
    articles: a question reads each article's terms from the catalog once, a later question none of an
    article version read before, and an article that changed is read again (its terms are its new text's)."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    read: list[str] = []
    original = service.index.catalog.articles_terms

    def recording(versions):
        read.extend(versions)
        return original(versions)

    monkeypatch.setattr(service.index.catalog, "articles_terms", recording)
    question = "Wo soll der Gipfel der Präsidenten stattfinden?"
    assert "Budapest" in service.ask(question).text
    assert read
    assert len(read) == len(set(read))
    read.clear()
    service.ask(question)
    assert read == []

    gipfel = articles_dir / "gipfel.txt"
    gipfel.write_text("Gipfeltreffen in Budapest geplant\n\nDer Gipfel findet in Zwettlbach statt.", encoding="utf-8")
    service.index_paths([articles_dir])
    snapshot, retrieval = service.retriever.retrieve("Findet der Gipfel in Zwettlbach statt?")
    assert str(gipfel.resolve()) in read
    assert "zwettlbach" in snapshot.article_terms(str(gipfel.resolve()))
    assert retrieval.signals is not None
    assert retrieval.signals.article_coverage == 1.0


def test_article_terms_of_a_catalog_without_them_come_from_its_sentences(settings, fake_embedder, articles_dir):
    """Each article's distinct terms are stored with it (`article_terms`), so a question reads one row an article.
    A catalog an older newsbot wrote lacks them: its articles' terms come from their sentences' until the next
    open gathers them, and are the same either way."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    snapshot = service.retriever.snapshot()
    expected = {a: snapshot.article_terms(a) for a in snapshot.articles}
    assert all(expected.values())
    with service.index.catalog.transaction() as db:
        db.execute("DELETE FROM article_terms")
    fresh = Snapshot(service.index)  # nothing kept from the first
    assert {a: fresh.article_terms(a) for a in fresh.articles} == expected

    reopened = NewsService.open(settings, fake_embedder)
    stored = reopened.index.catalog._db.execute("SELECT article_id, version FROM article_terms").fetchall()
    assert dict(stored) == snapshot.versions
    again = Snapshot(reopened.index)
    assert {a: again.article_terms(a) for a in again.articles} == expected


def test_rows_of_changed_articles_are_compacted_away(settings, fake_embedder, articles_dir, monkeypatch):
    """A change appends the article's new rows and leaves its old ones (a question of the older snapshot may still
    read them); past ARENA_SLACK of unused rows, the new snapshot copies its own rows into an arena of their own."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    first = service.retriever.snapshot()
    gipfel = articles_dir / "gipfel.txt"
    gipfel.write_text("Gipfeltreffen\n\nDer Gipfel findet in Graz statt. Er dauert zwei Tage.", encoding="utf-8")
    service.index_paths([articles_dir])
    grown = assert_same_as_a_full_read(service)
    assert len(grown._arena) > len(grown.sentences)  # the old version's rows are still there
    assert grown._arena is first._arena

    monkeypatch.setattr("bot.retrieve.ARENA_SLACK", 0.0)
    monkeypatch.setattr("bot.retrieve.ARENA_SLACK_ROWS", 0)
    gipfel.write_text("Gipfeltreffen\n\nDer Gipfel findet in Linz statt.", encoding="utf-8")
    service.index_paths([articles_dir])
    compacted = assert_same_as_a_full_read(service)
    assert compacted._arena is not grown._arena
    assert len(compacted._arena) == len(compacted.sentences)
    assert "Linz" in service.ask("Wo findet der Gipfel statt?").text
    # the older snapshots still hold their own rows; texts are read by article version, so an older version's
    # is the one read while the catalog held it (kept since) or none, never the newer version's
    assert "Graz statt" in " ".join(s.text for s in grown.sentences)  # read above, while it was current
    first_gipfel = [s for s in first.sentences if "gipfel" in s.article_id]
    assert len(first_gipfel) == first.articles[first_gipfel[0].article_id].sentence_count
    assert [s.text for s in first_gipfel] == [""] * len(first_gipfel)  # never read while current: gone
