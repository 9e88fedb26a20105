"""A new snapshot after a catalog change reads only the articles that changed, and holds what a full read
of the catalog would."""

from __future__ import annotations

from pathlib import Path

from bot.retrieve import Snapshot
from bot.service import NewsService


def assert_same_as_a_full_read(service: NewsService) -> Snapshot:
    snapshot = service.retriever.snapshot()
    full = Snapshot(service.index)
    assert snapshot.generation == full.generation
    assert snapshot.sentences == full.sentences
    assert snapshot.articles == full.articles
    assert dict(snapshot.position) == dict(full.position)
    assert dict(snapshot.position) == {(s.article_id, s.n): row for row, s in enumerate(full.sentences)}
    return snapshot


def test_a_change_reads_only_the_changed_articles(settings, fake_embedder, articles_dir, monkeypatch):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    service.retriever.snapshot()
    read: list[list[str]] = []
    original = service.index.catalog.read_changes

    def recording(known):
        generation, articles, changed = original(known)
        read.append(sorted(changed))
        return generation, articles, changed

    monkeypatch.setattr(service.index.catalog, "read_changes", recording)

    zoo = articles_dir / "aaa-zoo.txt"  # sorts first: every other article's rows move by its sentences
    zoo.write_text("Neuer Zoo\n\nDer Zoo in Linz bekommt einen Elefanten. Er heißt Toni.", encoding="utf-8")
    service.index_paths([articles_dir])
    assert_same_as_a_full_read(service)
    assert "Elefanten" in service.ask("Welches Tier bekommt der Zoo in Linz?").text

    zoo.write_text("Neuer Zoo\n\nDer Zoo in Linz bekommt eine Giraffe.", encoding="utf-8")
    service.index_paths([articles_dir])
    snapshot = assert_same_as_a_full_read(service)
    assert "Giraffe" in service.ask("Welches Tier bekommt der Zoo in Linz?").text

    service.remove(str(zoo))
    after_removal = assert_same_as_a_full_read(service)
    assert len(after_removal.sentences) == len(snapshot.sentences) - snapshot.articles[str(zoo)].sentence_count
    assert read == [[str(zoo)], [str(zoo)], []]  # the other articles' sentences were never read again
    assert after_removal.position.get((str(zoo), 0)) is None


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
