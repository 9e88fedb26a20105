"""The `newsbot` command line: a thin face over `bot.service` and `index`.

Every command is also a Python call; errors a user caused print one German line and exit with 2.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.result import Answer
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.settings import Settings
from index.texts import message

log = logging.getLogger("newsbot")
NEW_CONVERSATION = ":neu"  # in `chat`: forget the earlier questions
F = TypeVar("F", bound=Callable[..., Any])


def _fail(text: str, code: int = 2) -> None:
    click.echo(text, err=True)
    sys.exit(code)


def user_errors(func: F) -> F:
    """Turn a `NewsbotError` into its one-line message and exit code 2; anything else is logged."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NewsbotError as error:
            if error.detail:
                log.debug("detail: %s", error.detail)
            _fail(error.message, 2)
        except KeyboardInterrupt:
            _fail("Abgebrochen.", 130)
        except Exception:
            log.exception("unexpected error")
            _fail(message("unexpected_error"), 1)

    return wrapper  # type: ignore[return-value]


class Context:
    """Lazily opened service, so `--help` and input checks never load a model."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._service: Any = None

    @property
    def service(self) -> Any:
        if self._service is None:
            from bot.service import NewsService

            self._service = NewsService.open(self.settings)
        return self._service


pass_context = click.make_pass_decorator(Context)


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), help="Datenverzeichnis (NEWSBOT_DATA_DIR).")
@click.option("-v", "--verbose", is_flag=True, help="Ausführliches Log auf stderr.")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, verbose: bool) -> None:
    """newsbot: Fragen zu Nachrichtenartikeln beantworten."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    ctx.obj = Context(Settings(**overrides))


# ---- index -------------------------------------------------------------------------------------


@cli.group("index")
def index_group() -> None:
    """Artikel indexieren, auflisten, entfernen."""


def print_report(report: IndexReport) -> None:
    """The count line and every failure's reason; exit code 2 when nothing at all could be read."""
    click.echo(report.summary())
    for source, reason in report.failed:
        click.echo(f"  ✗ {source}: {reason}", err=True)
    if report.failed and not (report.added or report.updated or report.unchanged):
        sys.exit(2)


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@index_group.command("add")
@click.argument("sources", nargs=-1, required=True)
@pass_context
@user_errors
def index_add(ctx: Context, sources: tuple[str, ...]) -> None:
    """Dateien, Ordner (.txt, .md, .html) oder URLs indexieren."""
    paths = [Path(s) for s in sources if not _is_url(s)]
    for path in paths:  # check everything before changing anything
        if not path.exists():
            raise NewsbotError(message("path_missing", path=str(path)))
    report = IndexReport()
    if paths:
        report = ctx.service.index.add_paths(paths, progress=sys.stderr.isatty(), report=report)
    urls = [s for s in sources if _is_url(s)]
    if urls:
        report = ctx.service.index_urls(urls, report=report)
    print_report(report)


@index_group.command("feed")
@click.argument("feed_url")
@pass_context
@user_errors
def index_feed(ctx: Context, feed_url: str) -> None:
    """Einen RSS- oder Atom-Feed lesen und neue Einträge indexieren."""
    report = ctx.service.index_feed(feed_url)
    print_report(report)


@index_group.command("sync")
@click.argument("folder", type=click.Path(path_type=Path))
@pass_context
@user_errors
def index_sync(ctx: Context, folder: Path) -> None:
    """Den Index mit einem Ordner abgleichen: neue, geänderte und gelöschte Dateien."""
    if not folder.is_dir():
        raise NewsbotError(message("path_missing", path=str(folder)))
    print_report(ctx.service.index.sync_folder(folder, progress=sys.stderr.isatty()))


@index_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Als JSON ausgeben.")
@pass_context
@user_errors
def index_list(ctx: Context, as_json: bool) -> None:
    """Indexierte Artikel auflisten."""
    articles = ctx.service.articles()
    if as_json:
        click.echo(json.dumps([vars(a) for a in articles], ensure_ascii=False, indent=2))
        return
    if not articles:
        click.echo(message("cli_no_articles"))
    for a in articles:
        click.echo(f"{a.article_id}\n    {a.title}  ({a.chunk_count} Abschnitte, {a.indexed_at})")


@index_group.command("remove")
@click.argument("article_id")
@pass_context
@user_errors
def index_remove(ctx: Context, article_id: str) -> None:
    """Einen Artikel aus dem Index entfernen (ID aus `index list`)."""
    report = ctx.service.remove(article_id)
    click.echo(message("cli_removed", article_id=report.removed[0]))


