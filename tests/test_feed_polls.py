"""Feed polls in the running bot: a slow feed or slow pages keep no other feed, and no later poll, waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.discord.feeds import poll_feeds
from bot.service import FailedFetches, NewsService
from index.indexer import IndexReport
from index.settings import Settings
from index.web import FeedEntry
from tests.fakes import HashedBagOfWords
from tests.test_web import GIPFEL, LOOPBACK_HOSTS, article_html, rfc822, rss

STORIES = [
    ("wien", "Hitzewelle in Wien", "In Wien wurden am Sonntag 38 Grad gemessen. Die Stadt öffnet Brunnen"),
    ("bahn", "Neue Bahnstrecke", "Die Strecke zwischen Graz und Klagenfurt ist eröffnet. Die Fahrt dauert 45 Minuten"),
    ("wahl", "Wahl in Salzburg", "In Salzburg wird im Herbst ein neuer Landtag gewählt. Fünf Parteien treten an"),
    ("budapest", "Gipfel in Budapest", GIPFEL),
]


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server that answers requests side by side, as real ones do: a slow page holds up no other."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def serve_feed(server: HTTPServer, name: str, stories: list[tuple[str, str, str]], page=None) -> str:
    """A feed at /NAME.xml whose entries' pages are on the server (served by `page`, a handler, if given)."""
    items = []
    for day, (slug, title, text) in enumerate(stories, start=1):
        path = f"/{name}/{slug}"
        html = article_html(title, text)
        if page is None:
            server.expect_request(path).respond_with_data(html, content_type="text/html; charset=utf-8")
        else:
            server.expect_request(path).respond_with_handler(lambda request, html=html: page(request, html))
        items.append({"title": title, "link": server.url_for(path), "pubDate": rfc822(day), "description": text})
    server.expect_request(f"/{name}.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    return server.url_for(f"/{name}.xml")


def open_service(settings: Settings, **update: object) -> NewsService:
    web = settings.model_copy(update={"fetch_allow_private": LOOPBACK_HOSTS, "fetch_timeout_seconds": 10.0, **update})
    return NewsService.open(web, HashedBagOfWords())


async def test_a_slow_feed_keeps_no_other_feed_waiting(settings: Settings, threaded_server: HTTPServer) -> None:
    service = open_service(settings)
    fast_page = threaded_server.url_for("/schnell/wien")
    by_the_other_feed: list[bool] = []  # whether the other feed got indexed while this page was being served

    def slow_page(request: Request, html: str) -> Response:
        give_up = time.monotonic() + 6  # before the fetch's timeout: one feed after the other never gets there
        while service.index.catalog.article(fast_page) is None and time.monotonic() < give_up:
            time.sleep(0.05)
        by_the_other_feed.append(service.index.catalog.article(fast_page) is not None)
        return Response(html, content_type="text/html; charset=utf-8")

    slow_feed = serve_feed(threaded_server, "langsam", STORIES[3:], slow_page)
    fast_feed = serve_feed(threaded_server, "schnell", STORIES[:1])

    results = await poll_feeds(service, [slow_feed, fast_feed])

    assert by_the_other_feed == [True]
    assert [(url, len(report.added)) for url, report in results if isinstance(report, IndexReport)] == [
        (slow_feed, 1),
        (fast_feed, 1),
    ]


def test_a_poll_ends_within_the_interval_and_the_next_fetches_what_it_left(
    settings: Settings, threaded_server: HTTPServer
) -> None:
    # pages that take longer than the whole interval: each poll gets to one, the next poll to the next
    def slow_page(request: Request, html: str) -> Response:
        time.sleep(0.5)
        return Response(html, content_type="text/html; charset=utf-8")

    service = open_service(settings, feed_interval_minutes=0.005)  # 0.3 s
    feed = serve_feed(threaded_server, "langsam", STORIES, slow_page)

    added = [service.index_feed(feed).added for _ in range(len(STORIES))]
    last = service.index_feed(feed)

    assert [len(a) for a in added] == [1] * len(STORIES)
    assert sorted(a for batch in added for a in batch) == sorted(
        threaded_server.url_for(f"/langsam/{s}") for s, *_ in STORIES
    )
    assert (last.added, len(last.unchanged)) == ([], len(STORIES))


def test_pages_that_always_time_out_at_the_top_of_a_feed_leave_the_entries_below_them_to_be_read(
    settings: Settings, threaded_server: HTTPServer
) -> None:
    # the two newest entries carry no text of their own and their pages never answer in time; each poll has
    # time for about one fetch
    requests: dict[str, int] = {}
    items = []
    for day, (slug, title, text) in enumerate(STORIES, start=1):
        timing_out = slug in ("wahl", "budapest")

        def page(request: Request, html: str = article_html(title, text), timing_out: bool = timing_out) -> Response:
            requests[request.path] = requests.get(request.path, 0) + 1
            if timing_out:
                time.sleep(3.0)  # past the fetch's timeout
            return Response(html, content_type="text/html; charset=utf-8")

        threaded_server.expect_request(f"/stau/{slug}").respond_with_handler(page)
        link = threaded_server.url_for(f"/stau/{slug}")
        items.append({"title": title, "link": link, "pubDate": rfc822(day), "description": "" if timing_out else text})
    threaded_server.expect_request("/stau.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    # polls of 0.3 s; a timeout the feed itself is fetched within on a busy machine (at 0.4 s it was not, in CI)
    service = open_service(settings, feed_interval_minutes=0.005, fetch_timeout_seconds=2.0)

    added = [a for _ in range(4) for a in service.index_feed(threaded_server.url_for("/stau.xml")).added]

    # before, every poll spent its time on the two pages that time out, and read nothing else
    assert sorted(added) == sorted(threaded_server.url_for(f"/stau/{slug}") for slug in ("wien", "bahn"))
    assert requests["/stau/wahl"] >= 1
    assert requests["/stau/budapest"] >= 1


def test_a_page_that_failed_waits_an_interval_doubling_with_each_failure_and_goes_last() -> None:
    failed = FailedFetches(interval_seconds=60)
    entries = [FeedEntry(entry_id=name, title=name, link=None, summary="", published=None) for name in "abc"]
    failed.failed("a", now=0)
    assert not failed.due("a", now=59)
    assert failed.due("a", now=60)
    failed.failed("a", now=60)
    assert not failed.due("a", now=60 + 119)
    assert failed.due("a", now=60 + 120)
    failed.failed("b", now=0)
    failed.failed("a", now=200)
    assert [e.entry_id for e in failed.in_turn(entries)] == ["c", "b", "a"]  # never failed first, then fewest
    for _ in range(20):
        failed.failed("a", now=0)
    assert failed.due("a", now=FailedFetches.LONGEST_WAIT)
    assert not failed.due("a", now=FailedFetches.LONGEST_WAIT - 1)
    failed.forget("a")
    assert failed.due("a", now=0)
