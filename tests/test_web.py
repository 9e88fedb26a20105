"""Web pages and feeds as sources: fetched from a real HTTP server on loopback, indexed into a real Chroma.

The private-network guard is tested on literal addresses (refused before any connection) and with an
injected resolver and transport for what needs a public-looking host. The test server is on loopback,
so most tests allow exactly its host names (`NEWSBOT_FETCH_ALLOW_PRIVATE`), as an operator would an
intranet host.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.service import NewsService
from index import web
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message
from tests.fakes import HashedBagOfWords

GIPFEL = (
    "Der Gipfel der beiden Präsidenten findet in Budapest statt. "
    "Das Treffen ist für die kommende Woche geplant. Die Delegationen reisen am Montag an."
)
GIPFEL_WIEN = (
    "Der Gipfel der beiden Präsidenten findet nun in Wien statt. "
    "Das Treffen wurde kurzfristig verlegt. Die Delegationen reisen am Montag an."
)


def article_html(title: str, text: str, *, canonical: str | None = None, published: str | None = None) -> str:
    head = f"<title>{title}</title>"
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    if published:
        head += f'<meta property="article:published_time" content="{published}">'
    paragraphs = "".join(f"<p>{sentence.rstrip('.')}.</p>" for sentence in text.split(". ") if sentence)
    return (
        f"<html><head>{head}</head><body><nav>Startseite Politik Wetter</nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>Impressum</footer></body></html>"
    )


def rss(items: list[dict[str, str]]) -> str:
    rendered = "".join(
        "<item>" + "".join(f"<{key}>{value}</{key}>" for key, value in item.items()) + "</item>" for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Testnachrichten</title>'
        f"<link>http://localhost/</link><description>Test</description>{rendered}</channel></rss>"
    )


def rfc822(day: int) -> str:
    return format_datetime(datetime(2024, 5, day, 8, 0, tzinfo=UTC))


def requested_paths(httpserver: HTTPServer) -> list[str]:
    return [request.path for request, _ in httpserver.log]


class Streamed(httpx.AsyncByteStream):
    """A body that arrives as a stream, as from a server (httpx reads a `content=` body at once)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries still happen, without the back-off pauses."""
    monkeypatch.setattr(web, "RETRY_WAIT_SECONDS", 0)


LOOPBACK_HOSTS = ["localhost", "127.0.0.1"]


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    """The test server is on loopback, which the guard refuses unless its host names are allowed."""
    return settings.model_copy(
        update={"fetch_allow_private": LOOPBACK_HOSTS, "fetch_max_bytes": 50_000, "fetch_timeout_seconds": 5.0}
    )


@pytest.fixture
def service(web_settings: Settings, fake_embedder: HashedBagOfWords) -> NewsService:
    return NewsService.open(web_settings, fake_embedder)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- URLs and the private-network guard ---------------------------------------------------------


def test_normalise_url_lowercases_host_and_drops_fragment_default_port_and_tracking() -> None:
    assert (
        web.normalise_url("HTTPS://News.Example:443/Politik/Gipfel?utm_source=rss&id=7&UTM_Medium=x#kommentare")
        == "https://news.example/Politik/Gipfel?id=7"
    )
    assert web.normalise_url("http://news.example:8080") == "http://news.example:8080/"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.0.0.7",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "::",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "fc00::1",
    ],
)
def test_is_public_address_refuses_local_and_private_addresses(address: str) -> None:
    assert not web.is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_is_public_address_accepts_internet_addresses(address: str) -> None:
    assert web.is_public_address(address)


def test_checked_address_refuses_a_host_with_any_private_address() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.1"]

    with pytest.raises(NewsbotError, match="darf nicht abgerufen werden"):
        web.checked_address(httpx.URL("https://news.example/"), resolver)


def test_checked_address_reports_an_unresolvable_host() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(NewsbotError, match="Name nicht auflösbar"):
        web.checked_address(httpx.URL("https://nowhere.example/"), resolver)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://[::1]:{port}/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:{port}/",
    ],
)
def test_url_to_private_address_is_refused_before_connecting(
    url: str,
    settings: Settings,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/").respond_with_data("geheim", content_type="text/plain")
    assert settings.fetch_allow_private == []
    with pytest.raises(NewsbotError, match="darf nicht abgerufen werden"):
        web.fetch(url.format(port=httpserver.port), settings)
    assert httpserver.log == []


def test_url_reaches_loopback_when_its_host_is_allowed(
    web_settings: Settings,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/").respond_with_data("Hallo", content_type="text/plain")
    assert web.fetch(httpserver.url_for("/"), web_settings).text == "Hallo"


def test_redirect_to_loopback_is_refused_at_the_redirect_hop(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:8080/admin"})

    def resolver(host: str, port: int) -> list[str]:
        return {"news.example": ["93.184.216.34"]}[host]

    with pytest.raises(NewsbotError, match=r"darf nicht abgerufen werden: http://127\.0\.0\.1:8080/admin"):
        web.fetch(
            "http://news.example/artikel",
            settings,
            resolver=resolver,
            transport=httpx.MockTransport(handler),
        )
    assert len(seen) == 1


def test_redirect_to_a_name_resolving_privately_is_refused(settings: Settings) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://intranet.example/"})

    addresses = {"news.example": ["93.184.216.34"], "intranet.example": ["192.168.0.10"]}
    with pytest.raises(NewsbotError, match="darf nicht abgerufen werden"):
        web.fetch(
            "http://news.example/",
            settings,
            resolver=lambda host, port: addresses[host],
            transport=httpx.MockTransport(handler),
        )


def test_guarded_request_connects_to_the_checked_address_with_the_original_host(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=Streamed(b"Hallo"), headers={"Content-Type": "text/plain"})

    page = web.fetch(
        "https://News.Example/artikel",
        settings,
        resolver=lambda host, port: ["93.184.216.34"],
        transport=httpx.MockTransport(handler),
    )
    assert page.url == "https://news.example/artikel"
    assert seen[0].url.host == "93.184.216.34"
    assert seen[0].headers["Host"] == "news.example"
    assert seen[0].extensions["sni_hostname"] == "news.example"


# ---- fetching ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/datei.html", "javascript:alert(1)", "news.example/artikel", ""]
)
def test_fetch_refuses_anything_but_http(url: str, web_settings: Settings) -> None:
    with pytest.raises(NewsbotError, match="Ungültige URL"):
        web.fetch(url, web_settings)


def test_redirect_to_another_scheme_is_refused(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/weiter").respond_with_data("", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(NewsbotError, match="Ungültige URL: file:"):
        web.fetch(httpserver.url_for("/weiter"), web_settings)


def test_redirects_are_followed_up_to_a_limit(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/alt").respond_with_data("", status=301, headers={"Location": "/neu"})
    httpserver.expect_request("/neu").respond_with_data("Angekommen", content_type="text/plain")
    for hop in range(web.MAX_REDIRECTS + 1):
        httpserver.expect_request(f"/kreis{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/kreis{hop + 1}"}
        )

    page = web.fetch(httpserver.url_for("/alt"), web_settings)
    assert (page.text, page.url) == ("Angekommen", httpserver.url_for("/neu"))
    with pytest.raises(NewsbotError, match="zu viele Weiterleitungen"):
        web.fetch(httpserver.url_for("/kreis0"), web_settings)


def test_not_found_is_unreachable_with_the_status(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/weg").respond_with_data("nicht da", status=404)
    with pytest.raises(NewsbotError, match=r"URL nicht erreichbar: .*/weg \(HTTP 404\)"):
        web.fetch(httpserver.url_for("/weg"), web_settings)


def test_an_english_deployment_is_told_why_a_fetch_failed_in_english(
    web_settings: Settings, closed_port: int, httpserver: HTTPServer
) -> None:
    """With NEWSBOT_LANGUAGE=en, `index add` of an address nobody answers, a page given as a feed, an address
    that is no URL or a private one each printed a German line."""
    english = web_settings.model_copy(update={"language": "en"})
    httpserver.expect_request("/seite").respond_with_data("<html><body>x</body></html>", content_type="text/html")
    unreachable = f"http://127.0.0.1:{closed_port}/"
    page = httpserver.url_for("/seite")

    def refusal(call) -> str:
        with pytest.raises(NewsbotError) as raised:
            call()
        return raised.value.message

    connect = message("web_reason_connect", "en")
    assert refusal(lambda: web.fetch(unreachable, english)) == message(
        "url_unreachable", "en", url=unreachable, reason=connect
    )
    assert refusal(lambda: web.read_feed(page, english)) == message(
        "feed_wrong_type", "en", url=page, content_type="text/html"
    )
    assert refusal(lambda: web.fetch("ftp://example.org/a", english)) == message(
        "url_invalid", "en", url="ftp://example.org/a"
    )
    private = english.model_copy(update={"fetch_allow_private": []})
    assert refusal(lambda: web.fetch(unreachable, private)) == message("url_forbidden", "en", url=unreachable)


def test_refused_connection_is_unreachable(web_settings: Settings, closed_port: int) -> None:
    with pytest.raises(NewsbotError, match=r"URL nicht erreichbar: .* \(keine Verbindung\)"):
        web.fetch(f"http://127.0.0.1:{closed_port}/", web_settings)


def test_transient_server_error_is_retried(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/wackelig").respond_with_data("besetzt", status=503)
    httpserver.expect_request("/wackelig").respond_with_data("Jetzt geht es", content_type="text/plain")
    assert web.fetch(httpserver.url_for("/wackelig"), web_settings).text == "Jetzt geht es"
    assert requested_paths(httpserver) == ["/wackelig", "/wackelig"]


def test_lasting_server_error_gives_up_after_the_attempts(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/kaputt").respond_with_data("besetzt", status=503)
    with pytest.raises(NewsbotError, match=r"\(HTTP 503\)"):
        web.fetch(httpserver.url_for("/kaputt"), web_settings)
    assert len(httpserver.log) == web.FETCH_ATTEMPTS


@pytest.mark.parametrize("retry_after", ["120", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_server_asking_for_a_pause_is_not_asked_again_at_once(
    retry_after: str, web_settings: Settings, httpserver: HTTPServer
) -> None:
    """429 with Retry-After: 120 was asked twice more within half a second, as if it were a passing failure."""
    httpserver.expect_request("/feed.xml").respond_with_data(
        "langsam", status=429, headers={"Retry-After": retry_after}
    )
    with pytest.raises(NewsbotError, match=r"\(HTTP 429, Pause erbeten: \d+ s\)") as raised:
        web.read_feed(httpserver.url_for("/feed.xml"), web_settings)
    assert "\n" not in raised.value.message
    assert len(httpserver.log) == 1


def test_the_running_bot_polls_no_feed_again_before_the_pause_it_asked_for_is_over(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """A feed answering 429 with Retry-After: 3600 was asked again at every poll (every 5 minutes, say)."""
    httpserver.expect_request("/feed.xml").respond_with_data("langsam", status=429, headers={"Retry-After": "3600"})
    feed = httpserver.url_for("/feed.xml")
    with pytest.raises(NewsbotError, match=r"HTTP 429, Pause erbeten: 3600 s"):
        service.index_feed(feed)
    with pytest.raises(NewsbotError) as again:
        service.index_feed(feed)
    assert again.value.message.startswith(message("feed_paused", url=feed, seconds=9999).split("9999")[0])
    assert len(httpserver.log) == 1


def test_a_short_retry_after_is_waited_for_and_then_retried(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/wackelig").respond_with_data(
        "besetzt", status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_request("/wackelig").respond_with_data("Jetzt geht es", content_type="text/plain")
    assert web.fetch(httpserver.url_for("/wackelig"), web_settings).text == "Jetzt geht es"
    assert requested_paths(httpserver) == ["/wackelig", "/wackelig"]


def test_wrong_content_type_is_refused(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bild").respond_with_data(b"\x89PNG\r\n\x1a\n", content_type="image/png")
    with pytest.raises(NewsbotError, match="Kein Artikel \\(Inhaltstyp image/png\\)"):
        web.fetch(httpserver.url_for("/bild"), web_settings)


def test_a_web_page_given_as_a_feed_is_refused_as_no_feed(web_settings: Settings, httpserver: HTTPServer) -> None:
    """The site's address instead of its feed's read "Kein Artikel (Inhaltstyp text/html)": of an article page."""
    httpserver.expect_request("/").respond_with_data("<html><p>Startseite</p></html>", content_type="text/html")
    with pytest.raises(NewsbotError, match=r"^Kein RSS- oder Atom-Feed \(Inhaltstyp text/html\): .*index add$"):
        web.read_feed(httpserver.url_for("/"), web_settings)


def test_streamed_response_beyond_the_limit_is_cut_off(web_settings: Settings, httpserver: HTTPServer) -> None:
    def endless_page(request: Request) -> Response:
        def pieces() -> Iterator[bytes]:
            yield b"<html><body><p>"
            for _ in range(2_000):  # 20 MB, far past the 50 kB limit, without a Content-Length
                yield b"Nachrichten " * 850

        return Response(pieces(), content_type="text/html; charset=utf-8")

    httpserver.expect_request("/endlos").respond_with_handler(endless_page)
    with pytest.raises(NewsbotError, match=r"Antwort zu groß: .*/endlos \(mehr als 50000 Bytes\)"):
        web.fetch(httpserver.url_for("/endlos"), web_settings)


def test_declared_oversized_response_is_refused(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gross").respond_with_data(b"x" * 60_000, content_type="text/plain")
    with pytest.raises(NewsbotError, match="Antwort zu groß"):
        web.fetch(httpserver.url_for("/gross"), web_settings)


def test_charset_from_the_header_decodes_latin1(web_settings: Settings, httpserver: HTTPServer) -> None:
    html = article_html("Größere Brücke für Köln", "Die Brücke über den Rhein wird breiter. Anwohner äußern Sorgen")
    httpserver.expect_request("/koeln").respond_with_data(
        html.encode("iso-8859-1"), content_type="text/html; charset=ISO-8859-1"
    )
    article, _ = web.fetch_article(httpserver.url_for("/koeln"), web_settings)
    assert article.title == "Größere Brücke für Köln"
    assert "Anwohner äußern Sorgen" in article.text


def test_plain_text_page_becomes_an_article(web_settings: Settings, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/meldung.txt").respond_with_data(
        "Hitzewelle in Wien\n\nIn Wien wurden 38 Grad gemessen.", content_type="text/plain; charset=utf-8"
    )
    article, _ = web.fetch_article(httpserver.url_for("/meldung.txt"), web_settings)
    assert (article.title, article.article_id) == ("Hitzewelle in Wien", httpserver.url_for("/meldung.txt"))


def test_page_cannot_claim_another_hosts_canonical_url(web_settings: Settings, httpserver: HTTPServer) -> None:
    page_url = f"http://127.0.0.1:{httpserver.port}/seite"
    claimed = f"http://localhost:{httpserver.port}/fremder-artikel"
    same_site = f"http://127.0.0.1:{httpserver.port}/artikel"
    httpserver.expect_request("/seite").respond_with_data(
        article_html("Gipfel", GIPFEL, canonical=claimed), content_type="text/html"
    )
    httpserver.expect_request("/seite2").respond_with_data(
        article_html("Gipfel", GIPFEL, canonical=same_site), content_type="text/html"
    )
    httpserver.expect_request("/artikel").respond_with_data(
        article_html("Gipfel", GIPFEL, canonical=same_site), content_type="text/html"
    )

    assert web.fetch_article(page_url, web_settings)[0].article_id == page_url
    assert web.fetch_article(page_url + "2", web_settings)[0].article_id == same_site


def test_two_pages_whose_canonical_links_name_each_other_keep_their_own_ids_and_links(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """Page A said canonical B and B said A: A's text was indexed as B, with B's link, and B's as A."""
    a, b = httpserver.url_for("/a"), httpserver.url_for("/b")
    httpserver.expect_request("/a").respond_with_data(
        article_html("Gipfel", GIPFEL, canonical=b), content_type="text/html"
    )
    httpserver.expect_request("/b").respond_with_data(
        article_html("Gipfel in Wien", GIPFEL_WIEN, canonical=a), content_type="text/html"
    )
    httpserver.expect_request("/c").respond_with_data(article_html("Gipfel", GIPFEL), content_type="text/html")
    httpserver.expect_request("/gipfel-alt").respond_with_data(
        article_html("Gipfel", GIPFEL, canonical=httpserver.url_for("/c")), content_type="text/html"
    )

    report = service.index_urls([a, b])
    assert sorted(report.added) == [a, b]
    for own_id, words in ((a, "Budapest"), (b, "Wien")):
        record = service.index.catalog.article(own_id)
        assert record is not None
        assert record.url == own_id
        assert words in " ".join(s.text for s in service.index.catalog.sentences() if s.article_id == own_id)
    assert service.index_urls([b, a]).unchanged == [b, a]  # the same ids in any order, run after run
    # a true alias still goes to the page it names, which names itself
    assert web.fetch_article(httpserver.url_for("/gipfel-alt"), service.settings)[0].article_id == httpserver.url_for(
        "/c"
    )


