"""Write the dated articles of the "which one is meant" check (`recency_check.jsonl`) as HTML pages.

    python benchmarks/recency_set.py OUT_DIR [--today 2026-11-28]
    newsbot --data-dir DIR index add OUT_DIR
    newsbot --data-dir DIR eval benchmarks/recency_check.jsonl --json

The articles in `recency_articles.jsonl` were written for this project: fourteen kinds of story (a
summit, an election, a strike, a trial…), each told two or three times with the same phrasing at
different dates ("Der Gipfel soll in … stattfinden"). Each carries its age in days; the pages get
`article:published_time` = `--today` minus that age, so the set stays as fresh as an index built the
same day (undated articles count from the day they were indexed). "current" questions ask about the
story as a reader of today's news would ("Wo soll der Gipfel stattfinden?") and are answered by the
newest article; "named" questions name an older story ("… der Klimagipfel …") and are answered by it.
"""

from __future__ import annotations

import argparse
import html
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "recency_articles.jsonl"


def page(title: str, text: str, published: date) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
    return (
        f'<html><head><title>{html.escape(title)}</title><meta property="article:published_time" '
        f'content="{published.isoformat()}T08:00:00+00:00"></head><body><article><h1>{html.escape(title)}</h1>'
        f"{paragraphs}</article></body></html>"
    )


def write_pages(out: Path, today: date) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for line in ARTICLES.read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        path = out / article["name"]
        path.write_text(page(article["title"], article["text"], today - timedelta(days=article["days_ago"])))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    args = parser.parse_args()
    print(f"{len(write_pages(args.out, args.today))} pages in {args.out}")


if __name__ == "__main__":
    main()
