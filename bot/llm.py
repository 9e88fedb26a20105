"""The chat model behind generated answers: the one place that picks a LangChain backend from the settings.

Everything else sees `BaseChatModel`, so moving between llama.cpp, vLLM, LM Studio, OpenAI and Ollama is a
setting, not a code change. The model streams in a worker thread so a stalled server can never hold a caller
longer than the hard timeout.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)

# Local servers ignore the key, but the OpenAI client refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"

FailureReason = Literal["llm_timeout", "llm_unreachable", "llm_failed", "llm_busy"]


class LLMUnavailable(Exception):
    """The model gave no usable reply; `reason` is the message key of the note the user sees."""

    def __init__(self, reason: FailureReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: FailureReason = reason
        self.detail = detail


def make_chat_model(settings: Settings) -> BaseChatModel:
    """Build the configured chat model; a missing model name is an operator error with a German message."""
    if not settings.llm_model:
        raise NewsbotError(message("llm_not_configured", settings.language))
    if settings.llm_provider == "ollama":
        from langchain_ollama import ChatOllama

        ollama_options: dict[str, object] = {}
        if settings.llm_base_url:
            ollama_options["base_url"] = settings.llm_base_url
        return ChatOllama(
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout_seconds},
            **ollama_options,  # type: ignore[arg-type]
        )
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else PLACEHOLDER_API_KEY
    # ChatOpenAI sends the limit as `max_completion_tokens`, which llama-cpp-python's server and older
    # LM Studio ignore (they would write until the context is full); other servers also get `max_tokens`.
    legacy_limit = {"max_tokens": settings.llm_max_tokens} if settings.llm_base_url else None
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url or None,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_seconds,
        max_retries=0,  # the extractive fallback is the retry: the user should not wait for backoff
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        extra_body=legacy_limit,
    )


def failure_reason(error: BaseException) -> FailureReason:
    """Which note explains a failed call: timeout, no connection, or anything else the server got wrong."""
    import httpx
    import openai

    if isinstance(error, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return "llm_timeout"
    if isinstance(error, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return "llm_unreachable"
    return "llm_failed"


def describe(error: BaseException) -> str:
    """The error for the log, without a server's response body: a 401 body may echo the API key."""
    import openai

    if isinstance(error, openai.APIStatusError):
        return f"{type(error).__name__}: HTTP {error.status_code}"
    return f"{type(error).__name__}: {error}"


def stream_within(
    model: BaseChatModel, messages: Sequence[BaseMessage], slots: threading.Semaphore, timeout: float
) -> Iterator[str]:
    """Yield the reply's text deltas; raise `LLMUnavailable` on any failure or once `timeout` seconds passed.

    The HTTP client's timeout only bounds the gap between bytes, so a server that trickles tokens could run
    on for minutes; here the whole reply, waiting for a free slot included, has one deadline. The slot is
    held until the worker really ends, so abandoned requests still count against the server's capacity.
    """
    deadline = time.monotonic() + timeout
    if not slots.acquire(timeout=timeout):
        raise LLMUnavailable("llm_busy")
    replies: queue.Queue[tuple[str, object]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            with contextlib.closing(iter(model.stream(list(messages)))) as chunks:  # type: ignore[arg-type]
                for chunk in chunks:
                    if stop.is_set():
                        return
                    if chunk.text:
                        replies.put(("delta", chunk.text))
            replies.put(("done", None))
        except Exception as error:
            replies.put(("error", error))
        finally:
            slots.release()

    threading.Thread(target=work, name="newsbot-llm", daemon=True).start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise queue.Empty
                kind, value = replies.get(timeout=remaining)
            except queue.Empty:
                raise LLMUnavailable("llm_timeout", f"no complete reply within {timeout:g} s") from None
            if kind == "delta":
                yield str(value)
            elif kind == "done":
                return
            else:
                error = value if isinstance(value, BaseException) else RuntimeError(str(value))
                raise LLMUnavailable(failure_reason(error), describe(error)) from None
    finally:
        stop.set()
