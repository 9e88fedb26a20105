"""Benchmark on the shared German data: indexing cost, re-sync cost, answer quality, latency, refusal.

Prints figures; passes or fails nothing. Run with `make bench` or
`python benchmarks/bench.py [--data-dir DIR] [--reuse]`. Steps:

1. Index `xquad_de_dev/articles` together with the `news_de` haystack (1,028 articles); report the
   indexing time as a ratio to the embedder's raw encode time for the same texts (measured on a
   sample, so the raw figure does not double the run).
2. `sync` the news folder again: it must embed nothing; report its time against the first run.
3. Ask the 426 dev questions in a warm process: answer hit@1, evidence recall@5, latency p50/p95 and
   per-stage timings.
4. Refusal: leave every fourth dev article out of the index, ask its questions (they are now
   unanswerable) beside the others, and sweep the refusal threshold. The answerability model was fitted
   on these questions too (all four rotations, `benchmarks/calibrate_refusal.py`), so these figures are
   in-sample; that script prints the cross-validated ones.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.evaluate import Question, evaluate, load_questions  # noqa: E402
from bot.service import NewsService  # noqa: E402
from index.chunking import sentence_embedding_text  # noqa: E402
from index.settings import Settings  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def raw_encode_seconds_per_char(service: NewsService, sample_size: int = 2000) -> float:
    """The embedder's own cost per character of text, on a random sample of the indexed sentences."""
    snapshot = service.retriever.snapshot()
    rng = random.Random(1)
    rows = rng.sample(snapshot.sentences, min(sample_size, len(snapshot.sentences)))
    texts = [sentence_embedding_text(snapshot.articles[r.article_id].title, r.text) for r in rows]
    started = time.perf_counter()
    for start in range(0, len(texts), 512):
        service.index.embedder.encode_passages(texts[start : start + 512])
    return (time.perf_counter() - started) / sum(len(t) for t in texts)


def embedded_chars(service: NewsService) -> int:
    snapshot = service.retriever.snapshot()
    return sum(len(sentence_embedding_text(snapshot.articles[r.article_id].title, r.text)) for r in snapshot.sentences)


def refusal_sweep(service: NewsService, questions: list[Question], left_out: set[str]) -> dict[str, object]:
    """Refusal and false-refusal rates over thresholds, with some articles' questions made unanswerable."""
    confidences = [(service.ask(q.question).confidence, q.article in left_out) for q in questions]
    unans = [c for c, u in confidences if u]
    ans = [c for c, u in confidences if not u]

    def rates(threshold: float) -> dict[str, float]:
        return {
            "threshold": threshold,
            "refusal_rate": round(sum(c < threshold for c in unans) / len(unans), 4),
            "false_refusal_rate": round(sum(c < threshold for c in ans) / len(ans), 4),
        }

    table = [rates(step / 40) for step in range(1, 40)]  # confidence is a probability: 0.025, 0.050, … 0.975
    good = [row for row in table if row["refusal_rate"] >= 0.8 and row["false_refusal_rate"] <= 0.05]
    current = rates(service.refusal_threshold)
    return {
        "unanswerable": len(unans),
        "answerable": len(ans),
        "at_setting": current,
        "meeting_target": good,
        "table": table,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO / "benchmarks" / "results" / "data")
    parser.add_argument("--reuse", action="store_true", help="keep an index built before (skips step 1's timing)")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    args = parser.parse_args()
    if not (SHARED / "README.md").is_file():
        sys.exit(f"shared data missing: {SHARED}")

    if not args.reuse and args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    settings = Settings(_env_file=None, data_dir=args.data_dir)  # type: ignore[call-arg]
    service = NewsService.open(settings)
    figures: dict[str, object] = {"embedder": service.index.embedder.name, "cpus": os.cpu_count()}
    dev_articles, news = SHARED / "xquad_de_dev" / "articles", SHARED / "news_de" / "articles"

    # 1. first indexing run
    started = time.perf_counter()
    first = service.index.sync_folder(dev_articles)
    report = service.index.sync_folder(news, progress=True)
    index_seconds = time.perf_counter() - started
    chars = embedded_chars(service)
    per_char = raw_encode_seconds_per_char(service)
    figures["index"] = {
        "articles": service.status().articles,
        "sentences": service.status().sentences,
        "chunks": service.status().chunks,
        "embedded_chars": chars,
        "seconds": round(index_seconds, 1),
        "added": len(first.added) + len(report.added),
        "raw_encode_seconds_estimate": round(per_char * chars, 1),
        "ratio_to_raw_encode": round(index_seconds / (per_char * chars), 3) if not args.reuse else None,
    }
    print(json.dumps({"index": figures["index"]}, ensure_ascii=False), flush=True)

    # 2. second sync of the same folder
    started = time.perf_counter()
    again = service.index.sync_folder(news)
    resync_seconds = time.perf_counter() - started
    figures["resync"] = {
        "seconds": round(resync_seconds, 2),
        "counts": again.counts(),
        "embedded_texts": again.embedded_texts,
        "share_of_first_run": round(resync_seconds / index_seconds, 4) if not args.reuse else None,
    }
    print(json.dumps({"resync": figures["resync"]}), flush=True)

    # 3. quality and latency, warm
    questions = load_questions(SHARED / "xquad_de_dev" / "questions.jsonl")
    service.ask(questions[0].question)
    metrics, _, timings = evaluate(questions, service.ask)
    figures["eval"] = {**metrics, **timings}
    print(json.dumps({"eval": figures["eval"]}), flush=True)
    seed = load_questions(SHARED / "seed_questions.jsonl")
    service.index_paths([SHARED / "articles"])
    seed_metrics, _, _ = evaluate(seed, service.ask)
    figures["seed"] = seed_metrics
    print(json.dumps({"seed": seed_metrics}), flush=True)

    # 4. refusal calibration: every fourth dev article left out
    dev_files = sorted(dev_articles.glob("*.txt"))
    left_out = {p.name for p in dev_files[::4]}
    service.index.remove([p.resolve().as_posix() for p in dev_files[::4]])
    figures["refusal"] = refusal_sweep(service, questions, left_out)
    service.index_paths([dev_articles])  # put them back
    print(json.dumps({"refusal": {k: v for k, v in figures["refusal"].items() if k != "table"}}), flush=True)
    latencies = [service.ask(q.question).latency_ms for q in questions[:100]]
    figures["ask_latency_ms_median_again"] = round(statistics.median(latencies), 2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
