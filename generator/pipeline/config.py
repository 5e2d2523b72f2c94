"""Load and validate an atlas config (content/atlas.toml) into dataclasses.

Every mistake is one line naming the file, the line and the key: ``content/atlas.toml:12: unknown key 'stpes' in [recipe]``.
"""

from __future__ import annotations

import ast
import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import AtlasError
from generator.engine.recipe import Recipe, stage_recipe


@dataclass(frozen=True)
class ModelConfig:
    name: str = "resnet18"
    fallback: str = "efficientnet_lite0"  # only when `name`'s weights cannot be had; "" = never


@dataclass(frozen=True)
class ChannelsConfig:
    per_stage: int = 0  # N evenly spaced channels of every stage's output
    explicit: dict[str, list[int]] = field(default_factory=dict)  # {"layer4.1": [37, 42]}


@dataclass(frozen=True)
class VideoConfig:
    fps: int = 20
    hold_s: float = 1.5
    crf: int = 33


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
    video: VideoConfig = VideoConfig()
    ladder: LadderConfig = LadderConfig()
    build: BuildConfig = BuildConfig()
    source: str = "<defaults>"


SECTIONS = {"model": ModelConfig, "channels": ChannelsConfig, "video": VideoConfig, "ladder": LadderConfig, "build": BuildConfig}
TOP_LEVEL = {"title", "classes", "seeds", "recipe", *SECTIONS}


def key_line(text: str, table: str | None, key: str) -> int:
    """Line number (1-based) of ``key = ...`` inside ``[table]`` (None: top level); 0 when not found."""
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("[") and not line.startswith("[["):
            current = line.strip("[] ")
        elif current == table and line.split("=", 1)[0].strip().strip('"') == key and "=" in line:
            return n
    return 0


def load_config(path: Path) -> AtlasConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise AtlasError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AtlasError(f"{path}: invalid TOML: {exc}") from None

    def fail(table, key, message):
        line = key_line(text, table, key)
        where = f"{path}:{line}" if line else str(path)
        raise AtlasError(f"{where}: {message}")

    for key in data:
        if key not in TOP_LEVEL:
            fail(None, key, f"unknown key {key!r}; known: {', '.join(sorted(TOP_LEVEL))}")
    kwargs = {"source": str(path)}
    for name, cls in SECTIONS.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            fail(None, name, f"{name!r} must be a table [{name}]")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in section:
            if key not in known:
                fail(name, key, f"unknown key {key!r} in [{name}]; known: {', '.join(sorted(known))}")
        try:
            kwargs[name] = cls(**section)
        except TypeError as exc:
            fail(name, next(iter(section), name), f"[{name}]: {exc}")
    recipe_table = dict(data.get("recipe", {}))
    stage = recipe_table.pop("stage", "full")
    try:
        kwargs["recipe"] = stage_recipe(stage, **recipe_table)
    except AtlasError as exc:
        bad = next((k for k in recipe_table if k in str(exc)), "stage")
        fail("recipe", bad, str(exc))
    except TypeError as exc:
        fail("recipe", "stage", f"[recipe]: {exc}")
    for key in ("title", "classes", "seeds"):
        if key in data:
            kwargs[key] = data[key]
    config = AtlasConfig(**kwargs)
    checks = [
        (config.classes == "all" or isinstance(config.classes, list), "classes", 'classes must be "all" or a list'),
        (isinstance(config.seeds, list) and config.seeds and all(isinstance(s, int) for s in config.seeds), "seeds",
         "seeds must be a non-empty list of integers"),
        (isinstance(config.channels.per_stage, int) and config.channels.per_stage >= 0, "per_stage", "per_stage must be >= 0"),
        (config.build.batch >= 1 and config.build.gpu_batch >= 1, "batch", "batch sizes must be >= 1"),
    ]
    for ok, key, message in checks:
        if not ok:
            fail(None if key in ("classes", "seeds") else "channels" if key == "per_stage" else "build", key, message)
    return config


def parse_knob(text: str):
    """A CLI knob value: a Python/TOML-ish literal (0.05, 8, true, [0.9, 1.1]) or a bare word."""
    lowered = {"true": "True", "false": "False"}.get(text.lower(), text)
    try:
        return ast.literal_eval(lowered)
    except (ValueError, SyntaxError):
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
