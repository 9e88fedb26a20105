"""The one fetch policy (issue #17): private network, decoded size, deadline, feed entry caps and ids.

Every test talks to a real HTTP server on loopback (pytest-httpserver, or a raw socket server where a
server must misbehave below HTTP). The server's host names are allowed on the private network the way an
operator allows an intranet host; the guard still refuses every other private address.
"""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator

import httpx
import pytest
import zstandard
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from bot.service import NewsService
from index import web
from index.errors import NewsbotError
from index.settings import Settings
from tests.conftest import REPO
from tests.fakes import HashedBagOfWords
from tests.test_web import GIPFEL, Streamed, article_html, requested_paths, rfc822, rss


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "RETRY_WAIT_SECONDS", 0)


@pytest.fixture
def local_settings(settings: Settings) -> Settings:
    """Only `localhost` (the test server's name) may be on the private network: 127.0.0.1 may not."""
    return settings.model_copy(
        update={"fetch_allow_private": ["localhost"], "fetch_max_bytes": 50_000, "fetch_timeout_seconds": 5.0}
    )


@pytest.fixture
def service(local_settings: Settings, fake_embedder: HashedBagOfWords) -> NewsService:
    return NewsService.open(local_settings, fake_embedder)


def indexed_text(service: NewsService) -> str:
    return " ".join(s.text for s in service.index.catalog.sentences())


# ---- the private network: for every source, unless the operator allowed the host -------------------


def test_feed_entries_cannot_reach_the_private_network(service: NewsService, httpserver: HTTPServer) -> None:
    secret = f"http://127.0.0.1:{httpserver.port}/geheim"
    httpserver.expect_request("/geheim").respond_with_data(
        article_html("Intern", "Die Gehaltsliste der Geschäftsführung ist vertraulich"), content_type="text/html"
    )
    httpserver.expect_request("/weiter").respond_with_data("", status=302, headers={"Location": secret})
    items = [
        {"title": "Direkt", "link": secret, "guid": "eins", "description": "Eine harmlose Zusammenfassung."},
        {"title": "Umweg", "link": httpserver.url_for("/weiter"), "guid": "zwei", "description": "Noch eine."},
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")

    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert "/geheim" not in requested_paths(httpserver)
    assert "Gehaltsliste" not in indexed_text(service)
    assert len(report.added) == 2  # from the feed's own summaries
    assert "harmlose Zusammenfassung" in indexed_text(service)


def test_cli_refuses_a_private_address_unless_its_host_is_allowed(
    settings: Settings,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    fake_embedder: HashedBagOfWords,
) -> None:
    from bot.cli import cli

    monkeypatch.setattr("bot.service.make_embedder", lambda settings: fake_embedder)
    httpserver.expect_request("/gipfel").respond_with_data(article_html("Gipfel", GIPFEL), content_type="text/html")
    url = f"http://127.0.0.1:{httpserver.port}/gipfel"
    env = {"NEWSBOT_DATA_DIR": str(settings.data_dir)}

    refused = CliRunner().invoke(cli, ["index", "add", url], env=env)
    allowed = CliRunner().invoke(cli, ["index", "add", url], env={**env, "NEWSBOT_FETCH_ALLOW_PRIVATE": "127.0.0.1"})

    assert refused.exit_code == 2
    assert "Diese Adresse darf nicht abgerufen werden" in refused.output
    assert (allowed.exit_code, "1 neu" in allowed.output) == (0, True)
    assert requested_paths(httpserver) == ["/gipfel"]


def test_allowed_private_hosts_read_as_a_comma_separated_list_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE", "Intranet.Example, 10.0.0.5,[::1]")
    assert Settings(_env_file=None).fetch_allow_private == ["intranet.example", "10.0.0.5", "::1"]  # type: ignore[call-arg]
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE", '["intranet.example"]')
    assert Settings(_env_file=None).fetch_allow_private == ["intranet.example"]  # type: ignore[call-arg]


# ---- the size limit counts decoded bytes ---------------------------------------------------------


def compressed_zeros(coding: str, size: int) -> bytes:
    """`size` zero bytes compressed by the content coding `coding`, produced a megabyte at a time."""
    block = bytes(1 << 20)
    if coding == "zstd":
        zstd = zstandard.ZstdCompressor(level=1).compressobj()
        return b"".join(zstd.compress(block) for _ in range(size >> 20)) + zstd.flush()
    gzip = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(gzip.compress(block) for _ in range(size >> 20)) + gzip.flush()


def gzip_bytes(data: bytes) -> bytes:
    gzip = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return gzip.compress(data) + gzip.flush()


def serve_encoded(httpserver: HTTPServer, path: str, body: bytes, encoding: str) -> str:
    httpserver.expect_request(path).respond_with_data(
        body, content_type="text/plain; charset=utf-8", headers={"Content-Encoding": encoding}
    )
    return httpserver.url_for(path)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip_bytes),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
        ("gzip, gzip", lambda data: gzip_bytes(gzip_bytes(data))),
        ("zstd, gzip", lambda data: gzip_bytes(zstandard.ZstdCompressor().compress(data))),
    ],
)
def test_compressed_bodies_are_decoded(encoding: str, encode, local_settings: Settings, httpserver: HTTPServer) -> None:  # type: ignore[no-untyped-def]
    text = "Der Gipfel findet in Budapest statt. " * 1000
    url = serve_encoded(httpserver, "/seite", encode(text.encode()), encoding)
    assert web.fetch(url, local_settings).text == text


