"""Where a build's batches run: ``local`` (this process, local.py) or ``ray`` (a Ray cluster, ray.py)."""

from __future__ import annotations

from generator.errors import AtlasError
from generator.pipeline.runners.local import LocalRunner

RUNNERS = ("local", "ray")


def make_runner_factory(name: str, address: str | None = None):
    """A callable (model, video) -> runner, checked before the model loads so a typo fails fast."""
    if name == "local":
        return LocalRunner
    if name == "ray":
        try:  # Ray is an optional dependency: import it only when asked for
            from generator.pipeline.runners.ray import RayRunner
        except ImportError as exc:
            raise AtlasError(f"--runner ray needs Ray: pip install '.[ray]' ({exc})") from None
        return lambda model, video: RayRunner(model, video, address=address)
    raise ValueError(name)
