"""CPU seconds per MB of splitting one long article into chunks and sentences (`index.chunking.split_article`).

A cost per MB that grows with the size means something is quadratic. Prints figures; passes or fails
nothing. `python benchmarks/split_speed.py 0.25 0.5 1 2` (sizes in MB of the `news_de` articles joined,
paragraphs kept); `--one-paragraph` joins them into a single paragraph, the worst case for pysbd.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from index.articles import Article
from index.chunking import split_article

NEWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "news_de" / "articles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="+", type=float, help="article sizes in MB")
    parser.add_argument("--one-paragraph", action="store_true", help="no line breaks at all")
    args = parser.parse_args()
    if not NEWS.is_dir():
        parser.exit(2, f"news articles not found: {NEWS}\n")
    separator = " " if args.one_paragraph else "\n\n"
    texts = (path.read_text(encoding="utf-8") for path in sorted(NEWS.glob("*.txt")))
    corpus = separator.join(t.replace("\n", " ") if args.one_paragraph else t for t in texts)
    for size in args.sizes:
        chars = int(size * 1_000_000)
        text = (corpus * (1 + chars // len(corpus)))[:chars]
        started = time.process_time()  # CPU time: the figure holds on a busy machine too
        parts = split_article(Article("x", "x", "Titel", text), 1000, 150)
        seconds = time.process_time() - started
        megabytes = len(text.encode("utf-8")) / 1e6
        print(
            f"{megabytes:.2f} MB: {len(parts.chunks)} chunks, {len(parts.sentences)} sentences, "
            f"{seconds:.1f} s CPU, {seconds / megabytes:.1f} s/MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
