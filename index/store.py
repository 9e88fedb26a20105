"""The vector store: Chroma collections of chunk and sentence vectors, kept in step with the catalog.

This is the one module that imports chromadb. Vector ids carry the article version
(`<article id>@<version>:<n>` for chunks, `...:s<n>` for sentences), so an update writes the new
version beside the old one, flips the catalog, then deletes the old ids: a reader never sees a mix,
and `recover()` finishes or undoes a change that a killed process left in the journal.

Embedded Chroma loads its HNSW segments into memory once per process and path, so another process's
writes never reach them: `VectorStore.reconnect()` makes the process load them from disk again, and
the index calls it whenever the catalog shows a change this process did not make.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from index.catalog import Catalog, JournalEntry
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)


def chunk_id(article_id: str, version: str, n: int) -> str:
    return f"{article_id}@{version}:{n}"


def sentence_id(article_id: str, version: str, n: int) -> str:
    return f"{article_id}@{version}:s{n}"


def parse_id(vector_id: str) -> tuple[str, str, int]:
    """(article id, version, position) of a chunk or sentence id; the version never holds '@' or ':'."""
    article_id, _, rest = vector_id.rpartition("@")
    version, _, position = rest.partition(":")
    return article_id, version, int(position.removeprefix("s"))


@dataclass(frozen=True)
class Hit:
    """One vector search result; `score` is cosine similarity (higher is closer)."""

    article_id: str
    version: str
    n: int
    score: float


# chromadb shares one System (with the HNSW segments in memory) among all clients of a path in a
# process. A reconnect drops it from chromadb's cache, so the next client starts a new System that
# loads the segments from disk; the count per path tells the process's other stores to follow.
# chromadb's cache is not safe against a drop while another thread creates a client (a KeyError on the
# path, or a System handed out before it has started), so creating clients and dropping the System of
# a path happen under one lock.
_reconnects: dict[str, int] = {}
_reconnect_lock = threading.RLock()
# A dropped System is stopped as soon as nothing holds it: no store has it as its current client and no call
# runs on it. Left to Python, it lived on until a full garbage collection (its components refer to each other),
# each with a whole copy of the segments; and glibc's malloc kept what its Rust bindings freed (+20 MB a load
# at 17k sentences), so a bot beside a feed poller grew at every change of another process. By id of the
# System: how many stores and calls hold it (under `_reconnect_lock`).
_holders: dict[int, int] = {}


def _drop_shared_system(path: str) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
    if system is not None and not _holders.get(id(system)):
        _stop(system)


def _has_shared_system(path: str) -> bool:
    from chromadb.api.shared_system_client import SharedSystemClient

    return path in SharedSystemClient._identifier_to_system


def _shared_system(path: str) -> Any:
    from chromadb.api.shared_system_client import SharedSystemClient

    return SharedSystemClient._identifier_to_system.get(path)


def _hold(system: Any) -> None:
    with _reconnect_lock:
        _holders[id(system)] = _holders.get(id(system), 0) + 1


def _release(system: Any) -> None:
    """One holder less; the last one of a System dropped from chromadb's cache stops it."""
    with _reconnect_lock:
        left = _holders.get(id(system), 0) - 1
        if left > 0:
            _holders[id(system)] = left
            return
        _holders.pop(id(system), None)
        from chromadb.api.shared_system_client import SharedSystemClient

        if not any(cached is system for cached in SharedSystemClient._identifier_to_system.values()):
            _stop(system)


def _stop(system: Any) -> None:
    """Stop a System no one uses any more: its bindings go, and with them the segments' memory, which is then
    given back to the operating system."""
    started = time.perf_counter()
    try:
        system.stop()
    except Exception as error:  # the memory stays until Python collects it, as before
        log.warning("could not stop an old Chroma client: %s", error)
        return
    _give_memory_back()
    log.info("stopped an old Chroma client and gave its memory back in %.2f s", time.perf_counter() - started)


