"""The catalog: which version of each article is current, its metadata, chunks and sentences (SQLite).

It is the source of truth for what the index holds. Vectors live in Chroma under ids that carry the
article's version; the catalog flips from the old version to the new one in one SQLite transaction,
and a journal row records every change in flight, so a killed run is rolled forward or back on the
next open (see `index.store`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS page_validators (
    url TEXT PRIMARY KEY, article_id TEXT NOT NULL, etag TEXT, last_modified TEXT
);
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


@dataclass(frozen=True)
class SentenceRow:
    article_id: str
    n: int
    chunk: int
    paragraph: int
    text: str


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


class Catalog:
    """SQLite bookkeeping beside Chroma; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
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

    def sentences(self, db: sqlite3.Connection | None = None) -> list[SentenceRow]:
        rows = (
            (db or self._db)
            .execute("SELECT article_id, n, chunk, paragraph, text FROM sentences ORDER BY article_id, n")
            .fetchall()
        )
        return [SentenceRow(*row) for row in rows]

    def read_one_generation(self) -> tuple[int, list[ArticleRecord], list[SentenceRow]]:
        """The generation, articles and sentences as of one commit. Read one after the other, another
        process's change could land between them; so they are read in one transaction, on a connection of
        its own: this process's threads share the other one, and its transactions would get in the way."""
        db = sqlite3.connect(self._path, isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN")
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            articles, sentences = self.articles(db), self.sentences(db)
            db.execute("COMMIT")
        finally:
            db.close()
        return int(row[0]) if row else 0, articles, sentences

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
    ) -> None:
        """Make new article versions (and removals) current, all or nothing."""
        with self.transaction() as db:
            for record, chunk_texts, sentence_rows in upserts:
                self._delete_rows(db, record.article_id)
                db.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tuple(vars(record).values()))
                db.executemany(
                    "INSERT INTO chunks VALUES (?, ?, ?)",
                    [(record.article_id, n, text) for n, text in enumerate(chunk_texts)],
                )
                db.executemany(
                    "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
                    [(s.article_id, s.n, s.chunk, s.paragraph, s.text) for s in sentence_rows],
                )
            for article_id in removals:
                self._delete_rows(db, article_id)
            db.execute(
                "INSERT INTO meta VALUES ('generation', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    @staticmethod
    def _delete_rows(db: sqlite3.Connection, article_id: str) -> None:
        for table in ("articles", "chunks", "sentences"):
            db.execute(f"DELETE FROM {table} WHERE article_id = ?", (article_id,))
