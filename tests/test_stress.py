"""The load and fault benchmark (benchmarks/stress.py) for a few seconds, with the fake embedder: many
askers on one service while the CLI in another process indexes, removes and polls misbehaving feeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data


@pytest.mark.slow
def test_a_short_stress_run_has_no_errors_and_a_consistent_index(tmp_path: Path) -> None:
    shared_data()
    figures_file = tmp_path / "stress.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    command = [sys.executable, "benchmarks/stress.py", "--embedder", "fake", "--duration", "1", "--askers", "8"]
    command += ["--min-writer-actions", "4"]
    command += ["--data-dir", str(tmp_path / "stress"), "--json", str(figures_file)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert figures_file.is_file(), done.stdout + done.stderr
    figures = json.loads(figures_file.read_text(encoding="utf-8"))
    assert figures["answers"] > 0
    assert figures["errors"] == 0, figures["ask_errors"]
    assert figures["writer"]["unexpected"] == []
    # the writer's first actions: a feed that stalls past the deadline, files beside broken pages, a gzip
    # bomb, the good feed
    assert {"feed-stall", "add", "feed-bomb", "good-feed"} <= set(figures["writer"]["by_kind"])
    index = figures["index"]
    assert index["articles_in_catalog"] == index["articles_expected"] > 17  # the base articles and more
    assert index["lost"] == index["unexpected"] == index["stale"] == []
    assert index["duplicate_vector_ids"] == index["orphan_vectors"] == index["missing_vectors"] == 0
    assert not index["service_behind"]
    assert figures["ok"]
    assert done.returncode == 0, done.stdout[-3000:]
