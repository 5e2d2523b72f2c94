"""The only writer into site/: make a folder hold exactly a set of files, in place, file by file.

Every file lands by an atomic replace (a server keeps serving the folder while it changes); media are
hard-linked from the store when possible (else copied); unchanged files are left alone; then every file
the build did not produce is deleted, so pages and media of targets that are no longer done disappear.
``place`` (one file, atomically) also serves `atlas export`, which copies media into a blog.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

from generator.errors import AtlasError
from generator.publish.layout import MARKER

TMP_NAME = re.compile(r"^\..+\.tmp\d*$")  # ours: .NAME.HEX.tmp (older builds: .NAME.tmpPID)
ABANDONED_S = 600  # a temporary file this old is no other build's file in flight


def temporary(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")


def place(src: Path, dest: Path) -> str:
    """Put src at dest atomically: a hard link when possible, else a copy. Returns "linked", "copied", or
    "unchanged" when dest already is src (or a copy of it: same size and time)."""
    try:
        s, d = src.stat(), dest.stat()
        if os.path.samestat(s, d) or (s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns):
            return "unchanged"
    except OSError:
        pass
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(dest)
    try:
        try:
            os.link(src, tmp)
            how = "linked"
        except OSError:  # another filesystem, or no hard links there
            shutil.copy2(src, tmp)
            how = "copied"
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return how


def write(data: bytes, dest: Path) -> str:
    """Put bytes at dest atomically. Returns "written", or "unchanged" when dest holds them already."""
    try:
        if dest.stat().st_size == len(data) and dest.read_bytes() == data:
            return "unchanged"
    except OSError:
        pass
    tmp = temporary(dest)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return "written"


def sync(out: Path, files: dict[str, bytes | Path]) -> dict:
    """Make `out` hold exactly `files` (relative path -> bytes, or a file to link): unchanged files are left
    alone, others atomically replaced, everything else removed. Refuses a non-empty folder that no earlier
    build marked as a site. Returns counts: written, linked, copied, unchanged, removed."""
    check_out(out)
    existing = set()
    for dirpath, _, filenames in os.walk(out):
        rel = os.path.relpath(dirpath, out)
        for f in filenames:
            existing.add(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
    made_dirs: set[str] = set()
    stats = {"written": 0, "linked": 0, "copied": 0, "unchanged": 0, "removed": 0}
    try:
        for rel, data in files.items():
            dest = out / rel
            parent = os.path.dirname(rel)
            if parent and parent not in made_dirs:
                dest.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(parent)
            stats[write(data, dest) if isinstance(data, bytes) else place(data, dest)] += 1
        now = time.time()
        for rel in sorted(existing - set(files)):
            path = out / rel
            if TMP_NAME.match(path.name):  # another build's file in flight: leave it unless long abandoned
                try:
                    if now - path.stat().st_mtime < ABANDONED_S:
                        continue
                except OSError:
                    continue
            path.unlink(missing_ok=True)
            stats["removed"] += 1
        for dirpath, _, _ in os.walk(out, topdown=False):
            if dirpath != str(out) and not os.listdir(dirpath):
                os.rmdir(dirpath)
    except OSError as exc:
        raise AtlasError(f"cannot write site to {out}: {exc.strerror or exc} ({exc.filename or ''})") from None
    return stats


def check_out(out: Path) -> None:
    """`out` is a folder we may fill: new, empty, or a site an earlier build made (it holds the MARKER)."""
    try:
        if out.exists() and not out.is_dir():
            raise AtlasError(f"cannot write site to {out}: it is a file")
        if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
            raise AtlasError(f"refusing to build the site into {out}: the folder is not empty and holds no "
                             f"{MARKER} marker of an earlier `atlas site` (pick an empty or new folder)")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AtlasError(f"cannot write site to {out}: {exc.strerror or exc}") from None
