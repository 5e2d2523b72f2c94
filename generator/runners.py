"""Where jobs run. The local runner renders batches in this process; a cluster runner (Ray) does the
same on workers. Both yield, per finished batch, (job, meta, files) triples for the driver to store."""

from __future__ import annotations

from collections.abc import Iterator

from generator.artifacts import package
from generator.render import RenderResult, render_batch


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
        results = render_batch(model, [j.target for j in batch], batch[0].recipe, on_step=on_step)
    except RuntimeError as exc:  # e.g. out of memory: record, do not lose the rest of the build
        results = [RenderResult(j.target, error=f"render failed: {exc}".splitlines()[0]) for j in batch]
    return [(job, *package(job, r, model.identity, video)) for job, r in zip(batch, results)]


def make_runner_factory(name: str, address: str | None = None):
    """A callable (model, video) -> runner, checked before the model loads so a typo fails fast."""
    if name == "local":
        return LocalRunner
    if name == "ray":
        from generator.errors import AtlasError

        try:
            from generator.ray_runner import RayRunner
        except ImportError as exc:
            raise AtlasError(f"--runner ray needs Ray: pip install '.[ray]' ({exc})") from None
        return lambda model, video: RayRunner(model, video, address=address)
    raise ValueError(name)
