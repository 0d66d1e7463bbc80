"""`python -m scheduler.crawl_child PARENT_PID MODULE ARGS...`: run `python -m MODULE ARGS...`
in this process, after asking Linux to send SIGTERM here when the scheduler (PARENT_PID) dies.

So a scheduler killed with SIGKILL leaves no crawl running unsupervised: the crawl finishes the
item in flight and records its run as interrupted; the next scheduler crawls the source again.
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the scheduler died before the request took effect
        sys.exit(3)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m scheduler.crawl_child PARENT_PID MODULE [ARGS...]")
    _die_with_parent(int(argv[0]))
    module = argv[1]
    sys.argv = [module, *argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
