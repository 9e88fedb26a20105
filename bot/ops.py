"""Operations: checks that run before any heavy work, and the status of the index and the running bot.

Everything here reads settings, the catalog's SQLite file and small files in the data directory, so
`newsbot status`, `newsbot doctor` and the start-up checks answer without loading the model or Chroma.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)

DISCORD_API = "https://discord.com/api/v10"
# Three base64url parts (user id, timestamp, HMAC): catches a pasted client secret or application id.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
FEED_POLL_KEY = "last_feed_poll"
BOT_FILES = "bot*.json"  # one `bot-PID.json` per running bot (`bot.json`: an older newsbot's)


# ---- checks before heavy work ------------------------------------------------------------------------


def check_llm_configured(settings: Settings) -> None:
    """In LLM mode a model name is required: say so before the embedder and the index load."""
    if settings.answer_mode == "llm" and not settings.llm_model.strip():
        raise NewsbotError(message("llm_not_configured", settings.language))


def discord_token(settings: Settings) -> str:
    """The token, present and shaped like a bot token; never part of any message or log line."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise NewsbotError(message("discord_token_missing", settings.language))
    if not _TOKEN_SHAPE.match(token.removeprefix("Bot ")):
        raise NewsbotError(message("discord_token_malformed", settings.language))
    return token.removeprefix("Bot ")


def verify_discord_login(token: str, settings: Settings, api: str | None = None, attempts: int = 3) -> str:
    """Ask Discord who the token belongs to (the call discord.py's login makes); the bot's name on success.

    A rejected token fails at once; a network error or a 5xx is tried `attempts` times with backoff,
    since those pass. Either ends as one `NewsbotError`, before the model and the index are loaded.
    """
    import httpx
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

    api = api or DISCORD_API

    class Transient(Exception):
        pass

    def attempt() -> httpx.Response:
        try:
            response = httpx.get(
                f"{api}/users/@me", headers={"Authorization": f"Bot {token}"}, timeout=10.0, follow_redirects=False
            )
        except httpx.HTTPError as error:
            raise Transient(type(error).__name__) from error
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"HTTP {response.status_code}")
        return response

    try:
        for try_ in Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.5, max=4),
            retry=retry_if_exception_type(Transient),
            reraise=True,
        ):
            with try_:
                response = attempt()
    except Transient as error:
        raise NewsbotError(message("discord_unreachable", settings.language, reason=str(error))) from None
    if response.status_code in (401, 403):
        raise NewsbotError(message("discord_token_rejected", settings.language))
    if response.status_code != 200:
        raise NewsbotError(message("discord_unreachable", settings.language, reason=f"HTTP {response.status_code}"))
    return str(response.json().get("username", "?"))


def check_llm_endpoint(settings: Settings, timeout: float = 5.0) -> str:
    """Whether the configured LLM server answers and knows the model; a short German reason if not."""
    import httpx

    if settings.llm_provider == "ollama":
        url = (settings.llm_base_url or "http://127.0.0.1:11434").rstrip("/") + "/api/tags"
        names_of = lambda body: [m.get("name", "") for m in body.get("models", [])]  # noqa: E731
    else:
        url = (settings.llm_base_url or "https://api.openai.com/v1").rstrip("/") + "/models"
        names_of = lambda body: [m.get("id", "") for m in body.get("data", [])]  # noqa: E731
    headers = {}
    if settings.llm_api_key:
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
        response.raise_for_status()
        names = names_of(response.json())
    except (httpx.HTTPError, ValueError) as error:
        raise NewsbotError(
            message("doctor_llm_unreachable", settings.language, url=url, reason=type(error).__name__)
        ) from None
    model = settings.llm_model
    if names and not any(name == model or name.split(":")[0] == model for name in names):
        raise NewsbotError(
            message("doctor_llm_model_unknown", settings.language, model=model, models=", ".join(names[:5]))
        )
    return url


# ---- status -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpsStatus:
    """What `newsbot status` and Discord's `/status` show beyond the index counts."""

    articles: int
    chunks: int
    sentences: int
    embedder: str
    last_update: str | None
    last_feed_poll: dict[str, Any] | None
    bot: dict[str, Any] | None  # pid, started_at, uptime_seconds of a running bot


def record_feed_poll(catalog: Any, url: str, summary: str, ok: bool) -> None:
    """Keep the last feed poll and its result in the catalog, where every process can read it."""
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "url": url, "result": summary, "ok": ok}
    catalog.set_meta(FEED_POLL_KEY, json.dumps(entry, ensure_ascii=False))


