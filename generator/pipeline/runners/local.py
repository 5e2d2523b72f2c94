"""The local runner: renders batches in this process, one after another.

Every runner yields, per finished batch, (job, meta, files) triples for the driver to store; the Ray runner
(ray.py) renders on workers through this module's ``render_and_package``, so both store the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.engine.lanes import render_in_lanes
from generator.engine.render import RenderResult
from generator.pipeline.artifacts import package


class LocalRunner:
    name = "local"

    def __init__(self, model, video: dict):
        self.model, self.video = model, video

    def run(self, batches, on_step=None) -> Iterator[list[tuple]]:
        """Yield one list of (job, meta, files) per batch, in order. Stops cleanly when the caller stops iterating."""
        for batch in batches:
            yield render_and_package(self.model, batch, self.video, on_step)


def render_and_package(model, batch, video: dict, on_step=None) -> list[tuple]:
    try:
        results = render_in_lanes(model, [j.target for j in batch], batch[0].recipe, on_step=on_step)
    except RuntimeError as exc:  # e.g. out of memory: record, do not lose the rest of the build
        results = [RenderResult(j.target, error=f"render failed: {exc}".splitlines()[0]) for j in batch]
    return package_all(model.identity, batch, results, video)


def package_all(model_identity: dict, batch, results, video: dict) -> list[tuple]:
    """(job, meta, files) for every job of a batch and its result."""
    return [(job, *package(job, r, model_identity, video)) for job, r in zip(batch, results)]
