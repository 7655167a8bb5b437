"""Keep datatrove's per-task INFO logs in the run folder (RUN/logs/datatrove/logs/) and off the terminal, where the
progress bar and the summary table are what a user wants to read. CURATE_VERBOSE=1 restores them.

Logs never show document text: loguru's `diagnose` (which prints the values of local variables in a traceback,
i.e. the document a step was working on) is off for every handler, ours and datatrove's."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("LOGURU_DIAGNOSE", "NO")  # the default of every handler added after loguru is imported

from loguru import logger  # noqa: E402


def verbose() -> bool:
    return os.environ.get("CURATE_VERBOSE", "").lower() in ("1", "true", "yes")


def quiet_datatrove_console() -> None:
    """datatrove's executor logs every task at INFO to stderr; log them at ERROR there instead (files keep DEBUG).
    Applied at import, so that it also holds inside datatrove's forkserver workers."""
    if verbose():
        return
    import datatrove.executor.base as executor_base

    original = executor_base.add_task_logger
    if getattr(original, "_curate_quiet", False):
        return

    def add_task_logger(logging_dir, rank, local_rank=0, node_rank=-1):
        logfile = original(logging_dir, rank, local_rank=max(local_rank, 1), node_rank=node_rank)
        _no_diagnose()
        return logfile

    def close_task_logger(logfile):
        original_close(logfile)  # re-adds datatrove's default INFO console handler...
        console_level()  # ...which we lower again

    original_close = executor_base.close_task_logger
    add_task_logger._curate_quiet = True
    executor_base.add_task_logger = add_task_logger
    executor_base.close_task_logger = close_task_logger


def _no_diagnose() -> None:
    """Handlers added before LOGURU_DIAGNOSE was set (by whoever imported loguru first) get diagnose off too."""
    for handler in logger._core.handlers.values():  # loguru has no public setter for an existing handler
        handler._exception_formatter._diagnose = False  # noqa: SLF001


def console_level(level: str = "WARNING") -> None:
    logger.remove()
    logger.add(sys.stderr, level="INFO" if verbose() else level, diagnose=False)


_no_diagnose()