# ---- indexing pages ----------------------------------------------------------------------------


def test_article_page_is_indexed_with_title_text_canonical_url_and_date(
    service: NewsService,
    httpserver: HTTPServer,
) -> None:
    canonical = httpserver.url_for("/politik/gipfel")
    httpserver.expect_request("/politik/gipfel").respond_with_data(
        article_html(
            "Gipfel in Budapest",
            GIPFEL,
            canonical=canonical + "?utm_source=rss#oben",
            published="2024-05-03T10:00:00+02:00",
        ),
        content_type="text/html; charset=utf-8",
    )

    report = service.index_urls([canonical + "?utm_campaign=x"])

    assert (report.added, report.failed) == ([canonical], [])
    record = service.index.catalog.article(canonical)
    assert record is not None
    assert (record.title, record.url, record.published, record.origin) == (
        "Gipfel in Budapest",
        canonical,
        "2024-05-03",
        "url",
    )
    texts = " ".join(s.text for s in service.index.catalog.sentences())
    assert "findet in Budapest statt" in texts
    assert "Impressum" not in texts
    answer = service.ask("Wo findet der Gipfel der Präsidenten statt?")
    assert answer.answered
    assert "Budapest" in answer.text
    assert answer.sources[0].source == canonical


def test_changed_page_is_reembedded_and_its_old_text_is_gone(
    service: NewsService,
    httpserver: HTTPServer,
    fake_embedder: HashedBagOfWords,
) -> None:
    page = {"text": GIPFEL}
    httpserver.expect_request("/gipfel").respond_with_handler(
        lambda request: Response(article_html("Gipfel", page["text"]), content_type="text/html")
    )
    url = httpserver.url_for("/gipfel")
    service.index_urls([url])
    embedded_before = sum(fake_embedder.calls)

    page["text"] = GIPFEL_WIEN
    report = service.index_urls([url])

    assert report.updated == [url]
    assert sum(fake_embedder.calls) > embedded_before
    answer = service.ask("Wo findet der Gipfel der Präsidenten statt?")
    assert "Wien" in answer.text
    shown = answer.text + " ".join(s.snippet for s in answer.sources)
    assert "Budapest" not in shown
    assert not any("Budapest" in s.text for s in service.index.catalog.sentences())


