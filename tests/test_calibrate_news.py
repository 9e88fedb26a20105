"""The calibration's news rows (benchmarks/calibrate_refusal.py): half A only, and near misses whose fact is gone."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from index.indexer import NewsIndex
from index.settings import Settings
from tests.conftest import REPO

ARTICLES = {
    "0001-web.txt": "Neuer Tarif von A1 für Wertkarten. Der Tarif beinhaltet 1.000 Minuten Telefonie. "
    "Anfangs kostet der Tarif 20 Euro im Monat. Das Netz ist LTE.",
    "0002-sport.txt": "Der Verein gewann das Finale. Gespielt wurde das Finale in Wien vor vollem Haus. "
    "Trainer des Vereins ist Hans Muster.",
    "0003-inland.txt": "Der Landtag beschloss das Budget. Die Abstimmung endete mit 30 zu 26 Stimmen.",
}
QUESTIONS = [
    {"id": "nh-0001-1", "question": "Wie viele Minuten Telefonie beinhaltet der Tarif?", "answers": ["1.000 Minuten"]},
    {"id": "nh-0001-1-en", "question": "How many minutes of calls does the Tarif hold?", "answers": ["1.000 Minuten"]},
    {"id": "nh-0001-2", "question": "Wie viel kostet der Tarif anfangs im Monat?", "answers": ["20 Euro"]},
    {"id": "nh-0002-1", "question": "Wo wurde das Finale gespielt?", "answers": ["Wien"]},
]
QUESTIONS = [{**q, "article": q["id"][3:7] + ("-web.txt" if "0001" in q["id"] else "-sport.txt")} for q in QUESTIONS]
WRITTEN = {"question": "Wie viele Kunden hat A1 mit dem Tarif?", "answers": [], "unanswerable": True}
LINES = [
    *({**q, "split": "A"} for q in QUESTIONS),
    {**WRITTEN, "id": "nh-0001-miss", "article": None, "topic_article": "0001-web.txt", "split": "A"},
    {"id": "nh-0003-1", "question": "Wie endete die Abstimmung?", "answers": ["30 zu 26"], "article": "0003-inland.txt"}
    | {"split": "B"},
]


@pytest.fixture
def calibration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The calibration script, its news read from a folder of three articles and a question file of both halves."""
    spec = importlib.util.spec_from_file_location("calibrate_refusal", REPO / "benchmarks" / "calibrate_refusal.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "calibrate_refusal", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    folder = tmp_path / "news"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "news_heldout.jsonl"
    questions.write_text("".join(json.dumps(line) + "\n" for line in LINES), encoding="utf-8")
    monkeypatch.setattr(module, "NEWS_ARTICLES", folder)
    monkeypatch.setattr(module, "NEWS_QUESTIONS", questions)
    return module


def index_of(path: Path, embedder, articles: list[Path]) -> Path:  # type: ignore[no-untyped-def]
    NewsIndex(Settings(_env_file=None, data_dir=path), embedder).add_paths(articles)  # type: ignore[call-arg]
    return path


def test_news_rows_are_half_a_and_a_made_near_miss_no_longer_holds_its_answer(calibration, tmp_path, fake_embedder):
    base = index_of(tmp_path / "scratch" / "base", fake_embedder, [tmp_path / "news"])
    rows = calibration.news_rows(base, fake_embedder, haystack=True)

    assert all(r.scenario == "haystack" for r in rows)
    assert "Wie endete die Abstimmung?" not in {r.question for r in rows}  # half B is never fitted on
    kinds = sorted((r.question, r.kind, r.language, r.group) for r in rows)
    languages = ["en" if q["id"].endswith("-en") else "de" for q in QUESTIONS]
    expected = [(q["question"], "answerable", lang, q["article"]) for q, lang in zip(QUESTIONS, languages, strict=True)]
    expected += [(WRITTEN["question"], "near_miss", "de", "0001-web.txt")]
    expected += [(question, "near_miss", language, group) for question, _, language, group in expected[:4]]
    assert kinds == sorted(expected)
    for row in rows:
        gold = next((q["answers"][0] for q in QUESTIONS if q["question"] == row.question), None)
        if gold and row.language == "de":  # the words of the question find its sentence while it is there
            assert (gold in row.answer) == (row.kind == "answerable"), row
    assert not (tmp_path / "scratch" / "news-haystack").exists()


def test_on_the_small_index_the_news_articles_asked_about_are_added(calibration, tmp_path, fake_embedder):
    base = index_of(tmp_path / "scratch" / "base", fake_embedder, [REPO / "examples" / "articles"])
    rows = calibration.news_rows(base, fake_embedder, haystack=False)

    answered = {r.question: r.answer for r in rows if r.kind == "answerable" and r.language == "de"}
    assert all(r.scenario == "small" for r in rows)
    for question in QUESTIONS:
        if question["question"] in answered:
            assert question["answers"][0] in answered[question["question"]]
    assert len(answered) == 3
