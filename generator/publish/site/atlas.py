"""The store as the pages see it: every class, channel and ladder stage of the manifest with its published
job, the classes' hierarchy, and the links and labels that several page kinds share."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from generator.pipeline.manifest import Manifest
from generator.pipeline.store import Store
from generator.publish.layout import (LADDER_KINDS, SAMPLE_KINDS, TARGET_KINDS, channel_media_id, channel_page,
                                      class_media_id, class_page, class_sample_media_id, ladder_media_id)
from generator.publish.published import Published, read_published
from generator.publish.site.hierarchy import Node, build_tree

STATUSES = ("done", "pending", "failed")


@dataclass
class Atlas:
    manifest: Manifest
    all_classes: dict[int, dict]  # every ImageNet class's data, by index
    jobs: dict[int, Published]  # the atlas's classes, by index (sorted)
    nodes: list[Node]  # the hierarchy of the atlas's classes
    where: dict[int, int]  # class index -> its node
    layers: dict[str, list[dict]]  # layer -> its channels ({layer, channel, job, id, url}), by channel
    ladder: dict | None  # {"class": index | None, "stages": [{stage, note, job}]}
    samples: dict[int, list[Published]]  # class index -> its further samples ([samples] seeds), in seed order

    @property
    def made_of(self):
        """What each class is made of (manifest.MadeOf), or None."""
        return self.manifest.made_of

    @property
    def indices(self) -> list[int]:
        return list(self.jobs)

    @property
    def classes(self) -> list[dict]:
        return [self.all_classes[i] for i in self.jobs]

    @property
    def channel_jobs(self) -> list[Published]:
        return [c["job"] for chans in self.layers.values() for c in chans]

    def counts(self, jobs: list[Published]) -> dict[str, int]:
        return {k: sum(j.status == k for j in jobs) for k in STATUSES}

    def class_link(self, i: int) -> dict:
        c = self.all_classes.get(i, {"label": f"class {i}"})
        job = self.jobs.get(i)
        thumb = job.media.get("thumb") if job else None
        return {"index": i, "label": c["label"], "url": class_page(i) if i in self.jobs else None,
                "thumb": thumb, "status": job.status if job else "absent"}

    @functools.cached_property
    def channels(self) -> dict[tuple[str, int], dict]:
        """(layer, channel) -> the channel's entry in ``layers``."""
        return {(c["layer"], c["channel"]): c for chans in self.layers.values() for c in chans}

    def channel_link(self, layer: str, channel: int) -> dict:
        """A channel as a card: its page and thumbnail when the atlas has it, else its label alone."""
        ch = self.channels.get((layer, channel))
        job = ch["job"] if ch else None
        return {"index": channel, "label": f"{layer}:{channel}", "url": ch["url"] if ch else None,
                "thumb": job.media.get("thumb") if job else None, "status": job.status if job else "absent"}

    def top5_rows(self, job: Published, own: int | None) -> list[dict]:
        """The model's top-5 on a final image, each linked to its class; ``own``: the target's class."""
        rows = []
        for r in (job.metrics.get("top5") or [])[:5]:
            try:
                i, p = int(r["index"]), float(r["prob"])
            except (KeyError, TypeError, ValueError):
                continue
            rows.append({**self.class_link(i), "prob": p, "is_self": i == own})
        return rows

    def ladder_label(self) -> str:
        ladder = self.ladder
        if not ladder:
            return ""
        if ladder["class"] is not None:
            return self.all_classes.get(ladder["class"], {}).get("label", f"class {ladder['class']}")
        for s in ladder["stages"]:
            label = (s["job"].meta.get("target") or {}).get("label")
            if label:
                return str(label)
        return "the ladder's target"


def read_atlas(store: Store, manifest: Manifest, all_classes: dict[int, dict], warnings: list) -> Atlas:
    # classes in the atlas, by index; unknown indices are skipped with a warning
    keys = {}
    for e in manifest.classes:
        if e.index not in all_classes:
            warnings.append(f"manifest class index {e.index} is not an ImageNet class; skipped")
            continue
        keys[e.index] = e.key
    jobs = {i: read_published(store, keys[i], class_media_id(i), TARGET_KINDS, warnings, {"index": i})
            for i in sorted(keys)}
    nodes, where = build_tree([all_classes[i] for i in jobs])
    samples = {e.index: [read_published(store, k, class_sample_media_id(e.index, n), SAMPLE_KINDS, warnings,
                                        {"index": e.index}) for n, k in enumerate(e.seed_keys[1:], 2)]
               for e in manifest.classes if e.index in jobs and len(e.seed_keys) > 1}

    # channels, grouped by layer in manifest order
    layers: dict[str, list] = {}
    for e in manifest.channels:
        mid = channel_media_id(e.layer, e.channel)
        job = read_published(store, e.key, mid, TARGET_KINDS, warnings, {"layer": e.layer, "channel": e.channel})
        layers.setdefault(e.layer, []).append({"layer": e.layer, "channel": e.channel, "job": job, "id": mid,
                                               "url": channel_page(e.layer, e.channel)})
    for chans in layers.values():
        chans.sort(key=lambda c: c["channel"])

    # the ladder: its target is a class (or None where the config named a channel)
    ladder = None
    if manifest.ladder and manifest.ladder.stages:
        lc = manifest.ladder.target_class
        expect = {} if lc is None else {"index": lc}
        stages = [{"stage": s.stage, "note": s.note,
                   "job": read_published(store, s.key, ladder_media_id(s.stage), LADDER_KINDS, warnings, expect)}
                  for s in manifest.ladder.stages]
        ladder = {"class": lc, "stages": stages}
    return Atlas(manifest, all_classes, jobs, nodes, where, layers, ladder, samples)
