"""The BM25 analyser gives the terms bm25s's tokenizer gave: the catalogs' FTS5 terms were written with it.

A question's terms must match the stored terms exactly, so the analyser written out in `bot.lexical` is
compared with `bm25s.tokenize` (as `LexicalIndex` called it before) on every shared article and question.
"""

from __future__ import annotations

import json

import bm25s
import pytest
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

from bot.lexical import (
    QUESTION_STOPWORDS,
    TOKEN_PATTERN,
    Decompounder,
    LexicalIndex,
    _stemmer,
    analyse,
    query_stopwords,
    stopwords,
)
from tests.conftest import shared_data


def bm25s_terms(texts: list[str], language: str, query: bool) -> list[list[str]]:
    """The old analyser: what `LexicalIndex._tokenize` returned before it stopped importing bm25s."""
    lists = {"de": STOPWORDS_GERMAN, "en": STOPWORDS_EN}
    return bm25s.tokenize(
        texts,
        token_pattern=TOKEN_PATTERN,
        stopwords=sorted(set(lists[language]) | set(QUESTION_STOPWORDS[language].split())) if query else language,
        stemmer=_stemmer(language),
        return_ids=False,
        show_progress=False,
    )


def analysed(texts: list[str], language: str, query: bool) -> list[list[str]]:
    stop = query_stopwords(language) if query else stopwords(language)
    return analyse(texts, stop, _stemmer(language).stemWords)


def questions(name: str) -> list[str]:
    path = shared_data() / name
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def paragraphs(folder: str) -> list[str]:
    files = sorted((shared_data() / folder).glob("*.txt"))
    assert files, folder
    return [line for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_stop_word_files_hold_bm25s_lists():
    assert stopwords("de") == set(STOPWORDS_GERMAN)
    assert stopwords("en") == set(STOPWORDS_EN)


@pytest.mark.parametrize("query", [False, True], ids=["as_documents", "as_questions"])
def test_questions_get_the_terms_bm25s_gave(query):
    decompounder = Decompounder()  # no cache on disk: every split computed here
    german = questions("seed_questions.jsonl") + questions("xquad_de_dev/questions.jsonl")
    german += [decompounder.expand(q) for q in german]
    assert analysed(german, "de", query) == bm25s_terms(german, "de", query)
    english = questions("xquad_en_dev/questions.jsonl")
    assert analysed(english, "en", query) == bm25s_terms(english, "en", query)


@pytest.mark.parametrize(
    "folder", ["articles", "xquad_de_dev/articles", pytest.param("news_de/articles", marks=pytest.mark.slow)]
)
def test_articles_get_the_terms_bm25s_gave(folder):
    texts = paragraphs(folder)
    assert analysed(texts, "de", query=False) == bm25s_terms(texts, "de", query=False)
    assert analysed(texts, "de", query=True) == bm25s_terms(texts, "de", query=True)


def test_dev_articles_with_their_compounds_get_the_terms_bm25s_gave():
    """What `document_terms` analyses: sentences with the parts of their compounds added."""
    decompounder = Decompounder()
    texts = [decompounder.expand(t) for t in paragraphs("xquad_de_dev/articles")]
    assert analysed(texts, "de", query=False) == bm25s_terms(texts, "de", query=False)


def test_the_analyser_keeps_single_characters_and_leaves_out_stop_words():
    analyser = LexicalIndex([])
    assert analyser.query_terms("Wer hat 5G in 3 Städten?") == ["5g", "3", "stadt"]
    assert analyser.document_terms("", []) == []


def test_a_terms_presence_is_found_in_the_joined_terms_as_in_the_set_of_terms_and_prefixes():
    """`holds` searches an article's joined terms for what `LexicalIndex.present` looks up in the set of its
    terms and their prefixes: the same answer for every term, also a set joined again (`terms_of`)."""
    from bot.lexical import LexicalIndex, holds, joined_terms, needles, terms_of

    lexical = LexicalIndex([], "de")
    text = (
        "Die Regierung hat die Lieferung von Marschflugkörpern geliefert, gestern in Genf genehmigt; "
        "Gemeinde Zwettlbach eröffnet ein Hallenbad für 12 Millionen Euro, 5G im Tal."
    )
    terms = [t for words in lexical._tokenize([text]) for t in words]
    questions = (
        "Wer lieferte Marschflugkörper? Wann wurde die Lieferung genehmigt, gestern oder heute? Was kostet das "
        "Bad in Zwettl, in Genf, in Gemünden? Gibt es 5G und 12 Euro? Wer hat geliefert, gelobt, gemeldet, Geld?"
    )
    query = set(lexical.query_terms(questions)) | {"gel", "genf", "gener", "liefe", "gelie", "hallenbader", "g", "5"}
    # a participle alone ("geliefert") holds "lieferung" by its letters after the "ge"
    participles = ["geliefert", "gemeldet", "genf", "gas", "zwettlbach"]
    query |= {"lieferung", "meldung", "melde", "genfer", "gemeind", "gas", "gasse", "zwett", "bach"}
    for own in (terms, participles):
        for joined in (joined_terms(own), joined_terms(terms_of(joined_terms(own)))):
            assert terms_of(joined) == terms_of(joined_terms(own))
            present = {t: LexicalIndex.present(t, terms_of(joined_terms(own))) for t in query}
            assert {t: holds(joined, needles(t)) for t in query} == present
            assert any(present.values())
            assert not all(present.values())
    assert terms_of(joined_terms(terms)) == lexical.terms(text)


def test_a_question_typed_with_ss_gets_the_terms_of_its_spelling_with_eszett(tmp_path):
    """Round 9: the stemmer folds "ß" into "ss" itself, but compounds are split before it, by tables of standard
    German: "Aussenminister" stayed whole where the articles' "Außenminister" split into "Außen" and "Minister",
    and "liess" (for "ließ") was a rare word where "ließ" is a question's stop word."""
    articles = LexicalIndex([], "de", Decompounder(tmp_path / "compounds.json"))
    articles.document_terms("", [])
    for text in ("Der Außenminister sprach über die Außengrenzen.", "Die Straßenbahn fährt in den Großstädten."):
        articles._tokenize([text])  # as indexing the article does: its compounds are split and remembered
    for typed, written in (
        ("Was sagte der Aussenminister über die Aussengrenzen?", "Was sagte der Außenminister über die Außengrenzen?"),
        ("Wer liess die Strassenbahn fahren?", "Wer ließ die Straßenbahn fahren?"),
        ("Wie heiss war es in den Grossstädten?", "Wie heiß war es in den Großstädten?"),
        ("Muß man das Fussballfeld mähen, weiss er das?", "Muss man das Fußballfeld mähen, weiß er das?"),
    ):
        assert articles.query_terms(typed) == articles.query_terms(written), typed
    assert "auss" in articles.query_terms("Aussenminister")
