"""A proper name of the question that the answer's article does not hold, nor misspelled by one edit, vetoes the
answer (`Signals.name_unheld`): "Wie lange dauert die Fahrt nach Innsbruck?" was answered at 79 % from the railway
between Graz and Klagenfurt."""

from __future__ import annotations

import dataclasses

import pytest

from bot.answerability import shipped_model
from bot.retrieve import names_the_article_lacks
from bot.service import NewsService
from index.articles import Article
from tests.fakes import HashedBagOfWords
from tests.test_names_inside_other_names import _close_signals

BAHN = Article(
    "test/bahn",
    "test/bahn",
    "Neue Bahnstrecke",
    "Neue Bahnstrecke\n\nDie Koralmbahn verbindet Graz und Klagenfurt. Die Fahrt dauert nun 45 Minuten. "
    "Der Zug fährt durch einen Tunnel unter dem Berg.",
)
SPORT = Article(
    "test/sport",
    "test/sport",
    "Fernsehrechte",
    "Fernsehrechte\n\nSetanta Sports wollte im März auf der Plattform ONdigital starten. Der Sender gab auf.",
)


@pytest.fixture
def service(settings, fake_embedder: HashedBagOfWords) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index.add_articles([BAHN, SPORT])
    return service


@pytest.mark.parametrize(
    ("question", "article", "lacks"),
    [
        ("Wie lange dauert die Fahrt nach Innsbruck?", BAHN, True),
        ("Wie lange dauert die Fahrt von Salzburg nach Klagenfurt?", BAHN, True),
        ("Wie lange dauert die Fahrt nach Klagenfurt?", BAHN, False),
        ("Wie lange dauert die Fahrt?", BAHN, False),  # no name
        ("Wie lange dauert die Fahrt mit der ÖBB?", BAHN, False),  # an abbreviation may stand for words it writes
        # misspelled by one letter inserted, or two swapped: still the article's name
        ("Auf welcher Plattform wollte Sentanta Sports starten?", SPORT, False),
        ("Auf welcher Plattform wollte Setnata Sports starten?", SPORT, False),
        # two edits are another name
        ("Auf welcher Plattform wollte Sentanto Sports starten?", SPORT, True),
        # a short name one letter from a noun of the article ("Berg") is another place
        ("Wie lange dauert die Fahrt nach Bern?", BAHN, True),
    ],
)
def test_a_proper_name_the_article_does_not_hold(service: NewsService, question, article, lacks):
    snapshot, retrieval = service.retriever.retrieve(question)
    assert names_the_article_lacks(snapshot, question, retrieval.weights, article.article_id, "de") is lacks


def test_the_veto_halves_the_probability():
    model = shipped_model()
    signals = _close_signals()
    assert model.probability(dataclasses.replace(signals, name_unheld=1.0)) == pytest.approx(
        model.probability(signals) / 2
    )


def test_the_service_refuses_a_question_whose_name_no_article_holds(service: NewsService):
    """Asked through the service: the signal is set for the best article, and a question in another language,
    whose names the cross-language model weighs itself, is left to it."""
    snapshot, retrieval = service.retriever.retrieve("Wie lange dauert die Fahrt nach Innsbruck?")
    assert snapshot.article_of(retrieval.candidates[0].row) == BAHN.article_id
    assert retrieval.signals.name_unheld == 1.0
    _, retrieval = service.retriever.retrieve("Wie lange dauert die Fahrt nach Klagenfurt?")
    assert retrieval.signals.name_unheld == 0.0
    _, retrieval = service.retriever.retrieve("How long does the ride to Innsbruck take?", language="en")
    assert retrieval.signals.name_unheld == 0.0
