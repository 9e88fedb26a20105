"""The first snapshot of a process (bot start, a cold `newsbot ask`), timed alone (issue #15).

    python benchmarks/startup.py DATA_DIR

Opens the index at DATA_DIR and builds its first snapshot; prints one JSON line: the snapshot's CPU and wall
seconds, its sentences, whether BM25's postings came from the saved file (`restored`), that file's size, the peak RSS.
Run it in fresh processes, alternately for the code before and after a change, each on its own copy.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import peak_rss_mb, settings_for

from bot.retrieve import Snapshot
from bot.service import NewsService


def main() -> None:
    data_dir = Path(sys.argv[1])
    service = NewsService.open(settings_for(data_dir))
    wall, cpu = time.perf_counter(), time.process_time()
    snapshot = Snapshot(service.index)
    result = {
        "cpu_s": round(time.process_time() - cpu, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
        "sentences": len(snapshot.sentences),
        "restored": getattr(snapshot, "restored", None),
    }
    saved = data_dir / "bm25-postings.npz"
    result["file_mb"] = round(saved.stat().st_size / 1e6, 1) if saved.is_file() else None
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
