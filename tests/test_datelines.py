"""A dateline ("Wien – ") says where a report was filed, not what it is about: its words are left out of the terms
an article is found by, so a question about Vienna is not answered from any report filed there."""

from __future__ import annotations

import pytest

from bot.lexical import LexicalIndex
from bot.names import dateline_end
from bot.service import NewsService
from index.catalog import TERMS_KEY, SentenceRow
from tests.conftest import service_over_news


@pytest.mark.parametrize(
    ("text", "dateline"),
    [
        ("Wien – Wo die Jobs verschwinden, leiden ganze Regionen.", "Wien – "),
        ("Gaza/Jerusalem – Die Armee meldete am Morgen Angriffe.", "Gaza/Jerusalem – "),
        ("Santiago de Chile – Ein Erdbeben erschütterte das Land.", "Santiago de Chile – "),
        ("St. Pölten – Die Landesregierung tagt.", "St. Pölten – "),
        # a teaser that opens with a dash is no dateline: its first word names no place
        ("Wegen Irreführung der Verbraucher – Kein Preisvergleichsportal, sondern Provisionen.", ""),
        ("Martinsorden in Gold – Der Bürgermeister gratulierte.", ""),
        ("In Wien wurden 37,2 Grad gemessen – ein Rekord.", ""),
        ("Wien ist die Hauptstadt.", ""),
    ],
)
def test_a_dateline_is_a_place_before_a_dash_at_the_start(text, dateline):
    assert text[: dateline_end(text, "de")] == dateline


def test_the_first_dateline_is_left_out_of_the_terms_and_the_headline_with_it():
    analyser = LexicalIndex([], "de")

    def rows(*texts: str) -> list[SentenceRow]:
        return [SentenceRow("a", n, 0, 0, text) for n, text in enumerate(texts)]

    teaser = "Bürgermeister kritisiert Reportage."
    terms = analyser.document_terms(teaser, rows(teaser, "Wien – Die Jobs verschwinden.", "Wien – nicht mehr."))
    assert terms[1].split() == ["burgermeist", "kritisiert", "reportag", "job", "verschwind"]
    assert "wien" in terms[2].split()  # one dateline an article: a later "Wien – " is the text's
    headline = "London – Was kann man für die Ernährung tun?"
    terms = analyser.document_terms(headline, rows(headline, "In Wien ist es heiß."))
    assert "london" not in " ".join(terms).split()
    # a place further down the report is its text
    terms = analyser.document_terms("Titel", rows("Titel", "Ein Satz.", "Noch einer.", "Und einer.", "Wien – Ende."))
    assert "wien" in terms[4].split()


def test_a_report_filed_in_vienna_is_not_found_by_vienna_and_an_old_catalog_is_analysed_again(tmp_path, fake_embedder):
    """0826-etat, on Mürzzuschlag's mayor, names Vienna only in its dateline ("Wien – Wo die Jobs verschwinden"):
    with it, "Wie heißt der Bürgermeister von Wien?" was answered from it at 73 % on the haystack. 0098-inland names
    "den Wiener Bürgermeister" in its text. A catalog analysed before (another analyser's terms) is analysed again
    when it is opened."""
    service = service_over_news(tmp_path / "articles", ("0826-etat", "0098-inland"), fake_embedder)
    catalog = service.index.catalog

    def terms() -> dict[str, set[str]]:
        versions = {r.article_id.rsplit("/", 1)[-1]: r.version for r in catalog.articles()}
        ids = {r.article_id.rsplit("/", 1)[-1]: r.article_id for r in catalog.articles()}
        found = catalog.articles_terms({ids[name]: version for name, version in versions.items()})
        return {name: set((found[ids[name]] or "").split()) for name in ids}

    assert "wien" not in terms()["0826-etat.txt"]
    assert "burgermeist" in terms()["0826-etat.txt"]
    assert "wien" in terms()["0098-inland.txt"]
    settings = service.settings
    with catalog.transaction() as db:  # as the analyser before datelines left it
        db.execute("UPDATE meta SET value = 'de|1' WHERE key = ?", (TERMS_KEY,))
        db.execute("UPDATE article_terms SET terms = terms || ' wien'")
    reopened = NewsService.open(settings, fake_embedder)
    catalog = reopened.index.catalog
    assert "wien" not in terms()["0826-etat.txt"]
