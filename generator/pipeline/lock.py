"""One build per store: an advisory lock (``fcntl.flock``) on ``<store>/lock``, which also names its holder.
(The site's publish step takes the same kind of lock, on a file beside the site, to swap one site at a time.)

flock belongs to the open file, so the kernel drops it when the holder exits, however it exits (kill -9 and a
power cut included): a lock left by a killed build never blocks the next one, which takes it over and says so.
The holder's pid and start time, written into the file, are only for the messages; a build that ends cleanly
empties the file, so a record found there by the next holder is one a killed build left. The file itself stays
(deleting it would let a waiter lock a file that no longer has the name).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from generator.errors import AtlasError

LOCK_NAME = "lock"
CONTENDED = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def holder_of(fd: int) -> dict:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(holder: dict) -> str:
    pid = holder.get("pid")
    since = f", started {holder['since']}" if isinstance(holder.get("since"), str) else ""
    return f"pid {pid}{since}" if isinstance(pid, int) else "a process that has not said which"


@contextlib.contextmanager
def store_lock(root: Path, *, wait: bool = False, say=None) -> Iterator[None]:
    """Hold the store ``root``'s lock for the block: one build writes a store at a time."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AtlasError(f"cannot write to store {root}: {exc.strerror or exc}") from None
    with locked(root / LOCK_NAME, f"store {root}", wait=wait, say=say):
        yield


@contextlib.contextmanager
def locked(path: Path, what: str, *, wait: bool = False, say=None) -> Iterator[None]:
    """Hold the lock file ``path`` for the block. Taken: a one-line AtlasError naming the holder, or with ``wait``
    block until it is free. ``say``: where the waiting and take-over notes go (default stderr)."""
    say = say or (lambda m: print(m, file=sys.stderr))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AtlasError(f"cannot lock {what}: {exc.strerror or exc} ({path})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in CONTENDED:
                raise AtlasError(f"cannot lock {what} ({exc.strerror}): its filesystem has no file locks") from None
            holder = describe(holder_of(fd))
            if not wait:
                raise AtlasError(f"{what} is in use by another build ({holder}); wait for it to finish, or pass "
                                 f"--wait to queue behind it") from None
            say(f"atlas: {what} is in use by another build ({holder}); waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        left = holder_of(fd)
        if left.get("pid") is not None:
            say(f"atlas: taking over the lock on {what} from a build that did not finish ({describe(left)})")
        record = {"pid": os.getpid(), "since": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a clean end leaves no record behind
    finally:
        os.close(fd)  # drops the flock
