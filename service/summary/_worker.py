"""What runs inside a render worker process: set-up once, then one render per task."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing.util
import os
import select
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from service.summary._view import Summary

# Where SCHED_IDLE is missing (not Linux), niceness 10 is the next best thing.
WORKER_NICENESS = 10


def start_worker(work_dir: str, owner: int) -> None:
    """Prepare a fresh worker: its own temporary folder, quiet logs, fonts loaded, and an end
    when `owner` (the process that runs the pool) ends, however it ends."""
    # Ctrl-C in a terminal reaches the whole process group; stopping workers is the parent's job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _yield_to_everything_else()
    # WeasyPrint copies each @font-face file into a temporary folder that it removes only on
    # garbage collection, which a worker's exit skips. Ours goes with the worker, and the parent
    # removes the whole work folder, including those of workers it had to kill.
    own = tempfile.mkdtemp(prefix=f"worker-{os.getpid()}-", dir=work_dir)
    tempfile.tempdir = own
    multiprocessing.util.Finalize(
        None, shutil.rmtree, args=(own,), kwargs={"ignore_errors": True}, exitpriority=0
    )
    _log_without_text()
    _leave_with(owner, own)
    from service.summary._pdf import warm_up  # noqa: PLC0415 - in the worker only: see _rendering

    warm_up()


def render_in_worker(summary: Summary) -> bytes:
    """The PDF of `summary`: what a worker runs (its forkserver has loaded WeasyPrint already)."""
    from service.summary._pdf import render_summary_pdf  # noqa: PLC0415 - see _rendering

    return render_summary_pdf(summary)


def _yield_to_everything_else() -> None:
    """Run only on CPU time nothing else wants: the queue and the patient form come first.

    Linux's SCHED_IDLE: a server thread that wakes on a core where a render runs takes the core
    at once. Under niceness alone it could wait out the render's time slice, a few milliseconds
    added to a reception request, which is what the queue-while-rendering benchmark measured.
    The price: on a machine whose every core other work keeps busy, a render gets almost no CPU
    and can reach its time limit (a 503 with Retry-After). The server is one process using at
    most one core, and the workers are one fewer than the cores, so one is left for them unless
    something else takes it.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(WORKER_NICENESS)


def ping() -> int:
    """A task that makes the pool start (and warm) a worker; it says which worker answered,
    after a pause that leaves the next ping to another worker."""
    time.sleep(0.02)
    return os.getpid()


def _leave_with(owner: int, own: str) -> None:
    """Exit when `owner` exits. A pool worker blocks on a queue whose writing end it holds as
    well, so it never sees EOF: without this, a server killed with SIGKILL would leave its
    workers (and their forkserver) waiting for ever."""
    try:
        handle: int | None = os.pidfd_open(owner)
    except ProcessLookupError:
        handle = None
        _leave(own)
    except OSError:
        handle = None  # no pidfd (an old kernel): poll instead

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while alive(owner):
                time.sleep(1)
        _leave(own)

    threading.Thread(target=watch, name="summary-owner-watch", daemon=True).start()


def alive(pid: int) -> bool:
    """Whether a process `pid` exists (a zombie counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leave(own: str) -> None:
    shutil.rmtree(own, ignore_errors=True)
    # The owner is gone and cannot remove the work folder: the last worker out does.
    with contextlib.suppress(OSError):
        Path(own).parent.rmdir()
    os._exit(0)


class _TemplateOnly(logging.Formatter):
    """A WeasyPrint message's template without its arguments: those can quote patient text."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "event": str(record.msg),
                "level": record.levelname.lower(),
                "logger": record.name,
                "process": "summary render worker",
            }
        )


def _log_without_text() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_TemplateOnly())
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    logger.propagate = False
