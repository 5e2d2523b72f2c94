"""Config -> the list of jobs (target x recipe x seed x model) with their content keys, and the manifest.

Jobs come out in render order: the recipe ladder first (one class, every stage), then the classes in an
order that covers the WordNet hierarchy early (so a build stopped at 5 % already shows fish, dogs, tools
and food, not 50 fish), then the extra samples of some classes ([samples]), then the hidden channels: those of
[channels] per_stage and explicit, then each class's top channels ([channels] per_class), known only once the
classes are rendered and measured (``made_of``, from pipeline/class_channels.py; build.py plans twice).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.engine.contributions import classifier_drive
from generator.engine.models import stage_outputs
from generator.engine.recipe import STAGE_NOTES, Recipe, ladder_recipe
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
    class_keys: dict[int, str]  # each class's main job (the one its page shows), in render order


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


def class_seeds(config: AtlasConfig, samples: set[int] | None, index: int) -> tuple[list[int], list[int]]:
    """(the seeds every class gets, the extra seeds of a class with more samples): the top-level seeds come first,
    so a class's main image is the same with or without [samples]."""
    extra = config.samples.seeds if samples is None or index in samples else []
    return config.seeds, [s for s in dict.fromkeys(extra) if s not in config.seeds]


def sampled_classes(config: AtlasConfig) -> set[int] | None:
    """The classes of [samples] (None: all of them)."""
    if config.samples.classes == "all":
        return None
    return {class_target(c).index if isinstance(c, int) else parse_target(str(c)).index for c in config.samples.classes}


def made_of_channels(config: AtlasConfig, made_of, taken: list[ChannelTarget]) -> list[ChannelTarget]:
    """The top ``per_class`` channels of every measured class (at the layer rendered for the pooled one), less those
    already chosen, at most ``[channels] max`` of them (every class's first before any class's second)."""
    if made_of is None or made_of.layer is None or not config.channels.per_class:
        return []
    seen = {(t.layer, t.channel) for t in taken}
    top = made_of.top(config.channels.per_class)
    if config.channels.max:
        top = top[:config.channels.max]
    return [ChannelTarget(made_of.layer, c) for c in top if (made_of.layer, c) not in seen]


def make_plan(config: AtlasConfig, model, made_of=None) -> Plan:
    """``model``: a LoadedModel (its name, weights and layers decide keys and channels). ``made_of``: the classes'
    measured channels (class_channels.ClassChannels), or None before any is known."""
    video = {"fps": config.video.fps, "hold_s": config.video.hold_s, "crf": config.video.crf}

    def job(target: Target, recipe: Recipe, role: str) -> Job:
        key = job_key(model=model.name, weights=model.weights, recipe=recipe.key_knobs(), target=target.id, video=video)
        return Job(key, target, recipe, role)

    jobs: list[Job] = []
    ladder_target = parse_target(config.ladder.target)
    check_targets([ladder_target], model)  # the config was checked against its model; a fallback has other layers
    ladder = []
    for stage in config.ladder.stages:
        j = job(ladder_target, ladder_recipe(config.recipe, stage), "ladder")
        jobs.append(j)
        ladder.append(LadderStage(stage, STAGE_NOTES[stage], j.key))

    class_entries, channel_entries, samples = [], [], []
    sampled = sampled_classes(config)
    for index in hierarchy_order(resolve_classes(config)):
        seeds, extra = class_seeds(config, sampled, index)
        keys = [job(class_target(index), config.recipe.with_(seed=s), "class") for s in seeds]
        more = [job(class_target(index), config.recipe.with_(seed=s), "class") for s in extra]
        jobs.extend(keys)
        samples.extend(more)
        class_entries.append(ClassEntry(index, keys[0].key, tuple(k.key for k in keys + more)))
    jobs.extend(samples)  # after every class's main image: the extras are a bonus
    chosen = select_channels(config, model)
    channel_targets = chosen + made_of_channels(config, made_of, chosen)
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
        made_of=None if made_of is None or not config.channels.per_class else made_of.made_of(
            config.channels.per_class, [t.channel for t in channel_targets if t.layer == made_of.layer]),
    )
    unique = list({j.key: j for j in jobs}.values())  # the same job twice (ladder 'full' = a class job) renders once
    return Plan(unique, manifest, {e.index: e.key for e in class_entries})


def batches(jobs: list[Job], size: int) -> list[list[Job]]:
    """Consecutive jobs that share a recipe, at most ``size`` per batch (a batch runs one recipe)."""
    out: list[list[Job]] = []
    for j in jobs:
        if out and len(out[-1]) < size and out[-1][0].recipe == j.recipe:
            out[-1].append(j)
        else:
            out.append([j])
    return out
