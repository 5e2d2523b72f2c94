"""A synthetic atlas store for site tests: all 1000 classes, a few channels and the ladder, no rendering; with
``made_of``, what each class is made of (3 channels of a pooled layer, some 200 channels in all) and three samples
of a few classes.

Media are tiny but real: one H.264 MP4 (made once per process with imageio-ffmpeg's ffmpeg), and a handful
of colourful PNG/JPEG patterns (Pillow) that ``Store.put`` hard-links (or copies) into every job folder, so
browsers can load them. Everything is written as a build writes it: jobs through ``Store.put`` and
``Store.put_failed``, the manifest through ``Store.write_manifest``. Some jobs are pending (no folder), some
failed (with an error), and a few labels are replaced by awkward ones (apostrophes, commas, quotes, angle
brackets, ampersands) to test escaping.

    store = make_store(tmp / "store")
    counts = build_site(store, tmp / "site", classes=awkward_classes())
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import math
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from generator.engine.recipe import STAGE_NOTES, stage_recipe
from generator.engine.targets import imagenet_classes
from generator.pipeline.config import LadderConfig
from generator.pipeline.manifest import ChannelEntry, ClassEntry, Ladder, LadderStage, MadeOf, Manifest, Part, Use
from generator.pipeline.store import FILE_NAMES, Store

REPO = Path(__file__).resolve().parent.parent
SIZE = 224
THUMB = 160
VIDEO_FRAMES = 24
VARIANTS = 12  # distinct image patterns, assigned by index

PENDING = {7, 250, 501, 998}
FAILED = {13, 607, 999}  # 607 = "jack-o'-lantern"
AWKWARD = {
    3: 'O\'Reilly\'s "tiger" shark, <b>great</b> & white',
    264: "Cardigan Welsh Corgi, the dog's </script><script>alert(1)</script> friend",
    517: "crane",  # unchanged: shares the synonym "crane" with 134 "crane bird"
}
LAYERS = {"_blocks.15": [0, 5, 9, 37, 101], "_conv_head": [3, 37, 200, 511, 1279]}
CHANNEL_PENDING = {("_blocks.15", 5)}
CHANNEL_FAILED = {("_blocks.15", 9)}
LADDER_CLASS = 8
POOLED = "_bn1"  # the layer the classes are made of (rendered; measured at _avg_pooling)
POOLED_CHANNELS = 200  # the channels they draw their 3 from
PER_CLASS = 3
HEN_MADE_OF = (12, 37, 101)  # hen's channels, largest part first; 101 is pending
MADE_OF_PENDING = {101}
SAMPLES = {8: (0, 1, 2), 1: (0, 1, 2), 130: (0, 1, 2)}  # class -> seeds; the first is its main image
SAMPLE_PENDING = {(130, 2)}
LADDER_PENDING = {"fourier"}
MODEL = {
    "name": "efficientnet_lite0", "weights": "efficientnet-lite0-57934424.pth", "input_size": 224,
    "requested": "resnet18", "fallback_reason": "resnet18 weights are not in TORCH_HOME and the network is off",
}


def awkward_classes() -> list[dict]:
    """The real class data with a few labels replaced by hostile ones."""
    out = []
    for c in imagenet_classes():
        c = dict(c)
        if c["index"] in AWKWARD:
            c["label"] = AWKWARD[c["index"]]
            c["synonyms"] = [c["label"], *c["synonyms"][1:], "it's, like, <odd> & \"quoted\""]
        out.append(c)
    return out


def key_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _pattern(variant: int, size: int) -> np.ndarray:
    """A smooth, colourful, feature-visualization-looking pattern (sums of oriented sinusoids)."""
    rng = np.random.default_rng(variant)
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.zeros((size, size, 3))
    for ch in range(3):
        for _ in range(4):
            fx, fy = rng.uniform(-9, 9, 2)
            img[..., ch] += np.sin(2 * math.pi * (fx * x + fy * y) + rng.uniform(0, 6.3))
    img = (img - img.min()) / (np.ptp(img) + 1e-9)
    return (img * 255).astype(np.uint8)


@functools.lru_cache(maxsize=None)
def media_dir() -> Path:
    """Make the shared media once per process: a real MP4 and VARIANTS sets of final/poster/thumb images."""
    root = Path(tempfile.mkdtemp(prefix="atlas-synthetic-media-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for v in range(VARIANTS):
        img = Image.fromarray(_pattern(v, SIZE))
        img.save(root / f"final-{v}.png")
        img.save(root / f"poster-{v}.jpg", quality=80)
        img.resize((THUMB, THUMB), Image.LANCZOS).save(root / f"thumb-{v}.jpg", quality=70)
    from imageio_ffmpeg import get_ffmpeg_exe

    base = _pattern(0, SIZE).astype(np.float32)
    frames = []
    for i in range(VIDEO_FRAMES):
        t = i / (VIDEO_FRAMES - 1)
        noise = np.random.default_rng(i).uniform(0, 255, base.shape)
        frames.append(((1 - t) * noise + t * base).astype(np.uint8))
    cmd = [get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{SIZE}x{SIZE}", "-r", "12", "-i", "-", "-an", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "32", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", str(root / "progress.mp4")]
    subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True, capture_output=True)
    return root


def _files(variant: int) -> tuple[dict, dict]:
    """(meta["files"], role -> source file) of a done job: Store.put links the sources in."""
    media = media_dir()
    info, sources = {}, {}
    for role, src, size in (("final", f"final-{variant}.png", SIZE), ("video", "progress.mp4", SIZE),
                            ("poster", f"poster-{variant}.jpg", SIZE), ("thumb", f"thumb-{variant}.jpg", THUMB)):
        info[role] = {"name": FILE_NAMES[role], "width": size, "height": size}
        sources[role] = media / src
    info["video"].update(frames=VIDEO_FRAMES, fps=12)
    return info, sources


def _curves(rng: random.Random, steps: int, channel: bool) -> tuple[list, list | None]:
    top = rng.uniform(6, 25)
    rate = rng.uniform(8, 40)
    values = [round(-1 + top * (1 - math.exp(-t / rate)) + rng.gauss(0, 0.3), 4) for t in range(steps)]
    if channel:
        return values, None
    probs = [round(1 / (1 + math.exp(-(v - 6) / 1.5)), 5) for v in values]
    return values, probs


def _write_job(store: Store, key: str, target: dict, recipe: dict, *, status: str, seed: int) -> None:
    rng = random.Random(seed)
    channel = target["kind"] == "channel"
    values, probs = _curves(rng, recipe["steps"], channel)
    own = target.get("index", rng.randrange(1000))
    others = rng.sample([i for i in range(1000) if i != own], 4)
    p1 = probs[-1] if probs else rng.uniform(0.2, 0.9)
    top5 = [{"index": own, "label": imagenet_classes()[own]["label"], "prob": round(p1, 4)}]
    rest = 1 - p1
    for i in others:
        rest /= 2
        top5.append({"index": i, "label": imagenet_classes()[i]["label"], "prob": round(rest, 4)})
    meta = {
        "status": status, "error": None, "role": "channel" if channel else "class", "target": target,
        "model": MODEL, "recipe": recipe,
        "metrics": {"values": values, "probs": probs, "top5": top5, "final_value": values[-1],
                    "seconds": round(rng.uniform(3, 9), 2)},
        "timings": {"render_s": round(rng.uniform(3, 9), 2), "encode_s": 0.3}, "files": {},
    }
    if status == "failed":  # a render records the steps before the loss turned NaN, and no top-5
        cut = rng.randrange(10, 60)
        meta["error"] = f"loss became NaN/Inf at step {cut}; try a lower lr"
        meta["metrics"]["values"] = values[:cut]
        if probs:
            meta["metrics"]["probs"] = probs[:cut]
        meta["metrics"]["top5"] = []
        store.put_failed(key, meta)
    else:
        meta["files"], sources = _files(seed % VARIANTS)
        store.put(key, meta, sources)


def _made_of(classes) -> MadeOf:
    """Each measured class's 3 channels (hen's are HEN_MADE_OF), its weight view, and every channel's users."""
    rng = random.Random(15)
    parts, weights = {}, {}
    for i in classes:
        chans = HEN_MADE_OF if i == 8 else rng.sample(range(POOLED_CHANNELS), PER_CLASS)
        weights[i] = tuple((c, round(rng.uniform(0.05, 0.2), 4)) for c in rng.sample(range(POOLED_CHANNELS), 3))
        if i in PENDING or i in FAILED:
            continue
        logit = rng.uniform(10, 25)
        values = sorted((rng.uniform(0.3, 4) for _ in chans), reverse=True)
        parts[i] = tuple(Part(c, round(v, 4), round(v / logit, 4)) for c, v in zip(chans, values))
    users: dict[int, list] = {}
    for i, ps in parts.items():
        for p in ps:
            users.setdefault(p.channel, []).append(Use(i, p.value, p.share))
    return MadeOf(POOLED, "_avg_pooling", PER_CLASS, parts, weights,
                  {c: tuple(sorted(us, key=lambda u: -u.value)[:8]) for c, us in sorted(users.items())})


