"""Child processes that never outlive their parent."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
# Set by `lms run` for the worker processes granian starts: the pid they must not outlive.
PARENT_PID = "_LMS_SERVER_PID"


def die_with_parent(parent_pid: int | None) -> None:
    """Ask the kernel to send SIGKILL to this process when its parent dies (Linux), and leave now
    if the parent is already gone. A granian worker whose server was killed with SIGKILL would
    otherwise keep serving, holding its port, connections and files, with nobody to stop it."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the request above: nobody is left to serve for
