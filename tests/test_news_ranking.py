"""News-aware ranking: a text that several outlets ran is one answer and one source, the newest outlet's;
and between the two best sentences, the one whose context holds the question."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.retrieve import (
    DUPLICATE_OVERLAP,
    RUNNER_UP_COVERAGE_LEAD,
    Candidate,
    prefer_the_covering_runner_up,
    word_pairs,
)
from bot.service import NewsService

AGENCY = (
    "Der Gipfel der Präsidenten soll nach Angaben der Nachrichtenagentur in Budapest stattfinden, "
    "teilte das Weiße Haus am {day} mit."
)


def outlet_page(headline: str, published: str, day: str) -> str:
    return (
        f'<html><head><title>{headline}</title><meta property="article:published_time" content="{published}">'
        f"</head><body><article><h1>{headline}</h1><p>{AGENCY.format(day=day)}</p>"
        "<p>Weitere Einzelheiten wurden zunächst nicht bekannt.</p></article></body></html>"
    )


@pytest.fixture
def outlets(tmp_path: Path) -> Path:
    folder = tmp_path / "outlets"
    folder.mkdir()
    (folder / "zeitung-a.html").write_text(outlet_page("Gipfel geplant", "2025-10-16T08:00:00+02:00", "Mittwoch"))
    (folder / "zeitung-b.html").write_text(outlet_page("Treffen in Ungarn", "2025-10-17T09:00:00+02:00", "Donnerstag"))
    (folder / "wetter.txt").write_text("Hitzewelle in Wien\n\nIn Wien wurden am Sonntag 38 Grad gemessen.")
    return folder


def test_agency_text_in_two_outlets_is_one_source_from_the_newer_one(settings, fake_embedder, outlets):
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([outlets])
    answer = service.ask("Wo soll der Gipfel der Präsidenten stattfinden?")
    assert "Budapest" in answer.text
    assert "Donnerstag" in answer.text  # the newer outlet's wording
    names = [Path(s.source).name for s in answer.sources]
    assert names[0] == "zeitung-b.html"
    assert "zeitung-a.html" not in names


def test_the_newer_outlet_wins_even_where_the_older_matches_the_question_better(settings, fake_embedder, outlets):
    # zeitung-b is now the older one, and its headline repeats the question's words.
    (outlets / "zeitung-b.html").write_text(
        outlet_page("Gipfel der Präsidenten", "2025-10-15T09:00:00+02:00", "Dienstag")
    )
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([outlets])
    answer = service.ask("Wo soll der Gipfel der Präsidenten stattfinden?")
    assert Path(answer.sources[0].source).name == "zeitung-a.html"
    assert "Mittwoch" in answer.text
    # zeitung-b may still be a source through its own headline, but never with the repeated agency text
    assert not any("Dienstag" in s.snippet for s in answer.sources)


def test_different_reports_on_one_topic_are_not_collapsed():
    first = word_pairs(AGENCY.format(day="Mittwoch"))
    same_with_a_word_changed = word_pairs(AGENCY.format(day="Donnerstag"))
    other_report = word_pairs("Orbán sagte, Ungarn sei bereit, den Gipfel in Budapest auszurichten.")
    overlap = len(first & same_with_a_word_changed) / len(first | same_with_a_word_changed)
    assert overlap >= DUPLICATE_OVERLAP
    assert len(first & other_report) / len(first | other_report) < 0.2


BAHN_QUESTION = "Wann wurde die Bahnstrecke zwischen Graz und Klagenfurt eröffnet?"


def rows_about(snapshot, *words: str) -> list[int]:
    return [row for row, s in enumerate(snapshot.sentences) if all(w in s.text for w in words)]


@pytest.fixture
def coverage_case(settings, fake_embedder, articles_dir):
    """The test articles' snapshot, the question's term weights, a sentence that holds the question's
    words in its context and one (about the weather) that holds none of them."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    snapshot = service.retriever.snapshot()
    weights = snapshot.lexical.term_weights(snapshot.lexical.query_terms(BAHN_QUESTION))
    (covering,) = rows_about(snapshot, "Graz", "Klagenfurt")
    (other,) = rows_about(snapshot, "38 Grad")
    lead = snapshot.context_coverage(covering, weights) - snapshot.context_coverage(other, weights)
    assert lead > RUNNER_UP_COVERAGE_LEAD
    return snapshot, weights, Candidate(covering), Candidate(other)


def test_a_runner_up_whose_context_holds_the_question_takes_first_place(coverage_case):
    snapshot, weights, covering, other = coverage_case
    assert prefer_the_covering_runner_up(snapshot, [other, covering], weights) == [covering, other]
    assert prefer_the_covering_runner_up(snapshot, [covering, other], weights) == [covering, other]


def test_only_the_runner_up_can_take_first_place(coverage_case):
    snapshot, weights, covering, other = coverage_case
    (weather_too,) = rows_about(snapshot, "Trinkbrunnen")
    ranked = [other, Candidate(weather_too), covering]
    assert prefer_the_covering_runner_up(snapshot, ranked, weights) == ranked


def test_a_small_lead_in_coverage_changes_nothing(coverage_case):
    snapshot, weights, covering, other = coverage_case
    # A question word no sentence holds, five times as weighty as the rest, shrinks the lead below 1/5.
    diluted = {**weights, "unbekannt": 5 * sum(weights.values())}
    assert prefer_the_covering_runner_up(snapshot, [other, covering], diluted) == [other, covering]
