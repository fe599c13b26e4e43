"""What a person sees while ``python -m askrl.train`` runs: askrl's own lines on the console, the rest in a log file.

Why: a CPU demo prints over a thousand lines, almost all Ray, VERL, TransferQueue and transformers warnings, and
askrl's few lines are lost among them. In quiet mode (the default for a real launch) :func:`quiet_session`
points this process's stdout and stderr file descriptors at ``<run dir>/logs/train-<time>.log``, so everything
the driver, Ray's log monitor (every worker's output, ``log_to_driver``) and C extensions write lands there, and
keeps a private handle on the original stderr for askrl's lines: :func:`notice`, the ``askrl`` logger, the progress
bar (:mod:`askrl.train.progress`) and the end-of-run summary. ``askrl.verbose=true`` (or a dry run) skips the
redirection and prints everything as before.

Notices made before the log file is known (profile choice, CPU fallbacks) are held and printed right after the
line that names the log file, so that line is the first one; :func:`release` prints them if the run stops first.

    hold()                                    # at the start of main
    with quiet_session(run_dir) as log_path:  # after the run dir is known
        ...                                   # stdout/stderr -> log_path; notice() -> the console
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

_LOG_FORMAT = "%(levelname)s %(asctime)s %(name)s: %(message)s"

_stream: TextIO | None = None  # the real console while a quiet session runs
_log_path: Path | None = None  # the log file of the quiet session
_held: list[str] | None = None


def stream() -> TextIO:
    """Where askrl's lines go: the original stderr during a quiet session, else the current ``sys.stderr``."""
    return _stream if _stream is not None else sys.stderr


def is_quiet() -> bool:
    return _stream is not None


def log_path() -> Path | None:
    """The quiet session's log file (None when output is not redirected)."""
    return _log_path


def write(text: str) -> None:
    """One or more complete lines for the person at the console (also copied into the log while quiet)."""
    out = stream()
    out.write(text if text.endswith("\n") else text + "\n")
    out.flush()
    if _stream is not None:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")


def notice(text: str) -> None:
    """An ``askrl: ...`` line: every substitution or decision made for the user is said once."""
    line = f"askrl: {text}"
    if _held is not None:
        _held.append(line)
        return
    write(line)


def hold() -> None:
    """Keep notices back until :func:`release` (so the log file's line can come first)."""
    global _held
    _held = []


def release() -> None:
    """Print the held notices (idempotent)."""
    global _held
    lines, _held = _held or [], None
    for line in lines:
        write(line)


def configure_logging() -> None:
    """The root logger at WARNING on stderr (as before) and the ``askrl`` logger's records on the console."""
    logging.basicConfig(level=logging.WARNING, format=_LOG_FORMAT)
    askrl_logger = logging.getLogger("askrl")
    if not any(isinstance(h, _ConsoleHandler) for h in askrl_logger.handlers):
        handler = _ConsoleHandler()
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        askrl_logger.addHandler(handler)


class _ConsoleHandler(logging.Handler):
    """Shows ``askrl`` records on the console during a quiet session (the root handler writes them to the log)."""

    def emit(self, record: logging.LogRecord) -> None:
        if _stream is None:
            return  # not quiet: the root handler already prints to the console
        with contextlib.suppress(Exception):
            _stream.write(self.format(record) + "\n")
            _stream.flush()


def log_path_for(run_dir: Path, name: str = "train") -> Path:
    return run_dir / "logs" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.log"


@contextlib.contextmanager
def quiet_session(run_dir: Path, *, name: str = "train", what: str = "Ray, VERL and library output",
                  verbose: str = "askrl.verbose=true") -> Iterator[Path]:
    """Send this process's fd 1 and 2 to a new log file under ``run_dir/logs`` until the block ends.

    The first console line names the file. On an exception the descriptors are restored before it propagates,
    so the caller prints errors on the console in full; the last line points at the log for the rest.
    """
    global _stream, _log_path
    path = log_path_for(run_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    console.write(f"askrl: {what} go to {path} ({verbose} prints them here)\n")
    console.flush()
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    _stream, _log_path = console, path
    failed = False
    try:
        release()
        yield path
    except BaseException:
        failed = True
        raise
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        _stream, _log_path = None, None
        if failed:
            sys.stderr.write(f"askrl: the run stopped; its full log is {path}\n")
        console.close()
