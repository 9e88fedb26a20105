"""A question that asks a time, an amount or a price by its own question word, over answer sentences that show none,
is vetoed (`Signals.kind_unshown`): news_dev's near miss "Wann wurde Jeremy Corbyn zum Labour-Chef gewählt?" was
answered at 0.96 from his article, whose sentences of the fact give no time, and the model, fitted on Wikipedia,
weighs that absence (`time_missing`) too little to refuse."""

from __future__ import annotations

import dataclasses

import pytest

from bot.answerability import shipped_model
from bot.retrieve import kind_unshown
from bot.service import NewsService
from index.articles import Article
from tests.fakes import HashedBagOfWords
from tests.test_names_inside_other_names import _close_signals

KASERNE = Article(
    "test/kaserne",
    "test/kaserne",
    "Kaserne in Vomp",
    "Kaserne in Vomp\n\nDie Frundsberg-Kaserne liegt in der Gemeinde Vomp im Inntal. Der Kommandant lobte die "
    "Soldaten der Kaserne für ihren Einsatz beim Hochwasser. Die Kaserne wurde 1967 eröffnet.",
)


@pytest.mark.parametrize(
    ("question", "sentences", "unshown"),
    [
        ("Wann wurde die Kaserne eröffnet?", ["Die Kaserne liegt im Inntal."], True),
        ("Wann wurde die Kaserne eröffnet?", ["Die Kaserne wurde 1967 eröffnet."], False),
        ("Wann wurde die Kaserne eröffnet?", ["Die Kaserne wurde am Dienstag eröffnet."], False),
        # the question's own year is no answer
        ("Wann wurde die Kaserne 1967 erweitert?", ["Die Kaserne wurde 1967 eröffnet."], True),
        ("Wie viele Soldaten dienen in der Kaserne?", ["Die Soldaten der Kaserne halfen beim Hochwasser."], True),
        ("Wie viele Soldaten dienen in der Kaserne?", ["In der Kaserne dienen 400 Soldaten."], False),
        # a count in words, as the answer shown reads it: German dev's "Zu wie vielen Wiedergeburten …?"
        ("Zu wie vielen Wiedergeburten hat er sich bereiterklärt?", ["Zur Wiedergeburt, häufig mehrere Male."], False),
        # the figures of a date, a year or a clock time are no count: another fact's time (news_dev's near misses)
        (
            "Wie viele Mitglieder hat die Bewegung?",
            ["Die Bewegung will am 3. und 4. Juni eine Konferenz abhalten."],
            True,
        ),
        ("Wie viele Frauen nehmen an der Synode teil?", ["Es ist die zweite Synode nach jener im Herbst 2014."], True),
        ("Wie viele Zuschauer sahen den Tatort?", ["Der Tatort läuft am Sonntag um 20.15 Uhr."], True),
        # a span or an age may be given by its dates: German dev's "Wie lange war das Sommertheater in Betrieb?"
        ("Wie lange war das Sommertheater in Betrieb?", ["Das Sommertheater war von 1870 bis 1939 in Betrieb."], False),
        # a count beside a year, or a count that looks like one, is a count
        ("Wie viele Einwohner hatte Warschau 1900?", ["Im Jahr 1900 hatte Warschau 600.000 Einwohner."], False),
        ("Wie viele Menschen nahmen an der Kundgebung teil?", ["Mehr als 2000 zumeist Vermummte nahmen teil."], False),
        # a price needs a sum of money, not any number
        ("Was kostet ein Ticket von Graz nach Klagenfurt?", ["Die Fahrt dauert nun 45 Minuten."], True),
        ("Was kostet ein Ticket von Graz nach Klagenfurt?", ["Ein Ticket kostet 49 Euro."], False),
        # no kind the veto reads: a person, a place, or none
        ("Wer leitet die Kaserne?", ["Die Kaserne liegt im Inntal."], False),
        ("Wo liegt die Kaserne?", ["Die Kaserne wurde 1967 eröffnet."], False),
        # a follow-up without a question word of its own asks the earlier question's kind: not read
        ("Und die in Vomp?", ["Die Kaserne liegt im Inntal."], False),
        # a question in English over the German article: the article writes a time or a number alike for it
        ("When was the barracks opened?", ["Die Kaserne liegt im Inntal."], True),
        ("When was the barracks opened?", ["Die Kaserne wurde 1967 eröffnet."], False),
        ("How many soldiers serve in the barracks?", ["In der Kaserne dienen 400 Soldaten."], False),
        ("How much does a ticket from Graz to Klagenfurt cost?", ["Die Fahrt dauert nun 45 Minuten."], True),
        # its "when" opens a clause: it asks a person, as the answer shown reads it (`asked_value`)
        ("Who led the barracks when it was opened?", ["Die Kaserne liegt im Inntal."], False),
    ],
)
def test_the_asked_kind_in_the_answer_sentences(question, sentences, unshown):
    assert kind_unshown(question, sentences, "de") is unshown


def test_the_veto_halves_the_probability():
    model = shipped_model()
    signals = _close_signals()
    assert model.probability(dataclasses.replace(signals, kind_unshown=1.0)) == pytest.approx(
        model.probability(signals) / 2
    )


@pytest.fixture
def service(settings, fake_embedder: HashedBagOfWords) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index.add_articles([KASERNE])
    return service


def test_the_retriever_sets_it_for_the_article_asked(service: NewsService):
    """Set from the answer's sentences in the index: not for the question the article answers; for a question in
    another language too, since the article shows its times and numbers alike whatever the question's language."""
    _, retrieval = service.retriever.retrieve("Wie viele Soldaten dienen in der Frundsberg-Kaserne in Vomp?")
    assert retrieval.signals.kind_unshown == 1.0
    _, retrieval = service.retriever.retrieve("Wann wurde die Frundsberg-Kaserne eröffnet?")
    assert retrieval.signals.kind_unshown == 0.0
    _, retrieval = service.retriever.retrieve("How many soldiers serve in the Frundsberg barracks?", language="en")
    assert retrieval.signals.kind_unshown == 1.0
