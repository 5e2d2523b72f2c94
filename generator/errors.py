"""What a mistake or a failure looks like to the user: one line on stderr and an exit code that means one thing.

    0    done
    1    the build finished, but some jobs failed (recorded in the store, shown as failed on the site)
    2    a usage or config error: nothing ran                                    (AtlasError)
    3    the run broke off: the machine failed it (disk full: one line, BuildAborted), or an unexpected
         error (one line plus the path of a log file holding the traceback; ATLAS_DEBUG=1 prints it)
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import time
import traceback

EXIT_DONE, EXIT_JOBS_FAILED, EXIT_USAGE, EXIT_ABORTED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEBUG_ENV = "ATLAS_DEBUG"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class AtlasError(Exception):
    """A user-facing error: bad input, missing weights, unwritable output, a store in use.

    The CLI prints ``atlas: error: <message>`` and exits with ``exit_code``, never with a traceback.
    """

    exit_code = EXIT_USAGE


class BuildAborted(AtlasError):
    """The machine broke the run off (a full disk): not the user's input and not a job's failure."""

    exit_code = EXIT_ABORTED


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def disk_full_message(exc: OSError) -> str:
    where = f" writing {exc.filename}" if exc.filename else ""
    return f"no space left on device{where}; finished work is kept: free some space and run the command again"


def crash_report(exc: BaseException, environ=None, stream=None) -> str:
    """The one line for an unexpected error. The traceback goes to a log file (and to ``stream`` with ATLAS_DEBUG=1),
    so a bug report has it without the user ever seeing a wall of text."""
    environ = os.environ if environ is None else environ
    text = "".join(traceback.format_exception(exc))
    summary = f"unexpected {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    try:
        fd, log = tempfile.mkstemp(prefix=f"atlas-error-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        where = f"; traceback in {log}"
    except OSError:  # no writable temp folder: the traceback is then only printed on request
        where = ""
    if environ.get(DEBUG_ENV, "") not in ("", "0"):
        (stream or sys.stderr).write(text)
    return f"{summary.rstrip(': ')}{where} (set {DEBUG_ENV}=1 to print it)"
