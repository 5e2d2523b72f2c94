"""Content-addressed artifact store: one folder per job, written atomically, validated on read.

Layout (default root ``.atlas-cache/``)::

    manifest.json            what the atlas holds: model, recipe, classes/channels/ladder -> job keys (manifest.py)
    jobs/<key>/meta.json     target, model, recipe, metrics, files (names, sizes), timings, code version
    jobs/<key>/final.png     the final image, full size
    jobs/<key>/progress.mp4  the optimization as H.264
    jobs/<key>/poster.jpg    the final image as JPEG (the video's poster)
    jobs/<key>/thumb.jpg     gallery thumbnail
    tmp/<key>.<pid>.<hex>    jobs being written, named after the writing process; never trusted
    contributions/<name>.json  measurements of done jobs ({job key: value}, class_channels.py): a cache, re-measured
                             when unreadable
    lock                     held by the build that writes the store (lock.py)

A job folder appears only by ``rename`` of a complete temporary folder, so a crash or Ctrl-C never
leaves a half-written job that a later run trusts; a folder that does not validate (bad JSON, a meta.json
of the wrong shape, a missing or resized file) counts as missing and is rendered again. No torch here: the
site reads it. Readers find a job's files by the names its meta.json lists, never by FILE_NAMES; a name is a
plain file name in the job's folder, never a path.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from generator import __version__
from generator.errors import AtlasError
from generator.pipeline.manifest import SCHEMA, Manifest

# Hashed into every job key. Not the manifest's schema: bumping this re-renders every store, so it stays 1.
KEY_VERSION = 1
FILE_NAMES = {"final": "final.png", "video": "progress.mp4", "poster": "poster.jpg", "thumb": "thumb.jpg"}
CACHES = ("contributions",)  # folders of caches derived from done jobs: <root>/<cache>/<name>.json
ABANDONED_S = 3600  # a staging entry without a writer's pid (older versions) this old is no live writer's
NUMBER = (int, float)
META_TYPES = {"target": dict, "model": dict, "recipe": dict, "metrics": dict, "timings": dict, "files": dict,
              "error": (str, type(None)), "created": str, "code_version": str}
METRIC_TYPES = {"values": list, "probs": (list, type(None)), "top5": list, "final_value": (*NUMBER, type(None)),
                "seconds": NUMBER, "error": (str, type(None))}


def job_key(**identity) -> str:
    """Hash of everything that changes a job's pixels (model, weights, recipe, target, video settings)."""
    blob = json.dumps({"schema": KEY_VERSION, **identity}, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=False))
    os.replace(tmp, path)


