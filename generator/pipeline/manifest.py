"""The atlas's manifest: what the atlas holds and under which job keys (``manifest.json`` in the store).

One dataclass, one schema version: the plan makes it, ``Store.write_manifest`` writes it and
``Store.read_manifest`` is its only reader (the site, the snippets and the post videos all go through it).
No torch here. The JSON (schema 1)::

    {"schema": 1, "title": str, "model": {name, weights, input_size, ...}, "recipe": {knob: value},
     "video": {"fps", "hold_s", "crf"},
     "classes": [{"index", "key", "seed_keys"}], "channels": [{"layer", "channel", "key", "seed_keys"}],
     "ladder": {"class": index | null, "stages": [{"stage", "note", "key"}], "post_dir", "post_videos"} | null,
     "class_weights": {layer: {channel: [[class index, weight], ...]} | null},
     "made_of": {"layer", "pooled", "per_class", "classes": {index: [[channel, value, share], ...]},
                 "weights": {index: [[channel, weight], ...]}, "users": {channel: [[index, value, share], ...]}},
     "updated": "2026-11-27T12:00:00Z"}

A key that a manifest from an older build lacks reads as its default (``seed_keys``: the entry's one key; the post
videos: the config's defaults; ``made_of``: none, and it is left out when there is none), so an older store needs
no rebuild and reads and writes back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.pipeline.config import AtlasConfig, LadderConfig

SCHEMA = 1  # of manifest.json and of every meta.json


@dataclass(frozen=True)
class ClassEntry:
    index: int
    key: str  # the first seed's job: the one the site shows
    seed_keys: tuple[str, ...]

    def to_json(self) -> dict:
        return {"index": self.index, "key": self.key, "seed_keys": list(self.seed_keys)}

    @classmethod
    def from_json(cls, e: dict) -> ClassEntry:
        return cls(int(e["index"]), str(e["key"]), _seed_keys(e))


@dataclass(frozen=True)
class ChannelEntry:
    layer: str
    channel: int
    key: str
    seed_keys: tuple[str, ...]

    def to_json(self) -> dict:
        return {"layer": self.layer, "channel": self.channel, "key": self.key, "seed_keys": list(self.seed_keys)}

    @classmethod
    def from_json(cls, e: dict) -> ChannelEntry:
        return cls(str(e["layer"]), int(e["channel"]), str(e["key"]), _seed_keys(e))


@dataclass(frozen=True)
class LadderStage:
    stage: str
    note: str
    key: str

    def to_json(self) -> dict:
        return {"stage": self.stage, "note": self.note, "key": self.key}

    @classmethod
    def from_json(cls, e: dict) -> LadderStage:
        return cls(str(e["stage"]), str(e.get("note") or ""), str(e["key"]))


@dataclass(frozen=True)
class Ladder:
    """The recipe ladder replayed on one target: the recipe page and the blog post's videos."""

    target_class: int | None  # the ladder's class; None where the config named a channel
    stages: tuple[LadderStage, ...]
    post_dir: str = LadderConfig.post_dir
    post_videos: dict = field(default_factory=lambda: dict(LadderConfig().post_videos))  # stage -> file name

    def stage_keys(self) -> dict[str, str]:
        return {s.stage: s.key for s in self.stages}

    def to_json(self) -> dict:
        return {"class": self.target_class, "stages": [s.to_json() for s in self.stages],
                "post_dir": self.post_dir, "post_videos": self.post_videos}

    @classmethod
    def from_json(cls, e: dict) -> Ladder:
        defaults = LadderConfig()
        return cls(None if e.get("class") is None else int(e["class"]),
                   tuple(LadderStage.from_json(s) for s in e.get("stages") or []),
                   e.get("post_dir", defaults.post_dir), e.get("post_videos", defaults.post_videos))


@dataclass(frozen=True)
class Part:
    """A channel's part of a class's logit on the class's own image: W[class, channel] x its mean activation."""

    channel: int
    value: float  # in logit units
    share: float  # value / logit


@dataclass(frozen=True)
class Use:
    """A class that a channel is part of (the other way round)."""

    index: int
    value: float
    share: float


