"""A SIGKILL at any moment of an index run leaves every article fully old or fully new, and the next
run finishes the work. Each case kills a real indexing process."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def run(data_dir: Path, folder: Path, mode: str, point: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "tests.crash_driver", str(data_dir), str(folder), mode]
    if point:
        args.append(point)
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


def check(data_dir: Path, folder: Path) -> dict:
    result = run(data_dir, folder, "check")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_consistent(state: dict) -> None:
    """Every catalog article has exactly the vectors and BM25 terms of its current version, and nothing else
    exists; the catalog's recent vectors are Chroma's of those versions."""
    expected_chunks, expected_sentences = set(), set()
    for article_id, (version, chunks, sentences) in state["articles"].items():
        expected_chunks |= {f"{article_id}@{version}:{n}" for n in range(chunks)}
        expected_sentences |= {f"{article_id}@{version}:s{n}" for n in range(sentences)}
    assert set(state["chunk_ids"]) == expected_chunks
    assert set(state["sentence_ids"]) == expected_sentences
    assert state["journal"] == 0
    assert state["terms_match"]
    assert state["recent_vectors_match"]
    valid, complete = state["kept_vectors"]
    assert valid  # every row of `vectors` is of a current version, bit for bit what Chroma returns
    assert complete or not state["all_vectors_kept"]  # the catalog never says it holds every vector when it does not


def assert_finished(state: dict) -> None:
    """After a run that finished: consistent, and every current vector in the catalog's `vectors`."""
    assert_consistent(state)
    assert state["all_vectors_kept"]
    assert state["kept_vectors"] == [True, True]


def assert_logged(before: dict, after: dict) -> None:
    """A reader that saw the catalog as `before` catches up with `after` by reading the articles the catalog
    logged as changed since (`Catalog.read_changes`): every article that differs is among them."""
    assert after["changes_from"] <= before["generation"] <= after["generation"]
    logged = {a for generation, ids in after["changes"].items() if int(generation) >= before["generation"] for a in ids}
    differ = {
        a
        for a in before["articles"].keys() | after["articles"].keys()
        if before["articles"].get(a) != after["articles"].get(a)
    }
    assert differ <= logged
    assert not differ or after["generation"] > before["generation"]


def write_articles(folder: Path, version: str, count: int) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(count):
        body = " ".join(f"Satz {j} der Fassung {version} über Thema {i}." for j in range(12))
        (folder / f"artikel-{i:02}.txt").write_text(f"Titel {i} ({version})\n\n{body}", encoding="utf-8")


def version_of(state: dict, folder: Path) -> dict[str, str]:
    return {Path(a).name: v for a, (v, _, _) in state["articles"].items()}


@pytest.mark.parametrize("point", ["journal", "sentences", "chunks", "in-flip", "flip", "cleanup"])
def test_kill_at_each_step_leaves_old_or_new_and_next_run_completes(tmp_path: Path, point: str):
    folder, data_dir = tmp_path / "articles", tmp_path / "data"
    write_articles(folder, "alt", 4)
    assert run(data_dir, folder, "sync").returncode == 0
    first = check(data_dir, folder)
    old = version_of(first, folder)

    write_articles(folder, "neu", 3)  # three changed ...
    (folder / "artikel-03.txt").unlink()  # ... one removed ...
    (folder / "artikel-09.txt").write_text("Neu hinzu\n\nEin ganz neuer Artikel.", encoding="utf-8")  # ... one new

    killed = run(data_dir, folder, "sync", point)
    assert killed.returncode == -signal.SIGKILL

    after_crash = check(data_dir, folder)
    assert_consistent(after_crash)
    assert_logged(first, after_crash)
    assert set(version_of(after_crash, folder)) <= {*old, "artikel-09.txt"}

    finished = run(data_dir, folder, "sync")
    assert finished.returncode == 0, finished.stderr
    final = check(data_dir, folder)
    assert_finished(final)
    assert_logged(after_crash, final)
    assert_logged(first, final)
    assert sorted(version_of(final, folder)) == ["artikel-00.txt", "artikel-01.txt", "artikel-02.txt", "artikel-09.txt"]
    assert all(v != old.get(n) for n, v in version_of(final, folder).items())


def test_a_kill_while_the_catalog_copies_the_vectors_leaves_valid_rows_and_the_next_run_completes(tmp_path: Path):
    """An index written with NEWSBOT_VECTORS_IN_CATALOG off gets every vector at its next run with it on, one
    transaction per VECTOR_FILL_ARTICLES articles: killed meanwhile, the catalog holds Chroma's vectors of some,
    says it holds not all, and the next run copies the rest."""
    folder, data_dir = tmp_path / "articles", tmp_path / "data"
    write_articles(folder, "alt", 4)
    assert run(data_dir, folder, "sync-vectors-off").returncode == 0
    assert not check(data_dir, folder)["all_vectors_kept"]

    killed = run(data_dir, folder, "sync", "vector-fill")
    assert killed.returncode == -signal.SIGKILL
    after_crash = check(data_dir, folder)
    assert_consistent(after_crash)
    assert not after_crash["all_vectors_kept"]
    assert after_crash["kept_vectors"] == [True, False]  # whole articles' rows, Chroma's bits

    assert run(data_dir, folder, "sync").returncode == 0
    final = check(data_dir, folder)
    assert_finished(final)
    assert final["articles"] == after_crash["articles"]


def test_kills_at_random_moments_never_break_the_index(tmp_path: Path):
    folder, data_dir = tmp_path / "articles", tmp_path / "data"
    rng = random.Random(7)
    before = {"generation": 0, "articles": {}}
    for round_number in range(2):
        write_articles(folder, f"runde{round_number}", 40)
        args = [sys.executable, "-m", "tests.crash_driver", str(data_dir), str(folder), "slow-sync"]
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        after = check(data_dir, folder)
        assert_consistent(after)
        assert_logged(before, after)
        before = after
    assert run(data_dir, folder, "sync").returncode == 0
    final = check(data_dir, folder)
    assert_finished(final)
    assert_logged(before, final)
    assert len(final["articles"]) == 40
    texts = {(folder / name).read_text(encoding="utf-8") for name in version_of(final, folder)}
    assert all("runde1" in text for text in texts)
    assert len(set(version_of(final, folder).values())) == 40  # every article at its own, newest version
