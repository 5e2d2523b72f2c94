"""One job as the publish side shows it: done (with its media files), failed (with the error) or pending.

The site, the embed snippets and the post videos read a job only through ``read_published``, so they agree
with each other and with the build: a folder the store does not trust (bad JSON, wrong key or schema, a
missing or resized file) is pending, as it is for `atlas build`, which would render it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.pipeline.store import Store
from generator.publish.layout import media_path


@dataclass
class Published:
    id: str  # media id: class-008, channel-_blocks.15-37, ladder-naive
    status: str = "pending"  # done | failed | pending
    meta: dict = field(default_factory=dict)
    error: str | None = None
    media: dict = field(default_factory=dict)  # kind -> {"url", "src", "width", "height", "bytes", ...}

    @property
    def metrics(self) -> dict:
        return self.meta.get("metrics") or {}

    @property
    def sources(self) -> dict:
        """kind -> the file in the store."""
        return {kind: m["src"] for kind, m in self.media.items()}


def read_published(store: Store, key: str, media_id: str, kinds: tuple, warnings: list,
                   expect: dict | None = None) -> Published:
    """The job under ``key`` with its media of ``kinds``. ``expect``: what its meta's target must say (a job filed
    under the wrong target is pending). Every doubt is pending with a line in ``warnings``."""
    job = Published(media_id)
    folder = store.jobs / key
    meta = store.meta(key)
    if meta is None:
        if (folder / "meta.json").exists():
            warnings.append(f"{folder}: invalid job folder (unreadable meta.json or missing files); shown as pending")
        return job
    target = meta.get("target") if isinstance(meta.get("target"), dict) else {}
    for k, v in (expect or {}).items():
        if target.get(k) != v:
            warnings.append(f"{folder}: target {k}={target.get(k)!r}, expected {v!r}; shown as pending")
            return job
    if meta.get("status") == "failed":
        job.status, job.meta = "failed", meta
        job.error = str(meta.get("error") or "unknown error")
        return job
    media = {}
    for kind in kinds:
        info = meta["files"].get(kind)
        name = info.get("name") if isinstance(info, dict) else None
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
            warnings.append(f"{folder}: meta.json lists no '{kind}' file; shown as pending")
            return job
        media[kind] = {**info, "src": folder / name, "url": media_path(media_id, kind)}
    job.status, job.meta, job.media = "done", meta, media
    return job
