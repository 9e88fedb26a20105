"""A file or URL named twice in one index run is indexed once: Chroma refused the batch's duplicate ids."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.service import NewsService
from index.settings import Settings
from tests.test_web import LOOPBACK_HOSTS


def test_a_file_named_twice_and_inside_a_folder_named_too_is_indexed_once(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    gipfel = articles_dir / "gipfel.txt"
    report = service.index_paths([gipfel, gipfel, articles_dir])
    assert sorted(Path(a).name for a in report.added) == ["bahn.html", "gipfel.txt", "wetter.md"]
    assert not report.failed
    assert "Budapest" in service.ask("Wo soll der Gipfel stattfinden?").text


def test_a_url_named_twice_is_indexed_once(settings: Settings, fake_embedder, httpserver: HTTPServer):
    page = "<html><head><title>Gipfel</title></head><body><article><p>Der Gipfel soll in Budapest stattfinden.</p>"
    httpserver.expect_request("/gipfel").respond_with_data(page + "</article></body></html>", content_type="text/html")
    web = settings.model_copy(update={"fetch_allow_private": LOOPBACK_HOSTS})
    service = NewsService.open(web, fake_embedder)
    url = httpserver.url_for("/gipfel")
    report = service.index_urls([url, url])
    assert report.added == [url]
    assert not report.failed