class Store:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.jobs = self.root / "jobs"
        self.tmp = self.root / "tmp"
        self.writer = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"  # names this writer's staging in tmp/

    def ensure_writable(self) -> "Store":
        try:
            self.jobs.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
            probe = self.tmp / f".probe.{self.writer}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise AtlasError(f"cannot write to store {self.root}: {exc.strerror or exc}") from None
        return self

    # ---- reading -------------------------------------------------------------------------------

    def meta(self, key: str) -> dict | None:
        """The job's metadata when its folder is complete and valid, else None (= render again)."""
        folder = self.jobs / key
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta_problem(meta, key) is not None:
            return None
        if meta["status"] == "failed":
            return meta
        for info in meta["files"].values():
            try:
                if (folder / info["name"]).stat().st_size != info["bytes"]:
                    return None
            except OSError:
                return None
        return meta

    def status(self, key: str) -> str:
        """'done', 'failed' or 'missing'."""
        meta = self.meta(key)
        return "missing" if meta is None else meta["status"]

    def path(self, key: str, name: str) -> Path:
        return self.jobs / key / name

    def job_file(self, key: str, role: str) -> Path | None:
        """A done job's file of ``role`` ('final', 'thumb', ...), when it is whole and inside the store (not a link
        out of it); else None."""
        meta = self.meta(key)
        info = (meta or {}).get("files", {}).get(role) if meta and meta["status"] == "done" else None
        if not info:
            return None
        path = self.path(key, info["name"])  # a plain name: meta_problem checked it
        return path if path.resolve().is_relative_to(self.jobs.resolve()) else None

    def read_cache(self, cache: str, name: str) -> dict:
        """A cache of measurements ({job key: value}); a missing or unreadable one is empty (measured again)."""
        try:
            data = json.loads(self._cache_path(cache, name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_cache(self, cache: str, name: str, data: dict) -> None:
        path = self._cache_path(cache, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data)

    def _cache_path(self, cache: str, name: str) -> Path:
        if cache not in CACHES or not plain_name(name):
            raise ValueError(f"not a cache of the store: {cache}/{name}")
        return self.root / cache / f"{name}.json"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def has_manifest(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> Manifest:
        """The atlas's manifest; every mistake is one line that says what to do."""
        path = self.manifest_path
        if not self.root.is_dir():
            raise AtlasError(f"no atlas in {self.root}: the store does not exist; run `make atlas` (or `atlas build`) "
                             f"first, or pass --store DIR")
        if not path.is_file():
            raise AtlasError(f"no atlas in {self.root} (no manifest.json): run `make atlas` (or `atlas build`) first, "
                             f"or pass --store DIR")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise AtlasError(f"{path}: corrupt manifest ({exc}); rerun `atlas build` to rewrite it") from None
        if not isinstance(data, dict):
            raise AtlasError(f"{path}: corrupt manifest (not a JSON object); rerun `atlas build` to rewrite it")
        try:
            return Manifest.from_json(data)
        except ValueError as exc:  # another schema, or a malformed entry
            raise AtlasError(f"{path}: {exc}; rerun `atlas build` to rewrite it") from None

    # ---- writing -------------------------------------------------------------------------------

    def write_manifest(self, manifest: Manifest) -> None:
        data = manifest.to_json()
        data["updated"] = now_iso()
        write_json_atomic(self.manifest_path, data)

    def put(self, key: str, meta: dict, files: dict[str, bytes | Path]) -> dict:
        """Write a job atomically: files and meta.json into tmp/, then one rename into jobs/<key>.

        ``files`` maps a role ('final', 'video', 'poster', 'thumb') to its bytes, or to a file to hard-link (else
        copy) in; meta['files'][role]['name'] names it in the folder.
        """
        staging = self.tmp / f"{key}.{self.writer}"
        staging.mkdir(parents=True)
        try:
            for role, data in files.items():
                info = meta["files"][role]
                dest = staging / info["name"]
                if isinstance(data, Path):
                    link_or_copy(data, dest)
                else:
                    dest.write_bytes(data)
                info["bytes"] = dest.stat().st_size
            full = {"schema": SCHEMA, "key": key, **meta, "code_version": __version__, "created": now_iso()}
            write_json_atomic(staging / "meta.json", full)
            self._swap_in(staging, self.jobs / key)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return full

    def put_failed(self, key: str, meta: dict) -> dict:
        return self.put(key, {**meta, "status": "failed", "files": {}}, {})

    def _swap_in(self, staging: Path, final: Path) -> None:
        try:
            os.replace(staging, final)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        # an invalid or outdated folder is there: move it aside, then replace it
        trash = self.tmp / f"old-{final.name}.{self.writer}"
        os.replace(final, trash)
        os.replace(staging, final)
        shutil.rmtree(trash, ignore_errors=True)

    def clean_tmp(self) -> None:
        """Leftovers of interrupted runs: never trusted. Only entries whose writer is gone are deleted (its pid is in
        the name; the build's lock keeps a second build out anyway), never another live writer's staging."""
        if not self.tmp.exists():
            return
        for child in self.tmp.iterdir():
            if abandoned(child):
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


def abandoned(entry: Path) -> bool:
    """A staging entry whose writer is gone: its pid is not a running process (or, named by an older version
    without a pid, it is over an hour old)."""
    parts = entry.name.split(".")
    if len(parts) >= 3 and parts[-2].isascii() and parts[-2].isdigit():
        return int(parts[-2]) != os.getpid() and not process_alive(int(parts[-2]))
    try:
        return time.time() - entry.lstat().st_mtime > ABANDONED_S
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def plain_name(name) -> bool:
    """A file name inside the job's folder, never a path out of it."""
    return isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name and not name.startswith(".") \
        and "\0" not in name


def meta_problem(meta, key: str) -> str | None:
    """Why a meta.json's content cannot be trusted (valid JSON of the wrong shape is as corrupt as invalid JSON);
    None when it can."""
    if not isinstance(meta, dict):
        return "not a JSON object"
    if meta.get("schema") != SCHEMA or meta.get("key") != key:
        return "another schema or key"
    if meta.get("status") not in ("done", "failed"):
        return "no status"
    for field, kinds in META_TYPES.items():
        if field in meta and not isinstance(meta[field], kinds):
            return f"{field} has the wrong type"
    for field, kinds in METRIC_TYPES.items():
        if field in meta.get("metrics", {}) and not isinstance(meta["metrics"][field], kinds):
            return f"metrics.{field} has the wrong type"
    if meta["status"] == "failed":
        return None
    files = meta.get("files")
    if not files:
        return "no files"
    for info in files.values():
        if not isinstance(info, dict) or not plain_name(info.get("name")) or not isinstance(info.get("bytes"), int):
            return "a file entry is not {name, bytes}"
        if any(k in info and not isinstance(info[k], int) for k in ("width", "height")):
            return "a file's size is not whole pixels"
    return None


def link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another filesystem, or no hard links there
        shutil.copyfile(src, dest)
