"""Managing from Discord: only managers may, checked on every call; /index, /artikel, /feeds and /status."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.discord.ask import AskCog
from bot.discord.guards import NotManager
from bot.discord.manage import ArticlePages, ManageCog, article_choices, find_article, looks_like_feed
from bot.service import NewsService, upload_name
from index.catalog import ArticleRecord
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.settings import Settings
from index.texts import message
from tests.test_discord_mocks import assert_no_mentions, make_bot, make_interaction, make_member, sent_kwargs


@pytest.fixture
def service(settings, fake_embedder, articles_dir) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    return service


class StubWebService:
    """Stands in for the web-facing index calls only, so /index url needs no network."""

    def __init__(self, settings: Settings, feed_fails: bool = False) -> None:
        self.settings = settings
        self.feed_fails = feed_fails
        self.calls: list[tuple[str, object]] = []

    def index_feed(self, url: str, report: IndexReport | None = None) -> IndexReport:
        self.calls.append(("feed", url))
        if self.feed_fails:
            raise NewsbotError(f"Kein gültiger RSS- oder Atom-Feed: {url}")
        return IndexReport(added=[f"{url}#1", f"{url}#2"])

    def index_urls(self, urls: list[str], report: IndexReport | None = None) -> IndexReport:
        self.calls.append(("urls", list(urls)))
        return IndexReport(added=list(urls))


def manager(**kwargs) -> MagicMock:
    return make_interaction(manage_guild=True, **kwargs)


def attachment(filename: str, data: bytes) -> MagicMock:
    file = MagicMock(spec=discord.Attachment, filename=filename, size=len(data))
    file.read = AsyncMock(return_value=data)
    return file


# ---- who may manage ------------------------------------------------------------------------------


async def test_a_member_without_manage_server_is_refused(service):
    cog = ManageCog(service)
    with pytest.raises(NotManager, match="Server verwalten"):
        await cog.interaction_check(make_interaction())


async def test_manage_server_permission_is_enough(service):
    assert await ManageCog(service).interaction_check(manager()) is True


@pytest.mark.parametrize("configured", ["Redaktion", "4711"])
async def test_the_configured_role_by_name_or_id_is_enough(service, configured):
    service.settings.discord_manager_role = configured
    member = make_member(3, roles=((4711, "Redaktion"),))
    assert await ManageCog(service).interaction_check(make_interaction(user=member)) is True
    stranger = make_member(4, roles=((1, "Leser"),))
    with pytest.raises(NotManager, match=r"Redaktion|4711"):
        await ManageCog(service).interaction_check(make_interaction(user=stranger))


async def test_nobody_manages_from_direct_messages(service):
    with pytest.raises(NotManager):
        await ManageCog(service).interaction_check(make_interaction(in_guild=False, manage_guild=True))


async def test_every_management_command_runs_the_check_not_only_hides_itself(service):
    cog = ManageCog(service)
    commands = {
        command.qualified_name: command
        for command in cog.walk_app_commands()
        if not isinstance(command, discord.app_commands.Group)
    }
    assert set(commands) == {"index", "artikel liste", "artikel entfernen", "feeds", "status"}
    for command in commands.values():
        # discord.py's own pre-invoke check runner, as the gateway dispatch calls it
        with pytest.raises(NotManager):
            await command._check_can_run(make_interaction())
        assert await command._check_can_run(manager())


def test_management_commands_are_hidden_from_non_managers_unless_a_role_is_configured(service):
    hidden = ManageCog(service).get_app_commands()
    assert all(c.default_permissions == discord.Permissions(manage_guild=True) for c in hidden)
    service.settings.discord_manager_role = "Redaktion"
    assert all(c.default_permissions is None for c in ManageCog(service).get_app_commands())
    ask = AskCog(make_bot(), service)
    assert ask.frage.default_permissions is None  # everyone may ask


# ---- /index --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        ("https://news.example/feed.xml", True),
        ("https://news.example/rss", True),
        ("https://news.example/index.atom", True),
        ("https://news.example/feeds/politik", True),
        ("https://news.example/politik/gipfel-in-budapest", False),
        ("https://news.example/artikel.html", False),
    ],
)
def test_looks_like_feed(url, feed):
    assert looks_like_feed(url) is feed


async def test_index_url_of_a_feed_indexes_the_feed(settings):
    stub = StubWebService(settings)
    interaction = manager()
    cog = ManageCog(stub)  # type: ignore[arg-type]
    await cog.index.callback(cog, interaction, url="https://news.example/feed.xml")
    assert stub.calls == [("feed", "https://news.example/feed.xml")]
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    (text,) = [c.args[0] for c in interaction.followup.send.await_args_list]
    assert text.startswith("2 neu")
    assert interaction.followup.send.await_args.kwargs["ephemeral"] is True
    assert_no_mentions(interaction.followup.send.await_args.kwargs)


async def test_index_url_of_a_page_indexes_the_page(settings):
    stub = StubWebService(settings)
    cog = ManageCog(stub)  # type: ignore[arg-type]
    await cog.index.callback(cog, manager(), url="https://news.example/politik/gipfel")
    assert stub.calls == [("urls", ["https://news.example/politik/gipfel"])]


async def test_a_feed_like_url_that_is_no_feed_is_indexed_as_a_page(settings):
    stub = StubWebService(settings, feed_fails=True)
    cog = ManageCog(stub)  # type: ignore[arg-type]
    await cog.index.callback(cog, manager(), url="https://news.example/feedback-zum-gipfel")
    assert [call[0] for call in stub.calls] == ["feed", "urls"]


async def test_index_without_url_or_file_is_a_user_error(service):
    cog = ManageCog(service)
    interaction = manager()
    with pytest.raises(NewsbotError, match="URL"):
        await cog.index.callback(cog, interaction)
    interaction.response.defer.assert_not_awaited()


async def test_an_uploaded_file_is_indexed_and_then_answers_questions(service):
    cog = ManageCog(service)
    interaction = manager()
    file = attachment("hafen.md", b"# Neuer Hafen in Triest\n\nDer Hafen in Triest wird 2027 erweitert.")

    await cog.index.callback(cog, interaction, datei=file)

    assert interaction.followup.send.await_args.args[0].startswith("1 neu")
    assert (service.settings.data_dir / "uploads" / "hafen.md").is_file()
    service.settings.refusal_threshold = 0.0
    assert "2027" in service.ask("Wann wird der Hafen in Triest erweitert?").text


async def test_a_file_of_the_wrong_type_is_refused_before_downloading(service):
    cog = ManageCog(service)
    file = attachment("bild.png", b"\x89PNG")
    with pytest.raises(NewsbotError, match=r"bild\.png"):
        await cog.index.callback(cog, manager(), datei=file)
    file.read.assert_not_awaited()


async def test_a_file_over_the_size_limit_is_refused_before_downloading(service):
    service.settings.fetch_max_bytes = 10
    cog = ManageCog(service)
    file = attachment("lang.txt", b"x" * 11)
    with pytest.raises(NewsbotError, match="zu groß"):
        await cog.index.callback(cog, manager(), datei=file)
    file.read.assert_not_awaited()


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("Mein Artikel (1).md", "Mein_Artikel_1_.md"),
        ("..hidden.html", "hidden.html"),
        ("Bericht.TXT", "Bericht.TXT"),
    ],
)
def test_upload_names_stay_inside_the_upload_folder(settings, given, safe):
    assert upload_name(settings, given) == safe


@pytest.mark.parametrize("given", ["bild.png", "skript.py", ".txt", "ohne_endung"])
def test_upload_names_of_other_types_are_refused(settings, given):
    with pytest.raises(NewsbotError):
        upload_name(settings, given)


# ---- /artikel and /status ------------------------------------------------------------------------


async def test_artikel_lists_the_indexed_articles_privately(service):
    cog = ManageCog(service)
    interaction = manager()
    await cog.artikel_liste.callback(cog, interaction)
    (kwargs,) = sent_kwargs(interaction.followup.send)
    assert kwargs["ephemeral"] is True
    assert "Gipfeltreffen in Budapest geplant" in kwargs["embed"].description
    assert "gipfel.txt" in kwargs["embed"].description
    assert "view" not in kwargs  # one page needs no buttons
    assert_no_mentions(kwargs)


def many_records(count: int) -> list[ArticleRecord]:
    return [
        ArticleRecord(f"id-{n}", f"/a/{n}.txt", f"Artikel {n}", None, None, "2025-11-20T10:00:00", "v", 1, 1)
        for n in range(count)
    ]


async def test_artikel_pages_turn_with_buttons(settings):
    stub = MagicMock(spec=NewsService)
    stub.settings = settings
    stub.articles.return_value = many_records(25)
    cog = ManageCog(stub)
    interaction = manager(user=make_member(9))
    await cog.artikel_liste.callback(cog, interaction)
    pages: ArticlePages = sent_kwargs(interaction.followup.send)[0]["view"]
    assert pages.previous_page.disabled
    assert not pages.next_page.disabled

    click = make_interaction(user=make_member(9))
    await pages.next_page.callback(click)

    embed = click.response.edit_message.await_args.kwargs["embed"]
    assert embed.footer.text == "Seite 2 von 3"
    assert "Artikel 10" in embed.description
    assert not pages.previous_page.disabled
    assert await pages.interaction_check(make_interaction(user=make_member(10))) is False


async def test_status_shows_articles_chunks_embedder_and_last_update(service):
    cog = ManageCog(service)
    interaction = manager()
    await cog.status.callback(cog, interaction)
    (kwargs,) = sent_kwargs(interaction.followup.send)
    values = {field.name: field.value for field in kwargs["embed"].fields}
    assert values["Artikel"] == "3"
    assert int(values["Abschnitte"]) >= 3
    assert values["Embedder"] == "fake:hashed-bow"
    assert values["Letzte Aktualisierung"].startswith("<t:")
    assert kwargs["ephemeral"] is True


def test_uploads_land_in_the_data_directory(service):
    report = service.index_upload("notiz.txt", b"Titel\n\nDie Notiz ist kurz.")
    assert report.added == [(service.settings.data_dir / "uploads" / "notiz.txt").resolve().as_posix()]
    assert Path(report.added[0]).read_text(encoding="utf-8").startswith("Titel")


# ---- /artikel entfernen --------------------------------------------------------------------------


async def test_artikel_entfernen_removes_the_article_from_the_answers(service):
    cog = ManageCog(service)
    gipfel = next(r for r in service.articles() if r.title == "Gipfeltreffen in Budapest geplant")
    assert "Budapest" in service.ask("Wo soll der Gipfel stattfinden?").text
    interaction = manager()
    await cog.artikel_entfernen.callback(cog, interaction, artikel=gipfel.article_id)
    (call,) = interaction.followup.send.await_args_list
    assert call.args[0] == message("discord_removed", title="Gipfeltreffen in Budapest geplant")
    assert call.kwargs["ephemeral"] is True
    assert_no_mentions(call.kwargs)
    assert gipfel.article_id not in {r.article_id for r in service.articles()}
    assert "Budapest" not in service.ask("Wo soll der Gipfel stattfinden?").text


async def test_artikel_entfernen_takes_a_title_too(service):
    cog = ManageCog(service)
    await cog.artikel_entfernen.callback(cog, manager(), artikel="hitzewelle in wien")
    assert "Hitzewelle in Wien" not in {r.title for r in service.articles()}


async def test_artikel_entfernen_of_an_unknown_article_is_a_user_error_and_removes_nothing(service):
    cog = ManageCog(service)
    with pytest.raises(NewsbotError) as raised:
        await cog.artikel_entfernen.callback(cog, manager(), artikel="Gibt es nicht")
    assert raised.value.message == message("article_not_found", article_id="Gibt es nicht")
    assert len(service.articles()) == 3


async def test_a_title_several_articles_share_removes_none_of_them(settings):
    stub = MagicMock(spec=NewsService)
    stub.settings = settings
    stub.articles.return_value = many_records(2)
    with pytest.raises(NewsbotError, match="2 Artikel"):
        await ManageCog(stub).artikel_entfernen.callback(ManageCog(stub), manager(), artikel="Artikel")
    stub.remove.assert_not_called()


async def test_autocomplete_offers_matching_titles_to_managers_only(service):
    cog = ManageCog(service)
    choices = await cog.artikel_vorschlaege(manager(), "wien")
    assert [(c.name, c.value) for c in choices] == [
        ("Hitzewelle in Wien", next(r.article_id for r in service.articles() if r.title == "Hitzewelle in Wien"))
    ]
    assert await cog.artikel_vorschlaege(make_interaction(), "wien") == []


def test_choices_fit_discords_limits_and_still_find_their_article(settings):
    long_id = "https://news.example/" + "x" * 200
    records = [ArticleRecord(long_id, long_id, "T" * 150, long_id, None, "2025-11-20", "v", 1, 1), *many_records(40)]
    choices = article_choices(records, "")
    assert len(choices) == 25
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in choices)
    stub = MagicMock(spec=NewsService)
    stub.settings = settings
    stub.articles.return_value = records
    assert find_article(stub, choices[0].value).article_id == long_id


# ---- /feeds --------------------------------------------------------------------------------------


async def test_feeds_polls_every_configured_feed_now_and_reports_each(settings):
    configured = settings.model_copy(update={"feeds": ["https://a.example/feed", "https://b.example/rss"]})
    stub = StubWebService(configured)
    cog = ManageCog(stub)  # type: ignore[arg-type]
    interaction = manager()
    await cog.feeds.callback(cog, interaction)
    assert [c[1] for c in stub.calls] == ["https://a.example/feed", "https://b.example/rss"]
    (call,) = interaction.followup.send.await_args_list
    text = call.args[0]
    assert "`https://a.example/feed`: 2 neu" in text
    assert "`https://b.example/rss`: 2 neu" in text
    assert call.kwargs["ephemeral"] is True


async def test_a_failing_feed_is_reported_and_the_others_still_polled(settings):
    configured = settings.model_copy(update={"feeds": ["https://a.example/feed", "https://b.example/rss"]})
    stub = StubWebService(configured, feed_fails=True)
    cog = ManageCog(stub)  # type: ignore[arg-type]
    interaction = manager()
    await cog.feeds.callback(cog, interaction)
    assert len(stub.calls) == 2
    text = interaction.followup.send.await_args.args[0]
    assert "✗ `https://b.example/rss`: Kein gültiger RSS- oder Atom-Feed" in text


async def test_feeds_without_configured_feeds_says_how_to_configure_them(settings):
    stub = StubWebService(settings)
    cog = ManageCog(stub)  # type: ignore[arg-type]
    interaction = manager()
    await cog.feeds.callback(cog, interaction)
    assert interaction.followup.send.await_args.args[0] == message("discord_feeds_none")
    assert stub.calls == []
