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
