"""The `newsbot` command line: a thin face over `bot.service` and `index`.

Every command is also a Python call; errors a user caused print one German line and exit with 2.
Heavy modules (Chroma, LangChain, the embedder, trafilatura) are imported inside the commands that
need them, so `--help`, `status` and `index list` start in a fraction of a second.
"""

from __future__ import annotations

import atexit
import contextlib
import gettext
import json
import logging
import os
import selectors
import signal
import sys
from collections.abc import Callable, Mapping
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from index.errors import NewsbotError

if TYPE_CHECKING:
    from bot.result import Answer
    from bot.service import NewsService
    from index.indexer import IndexReport
    from index.settings import Settings

log = logging.getLogger("newsbot")
F = TypeVar("F", bound=Callable[..., Any])
# Whether `main` runs the command in a process of its own (tests run commands inside pytest's)...
_own_process = False
# ...and a one-shot command has left nothing for the interpreter's teardown (`leave_without_teardown`).
_no_teardown = False
_sigterm_received = False  # set by `_stop_on_sigterm`: the KeyboardInterrupt that follows is a stop


def message(key: str, language: str | None = None, **values: Any) -> str:
    """`index.texts.message` in the configured language, imported on first use (Jinja2 and YAML are not
    needed for `--help`)."""
    from index.texts import message as render_message

    return render_message(key, language or _configured_language(), **values)


def _configured_language() -> str:
    """NEWSBOT_LANGUAGE of the running command; German where the settings are not (or not yet) usable."""
    ctx = click.get_current_context(silent=True)
    context = ctx.find_object(Context) if ctx else None
    if context is None:
        return "de"
    try:
        return context.settings.language
    except NewsbotError:  # bad settings: their own message says so, in German
        return "de"


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
            _fail(message("cli_aborted"), 130)
        except BrokenPipeError:
            raise  # the reader stopped (`| head`): click leaves quietly
        except Exception as error:
            # The traceback is for operators: a running bot logs at INFO, and `newsbot -v` at DEBUG. A one-shot
            # command's user gets one line.
            operators = log.isEnabledFor(logging.INFO)
            log.log(logging.ERROR if operators else logging.DEBUG, "unexpected error", exc_info=True)
            _fail(message("cli_unexpected_error", error=type(error).__name__), 1)

    return wrapper  # type: ignore[return-value]


class Context:
    """Settings and service built on first use, so `--help` reads nothing and input checks load no model.

    Bad settings surface inside the command (as one line, exit code 2), and the configuration checks
    run before the embedder and the index are opened.
    """

    def __init__(self, overrides: dict[str, Any]) -> None:
        self._overrides = overrides
        self._settings: Settings | None = None
        self._service: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from index.settings import load_settings

            self._settings = load_settings(**self._overrides)
        return self._settings

    @property
    def service(self) -> Any:
        if self._service is None:
            from bot.ops import check_llm_configured

            check_llm_configured(self.settings)
            from bot.service import NewsService

            self._service = NewsService.open(self.settings)
        return self._service


pass_context = click.make_pass_decorator(Context)