def read_status(settings: Settings) -> OpsStatus:
    """The index's counts and history from its catalog (without opening Chroma or the model)."""
    bot = running_bot(settings.data_dir)
    if not settings.catalog_path.is_file():
        return OpsStatus(0, 0, 0, "", None, None, bot)
    with _catalog(settings) as catalog:
        articles, chunks, sentences = catalog.counts()
        embedder = (catalog.get_meta("embedder") or "").rpartition("|")[0]
        poll = catalog.get_meta(FEED_POLL_KEY)
        return OpsStatus(
            articles, chunks, sentences, embedder, catalog.last_indexed_at(), json.loads(poll) if poll else None, bot
        )


def list_articles(settings: Settings) -> list[Any]:
    """The indexed articles, newest first, read from the catalog without opening the index."""
    if not settings.catalog_path.is_file():
        return []
    with _catalog(settings) as catalog:
        return catalog.articles()


@contextmanager
def _catalog(settings: Settings) -> Iterator[Any]:
    """The catalog, open while it is read; one that cannot be opened or read (a read-only data folder: SQLite
    opens it for writing, in WAL mode; a damaged file) is the line `newsbot ask` gives, not an unexpected error."""
    from index.catalog import Catalog, usable_data_dir

    with usable_data_dir(settings.data_dir, settings.language):
        catalog = Catalog(settings.catalog_path)
        try:
            yield catalog
        finally:
            catalog.close()


def announce_bot(data_dir: Path, token: str = "", alongside: bool = False, language: str = "de") -> Path:
    """Write `bot-PID.json` (pid, start time, which token) so `newsbot status` elsewhere can tell the bot runs and
    since when; the caller deletes it as the bot ends. One file per bot: a second bot on the same data folder overwrote
    the first one's `bot.json` and deleted it as it ended, and the first one, still running, counted as stopped (a
    failing healthcheck). A second bot with another token works (each feed entry is indexed once) and says so in one
    line; one with the same token would answer every question a second time on Discord, so it stops with one line
    unless the operator asks for it (`alongside`). The check and the write hold a lock: two bots started at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    account = token_fingerprint(token) if token else ""
    with _bot_files_lock(data_dir):
        # not this process: in a container the bot is pid 1 at every start, and a file left by one killed has its pid
        others = [bot for bot in running_bots(data_dir) if bot["pid"] != os.getpid()]
        twin = next((bot for bot in others if account and bot.get("account") == account), None)
        if twin is not None and not alongside:
            raise NewsbotError(message("discord_bot_running", language, pid=twin["pid"], since=twin["started_at"]))
        if others:
            first = twin or others[0]
            log.warning(
                "another newsbot bot runs on this data folder (pid %s, since %s, %s token): both poll the feeds%s",
                first["pid"],
                first["started_at"],
                "the same" if twin else "another",
                ", and both answer every question on Discord" if twin else "",
            )
        for stale in data_dir.glob("bot-*.json"):  # of bots killed before they could delete theirs
            pid = stale.stem.removeprefix("bot-")
            if pid.isdigit() and not _alive(int(pid)):
                stale.unlink(missing_ok=True)
        path = data_dir / f"bot-{os.getpid()}.json"
        started = datetime.now(UTC).isoformat(timespec="seconds")
        path.write_text(json.dumps({"pid": os.getpid(), "started_at": started, "account": account}), encoding="utf-8")
    return path


def token_fingerprint(token: str) -> str:
    """Which token a bot runs with, as `bot-PID.json` may show it to anyone who reads the data folder: a hash."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()[:16]


