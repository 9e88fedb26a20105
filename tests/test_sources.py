"""An answer's sources after the first are evidence for it: articles that hold at least half of what the
answer's article holds of the question's words, and half of the names and numbers its answer adds, not every
article whose sentence scored near it."""

from __future__ import annotations

from pathlib import Path

from bot.extractive import sources_for, what_the_answer_adds
from bot.retrieve import Candidate
from bot.service import NewsService
from index.settings import Settings
from tests.fakes import HashedBagOfWords


def test_further_sources_hold_the_questions_words_and_the_answers_and_unrelated_articles_are_left_out(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path
) -> None:
    (articles_dir / "vorbereitung.txt").write_text(
        "Vorbereitung läuft\n\nDelegationen bereiten das Treffen in Budapest vor, das als Gipfel stattfinden soll.",
        encoding="utf-8",
    )
    # a word of the question, but not the answer's place: no evidence for Budapest
    (articles_dir / "berg.txt").write_text("Schnee am Berg\n\nDer Gipfel des Schneebergs ist weiß.", encoding="utf-8")
    # every article within the margin: only the question's and the answer's words can tell evidence from the rest
    service = NewsService.open(settings.model_copy(update={"source_margin": 1.0}), fake_embedder)
    service.index_paths([articles_dir])

    answer = service.ask("Wo soll der Gipfel stattfinden?")

    assert "Budapest" in answer.text
    assert [s.title for s in answer.sources] == ["Gipfeltreffen in Budapest geplant", "Vorbereitung läuft"]
    # a question whose words the articles share (Graz, Klagenfurt, Fahrt) keeps its article, the others go
    assert [s.title for s in service.ask("Wie lange dauert die Fahrt von Graz nach Klagenfurt?").sources] == [
        "Neue Bahnstrecke eröffnet"
    ]


def test_a_follow_ups_further_sources_hold_all_the_conversations_words_that_its_first_one_holds(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path
) -> None:
    # "stattfinden" is rarer here than "Gipfel" (of a mountain too), so the concert holds more than half the
    # summit article's share of the words searched; it holds nothing of the conversation's topic
    (articles_dir / "konzert.txt").write_text(
        "Konzert in Graz\n\nDas Konzert soll am Freitag im Stadtpark stattfinden.", encoding="utf-8"
    )
    (articles_dir / "berg.txt").write_text("Schnee am Berg\n\nDer Gipfel des Schneebergs ist weiß.", encoding="utf-8")
    (articles_dir / "wanderung.txt").write_text(
        "Wanderwetter\n\nAm Gipfel der Rax weht ein kalter Wind.", encoding="utf-8"
    )
    service = NewsService.open(settings.model_copy(update={"source_margin": 1.0}), fake_embedder)
    service.index_paths([articles_dir])

    answer = service.ask("Und wann?", ["Wo soll der Gipfel stattfinden?"])

    assert answer.used_history
    assert [s.title for s in answer.sources] == ["Gipfeltreffen in Budapest geplant"]


def test_a_question_in_english_lists_only_articles_that_share_its_names(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path
) -> None:
    # the weather and the railway score within the margin; neither holds Budapest, Trump nor Putin
    service = NewsService.open(settings.model_copy(update={"source_margin": 1.0}), fake_embedder)
    service.index_paths([articles_dir])

    answer = service.ask("When will Trump and Putin meet in Budapest?")

    assert answer.language == "en"
    assert [s.title for s in answer.sources] == ["Gipfeltreffen in Budapest geplant"]


def test_a_further_source_the_embedder_rates_above_the_first_stays_whatever_its_words(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path
) -> None:
    """The first source may come first by its words, which can mislead: an article the embedder rates higher
    is evidence even where it holds less of them, one it rates lower is not."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    snapshot, retrieval = service.retriever.retrieve("Wo soll der Gipfel in Budapest stattfinden?")
    first_row = {snapshot.articles[snapshot.sentences[c.row].article_id].title: c.row for c in retrieval.candidates}
    summit, weather, railway = (
        first_row[t] for t in ("Gipfeltreffen in Budapest geplant", "Hitzewelle in Wien", "Neue Bahnstrecke eröffnet")
    )
    assert retrieval.coverage is not None
    assert retrieval.coverage.share(snapshot.sentences[weather].article_id) == 0.0
    ranked = [Candidate(summit, dense=0.80), Candidate(weather, dense=0.85), Candidate(railway, dense=0.79)]

    sources = sources_for(snapshot, ranked, top_k=5, margin=1.0, coverage=retrieval.coverage)

    assert [s.title for s in sources] == ["Gipfeltreffen in Budapest geplant", "Hitzewelle in Wien"]


def test_an_article_the_questions_words_point_to_as_much_as_the_answers_stays_without_the_answers_content(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path
) -> None:
    """The answer may come from the wrong article: where the first lacks some of the question's words, one that holds
    as much of them as the first is no less the asked one, whatever the answer says. Where the first holds them all,
    the answer's content decides."""
    (articles_dir / "paket.txt").write_text(
        "Preis für das Paket\n\nDas Paket kostet 26 Euro im Monat.", encoding="utf-8"
    )
    (articles_dir / "musik.txt").write_text(
        "Musikdienst startet\n\nDer Musikdienst von Apple kostet zehn Dollar im Monat.", encoding="utf-8"
    )
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    asked = "Wie viel kostet der Musikdienst im Monat?"
    snapshot, retrieval = service.retriever.retrieve(asked)
    row = {snapshot.articles[snapshot.sentences[c.row].article_id].title: c.row for c in retrieval.candidates}
    package, music = row["Preis für das Paket"], row["Musikdienst startet"]
    coverage = retrieval.coverage
    assert coverage is not None
    package_share = coverage.share(snapshot.sentences[package].article_id)
    assert 0.0 < package_share < coverage.share(snapshot.sentences[music].article_id)
    ranked = [Candidate(package, dense=0.80), Candidate(music, dense=0.79)]
    # answered wrongly from the package: its 26 euros, which the music service's article does not hold
    says = what_the_answer_adds(snapshot, snapshot.sentences[package].text, retrieval.weights, "de")
    assert says is not None
    assert says.share(snapshot.sentences[music].article_id) == 0.0

    sources = sources_for(snapshot, ranked, top_k=5, margin=1.0, coverage=coverage, answers_content=says)

    assert [s.title for s in sources] == ["Preis für das Paket", "Musikdienst startet"]
    # answered from the music service, which holds every word asked: the package says nothing of its price
    says = what_the_answer_adds(snapshot, snapshot.sentences[music].text, retrieval.weights, "de")
    ranked = [Candidate(music, dense=0.80), Candidate(package, dense=0.79)]
    assert coverage.share(snapshot.sentences[music].article_id) == 1.0
    sources = sources_for(snapshot, ranked, top_k=5, margin=1.0, coverage=coverage, answers_content=says)
    assert [s.title for s in sources] == ["Musikdienst startet"]
