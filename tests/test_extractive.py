"""The extractive answer: the best sentence, its better neighbour as far as 300 characters allow."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.extractive import answer_span
from bot.retrieve import Candidate
from index.catalog import SentenceRow


def snapshot_of(*sentences: str) -> SimpleNamespace:
    rows = [SentenceRow("a", n, 0, 0, text) for n, text in enumerate(sentences)]

    def neighbours(row: int) -> tuple[int | None, int | None]:
        return (row - 1 if row > 0 else None, row + 1 if row + 1 < len(rows) else None)

    return SimpleNamespace(sentences=rows, neighbours=neighbours)


def test_short_neighbour_that_scores_higher_is_joined_whole():
    snap = snapshot_of("Der Gipfel wurde angekündigt.", "Er soll in Budapest stattfinden.", "Dann regnete es.")
    text, context = answer_span(snap, Candidate(1), {0: 0.9, 2: 0.1}, 300)
    assert text == "Der Gipfel wurde angekündigt. Er soll in Budapest stattfinden."
    assert context == "Der Gipfel wurde angekündigt. Er soll in Budapest stattfinden. Dann regnete es."


@pytest.mark.parametrize("neighbour_first", [True, False])
def test_long_neighbour_is_cut_at_a_word_to_fit_the_limit(neighbour_first):
    best = "Der Quarterback war damals 38 Jahre alt."
    long = "Den Rekord hielt zuvor John Elway, " + "der mit seinem Team mehrere Titel gewann, " * 10 + "bis heute."
    snap = snapshot_of(long, best) if neighbour_first else snapshot_of(best, long)
    row, other = (1, 0) if neighbour_first else (0, 1)
    text, _ = answer_span(snap, Candidate(row), {other: 1.0}, 300)
    assert len(text) <= 300
    assert best in text
    assert "…" in text
    if neighbour_first:
        assert text.startswith("…")
        assert text.endswith(best)
    else:
        assert text.startswith(best + " Den Rekord hielt zuvor John Elway")


def test_overlong_best_sentence_is_cut_to_the_limit():
    snap = snapshot_of("Wort " * 100)
    text, _ = answer_span(snap, Candidate(0), {}, 300)
    assert len(text) <= 300
    assert text.endswith("…")
