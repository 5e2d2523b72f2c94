"""Config -> the list of jobs (target x recipe x seed x model) with their content keys, and the manifest.

Jobs come out in render order: the recipe ladder first (one class, every stage), then the classes in an
order that covers the WordNet hierarchy early (so a build stopped at 5 % already shows fish, dogs, tools
and food, not 50 fish), then the hidden channels.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.engine.models import classifier_drive, stage_outputs
from generator.engine.recipe import STAGE_NOTES, Recipe, stage_recipe
from generator.engine.targets import (ChannelTarget, ClassTarget, Target, check_channel, check_targets, class_target,
                                      imagenet_classes, parse_target)
from generator.errors import AtlasError
from generator.pipeline.config import AtlasConfig
from generator.pipeline.manifest import ChannelEntry, ClassEntry, Ladder, LadderStage, Manifest
from generator.pipeline.store import job_key


@dataclass(frozen=True)
class Job:
    key: str
    target: Target
    recipe: Recipe
    role: str  # "class" | "channel" | "ladder"


@dataclass
class Plan:
    jobs: list[Job]
    manifest: Manifest


def spread_order(n: int) -> list[int]:
    """A permutation of range(n) whose every prefix is spread evenly over 0..n-1 (bit-reversal order)."""
    bits = max(1, (n - 1).bit_length())
    seen, order = set(), []
    for k in range(1 << bits):
        i = int(format(k, f"0{bits}b")[::-1], 2) * n >> bits
        if i not in seen:
            seen.add(i)
            order.append(i)
    return order + [i for i in range(n) if i not in seen]


def hierarchy_order(indices: list[int]) -> list[int]:
    """Class indices sorted along the WordNet tree, then taken in spread order."""
    classes = imagenet_classes()
    tree = sorted(indices, key=lambda i: [p.casefold() for p in classes[i]["path"]])
    return [tree[i] for i in spread_order(len(tree))]


def evenly_spaced(count: int, n: int) -> list[int]:
    if n >= count:
        return list(range(count))
    return sorted({round(k * (count - 1) / (n - 1)) for k in range(n)}) if n > 1 else [count // 2]


def select_channels(config: AtlasConfig, model) -> list[ChannelTarget]:
    channels = model.layer_channels()
    chosen: dict[str, list[int]] = {}
    if config.channels.per_stage:
        for layer in stage_outputs(model):
            chosen[layer] = evenly_spaced(channels[layer], config.channels.per_stage)
    for layer, picks in config.channels.explicit.items():
        for c in picks:
            check_channel(ChannelTarget(layer, int(c)), channels, model.name)
        chosen[layer] = sorted(set(chosen.get(layer, [])) | {int(c) for c in picks})
    return [ChannelTarget(layer, c) for layer, picks in chosen.items() for c in picks]


def resolve_classes(config: AtlasConfig) -> list[int]:
    if config.classes == "all":
        return list(range(len(imagenet_classes())))
    indices = []
    for item in config.classes:
        t = class_target(item) if isinstance(item, int) else parse_target(str(item))
        if isinstance(t, ChannelTarget):
            raise_bad_class(item)
        indices.append(t.index)
    return list(dict.fromkeys(indices))


def raise_bad_class(item) -> None:
    raise AtlasError(f"classes: {item!r} is a channel, not a class; put channels under [channels]")


def make_plan(config: AtlasConfig, model) -> Plan:
    """``model``: a LoadedModel (its name, weights and layers decide keys and channels)."""
    video = {"fps": config.video.fps, "hold_s": config.video.hold_s, "crf": config.video.crf}

    def job(target: Target, recipe: Recipe, role: str) -> Job:
        key = job_key(model=model.name, weights=model.weights, recipe=recipe.key_knobs(), target=target.id, video=video)
        return Job(key, target, recipe, role)

    jobs: list[Job] = []
    ladder_target = parse_target(config.ladder.target)
    check_targets([ladder_target], model)  # the config was checked against its model; a fallback has other layers
    ladder = []
    for stage in config.ladder.stages:
        base = stage_recipe(stage)
        recipe = config.recipe.with_(**{k: v for k, v in base.knobs().items() if k not in ("steps", "size", "seed", "frames")})
        j = job(ladder_target, recipe, "ladder")
        jobs.append(j)
        ladder.append(LadderStage(stage, STAGE_NOTES[stage], j.key))

    class_entries, channel_entries = [], []
    for index in hierarchy_order(resolve_classes(config)):
        keys = [job(class_target(index), config.recipe.with_(seed=s), "class") for s in config.seeds]
        jobs.extend(keys)
        class_entries.append(ClassEntry(index, keys[0].key, tuple(k.key for k in keys)))
    channel_targets = select_channels(config, model)
    for t in channel_targets:
        keys = [job(t, config.recipe.with_(seed=s), "channel") for s in config.seeds]
        jobs.extend(keys)
        channel_entries.append(ChannelEntry(t.layer, t.channel, keys[0].key, tuple(k.key for k in keys)))

    layers = dict.fromkeys(t.layer for t in channel_targets)
    drive = {layer: classifier_drive(model, layer, [t.channel for t in channel_targets if t.layer == layer]) for layer in layers}
    manifest = Manifest(
        title=config.title, model=model.identity, recipe=config.recipe.record(), video=video,
        classes=tuple(sorted(class_entries, key=lambda e: e.index)), channels=tuple(channel_entries),
        ladder=Ladder(ladder_target.index if isinstance(ladder_target, ClassTarget) else None, tuple(ladder),
                      config.ladder.post_dir, config.ladder.post_videos),
        class_weights={k: v for k, v in drive.items() if v},
    )
    unique = list({j.key: j for j in jobs}.values())  # the same job twice (ladder 'full' = a class job) renders once
    return Plan(unique, manifest)


def batches(jobs: list[Job], size: int) -> list[list[Job]]:
    """Consecutive jobs that share a recipe, at most ``size`` per batch (a batch runs one recipe)."""
    out: list[list[Job]] = []
    for j in jobs:
        if out and len(out[-1]) < size and out[-1][0].recipe == j.recipe:
            out[-1].append(j)
        else:
            out.append([j])
    return out
