"""`atlas render`: targets -> a plain folder, not the store: out/<target id>/final.png, frames/step-NNNN.png
and metrics.json (target, model, recipe, the per-step metrics)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import imageio.v3 as iio

from generator.engine.lanes import render_in_lanes
from generator.engine.models import architecture_layers
from generator.engine.targets import ChannelTarget, check_channel, check_targets


def check_channels(targets: list, model_name: str) -> None:
    """Channel targets against the model's architecture, before any weights load (a fallback model is checked
    again once loaded)."""
    channels = [t for t in targets if isinstance(t, ChannelTarget)]
    if channels:
        layers = architecture_layers(model_name)
        for t in channels:
            check_channel(t, layers, model_name)


def render_targets(model, targets: list, recipe, out: Path, batch_size: int) -> int:
    """Render every target into out/<target id>/; returns how many failed."""
    check_targets(targets, model)
    failed = 0
    print(f"atlas: rendering {len(targets)} target(s) with {model.name} on {model.device}, recipe {recipe.stage}, "
          f"{recipe.steps} steps at {recipe.size} px", file=sys.stderr)
    for start in range(0, len(targets), batch_size):
        for r in render_in_lanes(model, targets[start:start + batch_size], recipe):
            folder = out / r.target.id
            (folder / "frames").mkdir(parents=True, exist_ok=True)
            meta = {"target": r.target.describe(), "model": model.identity, "recipe": recipe.record(), **r.metrics()}
            (folder / "metrics.json").write_text(json.dumps(meta, indent=1))
            if not r.ok:
                failed += 1
                print(f"atlas: {r.target.label}: failed: {r.error}", file=sys.stderr)
                continue
            iio.imwrite(folder / "final.png", r.image)
            for step, frame in r.frames:
                iio.imwrite(folder / "frames" / f"step-{step:04d}.png", frame)
            best = r.top5[0]
            print(f"{r.target.label}: {folder / 'final.png'}  top-1 {best['label']} ({best['prob']:.1%}), "
                  f"{r.seconds:.1f} s")
    return failed
