"""The kind veto judges the answer shown (`shows_the_asked_detail`). Where the best sentence's fact gives no value of
the asked kind, `Retriever._showing_the_asked_value` shows another sentence of the article that gives one; the veto
was judged on the best sentence alone, so a held-out question ("Wie viel zusätzliches Öl erwartet David Wech aus dem
Iran?") was refused while its answer showed "500.000 Fass zusätzlich am Tag". The veto is lifted where a sentence of
the shown one's fact gives the value and holds a word of the question the best's fact lacks; it stands where the value
is another fact's, in a sentence that holds only what the best already held (a name) or nothing of the question."""

from __future__ import annotations

import pytest

from bot.answer_kind import asking_words
from bot.service import NewsService
from index.articles import Article
from tests.fakes import HashedBagOfWords

OIL = Article(
    "test/oel",
    "test/oel",
    "Ölpreise",
    "Ölpreise\n\nDer Händler Jakob Gruber erwartet ein rückläufiges Angebot bei der Förderung von Rohöl. "
    "Das Angebot aus Venezuela solle sich in Grenzen halten, sagt er. "
    "Die Preise für Kupfer steigen seit Wochen. "
    "Die Minen sperren zu, das Angebot geht zurück. "
    "Für Venezuela seien 300.000 Fass zusätzlich am Tag realistisch.",
)
CHAIR = Article(
    "test/chef",
    "test/chef",
    "Parteichef",
    "Parteichef\n\nDer Oppositionsführer Konrad Wendelin ist der neue Parteichef und ein ungewollter Medienstar. "
    "Die Zeitungen berichten über seine Kleidung. "
    "Die Partei hofft auf neue Mitglieder. "
    "Bei einem Gottesdienst am Dienstag stand Wendelin schweigend in der letzten Reihe.",
)


FORECAST = Article(
    "test/prognose",
    "test/prognose",
    "Kupfer und Erdgas",
    "Kupfer und Erdgas\n\nDie Analystin Vera Lindqvist erwartet ein sinkendes Angebot bei der Förderung von Erdgas. "
    "Die Preise für Kupfer steigen seit Wochen. "
    "Aus Norwegen seien 40 Millionen Kubikmeter zusätzlich im Monat realistisch. "
    "Die Minen sperren zu.",
)


@pytest.fixture
def service(settings, fake_embedder: HashedBagOfWords) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index.add_articles([OIL, CHAIR, FORECAST])
    return service


def _moved(service: NewsService, question: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, float]:
    """The search's best sentence, the sentence shown first, and the veto as the retrieval sets it."""
    found = []
    moving = type(service.retriever)._showing_the_asked_value

    def recording(self, snapshot, ranked, *args, **kwargs):
        found.append(snapshot.sentences[ranked[0].row].text)
        return moving(self, snapshot, ranked, *args, **kwargs)

    monkeypatch.setattr(type(service.retriever), "_showing_the_asked_value", recording)
    snapshot, retrieval = service.retriever.retrieve(question)
    return found[0], snapshot.sentences[retrieval.candidates[0].row].text, retrieval.signals.kind_unshown


def test_a_value_shown_with_the_words_the_best_sentence_lacks_lifts_the_veto(service: NewsService, monkeypatch):
    question = "Wie viel zusätzliches Öl erwartet Jakob Gruber aus Venezuela?"
    best, shown, vetoed = _moved(service, question, monkeypatch)
    assert "300.000" not in best
    assert "300.000" in shown
    assert vetoed == 0.0


def test_another_facts_value_beside_the_name_keeps_the_veto(service: NewsService, monkeypatch):
    """ "am Dienstag" is the day of a service, in a sentence that holds only the name the best sentence holds."""
    best, shown, vetoed = _moved(service, "Wann wurde Konrad Wendelin zum Parteichef gewählt?", monkeypatch)
    assert "Dienstag" not in best
    assert "Dienstag" in shown
    assert vetoed == 1.0


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("Wie hoch war die Kapitalquote im Stresstest?", {"wie", "hoch"}),
        ("In welchem Jahr wurde die Kaserne eröffnet?", {"in", "welchem", "jahr"}),
        ("Was kostet ein Ticket nach Graz?", {"was", "kostet"}),
        ("Wer leitet die Kaserne?", set()),
    ],
)
def test_the_words_that_ask_the_value_are_not_what_it_is_about(question, words):
    assert asking_words(question) == words


def test_the_answer_shown_without_a_move_is_judged_too(service: NewsService, monkeypatch):
    """The answer from the best sentence shows the sentence two on, beyond its fact: where that one gives the value
    with the words the best sentence lacks, the answer shown answers, as a moved one does."""
    best, shown, vetoed = _moved(service, "Wie viel zusätzliches Erdgas erwartet Vera Lindqvist?", monkeypatch)
    assert "Lindqvist" in best
    assert shown == best
    assert vetoed == 0.0
