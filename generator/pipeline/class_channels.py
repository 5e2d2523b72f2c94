"""Which hidden channels make each class: measured on the class's own rendered image, cached in the store.

After a class job is done, its final image goes through the model once more, and the pooled layer's channels are
ranked by their part of the class logit (engine/contributions.py). The top channels of every class become channel
jobs of the same build (``[channels] per_class``; rendered at ``render_layer``: the pooled layer, or its uncapped
input), and the class and channel pages link to each other (the manifest's ``made_of``).

The measurements are cached in ``<store>/contributions/<model>-<digest>.json`` ({job key: [[channel, value, share],
...]}, through the Store's API): a job's pixels never change under its key, so neither does its measurement, and a
rerun measures only new jobs. An entry of the wrong shape, or an unreadable file, is measured again, never trusted.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image

from generator.engine.contributions import classifier, head_layers, measure, weight_ranking
from generator.engine.models import LoadedModel
from generator.pipeline.config import MAX_PER_CLASS
from generator.pipeline.manifest import MadeOf, Part, Use
from generator.pipeline.store import Store

KEEP = MAX_PER_CLASS  # contributions kept per class: enough for `per_class` and for the channel pages' users
USERS = 8  # classes listed per channel
BATCH = 32  # final images per forward pass
CACHE = "contributions"


@dataclass(frozen=True)
class ClassChannels:
    """What the plan and the pages need: the layers, and the top channels of every measured class."""

    layer: str | None  # whose channels are rendered and linked (engine/contributions.py render_layer)
    pooled: str | None  # where the parts are measured: the layer the classifier averages
    measured: dict[int, tuple[Part, ...]]  # class index -> its KEEP largest parts, largest first (render order)
    weights: dict[int, tuple[tuple[int, float], ...]]  # class index -> the weight view: (channel, weight)

    def top(self, per_class: int) -> list[int]:
        """The channels among some class's top ``per_class``, every class's first before any class's second, so a
        build stopped partway has given the most classes their strongest channel."""
        ranked = (parts[r].channel for r in range(per_class) for parts in self.measured.values() if r < len(parts))
        return list(dict.fromkeys(ranked))

    def users(self, channel: int, n: int = USERS) -> tuple[Use, ...]:
        """The classes whose images this channel adds most to (among each class's KEEP largest parts)."""
        uses = [Use(i, p.value, p.share) for i, parts in self.measured.items() for p in parts if p.channel == channel]
        return tuple(sorted(uses, key=lambda u: (-u.value, u.index))[:n])

    def forecast(self) -> ClassChannels:
        """The measured classes as they are, the others by the weight view: what the time estimate assumes about
        the channels of classes not rendered yet."""
        guess = {i: tuple(Part(c, w, 0.0) for c, w in ws) for i, ws in self.weights.items()}
        return replace(self, measured={i: self.measured.get(i, guess.get(i, ())) for i in self.weights})

    def made_of(self, per_class: int, channels: list[int]) -> MadeOf | None:
        """The manifest's record: each class's top ``per_class`` and its weight view, and the users of ``channels``
        (the pooled layer's channels that have pages)."""
        if self.layer is None:
            return None
        return MadeOf(self.layer, self.pooled, per_class, {i: parts[:per_class] for i, parts in self.measured.items()},
                      {i: ws[:per_class] for i, ws in self.weights.items()},
                      {c: us for c in sorted(channels) if (us := self.users(c))})


class Contributions:
    """One model's measurements of a store's class jobs: the cache, read once, measured into, saved."""

    def __init__(self, model: LoadedModel, store: Store):
        self.model, self.store = model, store
        self.pooled, self.layer = head_layers(model)
        fc = classifier(model)
        self.weights = None if fc is None or self.pooled is None else fc.weight.detach().float().cpu()
        self.name = cache_name(model, self.pooled)
        n = 0 if self.weights is None else self.weights.shape[1]
        self.cache = {k: v for k, v in store.read_cache(CACHE, self.name).items() if valid(v, min(KEEP, n), n)}

    def measure(self, class_keys: dict[int, str]) -> int:
        """Measure every done job of ``class_keys`` ({index: job key}) that the cache lacks; returns how many."""
        if self.weights is None:
            return 0
        todo = [(i, k) for i, k in class_keys.items() if k not in self.cache]
        done = 0
        for s in range(0, len(todo), BATCH):
            loaded = [(i, k, x) for i, k in todo[s:s + BATCH] if (x := load_image(self.store, k, self.model)) is not None]
            if not loaded:
                continue
            images = torch.stack([x for _, _, x in loaded])
            for (_, k, _), parts in zip(loaded, measure(self.model, images, [i for i, _, _ in loaded], KEEP, self.pooled)):
                self.cache[k] = [[p.channel, p.value, p.share] for p in parts]
            done += len(loaded)
        if done:
            self.store.write_cache(CACHE, self.name, self.cache)
        return done

    def channels(self, class_keys: dict[int, str]) -> ClassChannels:
        """The measured classes of ``class_keys`` (in its order) and the weight view of all of them."""
        if self.weights is None:
            return ClassChannels(None, None, {}, {})
        measured = {i: tuple(Part(int(c), float(v), float(s)) for c, v, s in self.cache[k])
                    for i, k in class_keys.items() if k in self.cache}
        weights = {i: tuple(weight_ranking(self.weights, i, KEEP)) for i in class_keys}
        return ClassChannels(self.layer, self.pooled, measured, weights)


def cache_name(model: LoadedModel, layer: str | None) -> str:
    """One cache per model, weights, layer and KEEP: any of them changes every measurement."""
    digest = hashlib.sha256(f"{model.name}:{model.weights}:{layer}:{KEEP}".encode()).hexdigest()[:12]
    return f"{model.name}-{digest}"


def valid(entry, width: int, channels: int) -> bool:
    """A cached measurement: ``width`` [channel, value, share] triples (a channel of the layer, finite numbers),
    values falling."""
    if not isinstance(entry, list) or len(entry) != width:
        return False
    for e in entry:
        if not (isinstance(e, list) and len(e) == 3 and isinstance(e[0], int) and not isinstance(e[0], bool)
                and 0 <= e[0] < channels and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in e[1:])):
            return False
    return all(a[1] >= b[1] for a, b in zip(entry, entry[1:]))


def load_image(store: Store, key: str, model: LoadedModel) -> torch.Tensor | None:
    """A done job's final image in [0, 1] at the model's input size; None when it is not done or not readable."""
    path = store.job_file(key, "final")
    if path is None:
        return None
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.size != (model.input_size, model.input_size):
                im = im.resize((model.input_size, model.input_size), Image.BILINEAR)
            x = np.asarray(im, dtype=np.float32) / 255.0
    except (OSError, ValueError):  # a truncated or not-an-image file of the right size
        return None
    return torch.from_numpy(x).permute(2, 0, 1)
