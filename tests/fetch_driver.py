"""Fetches one URL in its own process and reports the peak memory it took, for test_fetch_policy.py.

`python -m tests.fetch_driver URL MAX_BYTES` prints JSON: the resident set size after the imports
(`idle_kb`), its peak during the fetch (`peak_kb`), and the user message of the error, if any.
Both come from /proc/self/status: getrusage's ru_maxrss survives fork and exec, so it would report
the parent's (pytest's) size. The peak is reset before the fetch where the kernel allows it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from index.errors import NewsbotError
from index.settings import Settings
from index.web import fetch


def memory_kb(field: str) -> int:
    """`VmRSS` (resident now) or `VmHWM` (its peak) of this process, in kB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(f"{field}:")))


def main() -> None:
    url, max_bytes = sys.argv[1], int(sys.argv[2])
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, fetch_allow_private=["localhost"], fetch_max_bytes=max_bytes, fetch_timeout_seconds=120
    )
    with contextlib.suppress(OSError):  # "5" resets the peak to the current size (Linux 4.0+)
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    idle_kb = memory_kb("VmRSS")
    error = None
    try:
        fetch(url, settings)
    except NewsbotError as failure:
        error = failure.message
    print(json.dumps({"idle_kb": idle_kb, "peak_kb": memory_kb("VmHWM"), "error": error}))


if __name__ == "__main__":
    main()
