"""The blog post's own videos (`make post-videos`): one per stage of the recipe ladder, at the names the post
embeds (config [ladder] post_videos: site/blog/app1.mp4 ... app6.mp4, each with its .jpg poster).

The site build publishes them with everything else (``post_video_files``); `atlas export --post-videos` copies
them into a blog (``write_post_videos``). No torch here.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from generator.errors import AtlasError
from generator.pipeline.manifest import Ladder, Manifest
from generator.pipeline.store import Store
from generator.publish.layout import LADDER_KINDS, ladder_media_id, post_video_paths
from generator.publish.published import read_published
from generator.publish.site.publish import place


def check_post_videos(post_dir: str, post_videos: dict, stages: list[str]) -> None:
    """One-line errors for a [ladder] post_dir / post_videos that cannot work."""
    if not isinstance(post_videos, dict):
        raise AtlasError("[ladder] post_videos must be a table of stage = \"file.mp4\"")
    if not isinstance(post_dir, str):
        raise AtlasError("[ladder] post_dir must be a string, e.g. \"blog\"")
    d = PurePosixPath(post_dir)
    if d.is_absolute() or ".." in d.parts or "\\" in post_dir:
        raise AtlasError(f"[ladder] post_dir {post_dir!r} must be a relative folder inside the site, e.g. \"blog\"")
    for stage, name in post_videos.items():
        if stage not in stages:
            raise AtlasError(f"[ladder] post_videos names stage {stage!r}, which is not in [ladder] stages "
                             f"({', '.join(stages)})")
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".mp4"):
            raise AtlasError(f"[ladder] post_videos: {stage} = {name!r} must be a plain file name ending in .mp4")
    names = list(post_videos.values())
    if len(set(names)) != len(names):
        raise AtlasError("[ladder] post_videos: two stages share one file name")


def post_video_plan(store: Store, manifest: Manifest | None = None, *, strict: bool = True) -> list[dict]:
    """One row per configured post video, in config order: stage, key, status, rel paths and store sources.

    rel paths are relative to the site root: {"video": "blog/app1.mp4", "poster": "blog/app1.jpg"}.
    ``strict=False`` (the site build): post videos of stages the config's ladder leaves out are skipped, not errors.
    """
    manifest = manifest if manifest is not None else store.read_manifest()
    ladder = manifest.ladder or Ladder(None, ())
    keys = ladder.stage_keys()
    post_videos = ladder.post_videos
    if not strict and isinstance(post_videos, dict):
        post_videos = {stage: name for stage, name in post_videos.items() if stage in keys}
    check_post_videos(ladder.post_dir, post_videos, list(keys))
    expect = {} if ladder.target_class is None else {"index": ladder.target_class}
    rows = []
    for stage, name in post_videos.items():
        job = read_published(store, keys[stage], ladder_media_id(stage), LADDER_KINDS, [], expect)
        rows.append({"stage": stage, "key": keys[stage], "status": job.status,
                     "rel": post_video_paths(ladder.post_dir, name), "sources": job.sources, "error": job.error})
    return rows


def post_video_files(store: Store, manifest: Manifest | None = None) -> dict[str, Path]:
    """Site-relative path -> store file for every rendered post video and poster (for the site build to add)."""
    files = {}
    for row in post_video_plan(store, manifest, strict=False):
        if row["status"] == "done":
            for kind, rel in row["rel"].items():
                files[rel] = row["sources"][kind]
    return files


def write_post_videos(store: Store, out: Path, *, strict: bool = False) -> list[dict]:
    """Copy the post's videos and posters from the store into ``out`` (a blog's static folder). Returns the rows,
    each with "bytes" (per kind) as written."""
    rows = post_video_plan(store, strict=strict)
    for row in rows:
        if row["status"] == "done":
            for kind, rel in row["rel"].items():
                try:
                    place(row["sources"][kind], Path(out) / rel)
                except OSError as exc:
                    raise AtlasError(f"cannot write {Path(out) / rel}: {exc.strerror or exc}") from None
    return measured(rows, out)


def measured(rows: list[dict], out: Path) -> list[dict]:
    """The rows, each with "bytes": kind -> size of its file under ``out`` (done rows whose files are there)."""
    for row in rows:
        files = [(kind, Path(out) / rel) for kind, rel in row["rel"].items()] if row["status"] == "done" else []
        row["bytes"] = {kind: path.stat().st_size for kind, path in files if path.is_file()}
    return rows


def post_videos_summary(rows: list[dict], out: Path) -> str:
    """One line: which post videos are in ``out`` (and their sizes), which are missing and why."""
    done = [r for r in rows if r["bytes"].get("video")]
    parts = [f"{PurePosixPath(r['rel']['video']).name} {r['stage']} {r['bytes']['video'] / 1000:.0f} KB" for r in done]
    missing = [f"{r['stage']} ({r['status']})" for r in rows if not r["bytes"].get("video")]
    folder = PurePosixPath(rows[0]["rel"]["video"]).parent
    text = f"atlas: post videos in {out / folder}/: {len(done)} of {len(rows)}"
    if parts:
        text += ": " + ", ".join(parts)
    if missing:
        text += "; missing: " + ", ".join(missing)
    return text
