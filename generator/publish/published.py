"""One job as the publish side shows it: done (with its media files), failed (with the error) or pending.

The site, the embed snippets and the post videos read a job only through ``read_published``, so they agree
with each other and with the build: a folder the store does not trust (bad JSON, wrong key or schema, a
missing or resized file) is pending, as it is for `atlas build`, which would render it again. A media file that
does not resolve inside the store's jobs/ (a link out of it) is never published, linked or exported. The error
and the model a page shows are public_text (no local paths or host names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.pipeline.store import Store
from generator.publish.layout import media_path
from generator.publish.public import public_model, public_text


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
    meta = {**meta, "model": public_model(meta.get("model"))}
    if meta.get("status") == "failed":
        job.status, job.meta = "failed", meta
        job.error = public_text(meta.get("error") or "unknown error")
        return job
    media = {}
    jobs = store.jobs.resolve()
    for kind in kinds:
        info = meta["files"].get(kind)
        if not isinstance(info, dict) or not all(isinstance(info.get(k), int) for k in ("width", "height")):
            warnings.append(f"{folder}: meta.json lists no '{kind}' file with its size; shown as pending")
            return job
        src = folder / info["name"]  # a plain name: Store.meta checked it
        if not src.resolve().is_relative_to(jobs):
            warnings.append(f"{folder}: its '{kind}' file leads out of the store; shown as pending")
            return job
        media[kind] = {**info, "src": src, "url": media_path(media_id, kind)}
    job.status, job.meta, job.media = "done", meta, media
    return job
