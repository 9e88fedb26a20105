"""The same index and answers with Chroma as a server (`chroma run` on loopback) instead of embedded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from bot.service import NewsService
from index.errors import NewsbotError
from tests.conftest import REPO, free_port
from tests.test_cross_process import synced_by_another_process
from tests.test_vector_cache import passage_vectors_in_chroma, vectors_in_chroma

pytestmark = pytest.mark.slow


def start_chroma_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    """`chroma run` on loopback, once it answers its heartbeat."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    pytest.fail("chroma run did not come up within 60 s")


def stop_chroma_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_chroma_server(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_chroma_server(process)


def test_index_and_answer_through_a_chroma_server(settings, fake_embedder, articles_dir, chroma_server):
    settings.chroma_url = chroma_server
    settings.refusal_threshold = 0.0
    service = NewsService.open(settings, fake_embedder)
    assert len(service.index_paths([articles_dir]).added) == 3
    assert service.index_paths([articles_dir]).counts()["unchanged"] == 3
    answer = service.ask("Wo soll der Gipfel stattfinden?")
    assert "Budapest" in answer.text
    chunks, sentences = service.index.store.count()
    assert chunks == service.status().chunks
    assert sentences == service.status().sentences
    assert not (settings.data_dir / "chroma").exists()  # nothing embedded on disk
    # the vectors fetched by id through the server, in batches, are every sentence's in catalog order
    snapshot = service.retriever.snapshot()
    copied = snapshot.sentence_vectors(range(len(snapshot.sentences)))
    assert not np.isnan(copied).any()
    assert np.allclose(copied, vectors_in_chroma(service))
    passages = snapshot.passage_vectors(snapshot.passage_keys)
    assert not np.isnan(passages).any()
    assert np.allclose(passages, passage_vectors_in_chroma(service))


def test_unreachable_chroma_server_is_a_clear_error(settings, fake_embedder):
    settings.chroma_url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NewsbotError, match="Chroma-Server nicht erreichbar"):
        NewsService.open(settings, fake_embedder)


def test_a_service_on_a_chroma_server_answers_from_what_another_process_added_and_removed(
    settings, fake_embedder, tmp_path, chroma_server
):
    settings.chroma_url = chroma_server
    settings.collection = "cross-process"  # the module's server is shared with the test above
    settings.refusal_threshold = 0.0
    folder = tmp_path / "mirrored"
    folder.mkdir()
    (folder / "gipfel.txt").write_text("Gipfel\n\nDer Gipfel soll in Budapest stattfinden.", encoding="utf-8")
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([folder])
    assert "Budapest" in service.ask("Wo soll der Gipfel stattfinden?").text

    (folder / "wetter.txt").write_text("Hitze\n\nIn Wien wurden am Sonntag 38 Grad gemessen.", encoding="utf-8")
    other = {"NEWSBOT_CHROMA_URL": chroma_server, "NEWSBOT_COLLECTION": settings.collection}
    synced_by_another_process(settings.data_dir, folder, other)
    assert "38 Grad" in service.ask("Wie viele Grad wurden in Wien gemessen?").text

    (folder / "wetter.txt").unlink()
    synced_by_another_process(settings.data_dir, folder, other)
    answer = service.ask("Wie viele Grad wurden in Wien gemessen?")
    assert all(not s.source.endswith("wetter.txt") for s in answer.sources)


def test_a_chroma_server_that_goes_away_is_one_line_per_question_until_it_is_back(
    settings, fake_embedder, articles_dir, tmp_path, monkeypatch
):
    """A running bot or `chat` whose server stopped failed with "Unerwarteter Fehler (ConnectError)", and
    `chat` ended there."""
    from click.testing import CliRunner

    from bot.cli import cli
    from index.texts import message

    port = free_port()
    server = start_chroma_server(tmp_path / "server", port)
    try:
        settings.chroma_url = f"http://127.0.0.1:{port}"
        settings.refusal_threshold = 0.0
        service = NewsService.open(settings, fake_embedder)
        service.index_paths([articles_dir])
        assert "Budapest" in service.ask("Wo soll der Gipfel stattfinden?").text
        stop_chroma_server(server)

        with pytest.raises(NewsbotError) as raised:
            service.ask("Wie viele Grad wurden in Wien gemessen?")
        assert raised.value.message == message("chroma_unreachable", url=settings.chroma_url)
        monkeypatch.setattr("bot.service.NewsService.open", lambda *args, **kwargs: service)
        chat = CliRunner().invoke(cli, ["chat"], input="Wie heiß war es in Wien?\nWo soll der Gipfel stattfinden?\n")
        assert chat.exit_code == 0, chat.output
        assert chat.output.count(message("chroma_unreachable", url=settings.chroma_url)) == 2

        server = start_chroma_server(tmp_path / "server", port)
        assert "38 Grad" in service.ask("Wie viele Grad wurden in Wien gemessen?").text
    finally:
        stop_chroma_server(server)


