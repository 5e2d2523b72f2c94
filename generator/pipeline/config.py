"""Load and validate an atlas config (content/atlas.toml) into dataclasses.

Everything is checked at load, before any model loads: every key's type and range (NaN and inf included), the
enumerations (recipe stages, optimizer, param...), the classes; ``check_layers`` then resolves the ladder target
and the explicit channels against the model's layers (from its architecture: no weights needed). Every mistake
is one line naming the file, the line and the key: ``content/atlas.toml:12: unknown key 'stpes' in [recipe]``.
Values are checked, never converted, so the job keys made from them stay what they were.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from generator.engine.recipe import STAGES, Recipe, is_number, stage_recipe
from generator.engine.targets import ChannelTarget, check_channel, class_target, parse_target
from generator.errors import AtlasError


@dataclass(frozen=True)
class ModelConfig:
    name: str = "resnet18"
    fallback: str = "efficientnet_lite0"  # only when `name`'s weights cannot be had; "" = never


MAX_PER_CLASS = 16  # the contributions kept per class (pipeline/class_channels.py KEEP)


@dataclass(frozen=True)
class ChannelsConfig:
    per_stage: int = 0  # N evenly spaced channels of every stage's output
    explicit: dict[str, list[int]] = field(default_factory=dict)  # {"layer4.1": [37, 42]}
    # the N channels of the pooled layer with the largest part of each class's logit, measured on its image
    per_class: int = 0
    # at most this many channel jobs from per_class (0: no cap), every class's first channel before any class's
    # second: keeps the channels' build time in proportion to the classes' on a model with a wide head
    max: int = 0


@dataclass(frozen=True)
class SamplesConfig:
    """More images of some classes: each gets these seeds too, after the top-level ones (its main image stays)."""

    classes: str | list = field(default_factory=list)  # "all" or classes of the atlas, as in `classes`
    seeds: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class VideoConfig:
    fps: int = 20
    hold_s: float = 1.5
    crf: int = 33  # x264's scale: 0 (lossless) .. 51


@dataclass(frozen=True)
class LadderConfig:
    """The post's recipe ladder replayed on one class: the recipe page and the blog's videos."""

    target: str = "hen"
    stages: list[str] = field(default_factory=lambda: ["naive", "sgd", "gray-init", "robust", "l2", "blur", "fourier", "full"])
    # blog videos: stage -> file name under site/<post_dir>/ (the post embeds /blog/app1.mp4 ... app6.mp4)
    post_dir: str = "blog"
    post_videos: dict[str, str] = field(default_factory=lambda: {
        "naive": "app1.mp4", "sgd": "app2.mp4", "gray-init": "app3.mp4",
        "robust": "app4.mp4", "l2": "app5.mp4", "blur": "app6.mp4"})


@dataclass(frozen=True)
class BuildConfig:
    batch: int = 8  # targets per batch on a CPU
    gpu_batch: int = 64  # targets per batch on a GPU
    site_every: int = 4  # rebuild the site every N batches (and at the end)


@dataclass(frozen=True)
class AtlasConfig:
    title: str = "Feature Atlas"
    model: ModelConfig = ModelConfig()
    recipe: Recipe = field(default_factory=lambda: stage_recipe("full"))
    classes: str | list = "all"  # "all" or a list of indices / labels / WordNet ids
    seeds: list[int] = field(default_factory=lambda: [0])
    channels: ChannelsConfig = ChannelsConfig()
    samples: SamplesConfig = SamplesConfig()
    video: VideoConfig = VideoConfig()
    ladder: LadderConfig = LadderConfig()
    build: BuildConfig = BuildConfig()
    source: str = "<defaults>"


SECTIONS = {"model": ModelConfig, "channels": ChannelsConfig, "samples": SamplesConfig, "video": VideoConfig,
            "ladder": LadderConfig, "build": BuildConfig}
TOP_LEVEL = {"title", "classes", "seeds", "recipe", *SECTIONS}


# ---- the type and range of every key: a check returns what the value must be, or None when it is that


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)  # TOML's true is no 1


def whole(lo: int, hi: int | None = None):
    span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
    return lambda v: None if is_int(v) and lo <= v and (hi is None or v <= hi) else f"a whole number {span}"


def number(lo: float, hi: float):
    def check(v):
        ok = is_number(v) and math.isfinite(v) and lo <= v <= hi
        return None if ok else f"a number {lo:g}..{hi:g}"
    return check


def text(v) -> str | None:
    return None if isinstance(v, str) else "a string"


def name(v) -> str | None:
    return None if isinstance(v, str) and v.strip() else "a non-empty string"


def stage_list(v) -> str | None:
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        return f"a list of stages, e.g. [\"naive\", \"full\"] (known: {', '.join(STAGES)})"
    unknown = [s for s in v if s not in STAGES]
    if unknown:
        return f"a list of known stages ({', '.join(STAGES)}); {unknown[0]!r} is none"
    return "a list without repeats" if len(set(v)) != len(v) else None


def channel_table(v) -> str | None:
    ok = isinstance(v, dict) and all(isinstance(picks, list) and all(is_int(c) and c >= 0 for c in picks)
                                     for picks in v.values())
    return None if ok else 'a table of layer = [channel, ...], e.g. { "layer4.1" = [37, 42] }'


def file_table(v) -> str | None:
    ok = isinstance(v, dict) and all(isinstance(f, str) for f in v.values())
    return None if ok else 'a table of stage = "file.mp4"'


def class_list(v) -> str | None:
    ok = v == "all" or (isinstance(v, list) and all(is_int(c) or isinstance(c, str) for c in v))
    return None if ok else '"all" or a list of class indices, labels or WordNet ids, e.g. [8, "goldfish"]'


def seed_list(v) -> str | None:
    return None if isinstance(v, list) and v and all(is_int(s) for s in v) else "a non-empty list of whole numbers"


def extra_seeds(v) -> str | None:
    ok = isinstance(v, list) and all(is_int(s) for s in v) and len(set(v)) == len(v)
    return None if ok else "a list of whole numbers without repeats, e.g. [0, 1, 2]"


RULES = {
    (None, "title"): text, (None, "classes"): class_list, (None, "seeds"): seed_list,
    ("model", "name"): name, ("model", "fallback"): text,
    ("channels", "per_stage"): whole(0), ("channels", "explicit"): channel_table,
    ("channels", "per_class"): whole(0, MAX_PER_CLASS), ("channels", "max"): whole(0),
    ("samples", "classes"): class_list, ("samples", "seeds"): extra_seeds,
    ("video", "fps"): whole(1, 240), ("video", "hold_s"): number(0, 600), ("video", "crf"): whole(0, 51),
    ("ladder", "target"): name, ("ladder", "stages"): stage_list, ("ladder", "post_dir"): text,
    ("ladder", "post_videos"): file_table,
    ("build", "batch"): whole(1), ("build", "gpu_batch"): whole(1), ("build", "site_every"): whole(1),
}


# ---- where a key is: file:line


TABLE_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")


def key_line(text: str, table: str | None, key: str) -> int:
    """Line number (1-based) of ``key = ...`` inside ``[table]`` (None: top level); 0 when not found."""
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = TABLE_HEADER.match(line)
        if header:
            current = header.group(1).strip('"')
        elif current == table and "=" in line and line.split("=", 1)[0].strip().strip('"') == key:
            return n
    return 0


def located(path: str | Path, text: str, table: str | None, key: str, message: str) -> AtlasError:
    line = key_line(text, table, key)
    return AtlasError(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def describe(table: str | None, key: str) -> str:
    return f"[{table}] {key}" if table else key


# ---- loading


def load_config(path: Path) -> AtlasConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AtlasError(f"{path}: cannot read config ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AtlasError(f"{path}: invalid TOML: {exc}") from None

    def fail(table, key, message):
        raise located(path, text, table, key, message)

    for key in data:
        if key not in TOP_LEVEL:
            fail(None, key, f"unknown key {key!r}; known: {', '.join(sorted(TOP_LEVEL))}")
    kwargs = {"source": str(path)}
    for section, cls in SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            fail(None, section, f"{section!r} must be a table: write [{section}] with its keys under it")
        known = {f.name for f in dataclasses.fields(cls)}
        for key, value in table.items():
            if key not in known:
                fail(section, key, f"unknown key {key!r} in [{section}]; known: {', '.join(sorted(known))}")
            check_value(fail, section, key, value)
        kwargs[section] = cls(**table)
    for key in ("title", "classes", "seeds"):
        if key in data:
            check_value(fail, None, key, data[key])
            kwargs[key] = data[key]
    kwargs["recipe"] = load_recipe(data.get("recipe", {}), fail)
    config = AtlasConfig(**kwargs)
    check_targets(config, fail)
    return config


def check_value(fail, table: str | None, key: str, value) -> None:
    problem = RULES[(table, key)](value)
    if problem:
        fail(table, key, f"{describe(table, key)} must be {problem}, got {toml_value(value)}")


def toml_value(v) -> str:
    """A value as the config spells it (true, not True; "8", not '8')."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = {k: k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_value(k) for k in v}
        return "{ " + ", ".join(f"{keys[k]} = {toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v)


def load_recipe(table, fail) -> Recipe:
    """[recipe]: a stage, then knobs, each checked on its own so an error names its line."""
    if not isinstance(table, dict):
        fail(None, "recipe", f"recipe must be a table: write [recipe] and under it stage = {toml_value(table)}")
    table = dict(table)
    stage = table.pop("stage", "full")
    try:
        base = stage_recipe(stage if isinstance(stage, str) else repr(stage))
    except AtlasError as exc:
        fail("recipe", "stage", f"[recipe] stage: {exc}")
    for key, value in table.items():
        try:
            base.with_(**{key: value})
        except AtlasError as exc:
            fail("recipe", key, in_recipe_table(exc))
    try:
        return base.with_(**table)
    except AtlasError as exc:  # a check between knobs
        fail("recipe", next((k for k in table if k in str(exc)), "stage"), in_recipe_table(exc))


def in_recipe_table(exc: AtlasError) -> str:
    return str(exc).replace("recipe: ", "[recipe] ", 1)


def check_targets(config: AtlasConfig, fail) -> None:
    """Classes and the ladder's target name real classes (or, for the ladder, a LAYER:CHANNEL); the classes with
    more samples are classes of the atlas."""
    atlas = {check_class(item, None, "classes", fail) for item in ([] if config.classes == "all" else config.classes)}
    for item in ([] if config.samples.classes == "all" else config.samples.classes):
        index = check_class(item, "samples", "[samples] classes", fail)
        if config.classes != "all" and index not in atlas:
            fail("samples", "classes", f"[samples] classes: {item!r} is not one of the atlas's classes; add it to "
                                        f"classes")
    samples = config.samples
    if samples.seeds and not samples.classes:
        fail("samples", "seeds", '[samples] seeds: name the classes they are for, e.g. classes = [8, 1] (or "all")')
    if samples.classes and not samples.seeds:
        fail("samples", "classes", "[samples] classes: give their seeds too, e.g. seeds = [0, 1, 2]")
    try:
        parse_target(config.ladder.target)
    except AtlasError as exc:
        fail("ladder", "target", f"[ladder] target: {exc}")


def check_class(item, table: str | None, where: str, fail) -> int:
    """A class of a config list (index, label or WordNet id) -> its index; a channel or an unknown name fails."""
    try:
        target = class_target(item) if is_int(item) else parse_target(item)
    except AtlasError as exc:
        fail(table, "classes", f"{where}: {exc}")
    if isinstance(target, ChannelTarget):
        fail(table, "classes", f"{where}: {item!r} is a channel, not a class; put channels under [channels]")
    return target.index


def check_layers(config: AtlasConfig, layers_of, model: str | None = None) -> None:
    """The ladder target and [channels] explicit, resolved against ``model``'s layers (default: the config's model).

    ``layers_of(name)`` gives a model's {layer: channel count}, e.g. from its architecture alone
    (engine/models.py's ``architecture_layers``): no weights load for this.
    """
    text = Path(config.source).read_text(encoding="utf-8") if Path(config.source).is_file() else ""

    def fail(table, key, message):
        raise located(config.source, text, table, key, message)

    name = model or config.model.name
    try:
        layers = layers_of(name)
    except AtlasError as exc:
        if model:  # named on the command line: no line of the config to point at
            raise
        fail("model", "name", f"[model] name: {exc}")
    for layer, picks in config.channels.explicit.items():
        for c in picks:
            try:
                check_channel(ChannelTarget(layer, c), layers, name)
            except AtlasError as exc:
                fail("channels", "explicit", f"[channels] explicit: {exc}")
    target = parse_target(config.ladder.target)
    if isinstance(target, ChannelTarget):
        try:
            check_channel(target, layers, name)
        except AtlasError as exc:
            fail("ladder", "target", f"[ladder] target: {exc}")


# ---- `atlas render`'s options


def parse_knob(text: str):
    """A CLI knob value: a Python/TOML-ish literal (0.05, 8, true, [0.9, 1.1]) or a bare word."""
    lowered = {"true": "True", "false": "False"}.get(text.lower(), text)
    try:
        return ast.literal_eval(lowered)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_sets(items: list[str]) -> dict:
    """``--set KNOB=VALUE`` options (repeatable) -> {knob: value}."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise AtlasError(f"--set expects KNOB=VALUE, got {item!r}")
        out[key.strip()] = parse_knob(value.strip())
    return out


def recipe_from_options(stage: str, steps: int | None = None, size: int | None = None, seed: int | None = None,
                        sets: list[str] = ()) -> Recipe:
    """`atlas render`'s recipe: a ladder stage, then --steps/--size/--seed, then every --set KNOB=VALUE."""
    overrides = {k: v for k, v in (("steps", steps), ("size", size), ("seed", seed)) if v is not None}
    overrides.update(parse_sets(list(sets)))
    return stage_recipe(stage, **overrides)
