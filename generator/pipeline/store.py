"""Content-addressed artifact store: one folder per job, written atomically, validated on read.

Layout (default root ``.atlas-cache/``)::

    manifest.json            what the atlas holds: model, recipe, classes/channels/ladder -> job keys (manifest.py)
    jobs/<key>/meta.json     target, model, recipe, metrics, files (names, sizes), timings, code version
    jobs/<key>/final.png     the final image, full size
    jobs/<key>/progress.mp4  the optimization as H.264
    jobs/<key>/poster.jpg    the final image as JPEG (the video's poster)
    jobs/<key>/thumb.jpg     gallery thumbnail
    tmp/                     jobs being written; never trusted

A job folder appears only by ``rename`` of a complete temporary folder, so a crash or Ctrl-C never
leaves a half-written job that a later run trusts; a folder that does not validate (bad JSON, a
missing or resized file) counts as missing and is rendered again. No torch here: the site reads it.
Readers find a job's files by the names its meta.json lists, never by FILE_NAMES.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

from generator import __version__
from generator.errors import AtlasError
from generator.pipeline.manifest import SCHEMA, Manifest

# Hashed into every job key. Not the manifest's schema: bumping this re-renders every store, so it stays 1.
KEY_VERSION = 1
FILE_NAMES = {"final": "final.png", "video": "progress.mp4", "poster": "poster.jpg", "thumb": "thumb.jpg"}


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

    def ensure_writable(self) -> "Store":
        try:
            self.jobs.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
            probe = self.tmp / f".probe-{uuid.uuid4().hex[:8]}"
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
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("schema") != SCHEMA or meta.get("key") != key:
            return None
        if meta.get("status") == "failed":
            return meta
        if meta.get("status") != "done" or not isinstance(meta.get("files"), dict) or not meta["files"]:
            return None
        for info in meta["files"].values():
            try:
                if (folder / info["name"]).stat().st_size != info["bytes"]:
                    return None
            except (OSError, KeyError, TypeError):
                return None
        return meta

    def status(self, key: str) -> str:
        """'done', 'failed' or 'missing'."""
        meta = self.meta(key)
        return "missing" if meta is None else meta["status"]

    def path(self, key: str, name: str) -> Path:
        return self.jobs / key / name

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
        staging = self.tmp / f"{key}.{uuid.uuid4().hex[:8]}"
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
        if final.exists():  # an invalid or outdated folder: move it aside, then replace
            trash = self.tmp / f"old-{final.name}.{uuid.uuid4().hex[:8]}"
            os.replace(final, trash)
            os.replace(staging, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, final)

    def clean_tmp(self) -> None:
        """Leftovers of an interrupted run: never trusted, safe to delete before a build."""
        if self.tmp.exists():
            for child in self.tmp.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


def link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another filesystem, or no hard links there
        shutil.copyfile(src, dest)