def test_unchanged_page_embeds_nothing(
    service: NewsService,
    httpserver: HTTPServer,
    fake_embedder: HashedBagOfWords,
) -> None:
    httpserver.expect_request("/gipfel").respond_with_data(article_html("Gipfel", GIPFEL), content_type="text/html")
    url = httpserver.url_for("/gipfel")
    service.index_urls([url])
    calls_before = list(fake_embedder.calls)

    report = service.index_urls([url])

    assert (report.unchanged, report.added, report.updated) == ([url], [], [])
    assert fake_embedder.calls == calls_before


class ConditionalPage:
    """A page whose server honours If-None-Match and If-Modified-Since, and keeps the headers of each
    request it gets."""

    def __init__(self, text: str, etag: str | None = '"v1"', last_modified: str | None = None) -> None:
        self.text, self.etag, self.last_modified = text, etag, last_modified
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        same_etag = self.etag is not None and request.headers.get("If-None-Match") == self.etag
        same_time = self.last_modified is not None and request.headers.get("If-Modified-Since") == self.last_modified
        if same_etag or same_time:
            return Response(status=304)
        headers = {k: v for k, v in (("ETag", self.etag), ("Last-Modified", self.last_modified)) if v}
        return Response(article_html("Gipfel", self.text), content_type="text/html", headers=headers)


def test_unchanged_page_is_not_downloaded_again(
    service: NewsService, httpserver: HTTPServer, fake_embedder: HashedBagOfWords
) -> None:
    page = ConditionalPage(GIPFEL)
    httpserver.expect_request("/gipfel").respond_with_handler(page)
    url = httpserver.url_for("/gipfel")
    assert service.index_urls([url]).added == [url]
    generation, calls = service.index.catalog.generation, list(fake_embedder.calls)

    report = service.index_urls([url])

    assert (report.unchanged, report.added, report.updated, report.failed) == ([url], [], [], [])
    assert "If-None-Match" not in page.requests[0]
    assert page.requests[1]["If-None-Match"] == '"v1"'
    assert (service.index.catalog.generation, fake_embedder.calls) == (generation, calls)


def test_page_with_a_new_version_is_downloaded_and_its_new_validator_kept(
    service: NewsService, httpserver: HTTPServer
) -> None:
    page = ConditionalPage(GIPFEL)
    httpserver.expect_request("/gipfel").respond_with_handler(page)
    url = httpserver.url_for("/gipfel")
    service.index_urls([url])
    page.text, page.etag = GIPFEL_WIEN, '"v2"'

    assert service.index_urls([url]).updated == [url]
    assert "nun in Wien statt" in " ".join(s.text for s in service.index.catalog.sentences())
    assert service.index_urls([url]).unchanged == [url]
    assert [r.get("If-None-Match") for r in page.requests] == [None, '"v1"', '"v2"']


def test_last_modified_comes_back_as_if_modified_since(service: NewsService, httpserver: HTTPServer) -> None:
    page = ConditionalPage(GIPFEL, etag=None, last_modified="Wed, 01 May 2024 08:00:00 GMT")
    httpserver.expect_request("/gipfel").respond_with_handler(page)
    url = httpserver.url_for("/gipfel")
    service.index_urls([url])

    assert service.index_urls([url]).unchanged == [url]
    assert page.requests[1]["If-Modified-Since"] == "Wed, 01 May 2024 08:00:00 GMT"
    assert "If-None-Match" not in page.requests[1]


def test_a_page_whose_article_was_removed_is_fetched_whole(service: NewsService, httpserver: HTTPServer) -> None:
    page = ConditionalPage(GIPFEL)
    httpserver.expect_request("/gipfel").respond_with_handler(page)
    url = httpserver.url_for("/gipfel")
    service.index_urls([url])
    service.remove(url)

    assert service.index_urls([url]).added == [url]
    assert "If-None-Match" not in page.requests[1]
    assert service.status().articles == 1


def test_failed_url_is_reported_and_the_others_are_indexed(
    service: NewsService,
    httpserver: HTTPServer,
    closed_port: int,
) -> None:
    httpserver.expect_request("/gipfel").respond_with_data(article_html("Gipfel", GIPFEL), content_type="text/html")
    broken = [httpserver.url_for("/fehlt"), f"http://127.0.0.1:{closed_port}/", "ftp://example.org/a.html"]
    httpserver.expect_request("/fehlt").respond_with_data("", status=404)

    report = service.index_urls([*broken, httpserver.url_for("/gipfel")])

    assert report.added == [httpserver.url_for("/gipfel")]
    assert [url for url, _ in report.failed] == broken
    assert "HTTP 404" in report.failed[0][1]
    assert "keine Verbindung" in report.failed[1][1]
    assert "Ungültige URL" in report.failed[2][1]


def test_oversized_page_indexes_nothing(service: NewsService, httpserver: HTTPServer) -> None:
    def huge_page(request: Request) -> Response:
        return Response((b"<p>Nachrichten</p>" * 1000 for _ in range(100)), content_type="text/html")

    httpserver.expect_request("/riesig").respond_with_handler(huge_page)
    report = service.index_urls([httpserver.url_for("/riesig")])
    assert report.added == []
    assert "Antwort zu groß" in report.failed[0][1]
    assert service.articles() == []


# ---- feeds -------------------------------------------------------------------------------------


