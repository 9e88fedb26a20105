"""The parts of generated answers that need no server: citation parsing, the grounding verdict, the
prompt templates (shipped and overridden), the backend factory, the concurrency limit and the CLI output.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from bot.cli import stream_answer
from bot.generate import GroundedAnswerer, Passage, cited_numbers, judge
from bot.llm import LLMUnavailable, make_chat_model, stream_within
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message, render, template

MARKERS = ["weiß es nicht", "nichts gefunden"]


def scripted(*replies: str) -> GenericFakeChatModel:
    """A chat model that streams the given replies word by word, one per call."""
    return GenericFakeChatModel(messages=iter(replies))


@pytest.mark.parametrize(
    ("reply", "numbers"),
    [
        ("Budapest [1].", (1,)),
        ("Budapest [2][1], später [2].", (2, 1)),
        ("Budapest [1, 3] und [ 2 ; 4 ].", (1, 3, 2, 4)),
        ("Keine Nummer, nur [a] und (1).", ()),
    ],
)
def test_cited_numbers_are_read_in_order_of_first_mention(reply, numbers):
    assert cited_numbers(reply) == numbers


PASSAGES = [
    Passage(1, "Gipfeltreffen in Budapest geplant", None, "Der Gipfel soll in Budapest stattfinden."),
    Passage(2, "Hitzewelle in Wien", None, "In Wien wurden 38 Grad gemessen.", "https://wetter.example/wien"),
    Passage(3, "Neue Bahnstrecke", None, "Mehr unter https://bahn.example/strecke, sagte die Bahn."),
]


@pytest.mark.parametrize(
    ("reply", "confidence", "keep", "answered", "reason"),
    [
        ("Budapest [1].", 0.2, True, True, None),
        ("Budapest [4].", 0.9, False, False, "llm_invalid_citation"),
        ("Budapest [0].", 0.9, False, False, "llm_invalid_citation"),
        ("Budapest.", 0.9, False, False, "llm_no_citation"),
        ("   ", 0.9, False, False, "llm_failed"),
        ("Ich weiß es nicht.", 0.9, False, False, "llm_unsure_overruled"),
        ("Ich weiß es nicht.", 0.55, True, False, None),
        ("Dazu habe ich in den Artikeln nichts gefunden.", 0.3, True, False, None),
    ],
)
def test_judge_keeps_only_grounded_replies(reply, confidence, keep, answered, reason):
    verdict = judge(reply, PASSAGES, confidence, 0.6, MARKERS)  # overruled from 0.6 on: 0.55 lies below
    assert (verdict.keep, verdict.answered, verdict.reason) == (keep, answered, reason)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Budapest, Anmeldung unter https://evil.example/login [1].", "llm_foreign_link"),
        ("Budapest [1]. Details: [offizielle Seite](https://evil.example)", "llm_foreign_link"),
        ("Siehe www.evil.example [1].", "llm_foreign_link"),
        ("Ich weiß es nicht, siehe https://evil.example [1].", "llm_foreign_link"),
        ("In Wien wurden 38 Grad gemessen [2], siehe https://bahn.example/strecke.", "llm_foreign_link"),
        ("In Wien wurden 38 Grad gemessen, siehe https://wetter.example/wien [2].", None),
        ("Die Bahn nennt https://bahn.example/strecke [3].", None),
    ],
)
def test_a_reply_may_carry_only_links_its_cited_passages_carry(reply, reason):
    verdict = judge(reply, PASSAGES, 0.9, 0.95, MARKERS)
    assert verdict.reason == reason


@pytest.mark.parametrize(
    ("reply", "keep"),
    [
        ("Der Gipfel soll in Budapest stattfinden [1].", True),
        ("Laut dem Artikel findet der Gipfel in Budapest statt [1].", True),
        ("In Wien wurden 38 Grad gemessen [2].", True),
        ("Der Gipfel wurde abgesagt [1].", False),  # nothing of the claim is in [1]
        ("Der Gipfel findet in Wien statt [1].", False),  # Wien is in [2], not in the cited [1]
        ("In Wien wurden 41 Grad gemessen, ein Rekord seit 1875 [2].", False),
        ("Der Gipfel soll stattfinden [1].", True),  # restates the question, which [1] holds
        ("Nein [1].", True),  # claims nothing a word list could check
    ],
)
def test_a_reply_whose_cited_passage_does_not_hold_it_is_replaced(reply, keep):
    verdict = judge(reply, PASSAGES, 0.9, 0.95, MARKERS, question="Wo soll der Gipfel stattfinden?")
    assert verdict.keep is keep
    assert verdict.reason == (None if keep else "llm_unsupported")


def test_every_shipped_template_renders_strictly(settings):
    answerer = GroundedAnswerer(settings, 0.5, scripted())
    passages = [Passage(1, "Titel", "2025-01-02", "Text eins."), Passage(2, "Zwei", None, "Text zwei.")]
    system, user = answerer.messages("Wo?", passages, history=["Was war?"])
    assert message("refusal") in system.content
    assert "[1] Titel (2025-01-02)\nText eins." in user.content
    assert "[2] Zwei\nText zwei." in user.content
    assert "- Was war?" in user.content
    assert user.content.rstrip().endswith("Frage: Wo?")
    for name in (f.name for f in resources.files("prompts").iterdir() if f.name.endswith(".j2")):
        values = {"refusal": "R", "question": "Q", "passages": passages, "history": []}
        assert render(template(name), **values).strip()
    assert answerer.refusal_markers


def test_templates_in_prompts_dir_replace_the_shipped_ones(settings, tmp_path: Path):
    override = tmp_path / "my_prompts"
    override.mkdir()
    (override / "answer_system.de.j2").write_text("Eigene Regeln. {{ refusal }}", encoding="utf-8")
    (override / "grounding.de.yaml").write_text("refusal_markers: ['keine ahnung']", encoding="utf-8")
    answerer = GroundedAnswerer(settings.model_copy(update={"prompts_dir": override}), 0.5, scripted())
    system, user = answerer.messages("Wo?", [Passage(1, "T", None, "X")])
    assert system.content == f"Eigene Regeln. {message('refusal')}"
    assert "Textstellen:" in user.content  # not overridden: the shipped template
    assert answerer.refusal_markers == ["keine ahnung"]


def test_factory_picks_the_backend_from_the_settings(settings):
    from langchain_ollama import ChatOllama
    from langchain_openai import ChatOpenAI

    openai_model = make_chat_model(
        settings.model_copy(
            update={
                "llm_model": "gemma",
                "llm_base_url": "http://127.0.0.1:8080/v1",
                "llm_max_tokens": 123,
                "llm_timeout_seconds": 7.0,
            }
        )
    )
    assert isinstance(openai_model, ChatOpenAI)
    assert (openai_model.model_name, openai_model.max_tokens, openai_model.request_timeout) == ("gemma", 123, 7.0)
    assert openai_model.max_retries == 0
    assert openai_model.openai_api_base == "http://127.0.0.1:8080/v1"

    ollama_model = make_chat_model(
        settings.model_copy(
            update={
                "llm_provider": "ollama",
                "llm_model": "gemma3:270m",
                "llm_base_url": "http://127.0.0.1:11434",
            }
        )
    )
    assert isinstance(ollama_model, ChatOllama)
    assert (ollama_model.model, ollama_model.base_url, ollama_model.num_predict) == (
        "gemma3:270m",
        "http://127.0.0.1:11434",
        settings.llm_max_tokens,
    )


def test_llm_mode_without_a_model_name_is_an_operator_error(settings):
    with pytest.raises(NewsbotError) as raised:
        make_chat_model(settings)
    assert raised.value.message == message("llm_not_configured")


def test_a_full_server_makes_the_caller_wait_no_longer_than_the_timeout():
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    with pytest.raises(LLMUnavailable) as raised:
        list(stream_within(scripted("nie"), [], slots, timeout=0.2))
    assert raised.value.reason == "llm_busy"


def test_cli_streams_the_answer_then_shows_its_sources(settings, fake_embedder, articles_dir, capsys):
    llm_settings = settings.model_copy(update={"answer_mode": "llm", "llm_model": "scripted"})
    service = NewsService.open(llm_settings, fake_embedder, chat_model=scripted("Der Gipfel ist in Budapest [1]."))
    service.index_paths([articles_dir])
    answer = stream_answer(service, "Wo soll der Gipfel stattfinden?")
    out = capsys.readouterr().out
    assert answer.mode == "llm"
    assert out.startswith(f"{message('cli_answer_label')}: Der Gipfel ist in Budapest [1].\n")
    assert f"{message('cli_sources_label')}:" in out
    assert "[1] Gipfeltreffen in Budapest geplant" in out


def test_cli_shows_the_note_and_the_replacement_after_a_fallback(settings, fake_embedder, articles_dir, capsys):
    llm_settings = settings.model_copy(update={"answer_mode": "llm", "llm_model": "scripted"})
    service = NewsService.open(llm_settings, fake_embedder, chat_model=scripted("Irgendwo in Europa."))
    service.index_paths([articles_dir])
    answer = stream_answer(service, "Wo soll der Gipfel stattfinden?")
    out = capsys.readouterr().out
    assert answer.mode == "extractive-fallback"
    assert "Irgendwo in Europa." in out
    assert message("llm_no_citation") in out
    assert f"{message('cli_answer_label')}: {answer.text}" in out


def test_history_reaches_the_prompt(settings: Settings, fake_embedder, articles_dir):
    model = scripted("Budapest [1].")
    llm_settings = settings.model_copy(update={"answer_mode": "llm", "llm_model": "scripted"})
    service = NewsService.open(llm_settings, fake_embedder, chat_model=model)
    service.index_paths([articles_dir])
    answerer = service.generator
    seen: list[str] = []
    original = answerer.messages

    def spy(question, passages, history=()):
        built = original(question, passages, history)
        seen.append(str(built[-1].content))
        return built

    answerer.messages = spy  # type: ignore[method-assign]
    service.ask("Und wo?", history=["Wann ist der Gipfel?"])
    assert "- Wann ist der Gipfel?" in seen[0]
