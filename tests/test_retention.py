"""Bounded retention: `newsbot index prune --older-than`, and NEWSBOT_RETENTION_DAYS applied after each feed poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from bot.cli import cli
from bot.discord.feeds import FeedPoller
from bot.service import NewsService
from index.articles import Article
from index.retention import parse_age
from tests.fakes import HashedBagOfWords
from tests.test_discord_mocks import make_bot
from tests.test_web import LOOPBACK_HOSTS, article_html, rss

NOW = datetime.now(UTC)


def article(slug: str, text: str, published: str | None) -> Article:
    return Article(f"test/{slug}", f"test/{slug}", text.split(".")[0], text, published=published)


OLD = article("alt", "Die alte Brücke in Linz wurde gesperrt. Sie ist baufällig.", "2020-03-01")
RECENT = article(
    "neu", "In Graz eröffnet ein neues Museum. Der Eintritt ist frei.", (NOW - timedelta(days=3)).isoformat()
)
UNDATED = article("ohne", "In Wien regnet es seit Tagen. Die Donau steigt.", None)
UNREADABLE_DATE = article("irgendwann", "In Salzburg wird gewählt. Fünf Parteien treten an.", "irgendwann im Mai")


@pytest.fixture
def service(settings, fake_embedder: HashedBagOfWords) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index.add_articles([OLD, RECENT, UNDATED, UNREADABLE_DATE])
    return service


def indexed(service: NewsService) -> set[str]:
    return {a.article_id for a in service.articles()}


def test_prune_removes_articles_published_before_the_limit_and_keeps_the_rest(service):
    report = service.index.prune(timedelta(days=365))

    assert report.removed == [OLD.article_id]
    assert indexed(service) == {RECENT.article_id, UNDATED.article_id, UNREADABLE_DATE.article_id}
    chunks, sentences = service.index.store.count()  # its vectors left Chroma too
    assert (chunks, sentences) == (service.status().chunks, service.status().sentences)
    assert "Linz" not in " ".join(s.text for s in service.index.catalog.sentences())


def test_a_second_prune_removes_nothing_and_leaves_the_index_as_it_was(service):
    service.index.prune(timedelta(days=365))
    generation = service.index.catalog.generation

    again = service.index.prune(timedelta(days=365))

    assert again.removed == []
    assert service.index.catalog.generation == generation  # no change, so no snapshot rebuild either


def test_without_a_readable_published_date_the_indexing_time_counts(service):
    later = NOW + timedelta(days=400)  # every article was indexed just now, so 400 days ago from then

    report = service.index.prune(timedelta(days=365), now=later)

    assert set(report.removed) == {OLD.article_id, RECENT.article_id, UNDATED.article_id, UNREADABLE_DATE.article_id}
    assert service.articles() == []


def test_pruned_articles_no_longer_answer(service):
    service.settings.refusal_threshold = 0.0
    assert service.ask("Welche Brücke in Linz wurde gesperrt?").sources[0].title.startswith("Die alte Brücke")
    service.index.prune(timedelta(days=365))
    answer = service.ask("Welche Brücke in Linz wurde gesperrt?")
    assert all("Linz" not in s.title for s in answer.sources)


@pytest.mark.parametrize(("text", "days"), [("365d", 365), ("52w", 364), (" 30D ", 30), ("1d", 1)])
def test_ages_in_days_and_weeks(text, days):
    assert parse_age(text) == timedelta(days=days)


# ---- the CLI -------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(service, monkeypatch, fake_embedder) -> dict[str, str]:
    """The CLI on the index of `service`, with the fake embedder instead of the model."""
    monkeypatch.setattr("bot.service.make_embedder", lambda settings: fake_embedder)
    return {"NEWSBOT_DATA_DIR": str(service.settings.data_dir)}


def test_cli_prune_removes_old_articles_then_nothing(cli_env, service):
    first = CliRunner().invoke(cli, ["index", "prune", "--older-than", "365d"], env=cli_env)
    second = CliRunner().invoke(cli, ["index", "prune", "--older-than", "52w"], env=cli_env)

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "1 entfernt" in first.output
    assert "0 entfernt" in second.output
    assert indexed(service) == {RECENT.article_id, UNDATED.article_id, UNREADABLE_DATE.article_id}


@pytest.mark.parametrize("value", ["365", "12m", "0d", "-5d", "1y", "abc", "", "9999999d", "3.5d"])
def test_cli_prune_with_a_bad_age_says_so_in_one_line_and_changes_nothing(cli_env, service, value):
    generation = service.index.catalog.generation

    result = CliRunner().invoke(cli, ["index", "prune", "--older-than", value], env=cli_env)

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Ungültiges Alter: {value} (erwartet z. B. 365d für Tage oder 52w für Wochen)"
    ]
    assert len(indexed(service)) == 4
    assert service.index.catalog.generation == generation


# ---- the feed poller -----------------------------------------------------------------------------


async def test_the_feed_poller_applies_the_retention_after_each_poll(service):
    service.settings.retention_days = 365
    poller = FeedPoller(make_bot(), service)

    await poller.poll()

    assert indexed(service) == {RECENT.article_id, UNDATED.article_id, UNREADABLE_DATE.article_id}


async def test_the_feed_poller_keeps_everything_without_a_retention(service):
    poller = FeedPoller(make_bot(), service)
    await poller.poll()
    assert len(indexed(service)) == 4


def test_a_feed_entry_older_than_the_retention_is_not_indexed_again(settings, fake_embedder, httpserver: HTTPServer):
    """Else every poll would fetch it again and every retention pass remove it again."""
    settings = settings.model_copy(update={"fetch_allow_private": LOOPBACK_HOSTS, "retention_days": 365})
    service = NewsService.open(settings, fake_embedder)
    items = []
    for slug, age in (("frisch", 2), ("alt", 900)):
        httpserver.expect_request(f"/artikel/{slug}").respond_with_data(
            article_html(f"Meldung {slug}", f"Die Meldung {slug} ist {age} Tage alt. Mehr gibt es nicht"),
            content_type="text/html; charset=utf-8",
        )
        items.append(
            {
                "title": f"Meldung {slug}",
                "link": httpserver.url_for(f"/artikel/{slug}"),
                "guid": httpserver.url_for(f"/artikel/{slug}"),
                "pubDate": format_datetime(NOW - timedelta(days=age)),
                "description": f"Die Meldung {slug}.",
            }
        )
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")

    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert report.added == [httpserver.url_for("/artikel/frisch")]
    assert "/artikel/alt" not in [request.path for request, _ in httpserver.log]


def test_a_feed_entry_without_a_date_whose_page_is_older_than_the_retention_is_not_indexed(
    settings, fake_embedder, httpserver: HTTPServer
):
    """Else retention would remove it after every poll, and every removal rebuild the snapshot."""
    settings = settings.model_copy(update={"fetch_allow_private": LOOPBACK_HOSTS, "retention_days": 365})
    service = NewsService.open(settings, fake_embedder)
    httpserver.expect_request("/artikel/alt").respond_with_data(
        article_html("Alte Meldung", "Die Meldung ist alt. Mehr gibt es nicht", published="2019-04-01"),
        content_type="text/html; charset=utf-8",
    )
    link = httpserver.url_for("/artikel/alt")
    item = {"title": "Alte Meldung", "link": link, "guid": link, "description": "Die Meldung ist alt."}
    httpserver.expect_request("/feed.xml").respond_with_data(rss([item]), content_type="application/rss+xml")

    report = service.index_feed(httpserver.url_for("/feed.xml"))

    assert report.added == []
    assert service.articles() == []
