"""What to visualize: ImageNet classes (by index, label or WordNet id) and hidden channels.

Class data (index, wnid, label, synonyms, WordNet path) ships in ``generator/data/imagenet_classes.json``.
This module never imports torch: the pipeline and the publish side use it too.

A target's ``id`` is its identity for the engine: it is hashed into every job key and seeds the target's random
generator, so it never changes. The site's names (media ids, page paths) are ``generator/publish/layout.py``'s.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import AtlasError

CLASS_DATA = Path(__file__).parent.parent / "data" / "imagenet_classes.json"
WNID = re.compile(r"^n[0-9]{8}$")
DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() takes '²', which int() then rejects


@dataclass(frozen=True)
class ClassTarget:
    index: int
    label: str
    wnid: str

    kind = "class"

    @property
    def id(self) -> str:  # in every job key: never change it; by index since labels repeat
        return f"class-{self.index:03d}"

    def describe(self) -> dict:
        return {"kind": "class", "id": self.id, "index": self.index, "label": self.label, "wnid": self.wnid}


@dataclass(frozen=True)
class ChannelTarget:
    layer: str
    channel: int

    kind = "channel"

    @property
    def id(self) -> str:  # in every job key: never change it (the raw layer name, unlike the site's slug)
        return f"channel-{self.layer}-{self.channel}"

    @property
    def label(self) -> str:
        return f"{self.layer}:{self.channel}"

    def describe(self) -> dict:
        return {"kind": "channel", "id": self.id, "layer": self.layer, "channel": self.channel, "label": self.label}


Target = ClassTarget | ChannelTarget


@functools.lru_cache(maxsize=1)
def imagenet_classes() -> tuple[dict, ...]:
    return tuple(json.loads(CLASS_DATA.read_text())["classes"])


def class_target(index: int) -> ClassTarget:
    classes = imagenet_classes()
    if not 0 <= index < len(classes):
        raise AtlasError(f"class index {index} out of range 0..{len(classes) - 1}")
    c = classes[index]
    return ClassTarget(c["index"], c["label"], c["wnid"])


def parse_target(text: str) -> Target:
    """'8', 'hen', 'n01514859' -> a class; 'layer4.1:37' -> a hidden channel (checked later, per model)."""
    text = text.strip()
    if not text:
        raise AtlasError("empty target")
    if DIGITS.fullmatch(text):
        return class_target(int(text))
    classes = imagenet_classes()
    if WNID.match(text):
        for c in classes:
            if c["wnid"] == text:
                return class_target(c["index"])
        raise AtlasError(f"unknown WordNet id {text!r} (not one of the 1000 ImageNet classes)")
    layer, sep, channel = text.rpartition(":")
    if sep and DIGITS.fullmatch(channel.strip()) and layer:
        return ChannelTarget(layer.strip(), int(channel))
    return class_by_name(text)


def class_by_name(name: str) -> ClassTarget:
    key = name.casefold()
    classes = imagenet_classes()
    # a label or any WordNet synonym; "crane" names both the bird (134) and the machine (517)
    matches = [c for c in classes if key in {c["label"].casefold(), *(s.casefold() for s in c["synonyms"])}]
    if len(matches) == 1:
        return class_target(matches[0]["index"])
    if matches:
        options = "; ".join(f"{c['index']} ({c['wnid']}: {', '.join(c['synonyms'][:3])})" for c in matches)
        raise AtlasError(f"{name!r} is ambiguous: {options}. Use the index or the WordNet id.")
    names = sorted({c["label"] for c in classes} | {s for c in classes for s in c["synonyms"]})
    close = difflib.get_close_matches(name, names, n=4, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise AtlasError(f"unknown class {name!r}{hint}")


def check_channel(target: ChannelTarget, layer_channels: dict[str, int], model_name: str) -> None:
    """Raise a clear error when the layer does not exist or the channel is out of range."""
    if target.layer not in layer_channels:
        close = difflib.get_close_matches(target.layer, list(layer_channels), n=4, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise AtlasError(
            f"unknown layer {target.layer!r} in {model_name}; {hint}run `atlas layers {model_name}` to list them"
        )
    n = layer_channels[target.layer]
    if not 0 <= target.channel < n:
        raise AtlasError(f"channel {target.channel} out of range for {model_name} {target.layer} (0..{n - 1})")


def check_targets(targets: list[Target], model) -> None:
    """Check channel targets against ``model`` (anything with ``name`` and ``layer_channels()``)."""
    for t in targets:
        if isinstance(t, ChannelTarget):
            check_channel(t, model.layer_channels(), model.name)


def resolve_targets(texts: list[str], model) -> list[Target]:
    """Parse target strings and check channels against ``model``."""
    targets = [parse_target(t) for t in texts]
    check_targets(targets, model)
    return targets