def serve_feed(httpserver: HTTPServer, count: int) -> None:
    """A feed of `count` entries whose pages live on the same server."""
    stories = [
        ("budapest", "Gipfel in Budapest", GIPFEL),
        ("wien", "Hitzewelle in Wien", "In Wien wurden am Sonntag 38 Grad gemessen. Die Stadt öffnet Brunnen"),
        (
            "bahn",
            "Neue Bahnstrecke",
            "Die Strecke zwischen Graz und Klagenfurt ist eröffnet. Die Fahrt dauert nun 45 Minuten",
        ),
        ("wahl", "Wahl in Salzburg", "In Salzburg wird im Herbst ein neuer Landtag gewählt. Fünf Parteien treten an"),
    ]
    items = []
    for day, (slug, title, text) in enumerate(stories[:count], start=1):
        link = httpserver.url_for(f"/artikel/{slug}")
        httpserver.expect_request(f"/artikel/{slug}").respond_with_data(
            article_html(title, text), content_type="text/html; charset=utf-8"
        )
        items.append(
            {
                "title": title,
                "link": link,
                "guid": f"{link}?utm_source=rss",
                "pubDate": rfc822(day),
                "description": text,
            }
        )
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")


def test_an_entry_without_link_or_id_is_a_failure_line_of_the_report_not_a_warning_on_the_terminal(
    service: NewsService, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Such an entry cannot be stored under any id, so it is left out; it was two English WARNING lines with
    a time stamp above the count line (one naming an empty title), and the count did not show it."""
    items = [{"description": "Ohne Titel und Link: In Graz brannte ein Dachstuhl."}, {"title": "Nur ein Titel"}]
    link = httpserver.url_for("/artikel/budapest")
    httpserver.expect_request("/artikel/budapest").respond_with_data(
        article_html("Gipfel in Budapest", GIPFEL), content_type="text/html; charset=utf-8"
    )
    feed = rss([{"title": "Gipfel in Budapest", "link": link, "guid": link}, *items])
    httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    caplog.set_level(logging.WARNING)
    report = service.index_feed(httpserver.url_for("/feed.xml"))
    assert len(report.added) == 1
    expected = [
        message("feed_entry_without_id", title="Ohne Titel und Link: In Graz brannte ein Dachstuhl."),
        message("feed_entry_without_id", title="Nur ein Titel"),
    ]
    assert [reason for _, reason in report.failed] == expected
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "entry" in r.getMessage()]


def test_feed_entries_are_indexed_once(
    service: NewsService,
    httpserver: HTTPServer,
    fake_embedder: HashedBagOfWords,
) -> None:
    serve_feed(httpserver, 3)
    first = service.index_feed(httpserver.url_for("/feed.xml"))
    assert (len(first.added), first.failed) == (3, [])
    record = service.index.catalog.article(httpserver.url_for("/artikel/budapest"))
    assert record is not None
    assert (record.origin, record.title) == ("feed", "Gipfel in Budapest")
    assert record.published == "2024-05-01T08:00:00+00:00"

    httpserver.clear_log()
    calls_before = list(fake_embedder.calls)
    second = service.index_feed(httpserver.url_for("/feed.xml"))

    assert (second.added, len(second.unchanged)) == ([], 3)
    assert requested_paths(httpserver) == ["/feed.xml"]
    assert fake_embedder.calls == calls_before


def test_new_feed_entry_adds_exactly_one(service: NewsService, httpserver: HTTPServer) -> None:
    serve_feed(httpserver, 3)
    service.index_feed(httpserver.url_for("/feed.xml"))
    httpserver.clear()
    serve_feed(httpserver, 4)

    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert report.added == [httpserver.url_for("/artikel/wahl")]
    assert len(report.unchanged) == 3
    assert [p for p in requested_paths(httpserver) if p != "/feed.xml"] == ["/artikel/wahl"]


def test_a_feed_entry_removed_from_the_index_is_not_indexed_again_by_the_next_poll(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """`index remove`, Discord's `/artikel entfernen` or a prune took it out, and the next poll of the feed, which
    still lists it, put it back: a removed article answered again within one polling interval."""
    serve_feed(httpserver, 3)
    feed = httpserver.url_for("/feed.xml")
    service.index_feed(feed)
    removed = httpserver.url_for("/artikel/budapest")
    service.remove(removed)
    httpserver.clear_log()

    report = service.index_feed(feed)

    assert report.added == []
    assert service.index.catalog.article(removed) is None
    assert requested_paths(httpserver) == ["/feed.xml"]
    assert "Budapest" not in service.ask("Wo soll der Gipfel stattfinden?").text
    # named by itself, the page is indexed again: that is asking for it
    assert service.index_urls([removed]).added == [removed]


def test_a_feed_entry_is_removed_by_the_address_its_answers_show(service: NewsService, httpserver: HTTPServer) -> None:
    """A feed entry's id is its guid, qualified with the feed's URL; `index remove` with the page's URL, the one an
    answer shows as its source, said "Artikel nicht im Index"."""
    link = httpserver.url_for("/artikel/budapest")
    httpserver.expect_request("/artikel/budapest").respond_with_data(
        article_html("Gipfel in Budapest", GIPFEL), content_type="text/html; charset=utf-8"
    )
    item = {"title": "Gipfel in Budapest", "link": link, "guid": "gipfel-1", "pubDate": rfc822(1)}
    httpserver.expect_request("/feed.xml").respond_with_data(rss([item]), content_type="application/rss+xml")
    service.index_feed(httpserver.url_for("/feed.xml"))
    shown = service.ask("Wo soll der Gipfel stattfinden?").sources[0].source
    (entry_id,) = (record.article_id for record in service.articles())
    assert shown == link != entry_id
    from bot.discord.manage import find_article  # Discord's /artikel entfernen finds it by that address too

    assert find_article(service, shown).article_id == entry_id

    report = service.remove(shown)

    assert report.removed == [entry_id]
    assert service.articles() == []
    with pytest.raises(NewsbotError):
        service.remove(shown)


def feed_rows(service: NewsService, table: str) -> set[str]:
    column = "url" if table == "page_validators" else "entry_id"
    with service.index.catalog.transaction() as db:
        return {row[0] for row in db.execute(f"SELECT {column} FROM {table}")}


def test_a_poll_forgets_the_entries_its_feed_dropped_once_they_left_the_index(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """Every entry a feed ever listed kept a row in four tables while retention pruned its article: the catalog
    grew with every poll of a year. An entry the feed still lists keeps its text (removed, it stays out), one
    another feed lists too keeps it, and one the index still holds keeps its feed (`index remove FEED_URL`)."""
    stories = {
        "eins": ("Gipfel geplant", GIPFEL),
        "zwei": ("Hitze in Wien", "In Wien wurden am Sonntag 37,2 Grad gemessen. Das ist ein Rekord."),
        "drei": ("Neue Bahnstrecke", "Die Koralmbahn verbindet Graz und Klagenfurt. Sie fährt ab Dezember."),
    }
    for slug, (title, text) in stories.items():
        httpserver.expect_request(f"/artikel/{slug}").respond_with_data(
            article_html(title, text), content_type="text/html; charset=utf-8"
        )
    link = {slug: httpserver.url_for(f"/artikel/{slug}") for slug in stories}

    def item(slug: str, day: int) -> dict[str, str]:
        return {"title": stories[slug][0], "link": link[slug], "guid": link[slug], "pubDate": rfc822(day)}

    listed_by_a = [item("eins", 1), item("zwei", 2), item("drei", 3)]
    httpserver.expect_request("/a.xml").respond_with_handler(
        lambda _request: Response(rss(listed_by_a), content_type="application/rss+xml")
    )
    httpserver.expect_request("/b.xml").respond_with_data(rss([item("zwei", 2)]), content_type="application/rss+xml")
    feed_a, feed_b = httpserver.url_for("/a.xml"), httpserver.url_for("/b.xml")
    assert len(service.index_feed(feed_a).added) == 3
    service.index_feed(feed_b)
    service.remove(link["eins"])
    service.remove(link["zwei"])

    service.index_feed(feed_a)  # still listed: removed, they stay out, and their texts are kept for that
    assert {link["eins"], link["zwei"]} <= feed_rows(service, "feed_entry_texts")
    assert service.index.catalog.article(link["eins"]) is None

    listed_by_a[:] = [item("drei", 3)]  # the feed drops all three
    service.index_feed(feed_a)

    assert feed_rows(service, "feed_entry_texts") == {link["zwei"], link["drei"]}  # feed b still lists "zwei"
    assert feed_rows(service, "feed_members") == {link["zwei"], link["drei"]}
    assert feed_rows(service, "feed_entries") <= {link["drei"]}
    assert feed_rows(service, "page_validators") <= {link["drei"]}
    assert service.index_feed(feed_b).added == []  # b's "zwei" stays out
    # dropped by its feed but still indexed: the feed's removal still takes it
    listed_by_a[:] = []
    service.index_feed(feed_a)
    assert service.remove(feed_a).removed == [link["drei"]]
    assert service.articles() == []


def serve_atom_entry(httpserver: HTTPServer, updated: str, text: str, page: ConditionalPage | None = None) -> str:
    """An Atom feed of one entry updated at `updated`, whose page says `text` (or is `page`); returns the
    entry's id, its urn:uuid scoped to the feed."""
    guid = "urn:uuid:5b0c2a4e-9d6e-4f0e-8a43-gipfel"
    httpserver.clear()
    if page:
        httpserver.expect_request("/artikel/gipfel").respond_with_handler(page)
    else:
        httpserver.expect_request("/artikel/gipfel").respond_with_data(
            article_html("Gipfel in Budapest", text), content_type="text/html; charset=utf-8"
        )
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Test</title>'
        f"<id>urn:uuid:feed</id><updated>{updated}</updated><entry><id>{guid}</id>"
        f'<title>Gipfel in Budapest</title><link href="{httpserver.url_for("/artikel/gipfel")}"/>'
        f"<published>2024-05-01T08:00:00Z</published><updated>{updated}</updated></entry></feed>"
    )
    httpserver.expect_request("/atom.xml").respond_with_data(atom, content_type="application/atom+xml")
    return f"{httpserver.url_for('/atom.xml')}#{guid}"


