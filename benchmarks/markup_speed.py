"""How `bot.markup.plain_question`'s time grows with adversarial input: the median of a few runs at n and 2n
characters, and their ratio (about 2 where it is linear, 4 where quadratic).

    PYTHONPATH=. python benchmarks/markup_speed.py [--chars 10500] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bot.markup import plain_question

# Each repeated up to the length: single markers that cannot close, mentions run together, links in links.
UNITS = {
    "single stars": "*a ",
    "single underscores": "_a ",
    "stars, underscores, code": "*_`",
    "@here run together": "@here",
    "italic @here": "*@here",
    "code, italic @here": "`@here*",
}


def median_seconds(text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        plain_question(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def nested_links(chars: int) -> str:
    depth = chars // 5
    return "[" * depth + "a" + "](x)" * depth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=10500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cases = {name: lambda n, unit=unit: (unit * n)[:n] for name, unit in UNITS.items()}
    cases["links in links"] = nested_links
    for name, make in cases.items():
        short, long = (median_seconds(make(n), args.runs) for n in (args.chars, 2 * args.chars))
        sizes = f"{args.chars:6} chars {short:7.3f} s   {2 * args.chars:6} chars {long:7.3f} s"
        print(f"{name:26} {sizes}   x{long / short:.1f}")


if __name__ == "__main__":
    main()