# ---- asking ------------------------------------------------------------------------------------


def render_answer(answer: Answer, text_shown: bool = False) -> str:
    """The answer with note and sources; `text_shown` when its generated text was already streamed."""
    lines: list[str] = []
    if not (text_shown and answer.mode == "llm"):  # a fallback replaces the streamed text, so it is shown
        if answer.answered:
            lines.append(click.style(f"{message('cli_answer_label')}: ", bold=True) + answer.text)
        else:
            lines.append(click.style(answer.text, fg="yellow"))
    if answer.note:
        lines.append(click.style(answer.note, dim=True))
    if answer.used_history and answer.answered:
        lines.append(click.style(message("history_used"), dim=True))
    if answer.sources and answer.answered:
        lines.append(click.style(f"{message('cli_sources_label')}:", bold=True))
        quoted = set(answer.cited) or {1}
        for n, s in enumerate(answer.sources, start=1):
            dated = f"{s.published[:10]}, " if s.published else ""
            lines.append(f"  [{n}] {s.title} — {s.source} ({dated}{s.score:.2f})")
            if n in quoted:
                lines.append(click.style(f"      „{s.snippet}“", dim=True))
    return "\n".join(lines)


def stream_answer(service: Any, question: str, history: list[str] | None = None) -> Answer:
    """Print a generated answer as it is written, then its note and sources; return the final Answer."""
    final: Answer | None = None
    streamed = False
    for item in service.ask_stream(question, history=history or []):
        if isinstance(item, Answer):
            final = item
            continue
        if not streamed:
            click.echo(click.style(f"{message('cli_answer_label')}: ", bold=True), nl=False)
            streamed = True
        click.echo(item, nl=False)
    if streamed:
        click.echo()
    assert final is not None, "ask_stream always ends with an Answer"
    rest = render_answer(final, text_shown=streamed)
    if rest:
        click.echo(rest)
    return final


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Als JSON ausgeben.")
@pass_context
@user_errors
def ask(ctx: Context, question: str, as_json: bool) -> None:
    """Eine Frage zu den indexierten Artikeln stellen."""
    from bot.service import validate_question

    validate_question(ctx.settings, question)  # before the model loads, so the message comes at once
    if ctx.settings.answer_mode == "llm" and not as_json:
        stream_answer(ctx.service, question)
        return
    answer = ctx.service.ask(question)
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        click.echo(render_answer(answer))


@cli.command()
@pass_context
@user_errors
def chat(ctx: Context) -> None:
    """Interaktiv fragen; Folgefragen nutzen die vorigen Fragen als Kontext, „:neu“ vergisst sie."""
    service = ctx.service
    click.echo(message("cli_chat_intro"))
    history: list[str] = []
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            break
        if not question:
            break
        if question.casefold() == NEW_CONVERSATION:
            history.clear()
            click.echo(message("cli_chat_new"))
            continue
        try:
            if ctx.settings.answer_mode == "llm":
                stream_answer(service, question, history)
            else:
                click.echo(render_answer(service.ask(question, history=history)))
        except NewsbotError as error:
            click.echo(error.message, err=True)
            continue
        history.append(question)


@cli.command("eval")
@click.argument("questions", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Kennzahlen als JSON.")
@click.option("--details", type=click.Path(path_type=Path), help="Eine JSON-Zeile je Frage in diese Datei.")
@click.option("--timings", is_flag=True, help="Zeiten je Stufe (embed, search, answer) mit ausgeben.")
@pass_context
@user_errors
def eval_command(ctx: Context, questions: Path, as_json: bool, details: Path | None, timings: bool) -> None:
    """Antwort- und Suchqualität auf einem Fragensatz (JSON Lines) messen."""
    from bot.evaluate import evaluate, load_questions

    loaded = load_questions(questions)
    service = ctx.service
    service.retriever.warm_up()  # load once, outside the timed questions
    metrics, rows, stage_timings = evaluate(loaded, service.ask, count_llm_fallbacks=ctx.settings.answer_mode == "llm")
    if details:
        with details.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if timings:
        metrics = {**metrics, **stage_timings}
    if as_json:
        click.echo(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            click.echo(f"{key:24} {value}")


@cli.command("discord")
@pass_context
@user_errors
def discord_command(ctx: Context) -> None:
    """Den Discord-Bot starten (Token aus DISCORD_TOKEN in der Umgebung oder .env)."""
    from bot.discord.client import run_bot

    run_bot(ctx.settings, lambda: ctx.service)


def main() -> None:
    cli(prog_name="newsbot")


if __name__ == "__main__":
    main()
