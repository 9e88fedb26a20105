"""Cold start of the `newsbot` command: what one call costs as a whole process.

Each command runs `--runs` times as a fresh process; the figure is the median CPU time (user + sys of
the process and its threads, from `wait4`), which depends less on the machine's load than the wall
time. With `--importtime` it also runs each command once under `python -X importtime` and prints the
top-level modules that took longest to import. Usage:

    python benchmarks/coldstart.py [--runs 7] [--data-dir DIR] [--importtime] [--json FILE] [--repo DIR ...]

Without `--data-dir` the examples are indexed into a temporary folder first (the demo's index).
`--repo` runs another checkout's code (e.g. an export of the commit before a change); given twice
(`--repo OLD --repo .`), the two checkouts' runs alternate one by one, so that a shared machine's
changing load weighs on both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Wo soll der Gipfel stattfinden?"
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "--version": ["--version"],
    "ask": ["ask", QUESTION],
    # a compound the articles lack: split in the process (compound-split's tables, bot/compound_ngrams.py)
    "ask, new compound": ["ask", "Was entschied das Bundesverfassungsgericht?"],
    "index list": ["index", "list"],
}


def environment(data_dir: Path, repo: Path) -> dict[str, str]:
    """The caller's environment without NEWSBOT_ settings, and with Python's bytecode cache on: an installed
    newsbot compiles its modules once, so without it (PYTHONDONTWRITEBYTECODE) every run would compile
    newsbot's own modules again, which no user's second call does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(NEWSBOT_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", PYTHONPATH=str(repo))
    return env


def run_once(args: list[str], env: dict[str, str], python_flags: tuple[str, ...] = ()) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, stderr) of one `python -m bot.cli ARGS` process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *python_flags, "-m", "bot.cli", *args],
        env=env,
        cwd=env["PYTHONPATH"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = process.stderr.read() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited with {process.returncode}:\n{stderr[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, stderr


def slowest_imports(args: list[str], env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    """Top-level imports (those a module of newsbot or the entry point asked for) by cumulative ms."""
    _, _, stderr = run_once(args, env, ("-X", "importtime"))
    rows: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not cumulative.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 1:
            rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="an existing index; default: the examples in a temp folder")
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports per command")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
    parser.add_argument(
        "--repo", type=Path, action="append", help="a checkout whose code runs (default: this one); may repeat"
    )
    parser.add_argument("commands", nargs="*", default=list(COMMANDS), help=f"any of {list(COMMANDS)}")
    options = parser.parse_args()
    repos = [repo.resolve() for repo in options.repo or [REPO]]

    with tempfile.TemporaryDirectory(prefix="newsbot-coldstart-") as scratch:
        data_dir = options.data_dir or Path(scratch) / "data"
        envs = [environment(data_dir, repo) for repo in repos]
        if options.data_dir is None:
            run_once(["index", "add", str(REPO / "examples" / "articles")], environment(data_dir, REPO))
        results = []
        for name in options.commands:
            args = COMMANDS[name]
            try:
                for env in envs:
                    run_once(args, env)  # warms the file cache, like any second call of the day
            except SystemExit as error:
                print(json.dumps({"command": name, "error": str(error)[:300]}, ensure_ascii=False))
                continue
            samples: list[list[tuple[float, float]]] = [[] for _ in envs]
            for _ in range(options.runs):
                for env, taken in zip(envs, samples, strict=True):
                    taken.append(run_once(args, env)[:2])
            for repo, env, taken in zip(repos, envs, samples, strict=True):
                result: dict[str, object] = {
                    "command": name,
                    "repo": str(repo),
                    "cpu_s_median": round(statistics.median(cpu for cpu, _ in taken), 3),
                    "cpu_s_min": round(min(cpu for cpu, _ in taken), 3),
                    "wall_s_median": round(statistics.median(wall for _, wall in taken), 3),
                    "runs": options.runs,
                }
                if options.importtime:
                    result["slowest_imports_ms"] = {mod: round(ms, 1) for mod, ms in slowest_imports(args, env)}
                print(json.dumps(result, ensure_ascii=False), flush=True)
                results.append(result)
    if options.json:
        options.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