def _give_memory_back() -> None:
    """Return the free memory of glibc's malloc arenas to the operating system (`malloc_trim`): what Chroma's
    bindings freed stays in the arenas of the threads that allocated it otherwise. Nothing elsewhere than glibc."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def search_breadth(settings: Settings) -> int:
    """How many candidates Chroma's HNSW keeps while it walks the graph (`ef_search`).

    Chroma's default, 100, is sized for about ten results; a question asks for `candidates` (40). At 100
    the haystack's dev questions got 0.89 of their 40 true nearest sentences (87 % missed some), at ten
    per result, Chroma's own ratio, 0.98. It costs a query about a millisecond.
    """
    return max(100, 10 * settings.candidates)


def _widen_search(collection: Any, breadth: int) -> None:
    """Raise an existing collection's `ef_search` to `breadth` (collections made before it was set)."""
    hnsw = (getattr(collection, "configuration", None) or {}).get("hnsw") or {}
    if int(hnsw.get("ef_search") or 0) >= breadth:
        return
    from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

    def locked(error: BaseException) -> bool:
        """SQLite's "database is locked": Chroma's own start-up writes still hold the file, which passes."""
        return "locked" in str(error)

    try:
        for attempt in Retrying(
            stop=stop_after_delay(10),
            wait=wait_exponential(multiplier=0.1, max=2),
            retry=retry_if_exception(locked),
            reraise=True,
        ):
            with attempt:
                collection.modify(configuration={"hnsw": {"ef_search": breadth}})
        log.info("vector search breadth of %s raised to %d", collection.name, breadth)
    except Exception as error:  # a read-only data dir: the search still works, with fewer neighbours found
        log.warning("could not raise the vector search breadth of %s: %s", collection.name, error)


def _limit_server_waits(client: Any, seconds: float) -> None:
    """Put a time limit on every call of `client`, a chromadb client of a Chroma server. Its own waits for
    ever (httpx with timeout=None, and no setting changes it: chroma-core/chroma#5805): a server that took
    the connection but stopped answering (seen after a write failed on its full disk) hung every question.
    A call that runs out is then the user's `chroma_unreachable` line (`VectorStore._server_calls`). The
    session is chromadb's private attribute: where a version lacks it, the client is used as it comes."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds)
    else:
        log.warning("no time limit on the Chroma server's calls: this chromadb's client has no httpx session")


@functools.cache
def _server_client_class() -> type:
    """chromadb's client with the time limit set before its first call. `chromadb.HttpClient` asks the server
    who the user is and whether tenant and database exist while it is being made, on sessions without a
    limit (its admin client has a session of its own): a server that took the connection and never
    answered hung `newsbot` at start, before a limit set on the finished client could help."""
    from chromadb.api.client import Client

    class TimeLimitedClient(Client):
        def __init__(self, time_limit_seconds: float, settings: Any) -> None:
            self.time_limit_seconds = time_limit_seconds
            super().__init__(settings=settings)

        def get_user_identity(self) -> Any:
            _limit_server_waits(self, self.time_limit_seconds)  # the first call `Client.__init__` makes
            return super().get_user_identity()

        def _validate_tenant_database(self, tenant: str, database: str) -> None:
            _limit_server_waits(self._admin_client, self.time_limit_seconds)
            super()._validate_tenant_database(tenant, database)

    return TimeLimitedClient


def _server_client(settings: Settings, chroma_settings: Any) -> Any:
    """A client of the Chroma server at `settings.chroma_url`, set up as `chromadb.HttpClient` sets it up,
    whose every call (those made while it is created too) waits at most `chroma_timeout_seconds`."""
    parsed = urlparse(settings.chroma_url)
    chroma_settings.chroma_api_impl = "chromadb.api.fastapi.FastAPI"
    chroma_settings.chroma_server_host = parsed.hostname or "localhost"
    chroma_settings.chroma_server_http_port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    chroma_settings.chroma_server_ssl_enabled = parsed.scheme == "https"
    client = _server_client_class()(settings.chroma_timeout_seconds, chroma_settings)
    _limit_server_waits(client, settings.chroma_timeout_seconds)  # where a chromadb skipped the first call
    return client


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        try:
            return _server_client(settings, chroma_settings)
        except Exception as error:
            raise NewsbotError(
                message("chroma_unreachable", settings.language, url=settings.chroma_url), detail=str(error)
            ) from error
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def stored_vector_counts(settings: Settings) -> tuple[int, int]:
    """How many chunk and sentence vectors Chroma holds, read without creating anything (for `newsbot doctor`):
    a missing chroma/ folder or collection holds none. Opening it with `VectorStore` would create both."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from chromadb.errors import NotFoundError

    if settings.chroma_url:
        client = _client(settings)
    elif (settings.chroma_path / "chroma.sqlite3").is_file():
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    else:
        return 0, 0
    counts = []
    for kind in ("chunks", "sentences"):
        try:
            counts.append(client.get_collection(f"{settings.collection}-{kind}", embedding_function=None).count())
        except NotFoundError:
            counts.append(0)
    return counts[0], counts[1]


