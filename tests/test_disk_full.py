"""A data folder that takes no more bytes (a full disk) during an index run: one line, questions still
answered, nothing half indexed once there is room again. Run in a process of its own (RLIMIT_FSIZE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from index.texts import message
from tests.conftest import REPO


def write_articles(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        words = " ".join(f"Wort{n}x{k} Satz{k % 17}." for k in range(300))
        (folder / f"artikel-{n:03d}.txt").write_text(f"Bericht Nummer {n}\n\n{words}", encoding="utf-8")


def test_a_full_disk_during_an_index_run_is_one_line_and_questions_go_on(tmp_path: Path, articles_dir: Path):
    more = tmp_path / "more"
    write_articles(more, 40)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.disk_full_driver", str(tmp_path / "data"), str(articles_dir), str(more)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,  # the driver ends itself when one step hangs (STEP_DEADLINE_SECONDS)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    steps = json.loads(done.stdout.strip().splitlines()[-1])

    expected = message("index_write_failed", path=str(tmp_path / "data"), reason="X", free="Y").split("(")[0]
    assert steps["add"].get("newsbot_error", "").startswith(expected), steps["add"]
    assert steps["upload"].get("newsbot_error", "").startswith(expected), steps["upload"]  # Discord's /index datei
    assert steps["upload"]["files_left"] == []  # no half file that a later run would index
    assert "Budapest" in steps["ask"].get("result", ""), steps["ask"]  # the running bot answers on
    assert "Budapest" in steps["reopened_ask"].get("result", ""), steps["reopened_ask"]  # so does `newsbot ask`
    assert "result" in steps["add_again"], steps["add_again"]
    index = steps["index"]
    assert index["articles"] == 3 + 40
    assert index["vectors"] == index["sentences"]  # no vector of the failed run left behind, none missing
