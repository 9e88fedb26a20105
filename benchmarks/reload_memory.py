"""A running service's memory while another process changes its index again and again (issue #15).

    python benchmarks/reload_memory.py CODE_DIR DATA_DIR [ROUNDS]

Runs the service of the code in CODE_DIR (a checkout, e.g. `git archive` of a commit) on DATA_DIR (a copy: the
probe article is added and removed there). Each round, another process (`newsbot index add`, then `index remove`,
alternately) changes the index, this process asks the probe's question, waits for embedded Chroma to have loaded
again in the background, and asks once more. Prints one JSON line a round: the process's resident memory
(VmRSS), its peak (VmHWM), its threads and chromadb Systems still running. Run it for the code before and after
a change, each on its own copy of the index.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

code, data = sys.argv[1], Path(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
sys.path.insert(0, code)
sys.path.insert(0, str(Path(code) / "benchmarks"))
from scale import PROBE, PROBE_QUESTION, status_mb  # noqa: E402

from bot.service import NewsService  # noqa: E402
from index.settings import Settings  # noqa: E402


def running_systems() -> int:
    import gc

    from chromadb.config import System

    return sum(1 for o in gc.get_objects() if isinstance(o, System) and o._running)


def newsbot(*args: str) -> None:
    """The CLI of CODE_DIR in another process on DATA_DIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | {"PYTHONPATH": code}
    command = [sys.executable, "-m", "bot.cli", "--data-dir", str(data), *args]
    subprocess.run(command, cwd=code, env=env, check=True, capture_output=True)


probe = Path(tempfile.mkdtemp()) / "zwettlbach.txt"
probe.write_text(PROBE.text, encoding="utf-8")
service = NewsService.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
service.ask(PROBE_QUESTION)


def line(round_: int, **more: object) -> None:
    tasks = len(os.listdir("/proc/self/task"))
    figures = {"rss_mb": round(status_mb("VmRSS")), "peak_mb": round(status_mb("VmHWM")), "threads": tasks}
    print(json.dumps({"round": round_, **figures, "chroma_systems": running_systems(), **more}), flush=True)


line(0)
for round_ in range(1, rounds + 1):
    added = round_ % 2 == 1
    started = time.perf_counter()
    newsbot("index", "add", str(probe)) if added else newsbot("index", "remove", probe.resolve().as_posix())
    change_s = time.perf_counter() - started
    answer = service.ask(PROBE_QUESTION)
    found = bool(answer.sources) and answer.sources[0].article_id == probe.resolve().as_posix()
    service.index._wait_for_loader()
    service.ask(PROBE_QUESTION)
    line(round_, added=added, found=found, change_s=round(change_s, 1))
