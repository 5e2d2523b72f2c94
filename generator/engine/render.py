"""The optimization loop: a batch of targets, one model, one recipe.

Each target owns a random generator (seeded by the recipe seed and the target's id) for its initial
image and its transformations, and the loss is a sum of per-target terms, so every target's result
is independent of the batch it was rendered in. A target whose loss or image turns NaN/Inf stops
with an error in its result; the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from generator.engine.models import LoadedModel
from generator.engine.objectives import class_logprob, evaluate
from generator.engine.params import make_param
from generator.engine.recipe import REFERENCE_SIZE, Recipe
from generator.engine.skip_gradient import residual_branch_ends, skip_gradients
from generator.engine.targets import ClassTarget, Target, imagenet_classes
from generator.engine.transforms import random_views


@dataclass
class RenderResult:
    target: Target
    error: str | None = None  # set when the target failed (NaN/Inf); then image is None
    image: np.ndarray | None = None  # final image, (H, W, 3) uint8
    frames: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (step, image) on the frame schedule
    values: list[float] = field(default_factory=list)  # objective per step (logit or channel mean)
    probs: list[float] | None = None  # softmax probability of the class per step (class targets)
    top5: list[dict] = field(default_factory=list)  # the model's top-5 on the final image
    final_value: float | None = None  # objective on the final, untransformed image
    seconds: float = 0.0  # this target's share of the batch's wall time

    @property
    def ok(self) -> bool:
        return self.error is None

    def metrics(self) -> dict:
        return {
            "error": self.error,
            "values": [round(v, 4) for v in self.values],
            "probs": None if self.probs is None else [round(p, 5) for p in self.probs],
            "top5": self.top5,
            "final_value": self.final_value,
            "seconds": round(self.seconds, 3),
        }


def target_seed(seed: int, target: Target) -> int:
    """A stable 63-bit seed per (recipe seed, target): independent of batch composition and of Python's hash salt."""
    digest = hashlib.sha256(f"{seed}:{target.id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def frame_schedule(steps: int, frames: int) -> list[int]:
    """Steps at which to record a frame: dense early (where the image changes most), sparse late.

    Quadratic spacing: with 128 steps and 64 frames, the first frames are a step apart, the last ones about four.
    """
    n = min(frames, steps + 1)
    return sorted({round(steps * (k / (n - 1)) ** 2) for k in range(n)})


def initial_image(gen: torch.Generator, recipe: Recipe) -> torch.Tensor:
    shape = (3, recipe.size, recipe.size)
    if recipe.param == "fourier":
        # pre-sigmoid noise: gray = tiny noise; uniform = noise strong enough to look random
        std = recipe.init_noise if recipe.init == "gray" else 4.0
        return torch.randn(shape, generator=gen) * std
    if recipe.init == "uniform":
        return torch.rand(shape, generator=gen)
    return (0.5 + recipe.init_noise * torch.randn(shape, generator=gen)).clamp(0, 1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [0, 1] -> (N, H, W, 3) uint8."""
    x = images.detach().clamp(0, 1).mul(255).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def view_at(recipe: Recipe, step: int) -> int:
    """The side, px, the model sees at this step (0 = the image's own size)."""
    if recipe.coarse_view and step < recipe.coarse_until * recipe.steps:
        return max(16, round(recipe.coarse_view * recipe.size / REFERENCE_SIZE))  # same share of the image at any size
    return recipe.view


def make_optimizer(params, recipe: Recipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum)
    return torch.optim.Adam(params, lr=recipe.lr)


def lr_at(recipe: Recipe, step: int) -> float:
    """Cosine decay from lr to lr * lr_end over the run (constant when lr_end == 1)."""
    cos = 0.5 * (1 + math.cos(math.pi * step / recipe.steps))
    return recipe.lr * (recipe.lr_end + (1 - recipe.lr_end) * cos)


@torch.no_grad()
def top5(model: LoadedModel, images: torch.Tensor) -> list[list[dict]]:
    size = model.input_size
    if images.shape[-1] != size:
        images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    probs = torch.softmax(model(images).float(), dim=1)
    p, idx = probs.topk(5, dim=1)
    classes = imagenet_classes()
    return [
        [{"index": int(i), "label": classes[int(i)]["label"], "prob": round(float(q), 5)} for q, i in zip(pr, ir)]
        for pr, ir in zip(p, idx)
    ]


def render_batch(model: LoadedModel, targets: list[Target], recipe: Recipe, on_step=None) -> list[RenderResult]:
    """Optimize one image per target. ``on_step(step, steps)`` is called after every step."""
    start = time.perf_counter()
    device = model.device
    results = [RenderResult(t, probs=[] if isinstance(t, ClassTarget) else None) for t in targets]
    gens = [torch.Generator().manual_seed(target_seed(recipe.seed, t)) for t in targets]
    param = make_param(recipe, torch.stack([initial_image(g, recipe) for g in gens]).to(device))
    optimizer = make_optimizer(param.parameters(), recipe)
    record_at = set(frame_schedule(recipe.steps, recipe.frames))
    alive = list(range(len(targets)))
    branch_ends = residual_branch_ends(model.net) if recipe.residual_grad != 1.0 else []

    def fail(i: int, what: str, step: int) -> None:
        results[i].error = f"{what} became NaN/Inf at step {step}; try a lower lr"
        results[i].frames.clear()

    for step in range(recipe.steps + 1):
        image = param.image()
        with torch.no_grad():
            bad = (~torch.isfinite(image[alive]).flatten(1).all(dim=1)).tolist()
        for i, is_bad in zip(list(alive), bad):
            if is_bad:
                fail(i, "image", step)
        alive = [i for i, is_bad in zip(alive, bad) if not is_bad]
        if not alive:
            break
        if step in record_at:
            for i, frame in zip(alive, to_uint8(image[alive])):
                results[i].frames.append((step, frame))
        if step == recipe.steps:
            break

        batch = image if len(alive) == len(targets) else image[alive]  # indexing copies, and so does its backward
        views = random_views(batch, [gens[i] for i in alive], jitter=recipe.jitter, scale=recipe.scale,
                             rotate=recipe.rotate, view=view_at(recipe, step), reference=REFERENCE_SIZE,
                             flip=recipe.flip)
        with skip_gradients(branch_ends, recipe.residual_grad):  # shapes this pass's backward, not its values
            values, logits = evaluate(model, views, [targets[i] for i in alive])
        loss = -values
        if recipe.logprob_weight and logits is not None:
            loss = loss - recipe.logprob_weight * class_logprob(logits, [targets[i] for i in alive])
        if recipe.l2:
            loss = loss + recipe.l2 * (batch - 0.5).pow(2).mean(dim=(1, 2, 3))
        finite = torch.isfinite(loss)
        for i, ok in zip(list(alive), finite.tolist()):
            if not ok:
                fail(i, "loss", step)
        if not bool(finite.all()):
            loss = loss[finite]  # drop failed rows before backward: their NaNs never reach the others
        for group in optimizer.param_groups:
            group["lr"] = lr_at(recipe, step)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        param.after_step()
        if recipe.blur_every and (step + 1) % recipe.blur_every == 0 and step < recipe.blur_until * recipe.steps:
            param.blur_(recipe.blur_sigma)

        with torch.no_grad():
            probs = torch.softmax(logits.float(), dim=1) if logits is not None else None
            for row, i in enumerate(alive):
                if not finite[row]:
                    continue
                results[i].values.append(float(values[row]))
                if results[i].probs is not None:
                    results[i].probs.append(float(probs[row, targets[i].index]))
        alive = [i for i, ok in zip(alive, finite.tolist()) if ok]
        if on_step:
            on_step(step + 1, recipe.steps)

    if alive:
        with torch.no_grad():
            final = param.image()[alive]
            finals, tops = to_uint8(final), top5(model, final)
            final_values, _ = evaluate(model, final, [targets[i] for i in alive])
        for row, i in enumerate(alive):
            results[i].image, results[i].top5 = finals[row], tops[row]
            results[i].final_value = round(float(final_values[row]), 4)
    share = (time.perf_counter() - start) / max(1, len(targets))
    for r in results:
        r.seconds = share
    return results