@contextmanager
def _bot_files_lock(data_dir: Path) -> Iterator[None]:
    """Held while a starting bot looks at the others' files and writes its own (an advisory lock, gone with the
    process that held it)."""
    import fcntl

    with open(data_dir / "bots.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def running_bots(data_dir: Path) -> list[dict[str, Any]]:
    """Every running bot's pid, start and uptime from the `bot-PID.json` files, the first started first."""
    bots = []
    for path in data_dir.glob(BOT_FILES):
        try:
            written = path.stat().st_mtime_ns  # orders bots started in the same second (`started_at` has seconds)
            info = json.loads(path.read_text(encoding="utf-8"))
            os.kill(int(info["pid"]), 0)  # signal 0: only asks whether the process exists
            started = datetime.fromisoformat(info["started_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        bots.append((written, {**info, "uptime_seconds": int((datetime.now(UTC) - started).total_seconds())}))
    return [bot for _, bot in sorted(bots, key=lambda item: item[0])]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): it exists
        return True
    return True


def running_bot(data_dir: Path) -> dict[str, Any] | None:
    """The running bot's pid, start and uptime (the first started, where several run); None when none runs."""
    bots = running_bots(data_dir)
    return bots[0] if bots else None


def format_duration(seconds: float) -> str:
    """`3 d 4 h`, `2 h 5 min`, `42 s`: an uptime at a glance."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


# ---- doctor -------------------------------------------------------------------------------------------


def run_doctor(overrides: dict[str, Any]) -> list[tuple[bool, str]]:
    """Check settings, index, embedder, LLM endpoint and token format; one (ok, line in NEWSBOT_LANGUAGE) per check.

    Nothing connects to Discord and nothing is written; the embedder is loaded once to embed a word.
    """
    from index.settings import load_settings

    results: list[tuple[bool, str]] = []
    try:
        settings = load_settings(**overrides)
    except NewsbotError as error:
        return [(False, error.message)]
    results.append((True, message("doctor_settings_ok", settings.language)))

    stored = ""
    status: OpsStatus | None = None
    if settings.catalog_path.is_file():
        try:
            status = read_status(settings)
        except NewsbotError as error:  # a doctor reports what is wrong with the index and goes on
            results.append((False, error.message))
            status = None
        if status is not None:
            stored = status.embedder
            results.append(
                (
                    True,
                    message(
                        "doctor_index",
                        settings.language,
                        path=str(settings.data_dir),
                        articles=status.articles,
                        sentences=status.sentences,
                        embedder=stored or "–",
                    ),
                )
            )
        language = _index_language(settings)
        if language and language != settings.language:
            mismatch = message(
                "index_language_mismatch", settings.language, stored=language, configured=settings.language
            )
            results.append((False, mismatch))
    else:
        results.append((False, message("doctor_index_missing", settings.language, path=str(settings.data_dir))))
    server_ok = True
    if settings.chroma_url:
        results.append(
            _check(lambda: _chroma_heartbeat(settings), "doctor_chroma_ok", settings.language, url=settings.chroma_url)
        )
        server_ok = results[-1][0]
    if status is not None and (status.chunks or status.sentences) and server_ok:
        results.append(_vectors_check(settings, status))

    def embed() -> str:
        from index.embedders import make_embedder

        embedder = make_embedder(settings)
        embedder.encode_query("Test")
        if stored and stored != embedder.name:
            raise NewsbotError(
                message("doctor_embedder_mismatch", settings.language, stored=stored, configured=embedder.name)
            )
        return embedder.name

    results.append(_check(embed, "doctor_embedder_ok", settings.language))
    if settings.answer_mode == "llm":
        results.append(
            _check(
                lambda: (check_llm_configured(settings), check_llm_endpoint(settings))[1],
                "doctor_llm_ok",
                settings.language,
                model=settings.llm_model,
            )
        )
    else:
        results.append((True, message("doctor_llm_off", settings.language)))
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        results.append((True, message("doctor_token_unset", settings.language)))
    else:
        results.append(_check(lambda: discord_token(settings) and "", "doctor_token_ok", settings.language))
    return results


def _vectors_check(settings: Settings, status: OpsStatus) -> tuple[bool, str]:
    """Whether Chroma holds the vectors the catalog counts: a catalog restored without chroma/, a deleted or
    emptied chroma/ folder or a server that lost its data answers nothing (and `ask` refuses to start).
    Vectors are written before the catalog counts them and deleted after, so a run in progress never trips it."""
    from index.store import stored_vector_counts

    where = settings.chroma_url or str(settings.chroma_path)

    def count() -> str:
        chunks, sentences = stored_vector_counts(settings)
        if chunks < status.chunks or sentences < status.sentences:
            raise NewsbotError(
                message(
                    "doctor_vectors_missing",
                    settings.language,
                    path=str(settings.data_dir),
                    chunks=status.chunks,
                    sentences=status.sentences,
                    stored_chunks=chunks,
                    stored_sentences=sentences,
                    store=where,
                )
            )
        return ""

    return _check(
        count, "doctor_vectors_ok", settings.language, store=where, chunks=status.chunks, sentences=status.sentences
    )


def _index_language(settings: Settings) -> str | None:
    """The language the index was built for (`NewsIndex` keeps it), read without writing anything."""
    import sqlite3

    try:
        db = sqlite3.connect(f"{settings.catalog_path.as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'language'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _check(run: Any, ok_key: str, language: str, **values: Any) -> tuple[bool, str]:
    """Run one check: its success line (with `detail`, what it returned), or the error's message."""
    try:
        detail = run()
    except NewsbotError as error:
        return False, error.message
    except Exception as error:  # a doctor reports, it does not crash
        log.debug("check failed", exc_info=True)
        return False, f"{type(error).__name__}: {str(error)[:200]}"
    return True, message(ok_key, language, detail=detail or "", **values)


def _chroma_heartbeat(settings: Settings) -> str:
    import httpx

    url = str(settings.chroma_url).rstrip("/") + "/api/v2/heartbeat"
    try:
        httpx.get(url, timeout=5.0).raise_for_status()
    except httpx.HTTPError:
        raise NewsbotError(message("chroma_unreachable", settings.language, url=settings.chroma_url)) from None
    return url
