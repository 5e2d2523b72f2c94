"""The only writer into site/: build the new site beside the old one, then swap it in.

The new site is written into a sibling folder (``.site.new-<pid>.<hex>``: the same filesystem, so the swap is a
rename, not a copy), then renamed into place. A reader (``python -m http.server --directory site``, which resolves
every request's path anew; the Pages upload, which runs after the build) sees the old site or the new one, never a
mix, and anything that stops the build before the swap (Ctrl-C, kill -9, a full disk, a template error) leaves the
old site whole. Ctrl-C is held off between the swap's two renames (a request landing in that instant gets a 404,
never a page of the other site); a kill between them is repaired by the next publish, which finds the old site
aside and puts it back.

Files that did not change are hard-linked from the old site (media from the store), so a rebuild writes only what
changed. Files the atlas does not own (layout.owned_by_atlas: a CNAME, a .git, your notes) are carried over into
every new site, never deleted. One publish at a time per site (a lock file beside it, ``.site.lock``).
``place`` (one file, atomically) also serves `atlas export`, which copies media into a blog.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import uuid
from pathlib import Path

from generator.errors import AtlasError, BuildAborted, disk_full
from generator.pipeline.lock import locked
from generator.publish.layout import MARKER, owned_by_atlas


def temporary(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")


def same_file(src: Path, dest: Path) -> bool:
    """dest already is src (a hard link), or a copy of it (same size and time)."""
    try:
        s, d = src.stat(), dest.stat()
    except OSError:
        return False
    return os.path.samestat(s, d) or (s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns)


def link_or_copy(src: Path, dest: Path) -> str:
    try:
        os.link(src, dest)
        return "linked"
    except OSError:  # another filesystem, or no hard links there
        shutil.copy2(src, dest)
        return "copied"


def place(src: Path, dest: Path) -> str:
    """Put src at dest atomically: a hard link when possible, else a copy. Returns "linked", "copied", or
    "unchanged" when dest already is src (or a copy of it)."""
    if same_file(src, dest):
        return "unchanged"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(dest)
    try:
        how = link_or_copy(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return how


def sync(out: Path, files: dict[str, bytes | Path], post_dir: str = "") -> dict:
    """Make `out` hold exactly `files` (relative path -> bytes, or a file to link), plus the user's files that were
    there, in one swap. Refuses a non-empty folder that no earlier build marked as a site. Returns counts: written,
    linked, copied, unchanged, removed (the atlas's files no longer built), kept (the user's files carried over)."""
    out = Path(out)
    if out.is_symlink():  # site -> /srv/www/atlas: swap the folder it points to, keep the link
        out = out.resolve()
    check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with locked(out.parent / f".{out.name}.lock", f"site {out}", wait=True):
            restore_interrupted(out)
            new = sibling(out, "new")
            try:
                stats = fill(new, files, out if out.is_dir() else None, post_dir)
                swap_in(new, out)
            finally:
                shutil.rmtree(new, ignore_errors=True)
    except OSError as exc:
        if disk_full(exc):
            raise BuildAborted(f"no space left on device while writing the site next to {out}; the previous site "
                               f"is untouched: free some space and run again") from None
        raise AtlasError(f"cannot write site to {out}: {exc.strerror or exc} ({exc.filename or ''})") from None
    return stats


def fill(new: Path, files: dict[str, bytes | Path], old: Path | None, post_dir: str) -> dict:
    """Write the new site into ``new``: each file linked from the old site when unchanged, else written or linked
    from its source; then the old site's files that are the user's."""
    stats = {"written": 0, "linked": 0, "copied": 0, "unchanged": 0, "removed": 0, "kept": 0}
    new.mkdir()
    made: set[Path] = {new}
    for rel, data in files.items():
        dest = new / rel
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        before = old / rel if old is not None else None
        if before is not None and (same_bytes(before, data) if isinstance(data, bytes) else same_file(data, before)):
            link_or_copy(before, dest)
            stats["unchanged"] += 1
        elif isinstance(data, bytes):
            dest.write_bytes(data)
            stats["written"] += 1
        else:
            stats[link_or_copy(data, dest)] += 1
    for rel in existing(old) if old is not None else []:
        if rel in files:
            continue
        if owned_by_atlas(rel, post_dir):
            stats["removed"] += 1
        else:
            carry(old / rel, new / rel)
            stats["kept"] += 1
    return stats


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def existing(folder: Path) -> list[str]:
    """Every file and link under ``folder``, relative, with / separators (links to folders are not followed)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in filenames + links:
            out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return out


def carry(src: Path, dest: Path) -> None:
    """One of the user's files into the new site: a hard link (the same file), a link as a link."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        os.symlink(os.readlink(src), dest)
    else:
        link_or_copy(src, dest)


def sibling(out: Path, kind: str) -> Path:
    """A folder beside ``out`` on its filesystem: .site.new-<pid>.<hex> (being built), .site.old-... (swapped out)."""
    return out.with_name(f".{out.name}.{kind}-{os.getpid()}.{uuid.uuid4().hex[:8]}")


def leftovers(out: Path, kind: str) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.{kind}-*"), key=lambda p: p.lstat().st_mtime)


def restore_interrupted(out: Path) -> None:
    """What a killed publish left beside ``out`` (we hold the site's lock: no publish is running). Killed between
    the swap's renames: the old site is aside and ``out`` is gone, so it goes back; else leftovers are deleted."""
    olds = leftovers(out, "old")
    if olds and not out.exists():
        os.rename(olds.pop(), out)
    for leftover in olds + leftovers(out, "new"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def signals_held():
    """Ctrl-C (and SIGTERM) wait until the block is done: the swap's two renames are never split by them.

    Python runs signal handlers in the main thread whatever thread the kernel delivered the signal to (numpy's and
    torch's threads do not share the main thread's signal mask), so the handlers themselves are swapped for ones that
    only note the signal; the noted signal is handled after the block, as it would have been."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, _frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)  # SIGINT's default handler raises KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


def swap_in(new: Path, out: Path) -> None:
    """Rename ``new`` to ``out``; the old site goes aside first and is deleted after (or, should the new one fail
    to go in, back into place)."""
    old = sibling(out, "old")
    try:
        with signals_held():
            if out.exists():
                os.rename(out, old)
            os.rename(new, out)
    finally:
        if old.exists():
            shutil.rmtree(old, ignore_errors=True) if out.exists() else os.rename(old, out)


def check_out(out: Path) -> None:
    """`out` is a folder we may fill: new, empty, or a site an earlier build made (it holds the MARKER)."""
    try:
        if out.exists() and not out.is_dir():
            raise AtlasError(f"cannot write site to {out}: it is a file")
        if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
            raise AtlasError(f"refusing to build the site into {out}: the folder is not empty and holds no "
                             f"{MARKER} marker of an earlier `atlas site` (pick an empty or new folder)")
    except OSError as exc:
        raise AtlasError(f"cannot write site to {out}: {exc.strerror or exc}") from None
