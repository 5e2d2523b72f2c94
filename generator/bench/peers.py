"""The benchmark's peer: Lucent 0.1.8 with its defaults, on the same classes, model and image size as ours.

The peer is for the benchmark only, not a project dependency. Install it without letting pip touch torch:

    .venv/bin/pip install torch-lucent==0.1.8 --no-deps
    .venv/bin/pip install kornia==0.4.1 decorator --no-deps

(Lucent's param and transform modules need only kornia; its objectives need `decorator`.) When
`lucent` is not importable, its rows are skipped with a message.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from generator.bench.metrics import sync_device

BENCH_SEED = 0
LUCENT_STEPS = 512
LUCENT_LR = 0.05


def lucent_available() -> str | None:
    """None when Lucent's param and transform modules import; else the reason."""
    try:
        from lucent.optvis import param, transform  # noqa: F401
    except Exception as exc:  # ImportError, or a missing sub-dependency
        return f"{type(exc).__name__}: {exc}"
    return None


def render_lucent(model, indices: list[int], size: int, steps: int, batch: int, amp: bool = False, log=print):
    """Lucent's defaults: param.image (decorrelated FFT, sigmoid), standard_transforms, Adam 0.05.

    Same loop as lucent.optvis.render.render_vis (loss = -logit of the class), written out here so a
    whole batch of classes shares one forward pass, as ours does. ``model`` normalizes its own input
    (the place of Lucent's ``preprocess`` step), so every model gets its correct normalization.
    """
    from lucent.optvis import param, transform

    device = model.device
    # Lucent's transforms put their tensors on its module-level device (cuda when available)
    transform.device = device
    transform_f = transform.compose(list(transform.standard_transforms))
    images, own, seconds = [], [], 0.0
    for s in range(0, len(indices), batch):
        chunk = indices[s:s + batch]
        torch.manual_seed(BENCH_SEED + s)
        np.random.seed(BENCH_SEED + s)
        sync_device(device)
        t = time.perf_counter()
        with torch.device(device):
            params, image_f = param.image(size, batch=len(chunk))
        optimizer = torch.optim.Adam(params, lr=LUCENT_LR)
        target = torch.tensor(chunk, device=device)
        rows = torch.arange(len(chunk), device=device)
        for _ in range(steps):
            optimizer.zero_grad()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(transform_f(image_f()))
            loss = -logits[rows, target].float().sum()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            final = image_f().detach().float()
            x = final if final.shape[-1] == model.input_size else F.interpolate(
                final, size=(model.input_size,) * 2, mode="bilinear", antialias=True, align_corners=False)
            pred = model(x).argmax(dim=1).cpu().tolist()
        sync_device(device)
        seconds += time.perf_counter() - t
        images.extend(final.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        own.extend(p == i for p, i in zip(pred, chunk))
        log(f"  lucent: {min(s + batch, len(indices))}/{len(indices)} classes, {seconds:.1f}s")
    return images, own, seconds

