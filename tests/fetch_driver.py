"""Fetches one URL in its own process and reports the peak memory it took, for test_fetch_policy.py.

`python -m tests.fetch_driver URL MAX_BYTES` prints JSON: the resident set size after the imports
(`idle_kb`, from /proc), the peak over the whole process (`peak_kb`), and the user message of the
error, if any.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from index.errors import NewsbotError
from index.settings import Settings
from index.web import fetch


def resident_kb() -> int:
    """The resident set size now (ru_maxrss is the peak so far, which the imports may have set)."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def main() -> None:
    url, max_bytes = sys.argv[1], int(sys.argv[2])
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, fetch_allow_private=["localhost"], fetch_max_bytes=max_bytes, fetch_timeout_seconds=120
    )
    idle_kb = resident_kb()
    error = None
    try:
        fetch(url, settings)
    except NewsbotError as failure:
        error = failure.message
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"idle_kb": idle_kb, "peak_kb": peak_kb, "error": error}))


if __name__ == "__main__":
    main()