def help_language() -> str:
    """NEWSBOT_LANGUAGE where the settings read it (the environment, then `.env`), without loading them: `--help`
    loads no pydantic. German where it is unset, unreadable or a language without texts."""
    from dotenv import dotenv_values

    from index.texts import supported_languages

    def configured(values: Mapping[str, str | None]) -> str | None:
        return next((value for key, value in values.items() if key.upper() == "NEWSBOT_LANGUAGE" and value), None)

    try:
        language = configured(os.environ) or configured(dotenv_values(".env", encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        language = None
    return language if language in supported_languages() else "de"


class _HelpFromTexts:
    """A command's or option's `help` is a key of prompts/ ("cli_help_ask"), shown in the configured language: the
    texts were German literals, and an English deployment's `newsbot --help` was German."""

    _help_key: str | None = None

    @property
    def help(self) -> str | None:
        return message(self._help_key, help_language()) if self._help_key else None

    @help.setter
    def help(self, key: str | None) -> None:
        self._help_key = key


class _CommandHelpFromTexts(_HelpFromTexts):
    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """`--help`'s own line too (click's is English), as a `TextsOption`: its text is read when shown, since
        every command, `ask` too, builds the option while it parses."""
        built = super().get_help_option(ctx)  # type: ignore[misc]
        if built is None or isinstance(built, TextsOption):
            return built
        declarations = [*built.opts, built.name]  # the name: click's own, clear of a parameter called `help`
        self._help_option = TextsOption(
            declarations, is_flag=True, is_eager=True, expose_value=False, callback=built.callback, help="cli_help_help"
        )
        return self._help_option


# click's headings (its gettext message ids) and the keys of prompts/ that word them
HELP_HEADINGS = {"Options": "cli_help_options", "Commands": "cli_help_commands"}


class TextsHelpFormatter(click.HelpFormatter):
    """click's headings ("Usage:", "Options", "Commands") in the configured language: a German `--help` had them in
    English around German texts. click words them through gettext, for which it ships no German."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, f"{message('cli_help_usage', help_language())} " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        key = HELP_HEADINGS.get(heading)
        super().write_heading(message(key, help_language()) if key else heading)


@cache
def click_texts(language: str) -> dict[str, str | list[str]]:
    """click's own messages in `language` (prompts/click.LANGUAGE.json), by click's message id: one text, or [one,
    more] for a plural. JSON, not YAML: click looks up its messages while it builds every command's `--help` option,
    and `--version` loads no YAML."""
    from importlib import resources

    return json.loads(resources.files("prompts").joinpath(f"click.{language}.json").read_text(encoding="utf-8"))


@cache
def click_message_ids() -> frozenset[str]:
    """The ids any language's catalog words: other ids need not know the language (which reads `.env`)."""
    from importlib import resources

    shipped = (f.name for f in resources.files("prompts").iterdir() if f.name.startswith("click."))
    return frozenset(key for name in shipped for key in click_texts(name.split(".")[1]))


class ClickTexts(gettext.NullTranslations):
    """click's own messages ("Error: Missing argument 'QUESTION'.", "No such command") in the configured language,
    from prompts/click.LANGUAGE.json: a German deployment's error lines were English. click words them through
    gettext, which finds catalogs only as compiled files under the process's locale; so its modules' gettext
    functions are this catalog's. A text keeps the placeholders of its id, since click formats it after the look-up;
    an id the catalog lacks stays click's English."""

    # click's modules that word what a user of the command line sees
    MODULES = (click.core, click.exceptions, click.parser, click.types, click.decorators, click.termui)

    def gettext(self, message: str) -> str:
        text = click_texts(help_language()).get(message) if message in click_message_ids() else None
        return text if isinstance(text, str) else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = click_texts(help_language()).get(singular) if singular in click_message_ids() else None
        if isinstance(forms, list):
            return forms[0] if n == 1 else forms[1]
        return singular if n == 1 else plural

    @classmethod
    def install_in_click(cls) -> None:
        texts = cls()
        for module in cls.MODULES:
            module._ = texts.gettext  # type: ignore[attr-defined]
            if hasattr(module, "ngettext"):
                module.ngettext = texts.ngettext  # type: ignore[attr-defined]


class TextsContext(click.Context):
    formatter_class = TextsHelpFormatter


class TextsCommand(_CommandHelpFromTexts, click.Command):
    context_class = TextsContext


class TextsOption(_HelpFromTexts, click.Option):
    pass


class TextsGroup(_CommandHelpFromTexts, click.Group):
    context_class = TextsContext
    command_class = TextsCommand
    group_class = type  # subgroups are TextsGroups too

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, click's own messages worded by prompts/ (`ClickTexts`)."""
        ClickTexts.install_in_click()
        return super().main(*args, **kwargs)


def option(*names: str, **attributes: Any) -> Callable[[F], F]:
    """`click.option` whose `help` is a key of prompts/ (`TextsOption`)."""
    return click.option(*names, cls=TextsOption, **attributes)


def own_records(record: logging.LogRecord) -> bool:
    """Without `-v`, a command's user sees newsbot's own warnings only: other libraries log what newsbot
    already says in its one line (trafilatura logs an empty page as three ERRORs). `-v` shows all, and
    the running bot (`newsbot discord`) keeps every library's warnings for its operators."""
    return record.name.partition(".")[0] in {"newsbot", "index", "bot"}


@click.group(cls=TextsGroup, help="cli_help_newsbot")
@option("--data-dir", type=click.Path(path_type=Path), help="cli_help_data_dir")
@option("-v", "--verbose", is_flag=True, help="cli_help_verbose")
@click.version_option(
    package_name="newsbot",
    prog_name="newsbot",
    message="%(prog)s %(version)s",
    cls=TextsOption,
    help="cli_help_version",
)
@click.pass_context
@user_errors  # a setting no value of which works (NEWSBOT_LANGUAGE=fr) is one line too
def cli(ctx: click.Context, data_dir: Path | None, verbose: bool) -> None:
    handler = logging.StreamHandler()
    if not verbose and ctx.invoked_subcommand != "discord":
        handler.addFilter(own_records)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    ctx.obj = Context(overrides)


# ---- index -------------------------------------------------------------------------------------


@cli.group("index", help="cli_help_index")
def index_group() -> None:
    """The `index` subcommands (help: `cli_help_index`)."""


def print_report(report: IndexReport) -> None:
    """The count line and every failure's reason; exit code 2 when nothing at all could be read."""
    click.echo(report.summary(_configured_language()))
    for source, reason in report.failed:
        click.echo(f"  ✗ {source}: {reason}", err=True)
    if report.failed and not (report.added or report.updated or report.unchanged):
        sys.exit(2)


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@index_group.command("add", help="cli_help_index_add")
@click.argument("sources", nargs=-1, required=True)
@pass_context
@user_errors
def index_add(ctx: Context, sources: tuple[str, ...]) -> None:
    from index.indexer import IndexReport

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


@index_group.command("feed", help="cli_help_index_feed")
@click.argument("feed_url")
@pass_context
@user_errors
def index_feed(ctx: Context, feed_url: str) -> None:
    report = ctx.service.index_feed(feed_url)
    print_report(report)


@index_group.command("sync", help="cli_help_index_sync")
@click.argument("folder", type=click.Path(path_type=Path))
@pass_context
@user_errors
def index_sync(ctx: Context, folder: Path) -> None:
    if not folder.is_dir():
        raise NewsbotError(message("path_missing", path=str(folder)))
    print_report(ctx.service.index.sync_folder(folder, progress=sys.stderr.isatty()))


@index_group.command("list", help="cli_help_index_list")
@option("--json", "as_json", is_flag=True, help="cli_help_json")
@pass_context
@user_errors
def index_list(ctx: Context, as_json: bool) -> None:
    from bot.ops import list_articles

    _one_shot()
    articles = list_articles(ctx.settings)  # from the catalog alone: no model, no Chroma
    if as_json:
        click.echo(json.dumps([vars(a) for a in articles], ensure_ascii=False, indent=2))
        return
    if not articles:
        click.echo(message("cli_no_articles"))
    for a in articles:
        chunks = message("cli_chunk_count", ctx.settings.language, count=a.chunk_count)
        click.echo(f"{a.article_id}\n    {a.title}  ({chunks}, {a.indexed_at})")


@index_group.command("remove", help="cli_help_index_remove")
@click.argument("article_id")
@pass_context
@user_errors
def index_remove(ctx: Context, article_id: str) -> None:
    report = ctx.service.remove(article_id)
    if len(report.removed) == 1:
        click.echo(message("cli_removed", article_id=report.removed[0]))
    else:  # a feed's entries
        click.echo(message("cli_removed_feed", feed=article_id, count=len(report.removed)))


@index_group.command("prune", help="cli_help_index_prune")
@option("--older-than", "older_than", required=True, help="cli_help_older_than")
@pass_context
@user_errors
def index_prune(ctx: Context, older_than: str) -> None:
    from index.retention import parse_age

    # before the index opens, so a typo changes nothing and loads no model
    age = parse_age(older_than, _configured_language())
    print_report(ctx.service.index.prune(age))


# ---- asking ------------------------------------------------------------------------------------


def render_answer(answer: Answer, text_shown: bool = False) -> str:
    """The answer with note and sources; `text_shown` when its generated text was already streamed.

    Labels are in the question's language, as its refusal is and as Discord's answers are: an English question on a
    German index read "I found nothing …" when refused, but "Antwort:", "Sicherheit" and "Quellen:" when answered."""
    language = answer.language or _configured_language()
    lines: list[str] = []
    if not (text_shown and answer.mode == "llm"):  # a fallback replaces the streamed text, so it is shown
        if answer.answered:
            lines.append(click.style(f"{message('cli_answer_label', language)}: ", bold=True) + answer.text)
        else:
            lines.append(click.style(answer.text, fg="yellow"))
    if answer.note:
        lines.append(click.style(answer.note, dim=True))
    if answer.answered:  # the same figure as the footer of Discord's answers
        confidence = message("answer_confidence", language, percent=answer.confidence_percent)
        lines.append(click.style(confidence, dim=True))
    if answer.used_history and answer.answered:
        lines.append(click.style(message("history_used", language), dim=True))
    if answer.sources and answer.answered:
        lines.append(click.style(f"{message('cli_sources_label', language)}:", bold=True))
        quoted = set(answer.cited) or {1}
        for n, s in enumerate(answer.sources, start=1):
            dated = f"{s.published[:10]}, " if s.published else ""
            lines.append(f"  [{n}] {s.title} — {s.source} ({dated}{s.score:.2f})")
            if n in quoted:
                lines.append(click.style("      " + message("cli_quote", language, text=s.snippet), dim=True))
    return "\n".join(lines)


def _one_question_at_a_time() -> None:
    """Let the embedder's OpenMP threads sleep between parallel regions instead of spinning.

    Spinning pays off for long batches (indexing); one query embeds in a few milliseconds, after which
    the spinning threads burned 0.3 s of CPU on a quiet machine and 1.4 s on a busy one (measured with
    benchmarks/coldstart.py). Read when the embedder's library loads, so set before the service opens;
    an OMP_WAIT_POLICY in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _one_shot() -> None:
    """A command that reads, prints once and ends its process needs no interpreter teardown
    (`leave_without_teardown`); only where `main` runs the command in a process of its own."""
    global _no_teardown
    _no_teardown = _own_process


def _leave_without_waiting_for_chroma(ctx: Context) -> None:
    """A long-running command (`chat`, `discord`) that ends while Chroma loads again in the background (after another
    process's change) ends without the interpreter's teardown, which would wait for the load: 7 to 11 s at 1.1M
    sentences, as the loader is no daemon (a daemon inside Chroma's bindings crashed the interpreter as it finalised).
    The load only reads, so ending amid it is as safe as a kill, which the index survives at any point; the command's
    own work is done by then (the bot's loop has shut down its worker threads, an index run among them)."""
    global _no_teardown
    service = ctx._service
    if service is not None and service.index.loading_again():
        log.info("leaving without waiting for Chroma's background load")
        _no_teardown = _own_process


def terminal_text(text: str) -> str:
    """`text` as typed, or a user error when it held bytes that are not UTF-8.

    Python hands such bytes on as lone surrogates (argv, and stdin after `_tolerant_stdin`); anything
    that encodes them later (the embedder, the log, the terminal) would fail with a traceback.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NewsbotError(message("question_invalid_encoding"), detail=ascii(text)[:200]) from None
    return text


def _tolerant_stdin() -> None:
    """Read stdin so that bytes that are not UTF-8 arrive as surrogates instead of ending the session."""
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="surrogateescape")


# How long the next line of a paste may take to arrive: a terminal writes a paste at once, where a person types a
# question and presses Enter, and the next question comes after its answer.
PASTE_SECONDS = 0.05


def pasted_lines(stdin: TextIO) -> list[str]:
    """The lines that arrived at a terminal together with the line just read: a question pasted over several lines
    ("Wo soll der" / "Gipfel stattfinden?" from a chat or a note) is one question, not one per line (its first half
    was answered as a follow-up of the question before). From a pipe or a file every line is a question."""
    try:
        if os.name != "posix" or not stdin.isatty():
            return []
        lines = []
        # a selector, not select.select: that refuses descriptors above 1023, and then every line stood alone
        with selectors.DefaultSelector() as waiting:
            waiting.register(stdin, selectors.EVENT_READ)
            while waiting.select(PASTE_SECONDS):
                line = stdin.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
        return lines
    except (OSError, ValueError):  # a closed or unselectable stdin: the line read stands alone
        return []


def stream_answer(service: Any, question: str, history: list[str] | None = None) -> Answer:
    """Print a generated answer as it is written, then its note and sources; return the final Answer."""
    from bot.result import Answer

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


@cli.command(help="cli_help_ask")
@click.argument("question")
@option("--json", "as_json", is_flag=True, help="cli_help_json")
@pass_context
@user_errors
def ask(ctx: Context, question: str, as_json: bool) -> None:
    from bot.service import validate_question

    _one_shot()
    terminal_text(question)
    validate_question(ctx.settings, question)  # before the model loads, so the message comes at once
    _one_question_at_a_time()
    if ctx.settings.answer_mode == "llm" and not as_json:
        stream_answer(ctx.service, question)
        return
    answer = ctx.service.ask(question)
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        click.echo(render_answer(answer))


def new_conversation_commands() -> dict[str, str]:
    """The words that start a new conversation in `chat` (`:neu`, `:new`: each language's, from prompts/), with the
    language each belongs to: whoever asks in English types the English one in a German deployment too."""
    from index.texts import supported_languages

    return {message("cli_chat_new_command", language).casefold(): language for language in supported_languages()}


@cli.command(help="cli_help_chat")
@pass_context
@user_errors
def chat(ctx: Context) -> None:
    restarts = new_conversation_commands()
    _one_question_at_a_time()
    service = ctx.service
    service.warm_up()  # now, not at the first question (or the first follow-up)
    click.echo(message("cli_chat_intro"))
    _tolerant_stdin()
    try:
        _converse(ctx, service, restarts)
    finally:  # Ctrl-C too
        _leave_without_waiting_for_chroma(ctx)


def _converse(ctx: Context, service: NewsService, restarts: dict[str, str]) -> None:
    """`chat`'s questions and answers until an empty line or the end of the input."""
    from bot.service import ends_the_conversation, starts_a_topic

    history: list[str] = []
    while True:
        try:
            question = "\n".join([input("? "), *pasted_lines(sys.stdin)]).strip()
        except EOFError:
            break
        if not question:
            break
        if question.casefold() in restarts:
            history.clear()
            click.echo(message("cli_chat_new", restarts[question.casefold()]))
            continue
        try:
            terminal_text(question)
            if ctx.settings.answer_mode == "llm":
                answer = stream_answer(service, question, history)
            else:
                answer = service.ask(question, history=history)
                click.echo(render_answer(answer))
        except NewsbotError as error:
            click.echo(error.message, err=True)
            continue
        if answer.answered:  # a refused question is no context: the articles say nothing a follow-up could be about
            history = [*([] if starts_a_topic(answer) else history), question]
        elif ends_the_conversation(answer, ctx.settings.language):
            history = []


@cli.command("eval", help="cli_help_eval")
@click.argument("questions", type=click.Path(path_type=Path))
@option("--json", "as_json", is_flag=True, help="cli_help_eval_json")
@option("--details", type=click.Path(path_type=Path), help="cli_help_eval_details")
@option("--timings", is_flag=True, help="cli_help_eval_timings")
@pass_context
@user_errors
def eval_command(ctx: Context, questions: Path, as_json: bool, details: Path | None, timings: bool) -> None:
    from bot.evaluate import articles_not_indexed, check_details_path, evaluate, load_questions

    loaded = load_questions(questions, ctx.settings)
    if details:
        check_details_path(details, questions)
    service = ctx.service
    missing = articles_not_indexed(loaded, (record.url or record.source for record in service.articles()))
    if missing:
        named = [message("eval_article_not_indexed", line=q.line, article=q.article) for q in missing[:3]]
        examples = ", ".join(named) + (" …" if len(missing) > 3 else "")
        click.echo(message("eval_articles_not_indexed", count=len(missing), examples=examples), err=True)
    service.warm_up()  # load once, outside the timed questions
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
            click.echo(f"{key:24} {'–' if value is None else value}")


@cli.command("discord", help="cli_help_discord")
@option("--sync", "force_sync", is_flag=True, help="cli_help_discord_sync")
@option(
    "--alongside",
    is_flag=True,
    help="cli_help_discord_alongside",
)
@pass_context
@user_errors
def discord_command(ctx: Context, force_sync: bool, alongside: bool) -> None:
    from bot.ops import announce_bot, check_llm_configured, discord_token, verify_discord_login

    settings = ctx.settings
    if logging.getLogger("newsbot").getEffectiveLevel() > logging.INFO:
        logging.getLogger("newsbot").setLevel(logging.INFO)  # a running bot logs each question (one line)
    token = discord_token(settings)  # all of these before the model and the index load
    check_llm_configured(settings)
    name = verify_discord_login(token, settings)
    log.info("Discord accepts the token of %s", name)

    import aiohttp
    import discord

    from bot.discord.client import run_bot

    bot_file = announce_bot(settings.data_dir, token, alongside, settings.language)
    stop_on_signals()
    try:
        run_bot(settings, lambda: ctx.service, force_sync=force_sync)
    except KeyboardInterrupt:
        if not _sigterm_received:
            raise  # Ctrl-C: "Abgebrochen." (cli_aborted), exit code 130
        log.info("stopped")
    except (aiohttp.ClientError, OSError, discord.GatewayNotFound, discord.HTTPException) as error:
        log.debug("Discord connection failed", exc_info=True)
        reason = type(error).__name__
        raise NewsbotError(message("discord_unreachable", settings.language, reason=reason)) from error
    finally:
        bot_file.unlink(missing_ok=True)
        _leave_without_waiting_for_chroma(ctx)


def stop_on_signals() -> None:
    """Stop the bot on SIGTERM as on Ctrl-C (`_stop_on_sigterm`). A bot started as a background job of a script
    (`newsbot discord &`, `nohup`) inherits SIGINT ignored, and `asyncio.run` then installs no handler of its own:
    SIGINT gets Python's, so that there is one to hand over to (SIGTERM fell back to raising inside the loop and
    hung within 200 stops)."""
    if not callable(signal.getsignal(signal.SIGINT)):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    """End the bot as Ctrl-C does, with exit code 0 (a stop, not a failure): its index run in progress finishes, the
    Discord session closes, `bot-PID.json` goes. Python's default was to die on the spot, and as a container's pid 1
    (the image's entrypoint) to ignore the signal, so `docker compose stop` waited 10 s and killed it.

    It hands over to the SIGINT handler in force: inside `asyncio.run` that is asyncio's own, which cancels the main
    task and wakes the loop. Raising from a signal handler while the loop runs lands between two of its steps: a task
    taken off the ready queue and never run is lost, and the stop then waits forever for it (CPython bpo-39622; 7 of 40
    stops hung on a busy loop, one in CI)."""
    global _sigterm_received
    _sigterm_received = True
    log.info("SIGTERM: stopping the bot")
    on_interrupt = signal.getsignal(signal.SIGINT)
    if not callable(on_interrupt):  # SIGINT ignored or left to the system: nothing to hand over to
        raise KeyboardInterrupt
    on_interrupt(signal.SIGINT, frame)


@cli.command("status", help="cli_help_status")
@option("--json", "as_json", is_flag=True, help="cli_help_json")
@option("--bot-running", is_flag=True, help="cli_help_status_bot_running")
@pass_context
@user_errors
def status_command(ctx: Context, as_json: bool, bot_running: bool) -> None:
    from dataclasses import asdict

    from bot.ops import format_duration, read_status

    _one_shot()
    status = read_status(ctx.settings)
    if as_json:
        click.echo(json.dumps(asdict(status), ensure_ascii=False))
    if bot_running and status.bot is None:
        sys.exit(1)
    if as_json:
        return
    never = message("discord_status_never")
    click.echo(message("status_index", articles=status.articles, chunks=status.chunks, sentences=status.sentences))
    click.echo(message("status_embedder", embedder=status.embedder or "–"))
    click.echo(message("status_last_update", when=status.last_update or never))
    poll = status.last_feed_poll
    click.echo(
        message("status_feed_poll", when=poll["at"], url=poll["url"], result=poll["result"])
        if poll
        else message("status_feed_poll_never")
    )
    bot = status.bot
    click.echo(
        message("status_bot_running", pid=bot["pid"], uptime=format_duration(bot["uptime_seconds"]))
        if bot
        else message("status_bot_stopped")
    )


@cli.command("doctor", help="cli_help_doctor")
@pass_context
def doctor_command(ctx: Context) -> None:
    from bot.ops import run_doctor

    results = run_doctor(ctx._overrides)
    for ok, line in results:
        click.echo(("✓ " if ok else "✗ ") + line, err=not ok)
    if not all(ok for ok, _ in results):
        sys.exit(2)


def leave_without_teardown(code: int) -> None:
    """End the process after its exit handlers (logging's flush among them) and with its output flushed,
    but without tearing the interpreter down.

    The teardown frees Chroma's, pydantic's and NumPy's thousands of module objects one by one: 0.2 s of
    a one-shot question's CPU (measured with benchmarks/coldstart.py), for memory the system frees anyway.
    Only after commands that leave no thread running and nothing open that must be closed.
    """
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the reader has gone (`| head`): nothing more to show
            stream.flush()
    os._exit(code)


def main() -> None:
    global _own_process
    _own_process = True
    try:
        cli(prog_name="newsbot")
    except SystemExit as done:
        if _no_teardown and (done.code is None or isinstance(done.code, int)):
            leave_without_teardown(done.code or 0)
        raise


if __name__ == "__main__":
    main()
