"""The catalog: which version of each article is current, its metadata, chunks and sentences (SQLite).

It is the source of truth for what the index holds, and it holds the lexical index too: the analysed
terms of every sentence in an FTS5 table, written in the same transactions as the sentences. Vectors
live in Chroma under ids that carry the article's version; the catalog flips from the old version to
the new one in one SQLite transaction, and a journal row records every change in flight, so a killed
run is rolled forward or back on the next open (see `index.store`).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import sys
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from index.errors import NewsbotError
from index.texts import message

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, url TEXT,
    published TEXT, indexed_at TEXT NOT NULL, version TEXT NOT NULL,
    chunk_count INTEGER NOT NULL, sentence_count INTEGER NOT NULL, origin TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    article_id TEXT NOT NULL, n INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (article_id, n)
);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT NOT NULL, n INTEGER NOT NULL, chunk INTEGER NOT NULL, paragraph INTEGER NOT NULL,
    text TEXT NOT NULL, PRIMARY KEY (article_id, n)
);
CREATE TABLE IF NOT EXISTS feed_entries (entry_id TEXT PRIMARY KEY, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_entry_texts (entry_id TEXT PRIMARY KEY, digest TEXT NOT NULL);
-- Which feed listed which entry: an entry's id is its page's URL where the feed's site is the page's, so the id
-- does not tell its feed, and `index remove FEED_URL` removes the entries a feed brought.
CREATE TABLE IF NOT EXISTS feed_members (
    feed TEXT NOT NULL, entry_id TEXT NOT NULL, PRIMARY KEY (feed, entry_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS page_validators (
    url TEXT PRIMARY KEY, article_id TEXT NOT NULL, etag TEXT, last_modified TEXT
);
-- BM25 over each sentence's terms (stemmed, compounds split, stop words out), by the sentence's rowid.
CREATE VIRTUAL TABLE IF NOT EXISTS sentence_terms USING fts5(
    terms, tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
CREATE VIRTUAL TABLE IF NOT EXISTS sentence_term_counts USING fts5vocab(sentence_terms, row);
-- A sentence's terms go with it, whoever deletes it; a sentence written by a newsbot that does not know the
-- terms (an older version) marks them incomplete, to be filled again on the next open (`fill_terms`).
CREATE TRIGGER IF NOT EXISTS sentence_terms_follow_deletes AFTER DELETE ON sentences BEGIN
    DELETE FROM sentence_terms WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS sentence_terms_follow_inserts AFTER INSERT ON sentences BEGIN
    DELETE FROM meta WHERE key = 'sentence_terms';
END;
-- Which articles each commit changed (inserted, replaced or deleted), by the generation the commit started from:
-- a reader that saw generation g reads the articles logged from g on (`read_changes`), not the whole catalog.
-- Triggers write it, so it commits and rolls back with the change, whoever makes it.
CREATE TABLE IF NOT EXISTS article_changes (
    after_generation INTEGER NOT NULL, article_id TEXT NOT NULL, PRIMARY KEY (after_generation, article_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS article_changes_on_insert AFTER INSERT ON articles BEGIN
    INSERT OR IGNORE INTO article_changes VALUES (
        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0), new.article_id
    );
END;
CREATE TRIGGER IF NOT EXISTS article_changes_on_update AFTER UPDATE ON articles BEGIN
    INSERT OR IGNORE INTO article_changes VALUES (
        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0), new.article_id
    );
    INSERT OR IGNORE INTO article_changes VALUES (
        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0), old.article_id
    );
END;
CREATE TRIGGER IF NOT EXISTS article_changes_on_delete AFTER DELETE ON articles BEGIN
    INSERT OR IGNORE INTO article_changes VALUES (
        COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0), old.article_id
    );
END;
-- Each article's distinct terms (`distinct_terms` of its sentences' terms), written with them: a question reads those
-- of its candidates' articles, one row each instead of every sentence's. A row of another version is stale.
CREATE TABLE IF NOT EXISTS article_terms (article_id TEXT PRIMARY KEY, version TEXT NOT NULL, terms TEXT NOT NULL);
-- The vectors (float32) of the sentences ('s') and chunks ('c') of the articles changed last, of their current
-- versions, written in the flip's transaction: a process whose embedded Chroma loaded its segments before another
-- process's change scores the changed articles from these while Chroma loads again (`recent_vectors_since`).
CREATE TABLE IF NOT EXISTS recent_vectors (
    article_id TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, version TEXT NOT NULL,
    after_generation INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (article_id, kind, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS recent_vectors_by_generation ON recent_vectors (after_generation);
-- Every current article version's vectors of sentences ('s') and chunks ('c'), float32 as Chroma returns them, written
-- in the flip's transaction where `Catalog.keep_all_vectors` (NEWSBOT_VECTORS_IN_CATALOG): a question reads its
-- candidates' here, not from Chroma. A rowid table: rows of 1.5 KB in a WITHOUT ROWID table spill into overflow
-- pages (4.7 KB a vector on disk at 1.1M sentences), here about 2 KB.
CREATE TABLE IF NOT EXISTS vectors (
    article_id TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, version TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS vectors_by_key ON vectors (article_id, kind, n);
-- The same sentence vectors of each article version joined in order of n, one row an article: a question scores every
-- sentence of the articles its searches name (2,000 to 5,500 vectors at a million sentences), and one row an article
-- reads them in a third of the time of one row a sentence. Written with `vectors`; the trigger removes an article's
-- with its record, whoever deletes it (an older newsbot too), so a row is never of another commit's vectors.
CREATE TABLE IF NOT EXISTS article_sentence_vectors (
    article_id TEXT PRIMARY KEY, version TEXT NOT NULL, sentences INTEGER NOT NULL, vectors BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS article_sentence_vectors_follow_deletes AFTER DELETE ON articles BEGIN
    DELETE FROM article_sentence_vectors WHERE article_id = old.article_id;
END;
CREATE TABLE IF NOT EXISTS journal (
    article_id TEXT PRIMARY KEY, new_version TEXT, new_chunks INTEGER NOT NULL, new_sentences INTEGER NOT NULL,
    old_version TEXT, old_chunks INTEGER NOT NULL, old_sentences INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class ArticleRecord:
    article_id: str
    source: str
    title: str
    url: str | None
    published: str | None
    indexed_at: str
    version: str
    chunk_count: int
    sentence_count: int
    origin: str | None = None

    def is_at(self, address: str) -> bool:
        """Whether `address` is where this article was read from or is linked as a source: a feed entry's id is its
        feed's guid, and a manager or operator gives the page's URL the answers show. A feed entry without a link was
        read from its feed, which holds other entries too: the feed's URL names none of them."""
        return address == self.url or (address == self.source and self.origin != "feed")


@dataclass(frozen=True, slots=True)
class SentenceRow:
    """A sentence as an article's version is written, or as a whole-catalog read gives it (filling the stored
    terms, tests); a snapshot holds only the places (`SentencePlaces`)."""

    article_id: str
    n: int
    chunk: int
    paragraph: int
    text: str