class VectorStore:
    """Two Chroma collections (chunks, sentences) that record which embedder filled them."""

    def __init__(self, settings: Settings, embedder_name: str, dim: int) -> None:
        self._settings = settings
        self._embedder_name = embedder_name
        self._dim = dim
        # The chromadb System's key (its persist directory); None for a server, which all clients share.
        self._path = None if settings.chroma_url else str(settings.chroma_path)
        # The catalog generation whose vectors this process's segments are known to hold (set by the index).
        self.seen_generation: int | None = None
        self._epoch = 0
        if self._path is not None and _has_shared_system(self._path):
            self.reconnect()  # this process opened the path before: its segments may be behind the disk
        else:
            self._connect()

    def _connect(self) -> None:
        with _reconnect_lock:
            epoch = _reconnects.get(self._path or "", 0)
            client = _client(self._settings)
            system = _shared_system(self._path) if self._path is not None else None
            if system is not None:
                _hold(system)  # until `_use` holds it: another thread's reconnect may drop it meanwhile
        try:
            self._use(client, *self._collections(client), epoch, system)
        finally:
            if system is not None:
                _release(system)

    def _collections(self, client: Any) -> tuple[Any, Any]:
        """The chunk and sentence collections of `client`, created where missing, checked for the embedder."""
        settings, embedder_name, dim = self._settings, self._embedder_name, self._dim
        metadata = {"embedder": embedder_name, "dim": dim}
        breadth = search_breadth(settings)
        configuration = {"hnsw": {"space": "cosine", "ef_search": breadth}}
        try:
            chunks = client.get_or_create_collection(
                f"{settings.collection}-chunks", metadata=metadata, configuration=configuration, embedding_function=None
            )
            sentences = client.get_or_create_collection(
                f"{settings.collection}-sentences",
                metadata=metadata,
                configuration=configuration,
                embedding_function=None,
            )
        except NewsbotError:
            raise
        except Exception as error:
            if settings.chroma_url:
                text = message("chroma_unreachable", settings.language, url=settings.chroma_url)
                raise NewsbotError(text, detail=str(error)) from error
            raise
        for collection in (chunks, sentences):
            stored = collection.metadata or {}
            if stored.get("embedder") != embedder_name or int(stored.get("dim", dim)) != dim:
                raise NewsbotError(
                    message(
                        "embedder_mismatch",
                        settings.language,
                        stored=stored.get("embedder", "?"),
                        stored_dim=stored.get("dim", "?"),
                        configured=embedder_name,
                        configured_dim=dim,
                    )
                )
        _widen_search(sentences, breadth)
        return chunks, sentences

    def _use(self, client: Any, chunks: Any, sentences: Any, epoch: int, system: Any) -> None:
        """Make `client` (of `system`, None for a server) this store's; the System it leaves goes once unused."""
        with _reconnect_lock:
            if system is not None:
                _hold(system)
            left, self._system = getattr(self, "_system", None), system
            self._client, self._chunks, self._sentences, self._epoch = client, chunks, sentences, epoch
            self._max_batch = int(getattr(client, "get_max_batch_size", lambda: 5000)())
            if left is not None:
                _release(left)

    def reconnect(self) -> None:
        """Load the segments from disk again: another process has changed them (embedded Chroma only)."""
        if self._path is None:
            return  # a server serves every client's writes
        with _reconnect_lock:
            _drop_shared_system(self._path)
            _reconnects[self._path] = _reconnects.get(self._path, 0) + 1
            self._connect()

    @property
    def is_server(self) -> bool:
        return self._path is None

    def load_again(self) -> None:
        """`reconnect`, with the old client answering until the new one has loaded its segments (seconds at a
        million sentences: every operation of a new client loads the collection's whole HNSW index first, and
        chromadb's bindings release the GIL meanwhile, so questions go on in other threads). Both segments
        are in memory meanwhile: twice the HNSW's memory for that long. Embedded Chroma only."""
        if self._path is None:
            return
        with _reconnect_lock:
            _drop_shared_system(self._path)
            client = _client(self._settings)
            system = _shared_system(self._path)
            _hold(system)  # its loading: a reconnect meanwhile drops it, and stops it only after
        try:
            chunks, sentences = self._collections(client)
            probe = np.zeros(self._dim, dtype=np.float32)
            probe[0] = 1.0
            # load each segment questions use now, not at a question: the chunks' only where their vectors are
            # not read from the catalog (NEWSBOT_VECTORS_IN_CATALOG; 340 MB at 1.1M sentences)
            for collection in (sentences,) if self._settings.vectors_in_catalog else (sentences, chunks):
                collection.query(query_embeddings=[probe], n_results=1, include=["distances"])
            with _reconnect_lock:
                _reconnects[self._path] = _reconnects.get(self._path, 0) + 1
                self._use(client, chunks, sentences, _reconnects[self._path], system)
        finally:
            _release(system)

    def _follow(self) -> None:
        """Connect again when another store of this process has reconnected to the same path."""
        if self._path is not None and _reconnects.get(self._path, 0) != self._epoch:
            self._connect()

    @property
    def chunks(self) -> Any:
        self._follow()
        return self._chunks

    @property
    def sentences(self) -> Any:
        self._follow()
        return self._sentences

    @contextmanager
    def _server_calls(self) -> Iterator[None]:
        """A Chroma server that stopped answering is the user's one line (`chroma_unreachable`), not an
        unexpected ConnectError that ended `chat`; the next call tries the server again."""
        if self._path is not None:
            yield
            return
        import httpx  # a server's client speaks httpx; embedded Chroma's `ask` does not import it

        try:
            yield
        except (httpx.TransportError, ConnectionError) as error:
            url = self._settings.chroma_url
            text = message("chroma_unreachable", self._settings.language, url=url)
            raise NewsbotError(text, detail=str(error)) from error

    def _current(self, collection: Any) -> Any:
        """The current client's collection of the same name: a caller may hold one from before a reconnect."""
        return self.sentences if collection.name == self._sentences.name else self.chunks

    @contextmanager
    def _calling(self, collection: Any) -> Iterator[Any]:
        """`_current(collection)`, its System held until the call on it returns: a reconnect of another thread
        meanwhile stops the System it leaves only after that (`_release`)."""
        with _reconnect_lock:
            current, system = self._current(collection), self._system
            if system is not None:
                _hold(system)
        try:
            yield current
        finally:
            if system is not None:
                _release(system)

    def add(
        self,
        collection: Any,
        ids: list[str],
        vectors: np.ndarray,
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            with self._server_calls(), self._calling(collection) as current:
                current.upsert(
                    ids=ids[start:end],
                    embeddings=vectors[start:end],
                    documents=documents[start:end],
                    metadatas=metadatas[start:end],
                )

    def set_metadata(self, collection: Any, ids: list[str], metadata: dict[str, Any]) -> None:
        """Set `metadata`'s keys on the entries `ids` (their other keys, vectors and documents stay)."""
        for start in range(0, len(ids), self._max_batch):
            batch = ids[start : start + self._max_batch]
            if batch:
                with self._server_calls(), self._calling(collection) as current:
                    current.update(ids=batch, metadatas=[metadata] * len(batch))

    def delete(self, collection: Any, ids: list[str]) -> None:
        for start in range(0, len(ids), self._max_batch):
            batch = ids[start : start + self._max_batch]
            if batch:
                with self._server_calls(), self._calling(collection) as current:
                    current.delete(ids=batch)

    def query(self, collection: Any, vector: np.ndarray, k: int) -> list[Hit]:
        """The `k` nearest vectors (`k` at most the collection's size, which the caller knows from the
        catalog: asking Chroma would cost as much as the search). Their ids say which article, version
        and position they are, so no metadata is fetched either."""
        if k <= 0:
            return []
        from chromadb.errors import ChromaError

        try:
            result = self._read(
                collection,
                lambda current: current.query(query_embeddings=[vector], n_results=k, include=["distances"]),
            )
        except ChromaError as error:
            if self._path is None:
                raise
            # still failing while another process writes: BM25 answers alone rather than the question failing
            log.warning("vector search failed again, answering without it: %s", error)
            return []
        return [
            Hit(*parse_id(vector_id), 1.0 - float(distance))
            for vector_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def _read(self, collection: Any, call: Callable[[Any], Any]) -> Any:
        """`call` on the current client's `collection`, and on embedded Chroma once more after a reconnect if
        it fails.

        Another process writing at this moment can leave this process's segments behind what the shared
        SQLite says ("Error finding id"); loading them again mends that.
        """
        if self._path is None:
            with self._server_calls():
                return call(self._current(collection))
        from chromadb.errors import ChromaError

        try:
            with self._calling(collection) as current:
                return call(current)
        except ChromaError as error:
            log.warning("reading Chroma failed, loading its segments from disk again: %s", error)
        self.reconnect()
        with self._calling(collection) as current:
            return call(current)

    def vectors(self, collection: Any, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (ids that do not exist are left out), in batches Chroma accepts."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), self._max_batch):
            batch = ids[start : start + self._max_batch]
            result = self._read(collection, lambda current, batch=batch: current.get(ids=batch, include=["embeddings"]))
            found.update(
                (i, np.asarray(v, dtype=np.float32)) for i, v in zip(result["ids"], result["embeddings"], strict=True)
            )
        return found

    def sentence_count(self) -> int:
        """How many sentence vectors Chroma holds (the chunks' collection is not touched: see `load_again`)."""
        with self._server_calls(), self._calling(self._sentences) as sentences:
            return sentences.count()

    def count(self) -> tuple[int, int]:
        with self._server_calls(), self._calling(self._chunks) as chunks, self._calling(self._sentences) as sentences:
            return chunks.count(), sentences.count()


# What a disk that is full (or caps the file size) makes a write fail with, in the error's text or errno.
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
_DISK_FULL_WORDS = ("disk is full", "no space left", "file too large", "quota exceeded")


@contextmanager
def storage_writes(settings: Settings) -> Iterator[None]:
    """A write the data folder refuses (a full disk, a read-only mount, a file-size limit) is the user's one
    line, not an unexpected error: Chroma reports it as `InternalError` ("disk I/O error", "Error in
    compaction"), SQLite as `OperationalError`. The journal undoes what was half written at the next run.

    With a Chroma server (`NEWSBOT_CHROMA_URL`), Chroma's errors are the server's writes, on its own disk: this
    machine's free space and data folder say nothing of them, so the line names the server instead. Given the
    settings whole, so that no caller can leave the server out (index runs did, and named the local disk)."""
    from chromadb.errors import InternalError

    try:
        yield
    except InternalError as error:
        if not settings.chroma_url:
            raise _write_failed(settings, error) from error
        language = settings.language
        raise NewsbotError(
            message(
                "chroma_server_write_failed", language, url=settings.chroma_url, reason=_write_failure(error, language)
            ),
            detail=repr(error),
        ) from error
    except (sqlite3.OperationalError, OSError) as error:
        raise _write_failed(settings, error) from error


def _write_failed(settings: Settings, error: BaseException) -> NewsbotError:
    data_dir, language = settings.data_dir, settings.language
    reason, free = _write_failure(error, language), _free_space(data_dir)
    return NewsbotError(
        message("index_write_failed", language, path=str(data_dir), reason=reason, free=free), detail=repr(error)
    )


def _write_failure(error: BaseException, language: str) -> str:
    text = str(error)
    if getattr(error, "errno", None) in _DISK_FULL_ERRNOS or any(w in text.lower() for w in _DISK_FULL_WORDS):
        return message("disk_full", language)
    return (getattr(error, "strerror", None) or text or type(error).__name__)[:160]


def _free_space(data_dir: Path) -> str:
    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        return "?"
    return f"{free // 1_000_000} MB"


def journal_ids(entry: JournalEntry, new: bool) -> tuple[list[str], list[str]]:
    """The chunk and sentence ids of the new (or old) version named in a journal entry."""
    version = entry.new_version if new else entry.old_version
    if version is None:
        return [], []
    chunks = entry.new_chunks if new else entry.old_chunks
    sentences = entry.new_sentences if new else entry.old_sentences
    return (
        [chunk_id(entry.article_id, version, n) for n in range(chunks)],
        [sentence_id(entry.article_id, version, n) for n in range(sentences)],
    )


def recover(catalog: Catalog, store: VectorStore) -> int:
    """Finish what a killed run left in the journal: drop the version the catalog does not point at."""
    entries = catalog.journal()
    with storage_writes(store._settings) if entries else contextlib.nullcontext():
        _recover(catalog, store, entries)
    if entries:
        log.warning("recovered %d interrupted article changes", len(entries))
    return len(entries)


def _recover(catalog: Catalog, store: VectorStore, entries: list[JournalEntry]) -> None:
    for entry in entries:
        record = catalog.article(entry.article_id)
        flipped = (record.version if record else None) == entry.new_version
        stale_chunks, stale_sentences = journal_ids(entry, new=not flipped)
        store.delete(store.chunks, stale_chunks)
        store.delete(store.sentences, stale_sentences)
        catalog.end_changes([entry.article_id])