def make_store(root: Path, *, classes=range(1000), channels: bool = True, ladder: bool = True,
               made_of: bool = False) -> Path:
    """Write a store under root and return it."""
    store = Store(root).ensure_writable()
    recipe = stage_recipe("full").knobs()
    data = imagenet_classes()
    class_entries, channel_entries, class_weights, ladder_entry = [], [], {}, None
    for i in classes:
        c = data[i]
        key = key_of(f"class-{i}")
        target = {"kind": "class", "id": f"class-{i:03d}", "index": i, "label": c["label"], "wnid": c["wnid"]}
        seeds = SAMPLES.get(i, (0,)) if made_of else (0,)
        more = [key_of(f"class-{i}-seed-{s}") for s in seeds[1:]]
        class_entries.append(ClassEntry(i, key, (key, *more)))
        for s, k in zip(seeds[1:], more):
            if (i, s) not in SAMPLE_PENDING:
                _write_job(store, k, target, {**recipe, "seed": s}, status="done", seed=i + 31 * s)
        if i in PENDING:
            continue
        _write_job(store, key, target, recipe, status="failed" if i in FAILED else "done", seed=i)
    if channels:
        rng = random.Random(1)
        for layer, chans in LAYERS.items():
            class_weights[layer] = None
            for ch in chans:
                key = key_of(f"channel-{layer}-{ch}")
                channel_entries.append(ChannelEntry(layer, ch, key, (key,)))
                if layer == "_conv_head":
                    if class_weights[layer] is None:
                        class_weights[layer] = {}
                    top = sorted(rng.sample(range(1000), 5))
                    class_weights[layer][str(ch)] = [[i, round(rng.uniform(0.1, 0.6), 3)] for i in top]
                if (layer, ch) in CHANNEL_PENDING:
                    continue
                target = {"kind": "channel", "id": f"channel-{layer}-{ch}", "layer": layer, "channel": ch,
                          "label": f"{layer}:{ch}"}
                status = "failed" if (layer, ch) in CHANNEL_FAILED else "done"
                _write_job(store, key, target, recipe, status=status, seed=ch + 7)
    made = _made_of(classes) if made_of else None
    for ch in sorted(made.users) if made else []:
        key = key_of(f"channel-{POOLED}-{ch}")
        channel_entries.append(ChannelEntry(POOLED, ch, key, (key,)))
        if ch not in MADE_OF_PENDING:
            target = {"kind": "channel", "id": f"channel-{POOLED}-{ch}", "layer": POOLED, "channel": ch,
                      "label": f"{POOLED}:{ch}"}
            _write_job(store, key, target, recipe, status="done", seed=ch + 11)
    if ladder:
        c = data[LADDER_CLASS]
        stages = []
        for n, stage in enumerate(LadderConfig().stages):  # the ladder a default config replays
            key = key_of(f"ladder-{stage}")
            stages.append(LadderStage(stage, STAGE_NOTES[stage], key))
            if stage in LADDER_PENDING:
                continue
            target = {"kind": "class", "id": f"class-{LADDER_CLASS:03d}", "index": LADDER_CLASS,
                      "label": c["label"], "wnid": c["wnid"]}
            _write_job(store, key, target, stage_recipe(stage).knobs(), status="done", seed=100 + n)
        ladder_entry = Ladder(LADDER_CLASS, tuple(stages))
    store.write_manifest(Manifest("Feature Atlas", MODEL, recipe, {"fps": 12, "hold_s": 0, "crf": 32},
                                  tuple(class_entries), tuple(channel_entries), ladder_entry, class_weights,
                                  made_of=made))
    return root


@functools.lru_cache(maxsize=None)
def built_site() -> tuple[Path, Path, dict]:
    """(store, site, counts): the full synthetic atlas built once per test process (both test files share it)."""
    from generator.publish.site.build import build_site

    root = Path(tempfile.mkdtemp(prefix="atlas-site-test-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    store = make_store(root / "store", made_of=True)
    counts = build_site(store, root / "site", content=REPO / "content", templates=REPO / "templates",
                        classes=awkward_classes())
    return store, root / "site", counts
