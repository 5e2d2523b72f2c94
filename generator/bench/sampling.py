"""The benchmark's class samples: fixed, spread over the WordNet hierarchy, and disjoint where they must be."""

from __future__ import annotations

import random

from generator.engine.targets import imagenet_classes

EVAL_SEED = 20261127  # drawn once, on 2026-11-27, before any tuning against it; recorded in bench/README.md
TUNING_SIZES = (8, 16, 32)  # every tuning sample used so far (bench/tuning.md)


def _by_hierarchy() -> list[int]:
    """Class indices sorted by their WordNet path: neighbours in this order are relatives."""
    return [c["index"] for c in sorted(imagenet_classes(), key=lambda c: (c["path"], c["index"]))]


def _spread(pool: list[int], n: int) -> list[int]:
    n = min(n, len(pool))
    return [pool[int((k + 0.5) * len(pool) / n)] for k in range(n)]


def bench_classes(n: int = 48) -> list[int]:
    """The benchmark sample: n classes evenly spaced along the hierarchy (fixed, no randomness)."""
    return _spread(_by_hierarchy(), n)


def tuning_classes(n: int = 16, bench_n: int = 48) -> list[int]:
    """A tuning sample disjoint from the benchmark's ``bench_n`` classes, also spread over the hierarchy."""
    taken = set(bench_classes(bench_n))
    return _spread([i for i in _by_hierarchy() if i not in taken], n)


def eval_classes(n: int = 96) -> list[int]:
    """The evaluation sample: n classes drawn at random (fixed seed) from those in no tuning sample and not
    in the benchmark's 48. Recipes are never tuned on it; it is where the default's numbers are reported."""
    taken = set(bench_classes(48)).union(*(tuning_classes(k) for k in TUNING_SIZES))
    return sorted(random.Random(EVAL_SEED).sample([i for i in range(1000) if i not in taken], n))


def ablation_classes(n: int = 16) -> list[int]:
    """The ladder's and the leave-one-out rows' sample: every third of the benchmark's 48 (16 classes)."""
    return bench_classes(48)[0::3][:n]


# --sample NAME -> the sample, called with a size or with its default size
SAMPLES = {"eval": eval_classes, "bench": bench_classes, "tuning": lambda n=32: tuning_classes(n)}
