"""An answer's sources after the first are evidence for it: articles that hold at least half of what the
answer's article holds of the question's words, not every article whose sentence scored near it."""

from __future__ import annotations

from pathlib import Path

from bot.service import NewsService
from index.settings import Settings
from tests.fakes import HashedBagOfWords


def test_further_sources_hold_the_questions_words_and_unrelated_articles_are_left_out(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path
) -> None:
    (articles_dir / "vorbereitung.txt").write_text(
        "Vorbereitung läuft\n\nDelegationen bereiten das Treffen vor, das als Gipfel stattfinden soll.",
        encoding="utf-8",
    )
    # every article within the margin: only the question's words can tell evidence from the rest
    service = NewsService.open(settings.model_copy(update={"source_margin": 1.0}), fake_embedder)
    service.index_paths([articles_dir])

    answer = service.ask("Wo soll der Gipfel stattfinden?")

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
