"""The service runs numpy's matrix products on one thread: a question's are small, and the BLAS pool's other
threads only spun waiting for work (about 10 ms of CPU a question on two cores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# A fresh process: the limit is the process's, and an earlier test's service would have set it already.
_OPEN_AND_REPORT = """
import json
import sys
from threadpoolctl import threadpool_info
from bot.service import NewsService
from index.settings import Settings
from tests.fakes import HashedBagOfWords

def blas_threads():
    return sorted(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")

before = blas_threads()
service = NewsService.open(Settings(_env_file=None, data_dir=sys.argv[1]), HashedBagOfWords())
print(json.dumps({"before": before, "after_open": blas_threads()}))
"""


def test_opening_the_service_limits_numpys_blas_to_one_thread(tmp_path: Path) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_REPORT, str(tmp_path / "data")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    threads = json.loads(done.stdout.strip().splitlines()[-1])
    assert threads["before"]  # numpy's OpenBLAS is loaded
    assert max(threads["before"]) == 2 or os.cpu_count() == 1  # its pool as the environment asked for it
    assert threads["after_open"] == [1] * len(threads["before"])