def test_a_compressed_body_over_the_limit_is_refused_while_decoding(
    local_settings: Settings, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces: list[int] = []
    write = web._LimitedBody.write
    monkeypatch.setattr(web._LimitedBody, "write", lambda self, data: pieces.append(len(data)) or write(self, data))
    url = serve_encoded(httpserver, "/bombe", gzip_bytes(compressed_zeros("gzip", 64 << 20)), "gzip, gzip")

    with pytest.raises(NewsbotError, match=r"Antwort zu groß: .*/bombe \(mehr als 50000 Bytes\)"):
        web.fetch(url, local_settings)
    assert max(pieces) <= web.DECODE_PIECE_BYTES
    assert sum(pieces) <= local_settings.fetch_max_bytes + web.DECODE_PIECE_BYTES


@pytest.mark.parametrize("encoding", ["br", "gzip, gzip, gzip, gzip"])
def test_unknown_or_piled_up_content_codings_are_refused(
    encoding: str, local_settings: Settings, httpserver: HTTPServer
) -> None:
    url = serve_encoded(httpserver, "/seite", b"\x1f\x8b...", encoding)
    with pytest.raises(NewsbotError, match="nicht unterstützt"):
        web.fetch(url, local_settings)


@pytest.mark.slow
@pytest.mark.parametrize(("encoding", "coding"), [("gzip, gzip", "gzip"), ("zstd", "zstd")])
def test_a_compression_bomb_keeps_memory_bounded(encoding: str, coding: str, httpserver: HTTPServer) -> None:
    """1 GB of zeros in a few kilobytes (gzip of gzip) or 32 KB (zstd); measured in a process of its own."""
    inner = compressed_zeros(coding, 1 << 30)
    body = gzip_bytes(inner) if encoding == "gzip, gzip" else inner
    url = serve_encoded(httpserver, "/bombe", body, encoding)

    run = subprocess.run(
        [sys.executable, "-m", "tests.fetch_driver", url, "5000000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured = json.loads(run.stdout)
    grown_mb = (measured["peak_kb"] - measured["idle_kb"]) / 1024
    print(f"{encoding}: {len(body)} bytes sent, peak RSS {grown_mb:.1f} MB above idle")
    assert "Antwort zu groß" in measured["error"]
    assert grown_mb <= 300


# ---- one deadline for the whole fetch ------------------------------------------------------------


class Dribbler(socketserver.BaseRequestHandler):
    """Answers any request with a redirect to `target`, one byte every 0.2 s (some 20 s for all of it)."""

    target = ""

    def handle(self) -> None:
        self.request.recv(65536)
        response = f"HTTP/1.1 302 Found\r\nLocation: {self.target}\r\nContent-Length: 0\r\n\r\n".encode()
        for byte in response:
            if self.server.stopping.is_set():  # type: ignore[attr-defined]
                return
            try:
                self.request.sendall(bytes([byte]))
            except OSError:  # the client gave up
                return
            time.sleep(0.2)


@pytest.fixture
def dribbling_server(httpserver: HTTPServer) -> Iterator[str]:
    """A server that redirects, byte by byte, to a page on `httpserver`."""
    httpserver.expect_request("/ziel").respond_with_data("Angekommen", content_type="text/plain")
    handler = type("DribblerToTarget", (Dribbler,), {"target": httpserver.url_for("/ziel")})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.stopping.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_a_server_dribbling_its_headers_is_cut_at_the_deadline(
    dribbling_server: str, settings: Settings, httpserver: HTTPServer
) -> None:
    # every byte arrives well within the read timeout; only a deadline on the whole fetch stops it
    slow = settings.model_copy(update={"fetch_allow_private": ["127.0.0.1", "localhost"], "fetch_timeout_seconds": 1.0})
    with pytest.raises(NewsbotError, match=r"URL nicht erreichbar: .* \(Zeitüberschreitung\)"):
        web.fetch(dribbling_server, slow)
    assert requested_paths(httpserver) == []


def test_an_unresponsive_server_is_a_timeout(settings: Settings) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        slow = settings.model_copy(update={"fetch_allow_private": ["127.0.0.1"], "fetch_timeout_seconds": 0.5})
        with pytest.raises(NewsbotError, match="Zeitüberschreitung"):
            web.fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/", slow)


def test_a_dns_server_that_does_not_answer_is_cut_at_the_deadline(settings: Settings) -> None:
    released = threading.Event()

    def stuck_resolver(host: str, port: int) -> list[str]:
        released.wait(30)  # as a DNS server that never answers, until the test ends
        return ["93.184.216.34"]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Streamed(b"Hallo"), headers={"Content-Type": "text/plain"})

    slow = settings.model_copy(update={"fetch_timeout_seconds": 0.5})
    try:
        with pytest.raises(NewsbotError, match=r"http://langsam\.example/ \(Zeitüberschreitung\)"):
            web.fetch("http://langsam.example/", slow, resolver=stuck_resolver, transport=httpx.MockTransport(handler))
    finally:
        released.set()


# ---- feeds: a cap on entries, ids one feed cannot forge for another source -------------------------


def test_only_the_newest_entries_of_a_long_feed_are_read(service: NewsService, httpserver: HTTPServer) -> None:
    days = [3, 9, 1, 7, 5, 10, 2, 8, 4, 6]  # not in order: the newest are found by date
    items = []
    for day in days:
        httpserver.expect_request(f"/artikel/{day}").respond_with_data(
            article_html(f"Meldung {day}", f"Am {day}. Mai geschah etwas Neues. Mehr dazu morgen"),
            content_type="text/html",
        )
        items.append({"title": f"Meldung {day}", "link": httpserver.url_for(f"/artikel/{day}"), "pubDate": rfc822(day)})
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    service.settings = service.settings.model_copy(update={"feed_max_entries": 3})

    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert sorted(requested_paths(httpserver)) == ["/artikel/10", "/artikel/8", "/artikel/9", "/feed.xml"]
    assert len(report.added) == 3


def test_feed_entry_cannot_replace_an_article_of_another_host(service: NewsService, httpserver: HTTPServer) -> None:
    victim = f"http://127.0.0.1:{httpserver.port}/politik/gipfel"
    httpserver.expect_request("/politik/gipfel").respond_with_data(
        article_html("Gipfel in Budapest", GIPFEL), content_type="text/html"
    )
    allowed = service.settings.model_copy(update={"fetch_allow_private": ["localhost", "127.0.0.1"]})
    service.settings = allowed
    assert service.index_urls([victim]).added == [victim]
    # a feed on another host claims the article's URL as its entry's id, and says it was updated since
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Fremd</title>'
        "<id>urn:uuid:fremd</id><updated>2099-01-01T00:00:00Z</updated>"
        f"<entry><id>{victim}</id><title>Gipfel abgesagt</title>"
        f'<link href="{httpserver.url_for("/weg")}"/><updated>2099-01-01T00:00:00Z</updated>'
        "<summary>Der Gipfel findet in Moskau statt, alle Delegationen sind abgereist.</summary></entry></feed>"
    )
    httpserver.expect_request("/atom.xml").respond_with_data(atom, content_type="application/atom+xml")
    httpserver.expect_request("/weg").respond_with_data("", status=404)

    report = service.index_feed(httpserver.url_for("/atom.xml"))

    assert report.updated == []
    assert report.added == [f"{httpserver.url_for('/atom.xml')}#{victim}"]
    record = service.index.catalog.article(victim)
    assert record is not None
    assert record.title == "Gipfel in Budapest"
    victim_text = " ".join(s.text for s in service.index.catalog.sentences() if s.article_id == victim)
    assert "in Budapest statt" in victim_text
    assert "Moskau" not in victim_text


@pytest.mark.parametrize(
    ("guid", "link", "expected"),
    [
        ("{feed_site}/artikel/1?utm_source=rss", None, "{feed_site}/artikel/1"),  # own site: the URL
        ("https://www.news.example/artikel/1", None, "https://www.news.example/artikel/1"),  # www. is the same site
        ("http://other.example/artikel/1", None, "{feed}#http://other.example/artikel/1"),
        ("urn:uuid:1225c695-cfb8-4ebb", None, "{feed}#urn:uuid:1225c695-cfb8-4ebb"),
        ("4711", None, "{feed}#4711"),
        ("", "{feed_site}/artikel/2", "{feed_site}/artikel/2"),
        ("", "http://other.example/artikel/2", "{feed}#http://other.example/artikel/2"),
    ],
)
def test_entry_ids_are_scoped_to_the_feeds_site(guid: str, link: str | None, expected: str) -> None:
    feed = "https://news.example/rss.xml"
    values = {"feed": feed, "feed_site": "https://news.example"}
    link = link.format(**values) if link else None
    assert web._entry_id(guid.format(**values), link, feed) == expected.format(**values)


def test_an_article_over_the_size_cap_is_not_indexed(service: NewsService, httpserver: HTTPServer) -> None:
    long_text = "Der Gipfel findet in Budapest statt. " * 40
    httpserver.expect_request("/lang").respond_with_data(article_html("Lang", long_text), content_type="text/html")
    service.settings = service.settings.model_copy(update={"max_article_chars": 500})

    report = service.index_urls([httpserver.url_for("/lang")])

    assert report.added == []
    assert "Artikel zu lang" in report.failed[0][1]
    assert service.articles() == []


def test_a_feed_entrys_oversized_summary_is_not_indexed(service: NewsService, httpserver: HTTPServer) -> None:
    item = {"title": "Lang", "guid": "lang-1", "description": "Der Gipfel findet in Budapest statt. " * 40}
    httpserver.expect_request("/feed.xml").respond_with_data(rss([item]), content_type="application/rss+xml")
    service.settings = service.settings.model_copy(update={"max_article_chars": 500})

    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert (report.added, len(report.failed)) == ([], 1)
    assert "Artikel zu lang" in report.failed[0][1]
