"""Run as a script by the test suite: waits for the pytest process to end, however it ends (a
SIGKILL included), then kills every process that still carries the run's mark in its environment.
The suite's own check at the end of a run covers the normal case; this covers the rest.

    python tests/support/reaper.py <pytest pid> <mark, NAME=value>
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path


def started(pid: int) -> str | None:
    """The process's start time (so a reused pid is not taken for it), or None once it is gone
    (a zombie is gone: it runs nothing any more)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def marked(mark: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def descendants(root: int) -> dict[int, str]:
    """Every process below `root`, with its start time. Some servers overwrite their environment
    to show a title (redis-server does), losing the mark: those are known by their ancestry."""
    children: dict[int, list[int]] = {}
    births: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        births[int(entry.name)] = fields[19]
    found: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid != os.getpid() and pid not in found:
            found[pid] = births.get(pid, "")
            todo += children.get(pid, [])
    return found


def main() -> None:
    pid, mark = int(sys.argv[1]), sys.argv[2].encode()
    birth = started(pid)
    seen: dict[int, str] = {}
    while birth is not None and started(pid) == birth:
        seen.update(descendants(pid))
        time.sleep(0.5)
    # A run that ended normally has stopped its processes already (its last check makes sure):
    # then there is nothing to find, and the watcher is gone within a second.
    for _ in range(2):
        left = [target for target, born in seen.items() if started(target) == born]
        for target in {*left, *marked(mark)}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