def test_a_chroma_server_whose_disk_takes_no_more_names_the_server_not_this_machines_free_space(
    settings, fake_embedder, tmp_path
):
    """The line said "Der Index in <local data folder> ließ sich nicht schreiben (…; 44660 MB frei)": the
    free space of this machine's disk, not of the server's, where the write failed."""
    import resource
    import signal

    from index.texts import message
    from tests.conftest import REPO
    from tests.test_disk_full import write_articles

    port = free_port()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited: a write past the cap fails, the server lives
    try:
        server = start_chroma_server(tmp_path / "server", port)
    finally:
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    try:
        settings.chroma_url = f"http://127.0.0.1:{port}"
        settings.refusal_threshold = 0.0
        service = NewsService.open(settings, fake_embedder)
        service.index_paths([REPO / "examples" / "articles"])
        largest = max(p.stat().st_size for p in (tmp_path / "server").rglob("*") if p.is_file())
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (largest + 4096, resource.RLIM_INFINITY))
        more = tmp_path / "more"
        write_articles(more, 40)
        with pytest.raises(NewsbotError) as raised:
            service.index_paths([more])
        expected = message("chroma_server_write_failed", url=settings.chroma_url, reason="X").split("(")[0]
        assert raised.value.message.startswith(expected), raised.value.message
        assert "MB" not in raised.value.message
    finally:
        stop_chroma_server(server)


def test_a_chroma_server_that_stops_answering_is_one_line_after_the_time_limit_not_a_hang(
    settings, fake_embedder, articles_dir, tmp_path
):
    """chromadb's client waits for ever for a server that took the connection and does not answer (seen after a
    write failed on the server's full disk): every question of the bot hung. A stopped process (SIGSTOP) keeps
    its socket, so the kernel still accepts connections that nobody answers."""
    import signal

    from index.texts import message

    port = free_port()
    server = start_chroma_server(tmp_path / "server", port)
    try:
        settings.chroma_url = f"http://127.0.0.1:{port}"
        settings.chroma_timeout_seconds = 2
        settings.refusal_threshold = 0.0
        service = NewsService.open(settings, fake_embedder)
        service.index_paths([articles_dir])
        server.send_signal(signal.SIGSTOP)
        error = raised_within(lambda: service.ask("Wie viele Grad wurden in Wien gemessen?"), "the question")
        assert isinstance(error, NewsbotError)
        assert error.message == message("chroma_unreachable", url=settings.chroma_url)
        server.send_signal(signal.SIGCONT)
        assert "38 Grad" in service.ask("Wie viele Grad wurden in Wien gemessen?").text
    finally:
        server.send_signal(signal.SIGCONT)
        stop_chroma_server(server)


def raised_within(call: Callable[[], object], who: str) -> BaseException | None:
    """What `call` raised (None if it returned), run in a thread given 120 s: not a measure of speed, since
    without a time limit on the server's calls it never returns."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # whatever it is, the test reports it
            raised.append(error)

    running = threading.Thread(target=run, daemon=True)
    running.start()
    running.join(timeout=120)
    assert not running.is_alive(), f"{who} still waits for the server"
    return raised[0] if raised else None


@pytest.fixture
def mute_server() -> Iterator[str]:
    """A loopback port whose connections the kernel accepts (it listens) and nobody ever answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def test_starting_the_cli_on_a_chroma_server_that_never_answers_is_one_line_not_a_hang(mute_server, tmp_path):
    """chromadb's client asks the server about the user and the tenant while it is being made, before the time
    limit was set on it: `newsbot ask` waited for ever on a server that took the connection and said nothing."""
    from index.texts import message

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env |= {"NEWSBOT_CHROMA_URL": mute_server, "NEWSBOT_CHROMA_TIMEOUT_SECONDS": "1", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(tmp_path / "data"), "ask", "Wo ist der Gipfel?"]
    try:  # not a measure of speed: without the limit it never returns
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("newsbot ask still waits for the server that never answers")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [message("chroma_unreachable", url=mute_server)]


def test_starting_the_bot_on_a_chroma_server_that_never_answers_is_one_line_not_a_hang(
    settings, fake_embedder, mute_server
):
    from pydantic import SecretStr

    from bot.discord.client import run_bot
    from index.texts import message

    settings.chroma_url = mute_server
    settings.chroma_timeout_seconds = 1
    settings.discord_token = SecretStr("not-used-the-index-opens-first")
    error = raised_within(lambda: run_bot(settings, lambda: NewsService.open(settings, fake_embedder)), "the bot")
    assert isinstance(error, NewsbotError)
    assert error.message == message("chroma_unreachable", url=mute_server)
