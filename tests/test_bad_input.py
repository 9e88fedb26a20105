"""Input that once crashed or was silently accepted: each is read properly or refused with one German line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.service import NewsService
from index import chunking
from index.articles import Article, find_article_files, read_article_file
from index.chunking import split_article, split_sentences
from index.errors import NewsbotError
from tests.conftest import shared_data

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


def test_a_pipe_or_a_link_to_nothing_in_a_folder_is_reported_as_failed_with_its_reason(
    settings, fake_embedder, tmp_path: Path
):
    """Both were left out of a folder's run unseen: the count line said 1 neu, 0 fehlgeschlagen."""
    folder = tmp_path / "ordner"
    folder.mkdir()
    (folder / "artikel.txt").write_text(TEXT, encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    (folder / "weg.txt").symlink_to(tmp_path / "gibt-es-nicht.txt")
    service = NewsService.open(settings, fake_embedder)
    report = service.index_paths([folder])  # before the fix too: nothing waits on the pipe
    assert [Path(p).name for p in report.added] == ["artikel.txt"]
    reasons = {Path(p).name: reason for p, reason in report.failed}
    assert sorted(reasons) == ["pipe.txt", "weg.txt"]
    assert "Keine gewöhnliche Datei" in reasons["pipe.txt"]
    assert "Verknüpfung ohne Ziel" in reasons["weg.txt"]
    assert "1 neu, 0 aktualisiert, 0 unverändert, 0 entfernt, 2 fehlgeschlagen" in report.summary()
    assert [a.article_id for a in service.articles()] == report.added


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


def _news_paragraph(chars: int) -> str:
    """German news text as one paragraph (no line breaks) of about `chars` characters."""
    text = " ".join(
        path.read_text(encoding="utf-8").replace("\n", " ")
        for path in sorted((shared_data() / "news_de" / "articles").glob("*.txt"))[:60]
    )
    return text[:chars].rsplit(" ", 1)[0]


def test_a_long_paragraph_reaches_the_sentence_splitter_in_windows(monkeypatch: pytest.MonkeyPatch):
    """pysbd's cost grows with the square of the text it gets (a 200,000-character paragraph took 25 s,
    a 1 MB one would take minutes): it must never get more than a window at once."""
    paragraph = _news_paragraph(30_000)
    seen: list[int] = []
    segmenter = chunking._segmenter("de")
    original = segmenter.processor

    def recording(text: str):  # type: ignore[no-untyped-def]
        seen.append(len(text))
        return original(text)

    def recording_segment(text: str):  # type: ignore[no-untyped-def]
        seen.append(len(text))
        return original_segment(text)

    original_segment = segmenter.segment
    monkeypatch.setattr(segmenter, "processor", recording)
    monkeypatch.setattr(segmenter, "segment", recording_segment)
    sentences = split_sentences(paragraph)
    assert max(seen) <= 2 * chunking.WINDOW_CHARS
    assert " ".join(s for _, _, s in sentences).split() == paragraph.split()  # nothing lost, nothing doubled


def test_windows_find_the_same_sentences_as_reading_the_paragraph_whole(monkeypatch: pytest.MonkeyPatch):
    paragraph = _news_paragraph(12_000)
    whole = split_sentences(paragraph)  # under two windows: read at once
    monkeypatch.setattr(chunking, "WINDOW_CHARS", 700)  # about 18 windows
    assert split_sentences(paragraph) == whole


def test_every_sentence_is_held_by_the_first_chunk_that_contains_it():
    article = Article("x", "x", "T", "\n\n".join(_news_paragraph(3000) for _ in range(8)))
    parts = split_article(article, 400, 80)
    for sentence in parts.sentences:
        end = sentence.start + len(sentence.text)
        expected = next(
            (c.index for c in parts.chunks if c.start <= sentence.start and end <= c.start + len(c.text)),
            max((c.index for c in parts.chunks if c.start <= sentence.start), default=0),
        )
        assert sentence.chunk == expected


def test_the_limit_counts_an_html_page_by_its_text_not_its_markup(settings, fake_embedder, tmp_path: Path):
    settings.max_article_chars = 2000
    folder = tmp_path / "seiten"
    folder.mkdir()
    markup = "<div class='menu'><span>x</span></div>" * 100  # ~3,900 characters of markup, no text worth keeping
    paragraph = "<p>Die Bahnstrecke zwischen Graz und Klagenfurt wurde am Freitag eröffnet.</p>"
    (folder / "kurz.html").write_text(
        f"<html><head><title>Bahn</title><style>{markup}</style></head><body><article>{paragraph}</article></body></html>",
        encoding="utf-8",
    )
    (folder / "lang.html").write_text(
        "<html><head><title>Lang</title></head><body><article>"
        + "".join(f"<p>Absatz {n}: Die Strecke wurde um {n} Kilometer verlängert.</p>" for n in range(60))
        + "</article></body></html>",
        encoding="utf-8",
    )
    report = NewsService.open(settings, fake_embedder).index_paths([folder])
    assert [Path(p).name for p in report.added] == ["kurz.html"]
    assert [Path(p).name for p, _ in report.failed] == ["lang.html"]


def test_a_data_dir_that_cannot_be_a_folder_is_one_line(settings, fake_embedder, tmp_path: Path):
    """NEWSBOT_DATA_DIR under a file (a typo, or a path copied from another machine): "Unerwarteter Fehler
    (NotADirectoryError)" and exit code 1 before."""
    from index.texts import message

    (tmp_path / "datei").write_text("x", encoding="utf-8")
    unusable = settings.model_copy(update={"data_dir": tmp_path / "datei" / "data"})
    with pytest.raises(NewsbotError) as raised:
        NewsService.open(unusable, fake_embedder)
    assert raised.value.message == message("data_dir_unusable", path=str(unusable.data_dir), reason="Not a directory")
