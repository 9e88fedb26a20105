"""Input that once crashed or was silently accepted: each is read properly or refused with one German line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.service import NewsService
from index.articles import Article, find_article_files, read_article_file
from index.errors import NewsbotError

TEXT = "Gipfel in Budapest geplant\n\nDer Gipfel der beiden Präsidenten soll in Budapest stattfinden. Größere Pläne."


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_are_read_with_or_without_a_byte_order_mark(tmp_path: Path, encoding: str):
    path = tmp_path / "artikel.txt"
    path.write_bytes(TEXT.encode(encoding))
    article = read_article_file(path)
    assert article.title == "Gipfel in Budapest geplant"
    assert article.text == TEXT


def test_a_zero_byte_far_into_the_file_marks_it_as_binary(tmp_path: Path):
    path = tmp_path / "halb.txt"
    path.write_bytes(TEXT.encode() * 200 + b"\x00\x01\x02\x03" + TEXT.encode())
    assert path.stat().st_size > 8192 * 2
    with pytest.raises(NewsbotError, match="Keine Textdatei"):
        read_article_file(path)


def test_control_characters_throughout_mark_a_file_as_binary(tmp_path: Path):
    path = tmp_path / "steuer.txt"
    path.write_bytes(bytes(range(1, 32)) * 50 + TEXT.encode())
    with pytest.raises(NewsbotError, match="Keine Textdatei"):
        read_article_file(path)


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    with pytest.raises(NewsbotError, match="Keine gewöhnliche Datei"):
        read_article_file(pipe)  # before the fix: blocks forever in open()
    with pytest.raises(NewsbotError, match="Keine gewöhnliche Datei"):
        find_article_files(pipe)


def test_dev_null_is_an_error_not_an_empty_success(settings, fake_embedder):
    service = NewsService.open(settings, fake_embedder)
    with pytest.raises(NewsbotError, match="Keine gewöhnliche Datei"):
        service.index_paths([Path("/dev/null")])
    assert service.status().articles == 0


def test_an_article_over_the_limit_is_refused_and_nothing_of_it_indexed(settings, fake_embedder, tmp_path: Path):
    settings.max_article_chars = 2000
    folder = tmp_path / "gross"
    folder.mkdir()
    (folder / "klein.txt").write_text(TEXT, encoding="utf-8")
    (folder / "buch.txt").write_text(TEXT + "\n\n" + "Ein Satz über Wien. " * 200, encoding="utf-8")  # ~4,100 chars
    (folder / "riesig.txt").write_text("Ein Satz über Graz. " * 1000, encoding="utf-8")  # > 4 bytes a char allowed
    service = NewsService.open(settings, fake_embedder)
    report = service.index_paths([folder])
    assert [Path(p).name for p in report.added] == ["klein.txt"]
    assert sorted(Path(p).name for p, _ in report.failed) == ["buch.txt", "riesig.txt"]
    assert all("Artikel zu lang" in reason and "2000" in reason for _, reason in report.failed)
    assert [a.article_id for a in service.articles()] == report.added


def test_a_long_fetched_article_is_refused_too(settings, fake_embedder):
    settings.max_article_chars = 500
    service = NewsService.open(settings, fake_embedder)
    long_page = Article("https://example.org/a", "https://example.org/a", "Lang", "Wort " * 200)
    report = service.index.add_articles([long_page], origin="url")
    assert report.failed
    assert "Artikel zu lang" in report.failed[0][1]
    assert service.status().articles == 0
