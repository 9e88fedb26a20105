"""Generated answers against a scripted OpenAI-compatible server on loopback, over real Chroma in tmp_path.

Each failure the LLM can produce must end in the extractive answer (or refusal) with the right note; a
well-formed, cited answer must stream through and keep its citations mapped to the sources shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.evaluate import Question, evaluate
from bot.result import Answer
from bot.service import NewsService
from index.settings import Settings
from index.texts import message
from tests.fakes import HashedBagOfWords, collect
from tests.openai_stub import Behaviour, OpenAIStub, reply

GIPFEL = "Wo soll der Gipfel stattfinden?"  # answered by the extractive answer too
WIEN = "Wie viel Grad wurden in Wien gemessen?"  # extractive confidence about 1.0: clearly answered
FUSSBALL = "Wer gewann die Fußball-WM?"  # not in the articles: the extractive answer refuses

ServiceFactory = Callable[..., NewsService]


@pytest.fixture
def make_service(
    settings: Settings, fake_embedder: HashedBagOfWords, articles_dir: Path, stub: OpenAIStub
) -> ServiceFactory:
    """A service in llm mode on the stub, over the three test articles and a second one on the summit; keyword
    arguments override settings."""

    (articles_dir / "gipfel-termin.txt").write_text(
        "Vorbereitung läuft\n\nDelegationen bereiten das Treffen vor, das als Gipfel stattfinden soll.",
        encoding="utf-8",
    )

    def build(**overrides: object) -> NewsService:
        configured = settings.model_copy(
            update={
                "answer_mode": "llm",
                "llm_model": "stub",
                "llm_base_url": stub.base_url,
                "llm_timeout_seconds": 5.0,
                "source_margin": 1.0,  # both summit articles as passages, so citations [1] and [2] exist
                **overrides,
            }
        )
        service = NewsService.open(configured, fake_embedder)
        service.index_paths([articles_dir])
        return service

    return build


def assert_fallback(answer: Answer, extractive: Answer, note_key: str) -> None:
    assert answer.mode == "extractive-fallback"
    assert answer.note == message(note_key)
    assert answer.text == extractive.text
    assert answer.answered == extractive.answered
    assert answer.sources == extractive.sources
    assert answer.cited == ()


def extractive_answer(service: NewsService, question: str) -> Answer:
    return service._extract(question, ())[0]


# ---- the good path -------------------------------------------------------------------------------


def test_streamed_answer_with_citation_is_kept_and_mapped_to_sources(make_service, stub):
    sent = ["Der Gipfel ", "soll in ", "Budapest ", "stattfinden [1]."]
    stub.enqueue(reply(*sent, gap_seconds=0.15))
    service = make_service()

    arrivals: list[float] = []
    deltas: list[str] = []
    final = None
    for item in service.ask_stream(GIPFEL):
        if isinstance(item, Answer):
            final = item
        else:
            arrivals.append(time.monotonic())
            deltas.append(item)

    assert deltas == sent
    # causal, not timed: the first delta was shown before the server had written the last one
    assert arrivals[0] < stub.sent_at[-1], "deltas arrive as they are written, not all at the end"
    assert final is not None
    assert final.mode == "llm"
    assert final.note is None
    assert final.answered
    assert final.text == "".join(sent)
    assert final.cited == (1,)
    assert final.cited_sources[0].source.endswith("gipfel.txt")
    assert final.timings_ms["llm"] > 0
    prompt = stub.requests[0]["messages"][-1]["content"]
    assert "[1] Gipfeltreffen in Budapest geplant" in prompt
    assert len(final.sources) == 2  # the weather and the railway hold nothing of the question: no passages
    assert "[2]" in prompt
    assert GIPFEL in prompt
    assert stub.requests[0]["stream"] is True
    limit = service.settings.llm_max_tokens
    assert stub.requests[0]["max_completion_tokens"] == stub.requests[0]["max_tokens"] == limit


def test_ask_returns_the_final_answer_of_the_stream(make_service, stub):
    service = make_service()
    shown = extractive_answer(service, WIEN).sources
    wetter = next(n for n, s in enumerate(shown, start=1) if s.source.endswith("wetter.md"))
    stub.enqueue(reply(f"In Wien wurden 38 Grad gemessen [{wetter}]."))
    answer = service.ask(WIEN)
    assert answer.mode == "llm"
    assert answer.cited == (wetter,)
    assert answer.cited_sources[0].source.endswith("wetter.md")
    assert answer.to_json()["mode"] == "llm"
    assert answer.to_json()["cited"] == [wetter]
    assert answer.to_json()["confidence"] == round(extractive_answer(service, WIEN).confidence, 4) > 0


def test_extractive_mode_never_calls_the_llm(make_service, stub):
    service = make_service(answer_mode="extractive")
    items = list(service.ask_stream(GIPFEL))
    assert len(items) == 1
    assert isinstance(items[0], Answer)
    assert items[0].mode == "extractive"
    assert "llm" not in items[0].timings_ms
    assert set(items[0].to_json()) == {"question", "answer", "answered", "confidence", "sources", "latency_ms"}
    assert stub.requests == []


# ---- failures of the server ----------------------------------------------------------------------


def test_timeout_falls_back_to_the_extractive_answer(make_service, stub):
    stub.enqueue(Behaviour(stall_seconds=3.0, deltas=["zu spät [1]"]))
    service = make_service(llm_timeout_seconds=0.5)
    deltas, answer = collect(service, GIPFEL)
    assert deltas == []  # the stalled reply's text never came: the wait ended at the deadline
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_timeout")


def test_trickling_server_is_cut_off_at_the_hard_timeout(make_service, stub):
    # Every gap is shorter than the HTTP read timeout, so only the overall deadline can stop this reply.
    stub.enqueue(reply(*(["bla "] * 40), gap_seconds=0.1))
    service = make_service(llm_timeout_seconds=1.0)
    deltas, answer = collect(service, GIPFEL)
    assert 0 < len(deltas) < 40  # cut off while the server was still writing
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_timeout")


def test_http_500_falls_back(make_service, stub):
    stub.enqueue(Behaviour(status=500))
    service = make_service()
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_failed")
    assert len(stub.requests) == 1, "no retries: the fallback is the retry"


def test_malformed_json_falls_back(make_service, stub):
    stub.enqueue(Behaviour(raw_body=b'data: {"choices": [{"delta": {"content": "Budap\n\n'))
    service = make_service()
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_failed")


def test_unreachable_server_falls_back(make_service, stub):
    service = make_service(llm_base_url="http://127.0.0.1:9/v1")
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_unreachable")


def test_a_question_retrieval_refuses_never_reaches_the_model(make_service, stub):
    stub.enqueue(reply("Die WM gewann Argentinien [1]."))  # what a model may well write, citing anything
    service = make_service()
    deltas, answer = collect(service, FUSSBALL)
    assert deltas == []
    assert not answer.answered
    assert answer.text == message("refusal")
    assert answer.cited == ()
    assert stub.requests == []


def test_a_401_body_that_echoes_the_key_never_reaches_the_log(make_service, stub, caplog):
    key = "sk-test-Geheim4711Schluessel"
    stub.enqueue(Behaviour(status=401, error_message=f"Incorrect API key provided: {key}."))
    service = make_service(llm_api_key=SecretStr(key))
    caplog.set_level(logging.DEBUG)
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_failed")
    assert "401" in caplog.text  # the operator still learns what went wrong ...
    assert "Geheim4711" not in caplog.text  # ... but not the key


# ---- replies that are not grounded ---------------------------------------------------------------


def test_citation_of_a_passage_that_does_not_exist_falls_back(make_service, stub):
    stub.enqueue(reply("Der Gipfel findet in Wien statt [7]."))
    service = make_service()
    deltas, answer = collect(service, GIPFEL)
    assert "".join(deltas) == "Der Gipfel findet in Wien statt [7]."
    assert len(answer.sources) == 2
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_invalid_citation")


def test_answer_without_citation_falls_back(make_service, stub):
    stub.enqueue(reply("Der Gipfel findet in Budapest statt."))
    service = make_service()
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_no_citation")


def test_reply_with_a_link_its_passages_lack_falls_back(make_service, stub):
    stub.enqueue(reply("Der Gipfel soll in Budapest stattfinden, Anmeldung unter https://evil.example/login [1]."))
    service = make_service()
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_foreign_link")
    assert "evil.example" not in answer.text


def test_reply_its_cited_passage_does_not_hold_falls_back(make_service, stub):
    service = make_service()
    gipfel = next(n for n, s in enumerate(extractive_answer(service, GIPFEL).sources, 1) if "gipfel" in s.source)
    stub.enqueue(reply(f"Der Gipfel wurde abgesagt [{gipfel}]."))
    _, answer = collect(service, GIPFEL)
    assert_fallback(answer, extractive_answer(service, GIPFEL), "llm_unsupported")


def test_dont_know_is_overruled_when_the_extractive_answer_is_confident(make_service, stub):
    stub.enqueue(reply("Ich weiß es nicht."))
    service = make_service()
    extractive = extractive_answer(service, WIEN)
    assert extractive.confidence >= service.refusal_threshold + service.settings.llm_overrule_margin
    _, answer = collect(service, WIEN)
    assert_fallback(answer, extractive, "llm_unsure_overruled")
    assert "38 Grad" in answer.text


def test_dont_know_stands_as_refusal_when_the_extractive_answer_is_unsure(make_service, stub):
    stub.enqueue(reply("Ich weiß es nicht."))
    service = make_service(llm_overrule_margin=0.8)  # overrules only above 0.3 + 0.8: never
    _, answer = collect(service, GIPFEL)
    assert answer.mode == "llm"
    assert not answer.answered
    assert answer.text == "Ich weiß es nicht."


# ---- capacity and evaluation ---------------------------------------------------------------------


def test_concurrent_requests_are_limited_by_the_setting(make_service, stub):
    for _ in range(4):
        stub.enqueue(reply("Budapest [1].", gap_seconds=0.3))
    service = make_service(llm_max_concurrency=2)
    answers: list[Answer] = []
    threads = [threading.Thread(target=lambda: answers.append(service.ask(GIPFEL))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert [a.mode for a in answers] == ["llm"] * 4
    assert stub.max_in_flight == 2


def test_eval_reports_the_fallback_rate_only_in_llm_mode(make_service, stub):
    stub.enqueue(reply("Budapest [1]."), reply("Keine Quelle genannt."))
    service = make_service()
    questions = [
        Question("1", GIPFEL, ["Budapest"], "gipfel.txt", False),
        Question("2", WIEN, ["38 Grad"], "wetter.md", False),
    ]

    metrics, rows, _ = evaluate(questions, service.ask, count_llm_fallbacks=True)  # type: ignore[misc]
    assert metrics["llm_fallback_rate"] == 0.5
    assert [r["mode"] for r in rows] == ["llm", "extractive-fallback"]
    assert metrics["answer_hit_at_1"] == 1.0

    extractive_metrics, extractive_rows, _ = evaluate(questions, lambda q: extractive_answer(service, q))  # type: ignore[misc]
    assert "llm_fallback_rate" not in extractive_metrics
    assert set(extractive_metrics) == {
        "n",
        "answer_hit_at_1",
        "evidence_recall_at_5",
        "refusal_accuracy",
        "false_refusal_rate",
        "latency_ms_p50",
        "latency_ms_p95",
    }
    assert set(extractive_rows[0]) == {"id", "answer", "answered", "confidence", "sources"}