def test_feed_entry_updated_after_indexing_is_fetched_again(service: NewsService, httpserver: HTTPServer) -> None:
    entry_id = serve_atom_entry(httpserver, "2024-05-01T08:00:00Z", GIPFEL)
    assert service.index_feed(httpserver.url_for("/atom.xml")).added == [entry_id]

    # the same updated time: the page is not fetched again
    serve_atom_entry(httpserver, "2024-05-01T08:00:00Z", GIPFEL_WIEN)
    report = service.index_feed(httpserver.url_for("/atom.xml"))
    assert (report.unchanged, requested_paths(httpserver)) == ([entry_id], ["/atom.xml"])

    # a newer updated time: fetched, and the edited text replaces the old one
    serve_atom_entry(httpserver, "2024-05-01T15:30:00Z", GIPFEL_WIEN)
    report = service.index_feed(httpserver.url_for("/atom.xml"))
    assert report.updated == [entry_id]
    texts = " ".join(s.text for s in service.index.catalog.sentences())
    assert "nun in Wien statt" in texts
    assert "in Budapest statt" not in texts

    # and once indexed, that time is known: the next poll fetches nothing
    serve_atom_entry(httpserver, "2024-05-01T15:30:00Z", GIPFEL_WIEN)
    report = service.index_feed(httpserver.url_for("/atom.xml"))
    assert (report.unchanged, requested_paths(httpserver)) == ([entry_id], ["/atom.xml"])


def test_feed_entry_stamped_newer_on_every_poll_costs_a_304_not_a_download(
    service: NewsService, httpserver: HTTPServer
) -> None:
    page = ConditionalPage(GIPFEL)
    entry_id = serve_atom_entry(httpserver, "2024-05-01T08:00:00Z", GIPFEL, page)
    assert service.index_feed(httpserver.url_for("/atom.xml")).added == [entry_id]

    # a feed generator that stamps every entry with the time of the poll
    serve_atom_entry(httpserver, "2024-05-01T09:00:00Z", GIPFEL, page)
    report = service.index_feed(httpserver.url_for("/atom.xml"))
    assert (report.unchanged, report.updated, report.failed) == ([entry_id], [], [])
    assert page.requests[1]["If-None-Match"] == '"v1"'
    assert [response.status_code for _, response in httpserver.log] == [200, 304]

    # that time is kept like any other: the same stamp again fetches the feed only
    serve_atom_entry(httpserver, "2024-05-01T09:00:00Z", GIPFEL, page)
    service.index_feed(httpserver.url_for("/atom.xml"))
    assert requested_paths(httpserver) == ["/atom.xml"]


def test_entry_indexed_before_updated_times_were_kept_is_compared_with_its_indexing_time(
    service: NewsService, httpserver: HTTPServer
) -> None:
    entry_id = serve_atom_entry(httpserver, "2024-05-01T08:00:00Z", GIPFEL)
    service.index_feed(httpserver.url_for("/atom.xml"))
    with service.index.catalog.transaction() as db:
        db.execute("DELETE FROM feed_entries")  # as a catalog from before this table

    serve_atom_entry(httpserver, "2024-05-02T08:00:00Z", GIPFEL)  # updated, but long before it was indexed
    report = service.index_feed(httpserver.url_for("/atom.xml"))
    assert (report.unchanged, requested_paths(httpserver)) == ([entry_id], ["/atom.xml"])


def test_feed_entry_without_reachable_page_is_indexed_from_its_summary(
    service: NewsService,
    httpserver: HTTPServer,
) -> None:
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Test</title>'
        "<id>urn:uuid:feed</id><updated>2024-05-02T08:00:00Z</updated>"
        "<entry><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id><title>Hochwasser an der Donau</title>"
        f'<link href="{httpserver.url_for("/weg")}"/><updated>2024-05-02T08:00:00Z</updated>'
        '<summary type="html">&lt;p&gt;Die Donau hat in Passau einen Pegel von neun Metern erreicht.&lt;/p&gt;'
        "</summary></entry></feed>"
    )
    httpserver.expect_request("/atom.xml").respond_with_data(atom, content_type="application/atom+xml")
    httpserver.expect_request("/weg").respond_with_data("", status=404)

    report = service.index_feed(httpserver.url_for("/atom.xml"))

    assert report.added == [httpserver.url_for("/atom.xml") + "#urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"]
    record = service.index.catalog.article(report.added[0])
    assert record is not None
    assert (record.title, record.url) == ("Hochwasser an der Donau", None)  # no link to a page that said 404
    assert any("Pegel von neun Metern" in s.text for s in service.index.catalog.sentences())


def serve_rss_story(
    httpserver: HTTPServer, description: str, link: str | None = None, page: str = GIPFEL, day: int = 1
) -> None:
    """An RSS feed of one story without an updated time (RSS has none): a bare GUID, the text in the
    feed itself, and a link to its page when `link` names a path."""
    httpserver.clear()
    item = {"title": "Gipfel geplant", "guid": "gipfel-1", "pubDate": rfc822(day), "description": description}
    if link:
        item["link"] = httpserver.url_for(link)
        httpserver.expect_request(link).respond_with_data(
            article_html("Gipfel geplant", page), content_type="text/html; charset=utf-8"
        )
    httpserver.expect_request("/feed.xml").respond_with_data(rss([item]), content_type="application/rss+xml")


def test_feed_entry_whose_text_the_feed_changed_is_indexed_again(service: NewsService, httpserver: HTTPServer) -> None:
    """RSS marks no edit: the entry's own text in the feed, already downloaded, is the one sign of it."""
    serve_rss_story(httpserver, GIPFEL)
    entry_id = service.index_feed(httpserver.url_for("/feed.xml")).added[0]

    serve_rss_story(httpserver, GIPFEL_WIEN)
    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert report.updated == [entry_id]
    texts = " ".join(s.text for s in service.index.catalog.sentences())
    assert "nun in Wien statt" in texts
    assert "in Budapest statt" not in texts
    # and the same text again is unchanged
    serve_rss_story(httpserver, GIPFEL_WIEN)
    assert service.index_feed(httpserver.url_for("/feed.xml")).unchanged == [entry_id]