class SentencePlaces:
    """Where sentences are (article, n, chunk, paragraph), without their texts, as a snapshot reads them
    (`Catalog.read_changes`): each article's rows one after the other in order of n, in the order read, held in
    columns of 4-byte ints. A snapshot keeps every sentence's place: as `SentenceRow` objects they took 80 bytes a
    sentence (the object and its list slot), here 12."""

    def __init__(self) -> None:
        self.spans: dict[str, tuple[int, int]] = {}  # article id: (its first row, the row after its last)
        self.n, self.chunk, self.paragraph = array("i"), array("i"), array("i")

    def __len__(self) -> int:
        return len(self.n)

    def add(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Add rows (article id, n, chunk, paragraph, …) in order of article id and n; an article read on from
        the last batch goes on."""
        if not rows:
            return
        ids, ns, chunks, paragraphs = list(zip(*rows, strict=True))[:4]
        position = len(self.n)
        self.n.extend(ns)
        self.chunk.extend(chunks)
        self.paragraph.extend(paragraphs)
        for article_id, same in groupby(ids):
            length = sum(1 for _ in same)
            span = self.spans.get(article_id)
            if span is not None and span[1] == position:  # read on from the last batch
                self.spans[article_id] = (span[0], position + length)
            else:
                self.spans[sys.intern(article_id)] = (position, position + length)
            position += length


# The terms of one article's sentences, one space-joined string per sentence (title, sentences).
Analyser = Callable[[str, list[SentenceRow]], list[str]]
# Which analyser wrote `sentence_terms` (meta key): another one (or none) means the table must be filled again.
TERMS_KEY = "sentence_terms"


def distinct_terms(sentence_terms: Iterable[str]) -> str:
    """An article's terms, each once, space-joined, from its sentences' (`Analyser`: each holds the headline's)."""
    return " ".join(dict.fromkeys(" ".join(sentence_terms).split()))


# Given each batch of sentences' stored terms (space-joined) and rowids as `Catalog.read_changes` reads them.
TermsReader = Callable[[list[str], list[int]], None]

# How many generations back `article_changes` reaches: a reader further behind reads the whole catalog.
CHANGES_KEPT = 1_000
# Vectors `recent_vectors` keeps (of the articles changed last): 1.5 KB each at 384 dimensions, 75 MB in all.
RECENT_VECTORS_KEPT = 50_000
# Meta key set while the `vectors` table holds every current article version's vectors (`Catalog.holds_all_vectors`).
ALL_VECTORS_KEY = "all_vectors"
# Meta key set once `article_sentence_vectors` was filled from `vectors` (a catalog of a newsbot before it)
JOINED_VECTORS_KEY = "joined_vectors"


@dataclass(frozen=True)
class CatalogChanges:
    """What a reader needs to catch up with the catalog as of one commit (`Catalog.read_changes`)."""

    generation: int
    catalog_id: str  # which catalog file: one built anew counts its generations anew
    full: bool  # every article and sentence (the reader was too far behind, or had read nothing)
    articles: list[ArticleRecord]  # every article (full), or the changed ones the catalog still holds
    changed: frozenset[str]  # the ids of the changed articles, removed ones included (not full)
    sentences: SentencePlaces  # the sentences of `articles`, each article's in order of n
    terms_by: str = ""  # which analyser wrote the stored terms (meta TERMS_KEY): BM25's postings depend on it


@dataclass(frozen=True)
class RecentVectors:
    """The vectors of every article changed since a generation (`Catalog.recent_vectors_since`), as of one commit."""

    generation: int
    changed: frozenset[str]  # the ids of the changed articles, removed ones included
    versions: dict[str, str]  # the current version of each changed article the catalog still holds
    sentences: dict[tuple[str, int], bytes]  # float32 vectors by (article id, n), of those versions
    chunks: dict[tuple[str, int], bytes]


# FTS5's BM25 constants (fts5_aux.c), for scoring candidates as FTS5 would (`Catalog._bm25`).
BM25_K1, BM25_B = 1.2, 0.75
# How many sentences (the sum of the rarest terms' document frequencies) FTS5 ranks in full per search, and
# how many of its best are then scored on every term (`Catalog.search_terms`): FTS5 ranks about 200,000
# sentences a second here, so this bounds a search to a few milliseconds at any size of the catalog.
RANKED_POSTINGS = 2_000
RESCORED = 100


@dataclass(frozen=True)
class SearchPlan:
    """Which terms find a search's candidates (MaxScore, `Catalog.search_terms`): the rarest of the question's
    terms present, up to RANKED_POSTINGS sentences in all (at least one term). The snapshot's BM25 in memory
    plans its searches the same way, so both give the same hits."""

    present: list[str]  # the terms any sentence holds
    essential: list[str]  # the rarest of them, which find the candidates
    postings: int  # the essential terms' document frequencies, summed

    @classmethod
    def of(cls, terms: list[str], counts: Mapping[str, int]) -> SearchPlan:
        present = [t for t in terms if counts.get(t, 0) > 0]
        essential: list[str] = []
        postings = 0
        for term in sorted(set(present), key=lambda t: (counts[t], t)):
            if essential and postings + counts[term] > RANKED_POSTINGS:
                break
            essential.append(term)
            postings += counts[term]
        return cls(present, essential, postings)

    @property
    def ranks_all(self) -> bool:
        """Few sentences hold any term: all of them are ranked on every term, as FTS5 does."""
        return len(self.essential) == len(set(self.present)) and self.postings <= RANKED_POSTINGS


def _varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at `data[i:]` (SQLite's record varint, as FTS5 writes it: big-endian 7 bits a byte, the top bit
    set on all but the last; the ninth byte holds 8 bits) and the position after it."""
    value = 0
    for n in range(9):
        byte = data[i + n]
        if n == 8:
            return (value << 8) | byte, i + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i + n + 1
    raise AssertionError("unreachable")


def _any_of(terms: Iterable[str]) -> str:
    """An FTS5 query for sentences holding any of `terms` (runs of word characters: no quotes to escape)."""
    return " OR ".join(f'"{term}"' for term in terms)


@dataclass(frozen=True)
class LexicalHit:
    article_id: str
    n: int
    version: str
    score: float


@dataclass(frozen=True)
class JournalEntry:
    """A change in flight: which vector ids exist for the old and the new version of one article."""

    article_id: str
    new_version: str | None
    new_chunks: int
    new_sentences: int
    old_version: str | None
    old_chunks: int
    old_sentences: int


def _file_identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


@contextmanager
def usable_data_dir(data_dir: Path, language: str = "de") -> Iterator[None]:
    """A data folder whose catalog cannot be opened or read (under a file, not writable, read-only: SQLite
    opens it for writing in WAL mode; a damaged file) is the user's one line, not an unexpected error."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise NewsbotError(
            message("data_dir_unusable", language, path=str(data_dir), reason=reason), detail=repr(error)
        ) from error


class Catalog:
    """SQLite bookkeeping beside Chroma; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._readers = threading.local()
        self._write_lock = threading.RLock()
        self._epoch = 0  # how often the file was opened: a thread's reader of an older one opens it again
        self._connect()
        # Set by the index: turns sentences into their terms as they are committed (see `fill_terms`).
        self.analyse: Analyser | None = None
        # Set by the index (NEWSBOT_VECTORS_IN_CATALOG): commits write every new version's vectors into `vectors`.
        self.keep_all_vectors = False
        self._analyser_name = ""

    def _connect(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        self._start_change_log(db)
        self._db, self._file = db, _file_identity(self._path)
        self._epoch += 1

    @staticmethod
    def _start_change_log(db: sqlite3.Connection) -> None:
        """Name the catalog file and mark from which generation on `article_changes` is complete: a catalog of an
        older newsbot logged nothing before its triggers were created. Written only where missing (one
        statement each, after the triggers exist: a change committed meanwhile is logged, or before the mark)."""
        keys = {key for (key,) in db.execute("SELECT key FROM meta WHERE key IN ('catalog_id', 'changes_from')")}
        if "catalog_id" not in keys:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('catalog_id', lower(hex(randomblob(8))))")
        if "changes_from" not in keys:
            db.execute(
                "INSERT OR IGNORE INTO meta SELECT 'changes_from', "
                "COALESCE((SELECT value FROM meta WHERE key = 'generation'), '0')"
            )

    def close(self) -> None:
        self._db.close()

    def replaced(self) -> bool:
        """Whether the file at the catalog's path is another one than this catalog has open (or none):
        the data folder was deleted, and perhaps built again, by another process. SQLite keeps reading
        the deleted file it has open, so this process would go on answering from an index that is gone."""
        try:
            return _file_identity(self._path) != self._file
        except FileNotFoundError:
            return True

    def reopen(self) -> None:
        """Open the file now at the path (creating it where there is none). Connections to the old file
        are left to close when unused: another thread may still be reading or writing through one."""
        self._connect()

    def raise_generation_above(self, generation: int) -> None:
        """Make the generation exceed `generation`, that of the file this process read before `reopen`: a
        folder built again starts counting anew, and a reader would take an equal count for no change."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta VALUES ('generation', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (str(generation + 1),),
            )
            # a reader of the other file knows nothing of this one's log (a copy of the same file restored
            # keeps its catalog id): from here on only
            db.execute("INSERT OR REPLACE INTO meta SELECT 'changes_from', value FROM meta WHERE key = 'generation'")

    def _reader(self) -> sqlite3.Connection:
        """A connection of this thread's own for searches: on the shared one, a search would see the
        half-done transaction of an index run in another thread."""
        db = getattr(self._readers, "db", None)
        if db is None or self._readers.epoch != self._epoch:
            if db is not None:
                db.close()
            db = self._readers.db = sqlite3.connect(self._path, isolation_level=None, timeout=30)
            self._readers.epoch = self._epoch
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the shared connection, one thread at a time: the running bot writes from
        several (a feed poll, an upload, retention). Without the lock a second thread's BEGIN failed
        ("cannot start a transaction within a transaction"), or its writes went into the first one's
        transaction and were rolled back with it."""
        with self._write_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        """Grows with every committed change, so readers can tell when derived indexes are stale."""
        return int(self.get_meta("generation") or 0)

    # articles
    def article(self, article_id: str) -> ArticleRecord | None:
        row = self._db.execute("SELECT * FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return ArticleRecord(*row) if row else None

    def articles_titled(self, title: str) -> list[ArticleRecord]:
        """The articles with `title`: where the page another URL reached may be indexed already."""
        return [ArticleRecord(*row) for row in self._db.execute("SELECT * FROM articles WHERE title = ?", (title,))]

    def articles_of_versions(self, versions: Iterable[str]) -> list[ArticleRecord]:
        """The articles at any of `versions` (content hashes): the same content under another id, a file moved."""
        wanted = list(dict.fromkeys(versions))
        found: list[ArticleRecord] = []
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            rows = self._db.execute(f"SELECT * FROM articles WHERE version IN ({', '.join('?' * len(batch))})", batch)
            found += [ArticleRecord(*row) for row in rows]
        return found

    def articles(self, db: sqlite3.Connection | None = None) -> list[ArticleRecord]:
        rows = (db or self._db).execute("SELECT * FROM articles ORDER BY indexed_at DESC, article_id").fetchall()
        return [ArticleRecord(*row) for row in rows]

    def article_dates(self) -> list[tuple[str, str | None, str]]:
        """(article id, published, indexed_at) of every article: all that retention needs to read."""
        return self._db.execute("SELECT article_id, published, indexed_at FROM articles").fetchall()

    def versions(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT article_id, version FROM articles").fetchall())

    def counts(self) -> tuple[int, int, int]:
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(chunk_count), 0), COALESCE(SUM(sentence_count), 0) FROM articles"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def last_indexed_at(self) -> str | None:
        row = self._db.execute("SELECT MAX(indexed_at) FROM articles").fetchone()
        return row[0] if row else None

    def first_indexed_at(self) -> str | None:
        row = self._db.execute("SELECT MIN(indexed_at) FROM articles").fetchone()
        return row[0] if row else None

    def sentences(self, db: sqlite3.Connection | None = None) -> list[SentenceRow]:
        """Every sentence, in article order: made into rows 10,000 at a time, since all the tuples at once
        (`fetchall`) beside the rows took 170 MB more at a million sentences. A snapshot reads only the sentences'
        places (`SentencePlaces`)."""
        cursor = (db or self._db).execute(
            "SELECT article_id, n, chunk, paragraph, text FROM sentences ORDER BY article_id, n"
        )
        found: list[SentenceRow] = []
        while rows := cursor.fetchmany(10_000):
            found.extend(SentenceRow(*row) for row in rows)
        return found

    def read_one_generation(self, with_rowids: bool = False) -> tuple[int, list[ArticleRecord], list[Any]]:
        """The generation, articles and sentences as of one commit. Read one after the other, another
        process's change could land between them; so they are read in one transaction, on a connection of
        its own: this process's threads share the other one, and its transactions would get in the way."""
        db = sqlite3.connect(self._path, isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN")
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            articles = self.articles(db)
            if with_rowids:
                query = "SELECT rowid, article_id, n, chunk, paragraph, text FROM sentences ORDER BY article_id, n"
                sentences: list[Any] = [(row[0], SentenceRow(*row[1:])) for row in db.execute(query)]
            else:
                sentences = self.sentences(db)
            db.execute("COMMIT")
        finally:
            db.close()
        return int(row[0]) if row else 0, articles, sentences

    def read_changes(
        self,
        since: tuple[str, int] | None = None,
        most: int = 0,
        terms_to: TermsReader | None = None,
    ) -> CatalogChanges:
        """What changed since a reader's last look, as of one commit: `since` is the (catalog id, generation)
        it read then. Only the articles `article_changes` logged from that generation on are read, with their
        sentences; everything is read when there is no `since`, when the log does not reach back to it (a
        reader too far behind, an older newsbot's catalog) or the file is another one, or when more than
        `most` articles changed. In one transaction on a connection of its own, as `read_one_generation`.
        The sentences are their places without texts (`SentencePlaces`: a snapshot reads the texts a question
        needs, `sentence_texts`). `terms_to` is given the sentences' stored terms and rowids as they are read, in the
        order of `sentences` (a snapshot builds BM25's postings from them without holding them all)."""
        db = sqlite3.connect(self._path, isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN")
            generation, catalog_id, logged_from, terms_by = self._log_state(db)
            ids: list[str] | None = None
            if since is not None and since[0] == catalog_id and logged_from <= since[1]:
                query = "SELECT DISTINCT article_id FROM article_changes WHERE after_generation >= ?"
                ids = [article_id for (article_id,) in db.execute(query, (since[1],))]
                if len(ids) > most:
                    ids = None
            if ids is None:
                articles = self.articles(db)
                sentences = self._sentences_of(db, None, terms_to)
                changes = CatalogChanges(generation, catalog_id, True, articles, frozenset(), sentences, terms_by)
            else:
                articles, changed = self._records_of(db, ids)
                sentences = self._sentences_of(db, ids, terms_to)
                changes = CatalogChanges(generation, catalog_id, False, articles, changed, sentences, terms_by)
            db.execute("COMMIT")
        finally:
            db.close()
        return changes

    @staticmethod
    def _log_state(db: sqlite3.Connection) -> tuple[int, str, int, str]:
        """The catalog's generation, its id, the first generation its change log reaches back to, and which
        analyser wrote its stored terms: what a reader checks before it reads only the changes since its look."""
        keys = f"'generation', 'catalog_id', 'changes_from', '{TERMS_KEY}'"
        meta = dict(db.execute(f"SELECT key, value FROM meta WHERE key IN ({keys})"))
        generation = int(meta.get("generation", 0))
        logged_from = int(meta.get("changes_from", generation + 1))
        return generation, meta.get("catalog_id", ""), logged_from, meta.get(TERMS_KEY, "")

    def read_since_saved(
        self, since: tuple[str, int], terms_by: str, terms_to: TermsReader
    ) -> tuple[CatalogChanges, SentencePlaces, dict[str, int]] | None:
        """Every article and sentence (no texts, no terms) as of one commit, with the articles changed since `since`
        (catalog id, generation: BM25's postings saved then) and those articles' sentences, whose stored terms go
        to `terms_to`: the rest of the postings come from the saved file; and the rowid of each article's first
        sentence (the file keeps them: sentences numbered anew do not fit). None where the file cannot be brought up
        to date: another catalog file, a generation the log does not reach back to or not yet reached, or terms
        written by another analyser than `terms_by`. In one transaction, as `read_changes`."""
        db = sqlite3.connect(self._path, isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN")
            generation, catalog_id, logged_from, written_by = self._log_state(db)
            if since[0] != catalog_id or not logged_from <= since[1] <= generation or written_by != terms_by:
                return None
            query = "SELECT DISTINCT article_id FROM article_changes WHERE after_generation >= ?"
            ids = [article_id for (article_id,) in db.execute(query, (since[1],))]
            articles = self.articles(db)
            first_rowids: dict[str, int] = {}
            sentences = self._sentences_of(db, None, None, first_rowids)
            changed_sentences = self._sentences_of(db, ids, terms_to)
            db.execute("COMMIT")
        finally:
            db.close()
        everything = CatalogChanges(generation, catalog_id, True, articles, frozenset(ids), sentences, terms_by)
        return everything, changed_sentences, first_rowids

    def recent_vectors_since(self, generation: int, most: int) -> RecentVectors | None:
        """The vectors of every article changed since `generation` (this catalog file's), as of one commit; None
        where the log does not reach back to it, more than `most` articles changed, or some changed article's
        vectors are not kept (written by an older newsbot, or let go as older than RECENT_VECTORS_KEPT)."""
        db = sqlite3.connect(self._path, isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN")
            keys = "'generation', 'changes_from'"
            meta = dict(db.execute(f"SELECT key, value FROM meta WHERE key IN ({keys})"))
            now = int(meta.get("generation", 0))
            if int(meta.get("changes_from", now + 1)) > generation:
                return None
            query = "SELECT DISTINCT article_id FROM article_changes WHERE after_generation >= ?"
            ids = [article_id for (article_id,) in db.execute(query, (generation,))]
            if len(ids) > most:
                return None
            records, changed = self._records_of(db, ids)
            found: dict[str, dict[tuple[str, int], bytes]] = {"s": {}, "c": {}}
            versions = {r.article_id: r.version for r in records}
            for start in range(0, len(ids), 500):
                batch = ids[start : start + 500]
                marks = ", ".join("?" * len(batch))
                query = f"SELECT article_id, kind, n, version, vector FROM recent_vectors WHERE article_id IN ({marks})"
                for article_id, kind, n, version, vector in db.execute(query, batch):
                    if versions.get(article_id) == version:
                        found[kind][(article_id, n)] = vector
            db.execute("COMMIT")
        finally:
            db.close()
        counts = Counter(a for kind in "sc" for a, _ in found[kind])
        if any(counts[r.article_id] != r.sentence_count + r.chunk_count for r in records):
            return None
        return RecentVectors(now, changed, versions, found["s"], found["c"])

    @staticmethod
    def _records_of(db: sqlite3.Connection, ids: list[str]) -> tuple[list[ArticleRecord], frozenset[str]]:
        """The records of the articles `ids` that the catalog holds (500 at a time: SQLite's limit of bound
        parameters), and `ids` as the changed ones."""
        articles: list[ArticleRecord] = []
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ", ".join("?" * len(batch))
            records = db.execute(f"SELECT * FROM articles WHERE article_id IN ({marks})", batch)
            articles += [ArticleRecord(*r) for r in records]
        return articles, frozenset(ids)

    @staticmethod
    def _sentences_of(
        db: sqlite3.Connection,
        ids: list[str] | None = None,
        terms_to: TermsReader | None = None,
        first_rowids: dict[str, int] | None = None,
    ) -> SentencePlaces:
        """The places of the sentences of the articles `ids` (all: None), each article's in order of n, read
        10,000 at a time (no texts: a snapshot reads those a question needs, `sentence_texts`); each batch's
        stored terms and rowids go to `terms_to` (BM25's postings: `bot.lexical.TermPostings`), and the rowid of
        each article's first sentence into `first_rowids`."""
        terms_column, join = (
            ("t.c0", "LEFT JOIN sentence_terms_content AS t ON t.id = s.rowid") if terms_to else ("''", "")
        )
        query = (
            f"SELECT s.article_id, s.n, s.chunk, s.paragraph, s.rowid, COALESCE({terms_column}, '') "
            f"FROM sentences AS s {join} {{}} ORDER BY s.article_id, s.n"
        )
        places = SentencePlaces()
        batches = [None] if ids is None else [ids[start : start + 500] for start in range(0, len(ids), 500)]
        for batch in batches:
            where = "" if batch is None else f"WHERE s.article_id IN ({', '.join('?' * len(batch))})"
            cursor = db.execute(query.format(where), batch or [])
            while found := cursor.fetchmany(10_000):
                if first_rowids is not None:
                    for article_id, _, _, _, rowid, _ in found:
                        if article_id not in first_rowids:
                            first_rowids[article_id] = rowid
                places.add(found)
                if terms_to is not None:
                    terms_to([row[5] for row in found], [row[4] for row in found])
        return places

    def sentence_texts(self, wanted: Iterable[tuple[str, str, int | None]]) -> dict[tuple[str, str, int], str]:
        """The texts of the sentences `wanted` as (article id, version, n), or of every sentence of an article
        version where n is None, by (article id, version, n): none of an article whose version the catalog no
        longer (or not yet) holds, so a text read for an older snapshot is of its own version or missing."""
        wanted = list(dict.fromkeys(wanted))
        exact = [key for key in wanted if key[2] is not None]
        whole = [key[:2] for key in wanted if key[2] is None]
        found: dict[tuple[str, str, int], str] = {}
        db = self._reader()
        # the wanted rows first (CROSS JOIN keeps that order): each sentence is then one lookup of its key
        query = (
            "WITH wanted({columns}) AS (VALUES {values}) SELECT s.article_id, a.version, s.n, s.text FROM wanted AS w "
            "CROSS JOIN articles AS a CROSS JOIN sentences AS s WHERE a.article_id = w.article_id "
            "AND a.version = w.version AND s.article_id = w.article_id {sentence}"
        )
        for keys, columns, sentence in (
            (exact, "article_id, version, n", "AND s.n = w.n"),
            (whole, "article_id, version", ""),
        ):
            width = len(columns.split(","))
            for start in range(0, len(keys), 300):  # within SQLite's limit of bound parameters
                batch = keys[start : start + 300]
                values = ", ".join(f"({', '.join('?' * width)})" for _ in batch)
                rows = db.execute(
                    query.format(columns=columns, values=values, sentence=sentence),
                    [value for key in batch for value in key],
                )
                found.update(((a, v, n), text) for a, v, n, text in rows)
        return found

    def chunk_text(self, article_id: str, n: int) -> str | None:
        row = self._db.execute("SELECT text FROM chunks WHERE article_id = ? AND n = ?", (article_id, n)).fetchone()
        return row[0] if row else None

    # feed entries: the "updated" time each was last indexed at, so an edited entry is fetched again
    def feed_entry_updated(self, entry_id: str) -> str | None:
        row = self._db.execute("SELECT updated FROM feed_entries WHERE entry_id = ?", (entry_id,)).fetchone()
        return row[0] if row else None

    def set_feed_entries_updated(self, pairs: Iterable[tuple[str, str]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO feed_entries VALUES (?, ?)", list(pairs))

    def feed_entry_text(self, entry_id: str) -> str | None:
        """The digest of the entry's title and text in the feed when it was last read (`FeedEntry.text_digest`)."""
        row = self._db.execute("SELECT digest FROM feed_entry_texts WHERE entry_id = ?", (entry_id,)).fetchone()
        return row[0] if row else None

    def set_feed_entry_texts(self, pairs: Iterable[tuple[str, str]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO feed_entry_texts VALUES (?, ?)", list(pairs))

    def set_feed_members(self, feed: str, entry_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO feed_members VALUES (?, ?)", [(feed, e) for e in entry_ids])

    def forget_unlisted_feed_entries(self, feed: str, listed: Iterable[str]) -> int:
        """Forget what `feed` (normalised) no longer lists and the index no longer holds, returning how many of
        its entries went: a year of polls kept a row per entry ever seen in four tables while retention pruned
        the articles. An entry the index holds keeps its feed (`index remove FEED_URL` removes it), and one still
        listed keeps its text, which keeps it out of the index once removed (`NewsService._feed_entry_is_new`).
        The updated times and page validators of articles no longer indexed are never read again."""
        listed_now = set(listed)
        with self.transaction() as db:
            gone = [
                entry_id
                for (entry_id,) in db.execute(
                    "SELECT entry_id FROM feed_members WHERE feed = ?"
                    " AND entry_id NOT IN (SELECT article_id FROM articles)",
                    (feed,),
                )
                if entry_id not in listed_now
            ]
            db.executemany("DELETE FROM feed_members WHERE feed = ? AND entry_id = ?", [(feed, e) for e in gone])
            db.executemany(
                "DELETE FROM feed_entry_texts WHERE entry_id = ?1"
                " AND NOT EXISTS (SELECT 1 FROM feed_members WHERE entry_id = ?1)",
                [(entry_id,) for entry_id in gone],
            )
            db.execute("DELETE FROM feed_entries WHERE entry_id NOT IN (SELECT article_id FROM articles)")
            db.execute("DELETE FROM page_validators WHERE article_id NOT IN (SELECT article_id FROM articles)")
        return len(gone)

    def entries_of_feed_alone(self, feed: str) -> list[str]:
        """The ids of the entries `feed` (normalised) listed and no other feed did: an article two feeds brought
        stays while the other still lists it."""
        rows = self._db.execute(
            "SELECT entry_id FROM feed_members WHERE feed = ? AND entry_id NOT IN "
            "(SELECT entry_id FROM feed_members WHERE feed != ?)",
            (feed, feed),
        )
        return [entry_id for (entry_id,) in rows]

    def page_validators(self, url: str) -> tuple[str, str | None, str | None] | None:
        """(article id, ETag, Last-Modified) of the page at `url` (normalised) when it was last indexed."""
        return self._db.execute(
            "SELECT article_id, etag, last_modified FROM page_validators WHERE url = ?", (url,)
        ).fetchone()

    def set_page_validators(self, rows: Iterable[tuple[str, str, str | None, str | None]]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO page_validators VALUES (?, ?, ?, ?)", list(rows))

    # journal and the atomic flip
    def journal(self) -> list[JournalEntry]:
        return [JournalEntry(*row) for row in self._db.execute("SELECT * FROM journal").fetchall()]

    def begin_changes(self, entries: Iterable[JournalEntry]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?, ?, ?)",
                [tuple(vars(e).values()) for e in entries],
            )

    def end_changes(self, article_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM journal WHERE article_id = ?", [(a,) for a in article_ids])

    def commit_versions(
        self,
        upserts: list[tuple[ArticleRecord, list[str], list[SentenceRow]]],
        removals: Iterable[str] = (),
        vectors: Mapping[str, tuple[Any, Any]] | None = None,
    ) -> None:
        """Make new article versions (and removals) current, all or nothing, their terms with them, and with
        `vectors` (article id: its sentences' and its chunks' vectors, float32 rows) their vectors."""
        analyse = self.analyse
        terms = [analyse(record.title, rows) if analyse else [] for record, _, rows in upserts]
        with self.transaction() as db:
            complete = db.execute("SELECT value FROM meta WHERE key = ?", (TERMS_KEY,)).fetchone()
            for (record, chunk_texts, sentence_rows), sentence_terms in zip(upserts, terms, strict=True):
                self._delete_rows(db, record.article_id)
                db.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tuple(vars(record).values()))
                db.executemany(
                    "INSERT INTO chunks VALUES (?, ?, ?)",
                    [(record.article_id, n, text) for n, text in enumerate(chunk_texts)],
                )
                for s, text in zip(sentence_rows, sentence_terms or [None] * len(sentence_rows), strict=True):
                    rowid = db.execute(
                        "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
                        (s.article_id, s.n, s.chunk, s.paragraph, s.text),
                    ).lastrowid
                    if text is not None:
                        db.execute("INSERT INTO sentence_terms (rowid, terms) VALUES (?, ?)", (rowid, text))
                if sentence_terms:
                    db.execute(
                        "INSERT INTO article_terms VALUES (?, ?, ?)",
                        (record.article_id, record.version, distinct_terms(sentence_terms)),
                    )
                if vectors and record.article_id in vectors:
                    self._insert_vectors(db, record, vectors[record.article_id])
                    if self.keep_all_vectors:
                        self._keep_vectors(db, record, vectors[record.article_id])
            for article_id in removals:
                self._delete_rows(db, article_id)
            if complete and analyse is not None:  # the inserts' trigger took the mark: each came with its terms
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (TERMS_KEY, complete[0]))
            db.execute(
                "INSERT INTO meta VALUES ('generation', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
            unkept = [r for r, _, _ in upserts if not self.keep_all_vectors or r.article_id not in (vectors or {})]
            if unkept:  # a new version whose vectors `vectors` lacks
                db.execute("DELETE FROM meta WHERE key = ?", (ALL_VECTORS_KEY,))
            if vectors:
                self._trim_recent_vectors(db)
            self._trim_change_log(db)

    def set_sources(self, sources: Mapping[str, tuple[str, str]], vectors: Mapping[str, tuple[Any, Any]]) -> list[str]:
        """Cite articles by another source (article id: (its version, the new source)), their texts and vectors as
        they are, in one commit that readers follow as any change (the generation goes up); `vectors` (article id:
        its sentences' and chunks' vectors, as Chroma returns them) go to `recent_vectors`, so that another process
        reads them there rather than loading Chroma again. An article at another version since is left as it is.
        The ids changed."""
        changed = []
        with self.transaction() as db:
            for article_id, (version, source) in sources.items():
                cursor = db.execute(
                    "UPDATE articles SET source = ? WHERE article_id = ? AND version = ? AND source != ?",
                    (source, article_id, version, source),
                )
                if cursor.rowcount:
                    changed.append(article_id)
            if not changed:
                return []
            records, _ = self._records_of(db, [a for a in changed if a in vectors])
            for record in records:
                self._insert_vectors(db, record, vectors[record.article_id])
            db.execute(
                "INSERT INTO meta VALUES ('generation', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
            self._trim_recent_vectors(db)
            self._trim_change_log(db)
        return changed

    @staticmethod
    def _insert_vectors(db: sqlite3.Connection, record: ArticleRecord, vectors: tuple[Any, Any]) -> None:
        """Keep the vectors of an article's new version in `recent_vectors`, by the generation it is committed
        after (as `article_changes`); `_trim_recent_vectors` lets the oldest go beyond RECENT_VECTORS_KEPT."""
        (generation,) = db.execute(
            "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0)"
        ).fetchone()
        rows = [
            (record.article_id, kind, n, record.version, generation, vector.astype("<f4").tobytes())
            for kind, kind_vectors in zip("sc", vectors, strict=True)
            for n, vector in enumerate(kind_vectors)
        ]
        db.executemany("INSERT OR REPLACE INTO recent_vectors VALUES (?, ?, ?, ?, ?, ?)", rows)

    @staticmethod
    def _trim_recent_vectors(db: sqlite3.Connection) -> None:
        cut = db.execute(
            "SELECT after_generation FROM recent_vectors ORDER BY after_generation DESC LIMIT 1 OFFSET ?",
            (RECENT_VECTORS_KEPT,),
        ).fetchone()
        if cut is not None:
            db.execute("DELETE FROM recent_vectors WHERE after_generation <= ?", cut)

    @staticmethod
    def _trim_change_log(db: sqlite3.Connection) -> None:
        """Keep the last CHANGES_KEPT generations of `article_changes`, and say from where it is complete."""
        (generation,) = db.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'").fetchone()
        oldest = generation - CHANGES_KEPT
        if oldest > 0:
            db.execute("DELETE FROM article_changes WHERE after_generation < ?", (oldest,))
            db.execute("DELETE FROM recent_vectors WHERE after_generation < ?", (oldest,))
            db.execute(
                "INSERT INTO meta VALUES ('changes_from', ?) ON CONFLICT(key) "
                "DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (str(oldest),),
            )

    @staticmethod
    def _delete_rows(db: sqlite3.Connection, article_id: str) -> None:
        for table in ("articles", "chunks", "sentences", "article_terms", "recent_vectors", "vectors"):
            db.execute(f"DELETE FROM {table} WHERE article_id = ?", (article_id,))

    # every vector (NEWSBOT_VECTORS_IN_CATALOG)
    @staticmethod
    def _keep_vectors(db: sqlite3.Connection, record: ArticleRecord, vectors: tuple[Any, Any]) -> None:
        """Write an article version's sentence and chunk vectors (float32 rows) into `vectors`, and its sentence
        vectors joined into `article_sentence_vectors`."""
        rows = [
            (record.article_id, kind, n, record.version, vector.astype("<f4").tobytes())
            for kind, kind_vectors in zip("sc", vectors, strict=True)
            for n, vector in enumerate(kind_vectors)
        ]
        db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows)
        sentences = [vector for _, kind, _, _, vector in rows if kind == "s"]
        if sentences:
            db.execute(
                "INSERT OR REPLACE INTO article_sentence_vectors VALUES (?, ?, ?, ?)",
                (record.article_id, record.version, len(sentences), b"".join(sentences)),
            )

    def holds_all_vectors(self) -> bool:
        """Whether `vectors` holds every current article version's vectors: set by `put_vectors(complete=True)`,
        cleared by a commit of a version without them (NEWSBOT_VECTORS_IN_CATALOG off, or an older newsbot's
        commit, which leaves the mark but not the rows: those are then missing, and read from Chroma)."""
        row = self._reader().execute("SELECT value FROM meta WHERE key = ?", (ALL_VECTORS_KEY,)).fetchone()
        return row is not None

    def stored_vectors(self, kind: str, keys: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str, int], bytes]:
        """The float32 vectors of sentences (`kind` 's') or chunks ('c') by (article id, version, n), of those
        `vectors` holds at that version: one query per 300 keys, each key one lookup."""
        rows = self._vectors_of(kind, ("article_id", "version", "n"), keys)
        return {(a, v, n): vector for a, v, n, vector in rows}

    def article_vectors(self, kind: str, articles: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str], bytes]:
        """The float32 vectors of sentences (`kind` 's') or chunks ('c') of whole article versions ((article id,
        version, how many)), each article's joined in order of n, for those whose vectors `vectors` all holds.
        Sentences' come from `article_sentence_vectors` (one row an article) where it holds the version; the rest
        from `vectors`: one query per 300 articles, a range of the key index each, and of each row only its place
        and vector (with the article id and version of every row, making those strings cost more than SQLite's
        read of them). Either way the same bytes."""
        found = self._joined_sentence_vectors(articles) if kind == "s" else {}
        if found:
            articles = [(a, v, count) for a, v, count in articles if (a, v) not in found]
        db = self._reader()
        for start in range(0, len(articles), 300):  # within SQLite's limit of bound parameters
            batch = articles[start : start + 300]
            query = (
                f"WITH wanted(i, article_id, version) AS (VALUES {', '.join('(?, ?, ?)' for _ in batch)}) "
                "SELECT w.i, v.n, v.vector FROM wanted AS w CROSS JOIN vectors AS v "
                "WHERE v.article_id = w.article_id AND v.kind = ? AND v.version = w.version"
            )
            rows = db.execute(query, [x for i, (a, v, _) in enumerate(batch) for x in (i, a, v)] + [kind]).fetchall()
            if not rows:
                continue
            which, ns, vectors = zip(*rows, strict=True)
            if list(which) != sorted(which):  # not in the order of the article list (the loop's order): sorted
                which, ns, vectors = zip(*sorted(rows, key=itemgetter(0, 1)), strict=True)
            held, start_of = Counter(which), 0
            for i in sorted(held):
                article_id, version, count = batch[i]
                end = start_of + held[i]
                if held[i] == count and ns[start_of:end] == tuple(range(count)):  # all of them, in order of n
                    found[(article_id, version)] = b"".join(vectors[start_of:end])
                start_of = end
        return found

    def _joined_sentence_vectors(self, articles: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str], bytes]:
        """The joined sentence vectors of those article versions ((article id, version, how many)) that
        `article_sentence_vectors` holds at that version, `how many` of them: one query per 300 articles."""
        found: dict[tuple[str, str], bytes] = {}
        db = self._reader()
        for start in range(0, len(articles), 300):  # within SQLite's limit of bound parameters
            batch = articles[start : start + 300]
            query = (
                f"WITH wanted(article_id, version, sentences) AS (VALUES {', '.join('(?, ?, ?)' for _ in batch)}) "
                "SELECT j.article_id, j.version, j.vectors FROM wanted AS w CROSS JOIN article_sentence_vectors AS j "
                "WHERE j.article_id = w.article_id AND j.version = w.version AND j.sentences = w.sentences"
            )
            for article_id, version, joined in db.execute(query, [x for key in batch for x in key]):
                found[(article_id, version)] = joined
        return found

    def _vectors_of(
        self, kind: str, columns: tuple[str, ...], keys: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[str, str, int, bytes]]:
        """The rows (article id, version, n, vector) of `kind` whose `columns` equal one of `keys`: the keys joined
        as a VALUES table, 300 per query, within SQLite's limit of bound parameters."""
        db = self._reader()
        matches = " AND ".join(f"v.{column} = w.{column}" for column in columns)
        placeholders = "(" + ", ".join("?" for _ in columns) + ")"
        for start in range(0, len(keys), 300):
            batch = keys[start : start + 300]
            query = (
                f"WITH wanted({', '.join(columns)}) AS (VALUES {', '.join(placeholders for _ in batch)}) "
                "SELECT v.article_id, v.version, v.n, v.vector FROM wanted AS w CROSS JOIN vectors AS v "
                f"WHERE {matches} AND v.kind = ?"
            )
            yield from db.execute(query, [value for key in batch for value in key] + [kind])

    def articles_without_vectors(self) -> list[ArticleRecord]:
        """The articles whose current version has no vectors in `vectors` (`put_vectors` fills them)."""
        query = (
            "SELECT a.* FROM articles AS a WHERE a.sentence_count + a.chunk_count > 0 AND NOT EXISTS "
            "(SELECT 1 FROM vectors AS v WHERE v.article_id = a.article_id AND v.version = a.version)"
        )
        return [ArticleRecord(*row) for row in self._reader().execute(query)]

    def holds_joined_vectors(self) -> bool:
        """Whether `article_sentence_vectors` was filled from `vectors` once (`join_vectors`); commits since write
        both. An older newsbot's commit writes `vectors` only: questions then read those articles' rows there."""
        row = self._reader().execute("SELECT value FROM meta WHERE key = ?", (JOINED_VECTORS_KEY,)).fetchone()
        return row is not None

    def articles_without_joined_vectors(self) -> list[tuple[str, str, int]]:
        """(article id, version, sentence count) of the current versions `article_sentence_vectors` lacks."""
        query = (
            "SELECT a.article_id, a.version, a.sentence_count FROM articles AS a WHERE a.sentence_count > 0 AND NOT "
            "EXISTS (SELECT 1 FROM article_sentence_vectors AS j WHERE j.article_id = a.article_id AND j.version = "
            "a.version)"
        )
        return [tuple(row) for row in self._reader().execute(query)]

    def join_vectors(self, articles: Sequence[tuple[str, str, int]], complete: bool = False) -> int:
        """Write the joined sentence vectors of those article versions ((article id, version, sentence count)) whose
        rows `vectors` holds, all of them, at the catalog's current version; `complete`: mark the fill done
        (`holds_joined_vectors`). One transaction; returns how many articles were written."""
        written = 0
        with self.transaction() as db:
            for article_id, version, count in articles:
                current = db.execute(
                    "SELECT version, sentence_count FROM articles WHERE article_id = ?", (article_id,)
                ).fetchone()
                if current is None or tuple(current) != (version, count):
                    continue  # changed or removed meanwhile: its new version came with its own
                rows = db.execute(
                    "SELECT n, vector FROM vectors WHERE article_id = ? AND kind = 's' AND version = ? ORDER BY n",
                    (article_id, version),
                ).fetchall()
                if [n for n, _ in rows] != list(range(count)):
                    continue  # not all there: questions fetch them by id, as before
                db.execute(
                    "INSERT OR REPLACE INTO article_sentence_vectors VALUES (?, ?, ?, ?)",
                    (article_id, version, count, b"".join(vector for _, vector in rows)),
                )
                written += 1
            if complete:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (JOINED_VECTORS_KEY,))
        return written

    def put_vectors(self, vectors: Mapping[tuple[str, str], tuple[Any, Any]], complete: bool = False) -> int:
        """Write article versions' vectors ((article id, version): their sentences' and chunks', float32 rows) into
        `vectors`, of those the catalog still holds at that version; `complete`: every current version's are there
        now (`holds_all_vectors`). One transaction; returns how many articles were written."""
        with self.transaction() as db:
            written = 0
            for (article_id, version), article_vectors in vectors.items():
                row = db.execute("SELECT * FROM articles WHERE article_id = ?", (article_id,)).fetchone()
                if row is None or ArticleRecord(*row).version != version:
                    continue  # changed or removed meanwhile: its new version came with its own
                db.execute("DELETE FROM vectors WHERE article_id = ?", (article_id,))  # an older newsbot's version
                self._keep_vectors(db, ArticleRecord(*row), article_vectors)
                written += 1
            if complete:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (ALL_VECTORS_KEY,))
        return written

    # the lexical index
    def fill_terms(self, analyse: Analyser, name: str) -> bool:
        """Make `analyse` the analyser of `sentence_terms`; when the table was written by another one (or
        by none: a catalog of an older newsbot), analyse every sentence once and write it anew.

        The analysing happens outside the write lock; if another process commits meanwhile, it starts over.
        Returns whether it filled the table.
        """
        self.analyse, self._analyser_name = analyse, name
        if self.get_meta(TERMS_KEY) == name and not self._terms_on_current_rows():
            log.warning("the catalog's sentences were numbered anew (a dump loaded again?): analysing them again")
            with self.transaction() as db:
                db.execute("DELETE FROM meta WHERE key = ?", (TERMS_KEY,))
        while self.get_meta(TERMS_KEY) != name:
            generation, articles, sentences = self.read_one_generation(with_rowids=True)
            titles = {a.article_id: a.title for a in articles}
            versions = {a.article_id: a.version for a in articles}
            rows: list[tuple[int, str]] = []
            article_rows: list[tuple[str, str, str]] = []
            start = 0
            while start < len(sentences):
                end = start
                article_id = sentences[start][1].article_id
                while end < len(sentences) and sentences[end][1].article_id == article_id:
                    end += 1
                part = sentences[start:end]
                analysed = analyse(titles[article_id], [s for _, s in part])
                rows.extend(zip((r for r, _ in part), analysed, strict=True))
                article_rows.append((article_id, versions[article_id], distinct_terms(analysed)))
                start = end
            with self.transaction() as db:
                if self.generation != generation:
                    continue  # changed meanwhile: read again
                db.execute("DELETE FROM sentence_terms")
                db.executemany("INSERT INTO sentence_terms (rowid, terms) VALUES (?, ?)", rows)
                db.execute("DELETE FROM article_terms")
                db.executemany("INSERT INTO article_terms VALUES (?, ?, ?)", article_rows)
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (TERMS_KEY, name))
            return True
        return False

    def _terms_on_current_rows(self) -> bool:
        """Whether the stored terms sit on the sentences' current rowids. A `.dump` of the catalog loaded into a new
        file numbers the sentences from 1 again (the gaps of removed articles closed), while FTS5 keeps its own
        ids: each sentence was then scored on another one's terms, and a new sentence's rowid could be taken in
        `sentence_terms`. Every sentence has its terms once they are complete, so the first and last ids tell."""
        low, high, terms_low, terms_high = self._db.execute(  # one statement: one commit's state, whoever writes
            "SELECT (SELECT MIN(rowid) FROM sentences), (SELECT MAX(rowid) FROM sentences), "
            "(SELECT MIN(id) FROM sentence_terms_content), (SELECT MAX(id) FROM sentence_terms_content)"
        ).fetchone()
        return (low, high) == (terms_low, terms_high)

    def fill_article_terms(self) -> int:
        """Write the `article_terms` of every article that lacks those of its current version (a catalog an older
        newsbot wrote), from its sentences' stored terms, 500 articles a transaction. Returns how many it wrote."""
        missing = [
            article_id
            for (article_id,) in self._db.execute(
                "SELECT a.article_id FROM articles AS a LEFT JOIN article_terms AS t "
                "ON t.article_id = a.article_id AND t.version = a.version WHERE t.article_id IS NULL"
            )
        ]
        filled = 0
        for start in range(0, len(missing), 500):
            batch = missing[start : start + 500]
            with self.transaction() as db:
                stored = self._sentence_terms(db, batch)  # none for an article without sentences
                db.executemany(
                    "INSERT OR REPLACE INTO article_terms VALUES (?, ?, ?)",
                    [(a, version, distinct_terms(terms)) for a, (version, terms) in stored.items()],
                )
            filled += len(stored)
        return filled

    @staticmethod
    def _sentence_terms(db: sqlite3.Connection, article_ids: list[str]) -> dict[str, tuple[str, list[str]]]:
        """The current version and the stored terms of every sentence, in order, of each of `article_ids` (at most
        500) that has sentences. Read from the FTS5 table's own content table (its "_content", column c0), which
        FTS5 reads for it too: going through the virtual table took twice as long."""
        marks = ", ".join("?" * len(article_ids))
        rows = db.execute(
            "SELECT s.article_id, a.version, t.c0 FROM sentences AS s JOIN articles AS a "
            "ON a.article_id = s.article_id JOIN sentence_terms_content AS t ON t.id = s.rowid "
            f"WHERE s.article_id IN ({marks}) ORDER BY s.article_id, s.n",
            article_ids,
        )
        found: dict[str, tuple[str, list[str]]] = {}
        for article_id, version, terms in rows:
            found.setdefault(article_id, (version, []))[1].append(terms)
        return found

    def search_terms(self, terms: list[str], k: int, counts: dict[str, int] | None = None) -> list[LexicalHit]:
        """The `k` sentences with the best BM25 score (FTS5's) for any of `terms`, best first.

        FTS5 scores every sentence that holds any term, a few microseconds each: at a million sentences a
        question with common words ("Jahr", "sagen") matches a hundred thousand. So, as search engines
        do (MaxScore), the rarest terms, up to RANKED_POSTINGS sentences in all, find the candidates
        (FTS5 ranks only those), and the RESCORED best of them are scored on every term. A common term
        weighs little (its IDF is low), so a sentence holding only common terms rarely makes the top `k`.
        When even the rarest term is that common, its newest RANKED_POSTINGS sentences (rowids grow as
        articles come in) are searched. `counts`: the terms' document frequencies (`term_counts`), if
        the caller has them.
        """
        if not terms or k <= 0:
            return []
        counts = self.term_counts(terms) if counts is None else counts
        plan = SearchPlan.of(terms, counts)
        present, essential, postings = plan.present, plan.essential, plan.postings
        if not present:
            return []
        if plan.ranks_all:  # few: FTS5 ranks them all
            return self._ranked(present, k)
        db = self._reader()
        newest = 0
        if postings > RANKED_POSTINGS:  # even the rarest term is common: its newest sentences are searched
            row = db.execute(
                "SELECT rowid FROM sentence_terms WHERE sentence_terms MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                (_any_of(essential), RANKED_POSTINGS - 1),
            ).fetchone()
            newest = row[0] if row else 0
        found = db.execute(
            "SELECT rowid FROM sentence_terms WHERE sentence_terms MATCH ? AND rowid >= ? ORDER BY rank LIMIT ?",
            (_any_of(essential), newest, max(k, RESCORED)),
        ).fetchall()
        scores = self._bm25([r for (r,) in found], present, counts)
        best = sorted(scores.items(), key=lambda item: -item[1])[:k]
        return self._hits(best)

    def _ranked(self, terms: list[str], k: int) -> list[LexicalHit]:
        rows = self._reader().execute(
            "SELECT s.article_id, s.n, a.version, -best.rank FROM "
            "(SELECT rowid, rank FROM sentence_terms WHERE sentence_terms MATCH ? ORDER BY rank LIMIT ?) AS best "
            "JOIN sentences AS s ON s.rowid = best.rowid JOIN articles AS a ON a.article_id = s.article_id "
            "ORDER BY best.rank",
            (_any_of(terms), k),
        )
        return [LexicalHit(*row) for row in rows]

    def _hits(self, scored: list[tuple[int, float]]) -> list[LexicalHit]:
        """`scored` (sentence rowid, score) as hits, in the same order."""
        if not scored:
            return []
        marks = ", ".join("?" * len(scored))
        rows = self._reader().execute(
            "SELECT s.rowid, s.article_id, s.n, a.version FROM sentences AS s "
            f"JOIN articles AS a ON a.article_id = s.article_id WHERE s.rowid IN ({marks})",
            [r for r, _ in scored],
        )
        found = {rowid: rest for rowid, *rest in rows}
        return [LexicalHit(*found[r], score) for r, score in scored if r in found]

    def _bm25(self, rowids: list[int], terms: list[str], counts: dict[str, int]) -> dict[int, float]:
        """FTS5's BM25 (fts5_aux.c: k1 1.2, b 0.75, IDF floored at 1e-6, each term of `terms` once per
        occurrence, as a phrase of the MATCH) of the sentences `rowids`, from their stored terms."""
        if not rowids:
            return {}
        rows, tokens = self._averages()
        average = tokens / rows if rows else 1.0
        idf = {t: max(1e-6, math.log((rows - counts[t] + 0.5) / (counts[t] + 0.5))) for t in set(terms)}
        marks = ", ".join("?" * len(rowids))
        texts = self._reader().execute(f"SELECT rowid, terms FROM sentence_terms WHERE rowid IN ({marks})", rowids)
        scores: dict[int, float] = {}
        for rowid, text in texts:
            words = text.split()
            frequency = Counter(words)
            norm = BM25_K1 * (1 - BM25_B + BM25_B * len(words) / average)
            scores[rowid] = sum(
                idf[t] * frequency[t] * (BM25_K1 + 1) / (frequency[t] + norm) for t in terms if frequency[t]
            )
        return scores

    def _averages(self) -> tuple[int, int]:
        """FTS5's own count of rows and of tokens (its "averages" record, id 1 of the data table: a varint
        each), which its BM25 reads for the average length."""
        row = self._reader().execute("SELECT block FROM sentence_terms_data WHERE id = 1").fetchone()
        values: list[int] = []
        data, i = bytes(row[0]) if row else b"", 0
        while i < len(data) and len(values) < 2:
            value, i = _varint(data, i)
            values.append(value)
        return (values[0], values[1]) if len(values) == 2 else (0, 0)

    def article_term_scores(
        self, terms: list[str], article_id: str, counts: dict[str, int] | None = None
    ) -> dict[int, float]:
        """The BM25 scores (FTS5's, as `search_terms`) of the sentences of `article_id` that hold any of
        `terms`, by sentence number: for an article whose every sentence is to be scored. Scored from the
        article's own terms: a MATCH would walk every sentence that holds a common term."""
        counts = self.term_counts(terms) if counts is None else counts
        present = [t for t in terms if counts.get(t, 0) > 0]
        if not present:
            return {}
        numbers = dict(self._reader().execute("SELECT rowid, n FROM sentences WHERE article_id = ?", (article_id,)))
        scores = self._bm25(list(numbers), present, counts)
        return {numbers[rowid]: score for rowid, score in scores.items() if score > 0}

    def articles_terms(self, versions: dict[str, str]) -> dict[str, str | None]:
        """The distinct terms of each article (article id: version) as `distinct_terms` gives them; None for an
        article when the catalog no longer holds that version of it. One query for all: a question reads those
        of its candidates' articles at once. From `article_terms`, or where it lacks an article's (an older
        newsbot wrote it), from the terms of its sentences."""
        found: dict[str, str] = {}
        wanted = list(versions)
        db = self._reader()
        for start in range(0, len(wanted), 500):  # within SQLite's limit of bound parameters
            batch = wanted[start : start + 500]
            marks = ", ".join("?" * len(batch))
            query = f"SELECT article_id, version, terms FROM article_terms WHERE article_id IN ({marks})"
            found.update((a, terms) for a, version, terms in db.execute(query, batch) if version == versions[a])
            missing = [a for a in batch if a not in found]
            for article_id, (version, terms) in self._sentence_terms(db, missing).items() if missing else ():
                if version == versions[article_id]:  # else the catalog holds another version of it
                    found[article_id] = distinct_terms(terms)
        return {article_id: found.get(article_id) for article_id in versions}

    def term_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """How many sentences hold each of `terms` (terms no sentence holds are left out)."""
        wanted = sorted(set(terms))
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        query = f"SELECT term, doc FROM sentence_term_counts WHERE term IN ({marks})"
        return dict(self._reader().execute(query, wanted).fetchall())
