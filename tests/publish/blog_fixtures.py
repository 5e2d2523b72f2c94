"""A tiny atlas store for the blog-embedding tests, and an HTML parser that reads snippets as a browser would.

One real 64 px H.264 MP4, poster and PNG stand in for every job; the store is written as a build writes it
(``Store.put``, ``Store.put_failed``, ``Store.write_manifest``): hen (8) and tench (0) done, 607 pending, 13
failed; channels layer4.1:37 and _avg_pooling:12 done; the ladder: every post stage done, fourier pending.
"""

from __future__ import annotations

import functools
import html.parser
from pathlib import Path

import numpy as np

from generator.pipeline.manifest import ChannelEntry, ClassEntry, Ladder, LadderStage, Manifest
from generator.pipeline.store import Store, job_key

SIZE = 64
POST = {"naive": "app1.mp4", "sgd": "app2.mp4", "gray-init": "app3.mp4", "robust": "app4.mp4", "l2": "app5.mp4",
        "blur": "app6.mp4"}


@functools.lru_cache(maxsize=None)
def _media(root: Path) -> dict:
    """A real MP4 (12 frames + hold), poster and PNG at SIZE px, made once."""
    from PIL import Image

    from generator.pipeline.video import encode_progress, write_poster

    root.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    final = (np.stack([np.sin(6 * x), np.cos(5 * y), np.sin(4 * (x + y))], -1) * 127 + 128).astype(np.uint8)
    rng = np.random.default_rng(0)
    frames = [((1 - t) * rng.uniform(0, 255, final.shape) + t * final).astype(np.uint8) for t in np.linspace(0, 1, 12)]
    video = encode_progress(frames, root / "progress.mp4", fps=10, hold_s=0.5)
    poster = write_poster(final, root / "poster.jpg")
    Image.fromarray(final).save(root / "final.png")
    return {"video": {"name": "progress.mp4", **{k: v for k, v in video.items() if k != "bytes"}},
            "poster": {"name": "poster.jpg", "width": poster["width"], "height": poster["height"]},
            "final": {"name": "final.png", "width": SIZE, "height": SIZE}}


def _job(store: Store, key: str, target: dict, *, status: str = "done") -> None:
    meta = {"status": status, "error": "loss became NaN" if status == "failed" else None, "target": target,
            "files": {}, "metrics": {}, "recipe": {"size": SIZE}}
    if status != "done":
        store.put_failed(key, meta)
        return
    media_root = store.root.parent / "media"
    media = _media(media_root)
    meta["files"] = {kind: dict(info) for kind, info in media.items()}
    store.put(key, meta, {kind: media_root / info["name"] for kind, info in media.items()})


def make_store(root: Path) -> Path:
    store = Store(root / "store").ensure_writable()
    classes = {8: ("hen", "done"), 0: ("tench", "done"), 607: ("jack-o'-lantern", "pending"), 13: ("junco", "failed")}
    class_entries = []
    for i, (label, status) in classes.items():
        key = job_key(test=f"class-{i}")
        class_entries.append(ClassEntry(i, key, (key,)))
        if status != "pending":
            _job(store, key, {"kind": "class", "index": i, "label": label}, status=status)
    channels = []
    for layer, channel in (("layer4.1", 37), ("_avg_pooling", 12)):
        key = job_key(test=f"channel-{layer}-{channel}")
        channels.append(ChannelEntry(layer, channel, key, (key,)))
        _job(store, key, {"kind": "channel", "layer": layer, "channel": channel})
    stages = []
    for stage in [*POST, "fourier"]:
        key = job_key(test=f"ladder-{stage}")
        stages.append(LadderStage(stage, "", key))
        if stage != "fourier":
            _job(store, key, {"kind": "class", "index": 8, "label": "hen"})
    store.write_manifest(Manifest("t", {"name": "tiny"}, {"size": SIZE}, {}, tuple(class_entries), tuple(channels),
                                  Ladder(8, tuple(stages), "blog", POST), {}))
    return store.root


class Parsed(html.parser.HTMLParser):
    """Tags with their attributes, and the figcaption's text, as a browser would read them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.caption = ""
        self._in_caption = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_caption += tag == "figcaption"

    def handle_endtag(self, tag):
        self._in_caption -= tag == "figcaption"

    def handle_data(self, data):
        if self._in_caption:
            self.caption += data

    def first(self, tag: str) -> dict:
        return next(a for t, a in self.tags if t == tag)