@dataclass(frozen=True)
class MadeOf:
    """What each class is made of: the channels of the pooled layer (the one the classifier averages) with the
    largest part of the class's logit, measured on its main image (pipeline/class_channels.py), and who uses them."""

    layer: str  # whose channels are rendered and linked: layer4.1, or _bn1 (EfficientNet-Lite's head, before ReLU6)
    pooled: str  # where the parts are measured: the layer the classifier averages (layer4.1, _avg_pooling)
    per_class: int  # the channels per class the build renders ([channels] per_class)
    classes: dict[int, tuple[Part, ...]]  # class -> its top per_class parts, largest first (measured classes only)
    weights: dict[int, tuple[tuple[int, float], ...]]  # class -> the weight view: (channel, weight), largest first
    users: dict[int, tuple[Use, ...]]  # channel -> the classes it adds most to, by measured value, largest first

    def to_json(self) -> dict:
        return {"layer": self.layer, "pooled": self.pooled, "per_class": self.per_class,
                "classes": {str(i): [[p.channel, p.value, p.share] for p in ps] for i, ps in self.classes.items()},
                "weights": {str(i): [[c, w] for c, w in ws] for i, ws in self.weights.items()},
                "users": {str(c): [[u.index, u.value, u.share] for u in us] for c, us in self.users.items()}}

    @classmethod
    def from_json(cls, e: dict) -> MadeOf:
        return cls(str(e["layer"]), str(e.get("pooled") or e["layer"]), int(e.get("per_class") or 0),
                   {int(i): tuple(Part(int(c), float(v), float(s)) for c, v, s in ps)
                    for i, ps in (e.get("classes") or {}).items()},
                   {int(i): tuple((int(c), float(w)) for c, w in ws) for i, ws in (e.get("weights") or {}).items()},
                   {int(c): tuple(Use(int(i), float(v), float(s)) for i, v, s in us)
                    for c, us in (e.get("users") or {}).items()})


@dataclass(frozen=True)
class Manifest:
    title: str
    model: dict  # the model's identity (name, weights, input size, fallback)
    recipe: dict  # the config's recipe knobs
    video: dict
    classes: tuple[ClassEntry, ...]
    channels: tuple[ChannelEntry, ...]
    ladder: Ladder | None
    class_weights: dict  # layer -> {channel: [[class index, weight], ...]} where the layer feeds the classifier
    updated: str = ""  # set by Store.write_manifest
    made_of: MadeOf | None = None  # None: not measured ([channels] per_class = 0, or an older build)

    def to_json(self) -> dict:
        made_of = {} if self.made_of is None else {"made_of": self.made_of.to_json()}
        return {"schema": SCHEMA, "title": self.title, "model": self.model, "recipe": self.recipe,
                "video": self.video, "classes": [c.to_json() for c in self.classes],
                "channels": [c.to_json() for c in self.channels],
                "ladder": None if self.ladder is None else self.ladder.to_json(),
                "class_weights": self.class_weights, **made_of, "updated": self.updated}

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        """Raises ValueError, with a one-line reason, for another schema or a malformed manifest."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"manifest schema {data.get('schema')!r}, but this atlas reads schema {SCHEMA}")
        if not isinstance(data.get("model"), dict) or not isinstance(data.get("recipe"), dict):
            raise ValueError("corrupt manifest: 'model' and 'recipe' must be objects")
        try:
            return cls(
                title=str(data.get("title") or AtlasConfig.title), model=data["model"], recipe=data["recipe"],
                video=data.get("video") or {},
                classes=tuple(ClassEntry.from_json(e) for e in data.get("classes") or []),
                channels=tuple(ChannelEntry.from_json(e) for e in data.get("channels") or []),
                ladder=Ladder.from_json(data["ladder"]) if data.get("ladder") else None,
                class_weights=data.get("class_weights") or {}, updated=str(data.get("updated") or ""),
                made_of=MadeOf.from_json(data["made_of"]) if data.get("made_of") else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"corrupt manifest: bad entry ({type(exc).__name__}: {exc})") from None

    @property
    def size(self) -> int | None:
        """The recipe's image side in px (what the videos are, unless a job says otherwise)."""
        size = self.recipe.get("size")
        return size if isinstance(size, int) and size > 0 else None


def _seed_keys(e: dict) -> tuple[str, ...]:
    return tuple(str(k) for k in e.get("seed_keys") or [e["key"]])