def test_feed_entry_without_link_cites_its_feed_and_an_edit_replaces_it(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """An entry without a link was cited as "FEED#urn:uuid:…": that looked like a link and opened only the feed. Its
    source is the feed it was read from; its id stays the feed-scoped GUID, so an edit replaces it."""
    feed = httpserver.url_for("/feed.xml")

    def serve(text: str) -> None:
        httpserver.clear()
        item = (
            '<item><title>Gipfel geplant</title><guid isPermaLink="false">urn:uuid:5b0c2a4e-gipfel</guid>'
            f"<description>{text}</description></item>"
        )
        httpserver.expect_request("/feed.xml").respond_with_data(
            rss([]).replace("</channel>", item + "</channel>"), content_type="application/rss+xml"
        )

    serve(GIPFEL)
    entry_id = service.index_feed(feed).added[0]
    assert entry_id == f"{feed}#urn:uuid:5b0c2a4e-gipfel"

    source = service.ask("Wo soll der Gipfel stattfinden?").sources[0]
    assert (source.title, source.source, source.link) == ("Gipfel geplant", feed, None)
    assert service.ask("Wo soll der Gipfel stattfinden?").to_json()["sources"][0]["source"] == feed

    serve(GIPFEL_WIEN)
    assert service.index_feed(feed).updated == [entry_id]
    assert [r.article_id for r in service.articles()] == [entry_id]
    assert service.ask("Wo soll der Gipfel stattfinden?").sources[0].snippet.startswith("Der Gipfel der beiden")
    assert "nun in Wien" in " ".join(s.text for s in service.index.catalog.sentences())
    assert service.remove(entry_id).removed == [entry_id]


def test_removing_a_feed_removes_the_articles_it_alone_brought(service: NewsService, httpserver: HTTPServer) -> None:
    """`index remove FEED_URL` said "not in the index": an entry's id is its page's URL where the feed's site is the
    page's, so nothing named the feed. Now the feed's entries go, linked or not; one another feed lists too stays,
    as does a page indexed by its URL; removed entries stay out while the feed lists them, and new ones come."""
    pages = {
        "/artikel/eins": ("Gipfel geplant", GIPFEL),
        "/artikel/geteilt": ("Hitze in Wien", "In Wien wurden am Sonntag 37,2 Grad gemessen. Das ist ein Rekord."),
        "/artikel/vier": ("Neue Bahnstrecke", "Die Koralmbahn verbindet Graz und Klagenfurt. Sie fährt ab Dezember."),
        "/artikel/solo": ("Leitzins", "Die EZB senkt den Leitzins auf zwei Prozent. Die Märkte reagieren gelassen."),
        "/artikel/neu": ("Wahl in Graz", "In Graz wird im Herbst gewählt. Die KPÖ stellt die Bürgermeisterin."),
    }
    for path, (title, text) in pages.items():
        httpserver.expect_request(path).respond_with_data(article_html(title, text), content_type="text/html")

    def linked(path: str, day: int) -> dict[str, str]:
        return {"title": pages[path][0], "link": httpserver.url_for(path), "pubDate": rfc822(day)}

    linkless = {"title": "Kurzmeldung", "guid": "urn:uuid:kurz-1", "description": "Der Nationalrat tagt am Mittwoch."}
    feed_a, feed_b = httpserver.url_for("/a.xml"), httpserver.url_for("/b.xml")

    items_of_a = [linked("/artikel/eins", 1), linkless, linked("/artikel/geteilt", 2)]
    httpserver.expect_request("/a.xml").respond_with_handler(
        lambda _request: Response(rss(items_of_a), content_type="application/rss+xml")
    )
    httpserver.expect_request("/b.xml").respond_with_data(
        rss([linked("/artikel/geteilt", 2), linked("/artikel/vier", 3)]), content_type="application/rss+xml"
    )
    assert len(service.index_feed(feed_a).added) == 3
    assert len(service.index_feed(feed_b).added) == 1
    solo = service.index_urls([httpserver.url_for("/artikel/solo")]).added[0]

    removed = service.remove(feed_a).removed

    eins = httpserver.url_for("/artikel/eins")
    assert sorted(removed) == sorted([eins, f"{feed_a}#urn:uuid:kurz-1"])
    left = {r.article_id for r in service.articles()}
    assert left == {httpserver.url_for("/artikel/geteilt"), httpserver.url_for("/artikel/vier"), solo}
    texts = " ".join(s.text for s in service.index.catalog.sentences())
    assert "Budapest" not in texts
    assert "Nationalrat" not in texts
    # the feed still lists them: they stay out; a new entry of it comes
    items_of_a.append(linked("/artikel/neu", 4))
    assert service.index_feed(feed_a).added == [httpserver.url_for("/artikel/neu")]
    assert eins not in {r.article_id for r in service.articles()}
    # an address that is no article and no feed's
    with pytest.raises(NewsbotError):
        service.remove(httpserver.url_for("/leer.xml"))


def test_a_linkless_entry_indexed_citing_its_id_cites_its_feed_after_the_next_poll_without_embedding(
    service: NewsService,
    web_settings: Settings,
    fake_embedder: HashedBagOfWords,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An entry without a link indexed before such entries cited their feed kept "FEED#urn:uuid:…" as long as it
    was unchanged (an unchanged entry is not read again). The next poll corrects its source in the catalog and in
    Chroma's metadata, embeds nothing, and a process that asked before sees the new source."""
    feed = httpserver.url_for("/feed.xml")
    item = (
        '<item><title>Gipfel geplant</title><guid isPermaLink="false">urn:uuid:5b0c2a4e-gipfel</guid>'
        f"<description>{GIPFEL}</description></item>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([]).replace("</channel>", item + "</channel>"), content_type="application/rss+xml"
    )
    # indexed as a poll did before: the entry's id as its source, its feed text's digest kept
    [entry] = web.read_feed(feed, web_settings)
    old, _ = web.article_from_feed_entry(replace(entry, feed=""), web_settings)
    assert old.source == entry.entry_id
    service.index.add_articles([old], origin="feed")
    service.index.catalog.set_feed_entry_texts([(entry.entry_id, entry.text_digest)])
    with service.index.catalog.transaction() as db:  # indexed long ago: its vectors are no recent ones
        db.execute("DELETE FROM recent_vectors")
    version = service.index.catalog.article(entry.entry_id).version
    other = NewsService.open(web_settings, fake_embedder)  # another process, asked before the poll
    assert other.ask("Wo soll der Gipfel stattfinden?").sources[0].source == entry.entry_id

    report = service.index_feed(feed)

    assert (report.unchanged, report.embedded_texts) == ([entry.entry_id], 0)
    record = service.index.catalog.article(entry.entry_id)
    assert (record.source, record.url, record.version) == (feed, None, version)
    assert service.ask("Wo soll der Gipfel stattfinden?").sources[0].source == feed
    with caplog.at_level(logging.INFO, logger="index.indexer"):
        assert other.ask("Wo soll der Gipfel stattfinden?").sources[0].source == feed
    # its vectors read from the catalog, as after any change: Chroma is not loaded again before the answer
    assert "1 articles read from the catalog" in caplog.text
    assert "reconnecting" not in caplog.text
    chunks = service.index.store.chunks.get(where={"article_id": entry.entry_id}, include=["metadatas"])
    assert {m["source"] for m in chunks["metadatas"]} == {feed}
    generation = service.index.catalog.generation
    assert service.index_feed(feed).unchanged == [entry.entry_id]
    assert service.index.catalog.generation == generation  # corrected once: nothing to write any more


def test_feed_entry_whose_summary_changed_has_its_page_fetched_again(
    service: NewsService, httpserver: HTTPServer
) -> None:
    serve_rss_story(httpserver, "Gipfel in Budapest.", link="/artikel/gipfel")
    entry_id = service.index_feed(httpserver.url_for("/feed.xml")).added[0]

    serve_rss_story(httpserver, "Gipfel in Budapest.", link="/artikel/gipfel", page=GIPFEL_WIEN)
    assert service.index_feed(httpserver.url_for("/feed.xml")).unchanged == [entry_id]
    assert requested_paths(httpserver) == ["/feed.xml"]  # same entry: its page is not fetched again

    serve_rss_story(httpserver, "Gipfel verlegt: nun in Wien.", link="/artikel/gipfel", page=GIPFEL_WIEN)
    report = service.index_feed(httpserver.url_for("/feed.xml"))
    assert report.updated == [entry_id]
    assert any("nun in Wien statt" in s.text for s in service.index.catalog.sentences())


def test_rss_entry_whose_date_the_feed_changed_has_its_page_fetched_again(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """Round 9: RSS has no updated time; a feed that edits an entry in place gives it a new pubDate (same GUID,
    same summary). The entry counted as unchanged, its page was never fetched again, and the old text answered."""
    serve_rss_story(httpserver, "Gipfel in Budapest.", link="/artikel/gipfel")
    entry_id = service.index_feed(httpserver.url_for("/feed.xml")).added[0]

    serve_rss_story(httpserver, "Gipfel in Budapest.", link="/artikel/gipfel", page=GIPFEL_WIEN, day=2)
    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert report.updated == [entry_id]
    texts = " ".join(s.text for s in service.index.catalog.sentences())
    assert "nun in Wien statt" in texts
    assert "in Budapest statt" not in texts
    assert service.index.store.count() == service.index.catalog.counts()[1:]
    # that date is kept: the next poll with it fetches the feed only
    serve_rss_story(httpserver, "Gipfel in Budapest.", link="/artikel/gipfel", page=GIPFEL_WIEN, day=2)
    assert service.index_feed(httpserver.url_for("/feed.xml")).unchanged == [entry_id]
    assert requested_paths(httpserver) == ["/feed.xml"]


def test_entry_indexed_before_its_text_was_kept_is_not_fetched_again(
    service: NewsService, httpserver: HTTPServer
) -> None:
    serve_rss_story(httpserver, GIPFEL, link="/artikel/gipfel")
    entry_id = service.index_feed(httpserver.url_for("/feed.xml")).added[0]
    with service.index.catalog.transaction() as db:
        db.execute("DELETE FROM feed_entry_texts")  # as a catalog from before this table

    serve_rss_story(httpserver, GIPFEL_WIEN, link="/artikel/gipfel")
    assert service.index_feed(httpserver.url_for("/feed.xml")).unchanged == [entry_id]
    assert requested_paths(httpserver) == ["/feed.xml"]
    # its text is known from now on: a later edit is seen
    serve_rss_story(httpserver, GIPFEL, link="/artikel/gipfel", page=GIPFEL_WIEN)
    assert service.index_feed(httpserver.url_for("/feed.xml")).updated == [entry_id]


def test_relative_links_and_permalink_guids_are_the_feeds_site_addresses_the_answer_links(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """A feed's relative addresses resolve against the feed's own URL (RFC 3986, as feedparser does with the URL
    the feed was read from): the page is fetched there, and the answer links there. A guid marked as no permalink
    is no address at all (RSS 2.0): it names the entry, and its text is cited without a link."""
    items = (
        "<item><title>Gipfel geplant</title><link>/artikel/gipfel</link><description>Kurz.</description></item>"
        "<item><title>Hitze</title><guid>artikel/hitze</guid><description>Kurz.</description></item>"
        '<item><title>Bäckerei</title><guid isPermaLink="false">/meldungen/baeckerei</guid>'
        "<description>Die Bäckerei Schmid in Steyr schließt nach 120 Jahren.</description></item>"
    )
    httpserver.expect_request("/nachrichten/feed.xml").respond_with_data(
        rss([]).replace("</channel>", items + "</channel>"), content_type="application/rss+xml"
    )
    httpserver.expect_request("/artikel/gipfel").respond_with_data(
        article_html("Gipfel geplant", GIPFEL), content_type="text/html; charset=utf-8"
    )
    hitze = "Wien hat am Montag 37,2 Grad gemessen, so heiß war es dort seit Beginn der Messungen nie."
    httpserver.expect_request("/nachrichten/artikel/hitze").respond_with_data(
        article_html("Hitze", hitze), content_type="text/html; charset=utf-8"
    )
    feed = httpserver.url_for("/nachrichten/feed.xml")

    report = service.index_feed(feed)

    assert not report.failed
    links = {record.title: record.url for record in service.articles()}
    assert links == {
        "Gipfel geplant": httpserver.url_for("/artikel/gipfel"),
        "Hitze": httpserver.url_for("/nachrichten/artikel/hitze"),
        "Bäckerei": None,
    }
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert answer.sources[0].link == httpserver.url_for("/artikel/gipfel")
    baeckerei = service.ask("Wann schließt die Bäckerei Schmid?")
    assert baeckerei.sources[0].link is None
    assert baeckerei.sources[0].source == feed  # read from the feed; its id keeps the guid
    assert baeckerei.sources[0].article_id == feed + "#/meldungen/baeckerei"


@pytest.mark.parametrize(("status", "linked"), [(404, False), (410, False), (403, True)])
def test_a_feed_entry_whose_page_is_gone_is_cited_without_a_link(
    service: NewsService, httpserver: HTTPServer, status: int, linked: bool
) -> None:
    """Its text is the feed's, and its page said 404: Discord linked the answer to a page that is not there (a
    relative guid the publisher meant from the site's root resolves so). A page that refuses (403) is there."""
    item = (
        "<item><title>Hochwasser</title><guid>meldungen/hochwasser</guid>"
        "<description>Die Enns erreichte in Steyr am Sonntag einen Pegel von 6,2 Metern.</description></item>"
    )
    httpserver.expect_request("/nachrichten/feed.xml").respond_with_data(
        rss([]).replace("</channel>", item + "</channel>"), content_type="application/rss+xml"
    )
    httpserver.expect_request("/nachrichten/meldungen/hochwasser").respond_with_data("nein", status=status)

    report = service.index_feed(httpserver.url_for("/nachrichten/feed.xml"))

    assert len(report.added) == 1
    answer = service.ask("Wie hoch war der Pegel der Enns in Steyr?")
    assert answer.answered
    page = httpserver.url_for("/nachrichten/meldungen/hochwasser")
    assert answer.sources[0].link == (page if linked else None)


def test_feed_titles_are_plain_text_as_the_bodies_are(service: NewsService, httpserver: HTTPServer) -> None:
    """A title with escaped markup was stored and shown literally ("<script>alert(1)</script>Rathaus brennt" in
    `index list`, the CLI and Discord); a "<" or "&" that begins no tag stays ("a<b" was read as a tag: "a")."""
    items = [
        ("&lt;script&gt;alert(1)&lt;/script&gt;Rathaus brennt", "Das Rathaus von Kleinstadt brannte am Dienstag ab."),
        ("&lt;b&gt;Brücke&lt;/b&gt; gesperrt", "Die Rheinbrücke bleibt bis Juni gesperrt."),
        ("<![CDATA[<em>Markt</em> öffnet]]>", "Der Markt öffnet am Samstag."),
        ("Preis &lt;5 Euro", "Das Ticket kostet weniger als fünf Euro."),
        ("A &amp; B fusionieren", "Die Firmen A und B fusionieren."),
        ("Wenn a&lt;b gilt", "Die Ungleichung a kleiner b gilt immer."),
    ]
    rendered = "".join(
        f'<item><title>{title}</title><guid isPermaLink="false">urn:uuid:{n}</guid><description>{text}</description>'
        "</item>"
        for n, (title, text) in enumerate(items)
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([]).replace("</channel>", rendered + "</channel>"), content_type="application/rss+xml"
    )
    feed = httpserver.url_for("/feed.xml")
    expected = [
        "Rathaus brennt",
        "Brücke gesperrt",
        "Markt öffnet",
        "Preis <5 Euro",
        "A & B fusionieren",
        "Wenn a<b gilt",
    ]
    assert [e.title for e in web.read_feed(feed, service.settings)] == expected
    assert len(service.index_feed(feed).added) == len(items)
    assert sorted(r.title for r in service.articles()) == sorted(expected)
    assert service.ask("Wann brannte das Rathaus von Kleinstadt ab?").sources[0].title == "Rathaus brennt"


def test_bare_guids_are_qualified_with_the_feed_url(web_settings: Settings, httpserver: HTTPServer) -> None:
    item = '<item><title>Eins</title><guid isPermaLink="false">4711</guid><description>Text.</description></item>'
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([]).replace("</channel>", item + "</channel>"), content_type="text/xml"
    )
    entries = web.read_feed(httpserver.url_for("/feed.xml"), web_settings)
    assert [e.entry_id for e in entries] == [httpserver.url_for("/feed.xml") + "#4711"]


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Keine Nachrichten</body></html>",
        "<rss><channel><item>",
        "<rss><channel><title>x</title><item><title>a</item></channel>",
        "{}",
    ],
)
def test_broken_feed_is_feed_invalid(
    body: str, service: NewsService, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """One line, and only that: a broken feed's half-parsed items were each logged as a skipped entry
    (a WARNING on the terminal above the message)."""
    httpserver.expect_request("/feed.xml").respond_with_data(body, content_type="application/xml")
    with pytest.raises(NewsbotError, match="Kein gültiger RSS- oder Atom-Feed"):
        service.index_feed(httpserver.url_for("/feed.xml"))
    assert not [r for r in caplog.records if r.name == "index.web" and r.levelno >= logging.WARNING]


def test_feed_url_serving_html_is_the_wrong_type(service: NewsService, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<html></html>", content_type="text/html")
    with pytest.raises(NewsbotError, match="Inhaltstyp text/html"):
        service.index_feed(httpserver.url_for("/feed"))


# ---- the command line --------------------------------------------------------------------------


@pytest.fixture
def cli_env(web_settings: Settings) -> dict[str, str]:
    return {"NEWSBOT_DATA_DIR": str(web_settings.data_dir), "NEWSBOT_FETCH_ALLOW_PRIVATE": ",".join(LOOPBACK_HOSTS)}


@pytest.fixture
def fake_cli_embedder(monkeypatch: pytest.MonkeyPatch, fake_embedder: HashedBagOfWords) -> HashedBagOfWords:
    """The CLI builds its embedder from settings; the fake keeps these tests free of the model."""
    monkeypatch.setattr("bot.service.make_embedder", lambda settings: fake_embedder)
    return fake_embedder


def test_cli_index_feed_prints_the_counts(
    cli_env: dict[str, str],
    fake_cli_embedder: HashedBagOfWords,
    httpserver: HTTPServer,
) -> None:
    from bot.cli import cli

    serve_feed(httpserver, 3)
    first = CliRunner().invoke(cli, ["index", "feed", httpserver.url_for("/feed.xml")], env=cli_env)
    second = CliRunner().invoke(cli, ["index", "feed", httpserver.url_for("/feed.xml")], env=cli_env)

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "3 neu, 0 aktualisiert, 0 unverändert, 0 entfernt, 0 fehlgeschlagen" in first.output
    assert "0 neu, 0 aktualisiert, 3 unverändert" in second.output


def test_cli_index_feed_with_a_broken_feed_exits_2(
    cli_env: dict[str, str],
    fake_cli_embedder: HashedBagOfWords,
    httpserver: HTTPServer,
) -> None:
    from bot.cli import cli

    httpserver.expect_request("/feed.xml").respond_with_data("kein feed", content_type="application/xml")
    result = CliRunner().invoke(cli, ["index", "feed", httpserver.url_for("/feed.xml")], env=cli_env)
    assert result.exit_code == 2
    assert "Kein gültiger RSS- oder Atom-Feed" in result.output


def test_cli_index_add_url_reports_failures_per_url(
    cli_env: dict[str, str],
    fake_cli_embedder: HashedBagOfWords,
    httpserver: HTTPServer,
) -> None:
    from bot.cli import cli

    httpserver.expect_request("/gipfel").respond_with_data(article_html("Gipfel", GIPFEL), content_type="text/html")
    httpserver.expect_request("/fehlt").respond_with_data("", status=404)
    result = CliRunner().invoke(
        cli, ["index", "add", httpserver.url_for("/gipfel"), httpserver.url_for("/fehlt")], env=cli_env
    )

    assert result.exit_code == 0
    assert "1 neu, 0 aktualisiert, 0 unverändert, 0 entfernt, 1 fehlgeschlagen" in result.output
    assert "(HTTP 404)" in result.output


@pytest.mark.slow
def test_cli_index_add_url_and_ask_with_the_real_embedder(cli_env: dict[str, str], httpserver: HTTPServer) -> None:
    from bot.cli import cli

    httpserver.expect_request("/gipfel").respond_with_data(article_html("Gipfel", GIPFEL), content_type="text/html")
    added = CliRunner().invoke(cli, ["index", "add", httpserver.url_for("/gipfel")], env=cli_env)
    asked = CliRunner().invoke(cli, ["ask", "Wo findet der Gipfel statt?"], env=cli_env)

    assert added.exit_code == 0, added.output
    assert "1 neu" in added.output
    assert "Budapest" in asked.output


def test_one_page_reached_by_other_urls_of_its_site_is_indexed_once(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """Round 9: a page without a canonical link, reached with a trailing slash, a parameter of its own (`?ref=rss`)
    or a double slash, was indexed once per URL: four articles of one text, each of its sentences stored four
    times. The same page with a changed text is another article, and so is the same text on another site."""
    page = article_html("Gipfel in Budapest", GIPFEL, published="2024-05-03T10:00:00+02:00")
    for path in ("/politik/gipfel", "/politik/gipfel/", "//politik/gipfel"):
        httpserver.expect_request(path).respond_with_data(page, content_type="text/html; charset=utf-8")
    first = httpserver.url_for("/politik/gipfel")
    assert service.index_urls([first]).added == [first]
    stored = service.index.catalog.counts()

    again = service.index_urls([first + "/", first + "?ref=rss", httpserver.url_for("//politik/gipfel")])

    assert (again.added, again.updated, again.unchanged, again.failed) == ([], [], [first], [])
    assert [a.article_id for a in service.articles()] == [first]
    assert service.index.catalog.counts() == stored
    assert service.index.store.count() == stored[1:]
    changed = article_html("Gipfel in Budapest", GIPFEL + " Danach reisen beide ab.", published="2024-05-03")
    httpserver.expect_request("/politik/gipfel-neu").respond_with_data(changed, content_type="text/html")
    assert service.index_urls([httpserver.url_for("/politik/gipfel-neu")]).added == [
        httpserver.url_for("/politik/gipfel-neu")
    ]


@pytest.mark.parametrize("first", ["url", "feed"])
def test_a_page_indexed_by_its_url_and_as_a_feed_entry_is_one_article(
    service: NewsService, httpserver: HTTPServer, first: str
) -> None:
    """Round 9: a feed entry with a GUID of its own whose link leads to a page indexed by its URL (or the other way
    round) was a second article of the same text: every sentence found twice."""
    page = article_html("Gipfel in Budapest", GIPFEL, published="2024-05-03")
    httpserver.expect_request("/politik/gipfel").respond_with_data(page, content_type="text/html; charset=utf-8")
    item = {"title": "Gipfel", "guid": "gipfel-7", "link": httpserver.url_for("/politik/gipfel?ref=rss")}
    httpserver.expect_request("/feed.xml").respond_with_data(rss([item]), content_type="application/rss+xml")
    url, feed = httpserver.url_for("/politik/gipfel"), httpserver.url_for("/feed.xml")

    if first == "url":
        reports = [service.index_urls([url]), service.index_feed(feed)]
    else:
        reports = [service.index_feed(feed), service.index_urls([url])]

    assert [len(r.added) for r in reports] == [1, 0]
    assert (reports[1].unchanged, reports[1].failed) == (reports[0].added, [])
    assert len(service.articles()) == 1
    assert service.index.store.count() == service.index.catalog.counts()[1:]


def test_a_changed_page_added_again_by_its_url_with_a_trailing_slash_updates_the_article(
    service: NewsService, httpserver: HTTPServer
) -> None:
    """Round 9: the page changed, and `index add` of it with a trailing slash (or a double slash) added a second
    article with the new text while the first kept the old one, which went on answering."""
    first = httpserver.url_for("/politik/gipfel")
    httpserver.expect_request("/politik/gipfel").respond_with_data(
        article_html("Gipfel in Budapest", GIPFEL), content_type="text/html; charset=utf-8"
    )
    service.index_urls([first])
    httpserver.clear()
    for path in ("/politik/gipfel/", "/politik//gipfel"):
        httpserver.expect_request(path).respond_with_data(
            article_html("Gipfel verlegt", GIPFEL_WIEN), content_type="text/html; charset=utf-8"
        )

    report = service.index_urls([first + "/"])

    assert (report.added, report.updated) == ([], [first])
    assert [a.article_id for a in service.articles()] == [first]
    texts = " ".join(s.text for s in service.index.catalog.sentences())
    assert "nun in Wien statt" in texts
    assert "in Budapest statt" not in texts
    assert service.index_urls([httpserver.url_for("/politik//gipfel")]).unchanged == [first]
    assert service.index.store.count() == service.index.catalog.counts()[1:]
