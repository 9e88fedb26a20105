"""Which story a question means: the newest on the question's topic, unless the question names an
older one; and an article that only shares the question's phrasing ("soll … stattfinden") is no match."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.retrieve import ArticleCoverage, Candidate, weigh_topic_and_recency
from bot.service import NewsService


def dated_page(headline: str, published: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<html><head><title>{headline}</title><meta property="article:published_time" content="{published}">'
        f"</head><body><article><h1>{headline}</h1>{body}</article></body></html>"
    )


@pytest.fixture
def summits(tmp_path: Path) -> Path:
    """Three summits told with the same phrasing; the oldest matches the bare question best, by a word."""
    folder = tmp_path / "summits"
    folder.mkdir()
    (folder / "eu.html").write_text(
        dated_page(
            "Rat plant Gipfel",
            "2025-09-01T08:00:00+00:00",
            "Der Gipfel soll in Brüssel stattfinden, teilte der Rat mit. Der Gipfel soll zwei Tage dauern.",
        )
    )
    (folder / "klima.html").write_text(
        dated_page(
            "Klimagipfel: Gastgeber steht fest",
            "2025-09-20T08:00:00+00:00",
            "Der Klimagipfel soll in Nairobi stattfinden, teilte das Sekretariat mit.",
        )
    )
    (folder / "genf.html").write_text(
        dated_page(
            "Bund plant Gipfel",
            "2025-10-02T08:00:00+00:00",
            "Der Gipfel soll in Genf stattfinden, teilte der Bund mit.",
        )
    )
    return folder


def ask(settings, fake_embedder, folder: Path, question: str):
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([folder])
    return service.ask(question)


def test_a_bare_definite_question_means_the_newest_story_on_its_topic(settings, fake_embedder, summits):
    answer = ask(settings, fake_embedder, summits, "Wo soll der Gipfel stattfinden?")
    assert "Genf" in answer.text
    assert Path(answer.sources[0].source).name == "genf.html"


def test_an_older_story_stays_answerable_where_the_question_names_it(settings, fake_embedder, summits):
    answer = ask(settings, fake_embedder, summits, "Wo soll der Klimagipfel stattfinden?")
    assert "Nairobi" in answer.text


def undated_summits(folder: Path) -> Path:
    """Two undated articles that tell a summit in the words of "Wo soll der Gipfel stattfinden?"."""
    folder.mkdir()
    (folder / "eu.txt").write_text(
        "Rat plant Gipfel\n\nDer Gipfel soll in Brüssel stattfinden, teilte der Rat mit. "
        "Der Gipfel soll zwei Tage dauern."
    )
    (folder / "genf.txt").write_text("Bund plant Gipfel\n\nDer Gipfel soll in Genf stattfinden, teilte der Bund mit.")
    return folder


def test_articles_of_the_same_day_are_equally_new(settings, fake_embedder, tmp_path: Path):
    # Undated, the three count from the day they were indexed: the best match word by word wins.
    folder = undated_summits(tmp_path / "undated")
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([folder])
    _, retrieval = service.retriever.retrieve("Wo soll der Gipfel stattfinden?")
    assert {c.age_days for c in retrieval.candidates} == {0.0}
    assert "Brüssel" in service.ask("Wo soll der Gipfel stattfinden?").text


def test_sharing_only_the_phrasing_of_the_question_is_no_match(settings, fake_embedder, tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "fussball.txt").write_text(
        "Fifa plant Sitzung\n\nDas Treffen in Zürich soll am 16. Dezember stattfinden, teilte der Verband mit."
    )
    (folder / "budapest.txt").write_text(
        "Trump und Putin telefonieren\n\nTrump will sich mit dem russischen Präsidenten in Budapest treffen. "
        "Das Treffen soll bald stattfinden.\n\nEin Berater bestätigte Gespräche über ein neues Gipfeltreffen."
    )
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([folder])
    snapshot = service.retriever.snapshot()
    weights = snapshot.lexical.term_weights(snapshot.lexical.query_terms("Wo soll der Gipfel stattfinden?"))
    zurich = Candidate(next(r for r, s in enumerate(snapshot.sentences) if "Zürich" in s.text), fused=0.80)
    budapest = Candidate(next(r for r, s in enumerate(snapshot.sentences) if "Budapest" in s.text), fused=0.79)
    weigh_topic_and_recency(snapshot, [zurich, budapest], ArticleCoverage(snapshot, weights))
    # The template match in the article about something else no longer outweighs the article on the summit.
    assert budapest.topic == 1.0
    assert zurich.topic < 1.0
    assert budapest.fused > zurich.fused


def test_an_undated_article_of_a_later_indexing_run_is_the_story_a_bare_question_means(
    settings, fake_embedder, tmp_path: Path
):
    # The archive, loaded in one run, tells two summits in the question's own words; the article that a
    # later run brought (today's news) tells its summit in other words.
    archive = undated_summits(tmp_path / "archive")
    today = tmp_path / "today"
    today.mkdir()
    (today / "budapest.txt").write_text(
        "Trump und Putin telefonieren\n\nDas Telefonat sei gut gewesen. Das Gipfeltreffen mit Putin soll in "
        "Budapest stattfinden, sagte Trump."
    )
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), fake_embedder)
    service.index_paths([archive])
    service.index_paths([today])
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert Path(answer.sources[0].source).name == "budapest.txt"
    assert "Budapest" in answer.text
    # A question that names what only an archive article tells still gets that one.
    assert "Brüssel" in service.ask("Wo soll der Gipfel des Rates stattfinden?").text


def test_one_indexing_run_records_one_start_and_a_run_that_adds_nothing_none(settings, fake_embedder, tmp_path: Path):
    from index.indexer import index_runs, run_of

    folder = tmp_path / "news"
    folder.mkdir()
    for n in range(40):  # more than one batch (ARTICLES_PER_BATCH): still one run
        (folder / f"{n:02}.txt").write_text(f"Meldung {n}\n\nDer Rat tagte zum {n}. Mal in Brüssel.")
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([folder])
    service.index_paths([folder])  # nothing new: no run to tell apart
    catalog = service.index.catalog
    runs = index_runs(catalog)
    assert len(runs) == 1
    assert {run_of(a.indexed_at, runs) for a in catalog.articles()} == {1}
