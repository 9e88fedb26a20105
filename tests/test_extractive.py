"""The extractive answer: the best sentence, and what of its neighbours covers the question, in 300 characters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.extractive import answer_span
from bot.lexical import LexicalIndex
from bot.retrieve import Candidate
from index.catalog import SentenceRow

FILLER = "und dazu gab es an diesem Tag noch viele weitere Meldungen aus aller Welt, "


def snapshot_of(*sentences: str, title: str = "Titel") -> SimpleNamespace:
    """One paragraph of `sentences`, of an article titled `title`."""
    rows = [SentenceRow("a", n, 0, 0, text) for n, text in enumerate(sentences)]

    def around(row: int, reach: int) -> list[int]:
        return list(range(max(0, row - reach), min(len(rows), row + reach + 1)))

    lexical = LexicalIndex(list(sentences))
    return SimpleNamespace(
        sentences=rows,
        around=around,
        lexical=lexical,
        word_terms=lambda row: lexical.word_terms(rows[row].text),
        articles={"a": SimpleNamespace(title=title)},
    )


def weights_of(snap: SimpleNamespace, question: str) -> dict[str, float]:
    return snap.lexical.term_weights(snap.lexical.query_terms(question))


def test_a_paragraph_that_fits_is_the_answer_whole():
    snap = snapshot_of("Der Gipfel wurde angekündigt.", "Er soll in Budapest stattfinden.", "Dann regnete es.")
    text, context = answer_span(snap, Candidate(1), {0: 0.9, 2: 0.1}, 300, weights_of(snap, "Wo ist der Gipfel?"))
    assert text == context == "Der Gipfel wurde angekündigt. Er soll in Budapest stattfinden. Dann regnete es."


@pytest.mark.parametrize("neighbour_first", [True, False])
def test_long_neighbour_is_cut_at_a_word_to_fit_the_limit(neighbour_first):
    best = "Der Quarterback war damals 38 Jahre alt."
    long = "Den Rekord hielt zuvor John Elway, " + "der mit seinem Team mehrere Titel gewann, " * 10 + "bis heute."
    snap = snapshot_of(long, best) if neighbour_first else snapshot_of(best, long)
    row, other = (1, 0) if neighbour_first else (0, 1)
    text, _ = answer_span(snap, Candidate(row), {other: 1.0}, 300, {})
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
    text, _ = answer_span(snap, Candidate(0), {}, 300, {})
    assert len(text) <= 300
    assert text.endswith("…")


def test_a_long_sentence_is_cut_around_the_words_of_the_question():
    sentence = "Am Montag " + FILLER * 5 + "hielt zuvor John Elway den Rekord als ältester Quarterback im Super Bowl."
    snap = snapshot_of(sentence, "Ein anderer Satz.")
    question = "Wer hielt zuvor den Rekord als ältester Quarterback im Super Bowl?"
    text, _ = answer_span(snap, Candidate(0), {}, 300, weights_of(snap, question))
    assert len(text) <= 300
    assert text.startswith("…")
    assert "John Elway den Rekord als ältester Quarterback" in text


def test_the_room_beside_the_best_sentence_goes_to_the_neighbour_that_covers_the_question():
    best = "Das Unternehmen wurde 1886 in Rahway gegründet."
    before = "Tesla verbündete sich mit zwei Geschäftsleuten, " + FILLER * 3 + "und so weiter."
    after = "Es installierte Lichtbogenbeleuchtungssysteme für Städte und Fabriken, " + FILLER * 3 + "und mehr."
    snap = snapshot_of(before, best, after)
    question = "Welche Lichtbogenbeleuchtungssysteme installierte das Unternehmen in Städten?"
    # the neighbour before scores higher, but the one after holds the question's words
    text, _ = answer_span(snap, Candidate(1), {0: 0.9, 2: 0.1}, 300, weights_of(snap, question))
    assert len(text) <= 300
    assert best + " Es installierte Lichtbogenbeleuchtungssysteme für Städte" in text
    assert text.endswith("…")


def test_the_answer_may_reach_two_sentences_away_for_the_words_of_the_question():
    best = "Die Mannschaft gewann das Finale am Sonntag."
    filler = "Am Abend " + FILLER * 2 + "bis spät."
    second = "Den Pokal überreichte Bürgermeister Anton Huber vor dem Rathaus."
    snap = snapshot_of("Ein früherer Satz " + FILLER * 2 + "und so fort.", filler, best, filler, second)
    question = "Wer überreichte den Pokal vor dem Rathaus?"
    text, context = answer_span(snap, Candidate(2), {1: 0.9, 3: 0.1}, 300, weights_of(snap, question))
    assert len(text) <= 300
    assert best in text
    assert "Pokal überreichte Bürgermeister Anton Huber" in text
    assert context.endswith(second)


def test_around_stays_in_the_paragraph_and_the_article(settings, fake_embedder, tmp_path):
    from bot.service import NewsService

    folder = tmp_path / "zwei"
    folder.mkdir()
    (folder / "a.txt").write_text("Titel A\n\nEins. Zwei. Drei.\n\nVier. Fünf.", encoding="utf-8")
    (folder / "b.txt").write_text("Titel B\n\nSechs. Sieben.", encoding="utf-8")
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([folder])
    snapshot = service.retriever.snapshot()
    row = {s.text: i for i, s in enumerate(snapshot.sentences)}
    texts = [[snapshot.sentences[r].text for r in snapshot.around(row[t], 2)] for t in ("Drei.", "Vier.", "Sechs.")]
    assert texts == [["Eins.", "Zwei.", "Drei."], ["Vier.", "Fünf."], ["Sechs.", "Sieben."]]


def test_room_the_question_does_not_claim_is_shared_around_the_best_sentence():
    earlier = "Am Vormittag " + FILLER + "wie immer."
    covering = "Kommende Woche gibt es zunächst ein Treffen der Regierungsvertreter."
    best = "Auf US-Seite leitet Außenminister Marco Rubio die Gespräche."
    later = "Der Ort dafür muss noch festgelegt werden, " + FILLER * 3 + "hieß es."
    snap = snapshot_of(earlier, covering, best, later)
    question = "Wer leitet auf US-Seite die Gespräche der Regierungsvertreter?"
    text, _ = answer_span(snap, Candidate(2), {1: 0.9, 3: 0.1}, 300, weights_of(snap, question))
    # not the earliest stretch that covers the question, which would open with the unrelated morning
    assert text.startswith(covering + " " + best + " Der Ort dafür")
    assert text.endswith("…")


def test_a_first_sentence_that_is_the_title_leaves_its_room_to_the_sentence_after_the_best():
    """A file without a headline line: its first sentence is its title, shown with the source already. It tells
    the story the question asks about, so it covers as much of the question as the sentence holding the answer."""
    title = "Arnautovic gegen Sunderland nur sechs Minuten nach seinem Tor verletzt ausgewechselt."
    lead = "Das Heimspiel von Stoke gegen Sunderland wurde für Arnautovic zu einer Hochschaubahn, " + FILLER
    told = "in der 56. Minute musste er raus, wie der Verein am Abend auf seiner Website mitteilte."
    snap = snapshot_of(title, lead, told, title=title)
    question = "In welcher Minute musste Arnautovic gegen Sunderland verletzt raus?"
    scores = {0: 0.9, 2: 0.8}  # the title scores well: it tells the same story

    text, _ = answer_span(snap, Candidate(1), scores, len(lead) + len(told) + 3, weights_of(snap, question))

    assert text == lead + " " + told


def test_an_answer_taken_before_from_the_same_arguments_is_given_again(monkeypatch):
    """`kept` (a retrieval's `spans`): the same best row, scores, weights and snapshot give the answer taken before
    without scanning the stretch again; other scores or weights are computed anew."""
    import bot.extractive as extractive

    snap = snapshot_of("Der Gipfel wurde angekündigt.", "Er soll in Budapest stattfinden.", "Dann regnete es.")
    weights = weights_of(snap, "Wo ist der Gipfel?")
    computed = []
    stretch = extractive.stretch_rows
    monkeypatch.setattr(extractive, "stretch_rows", lambda *args: computed.append(args) or stretch(*args))
    kept: dict = {}
    first = answer_span(snap, Candidate(1), {0: 0.9, 2: 0.1}, 40, weights, kept=kept)
    again = answer_span(snap, Candidate(1), {0: 0.9, 2: 0.1}, 40, dict(weights), kept=kept)
    assert again == first
    assert len(computed) == 1
    other = answer_span(snap, Candidate(1), {0: 0.1, 2: 0.9}, 40, weights, kept=kept)
    assert len(computed) == 2
    assert other == answer_span(snap, Candidate(1), {0: 0.1, 2: 0.9}, 40, weights)
    answer_span(snap, Candidate(1), {0: 0.1, 2: 0.9}, 40, {}, kept=kept)
    assert len(computed) == 4
