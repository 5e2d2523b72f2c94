"""What the benchmark measures with networks and clocks: the held-out judge's verdict and what freezing the weights
saves. What a person sees (colour, contrast, noise, contact sheets) is look.py."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F


@torch.no_grad()
def judge_scores(judge, images: list[np.ndarray], indices: list[int], batch: int = 16) -> list[dict]:
    """Judge top-1/top-5 hit and p(target) per image; images uint8 (H, W, 3), resized to the judge's input."""
    out = []
    device = judge.device
    for s in range(0, len(images), batch):
        x = torch.from_numpy(np.stack(images[s:s + batch])).permute(0, 3, 1, 2).float().div(255).to(device)
        size = judge.input_size
        if x.shape[-1] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        probs = torch.softmax(judge(x).float(), dim=1)
        top5 = probs.topk(5, dim=1).indices.cpu()
        for row, idx in enumerate(indices[s:s + batch]):
            out.append({"top1": int(top5[row, 0]) == idx, "top5": idx in top5[row].tolist(),
                        "p": float(probs[row, idx]), "judge_pred": int(top5[row, 0])})
    return out


def sync_device(device) -> None:
    """Wait for the GPU, so a timing measures the work and not just its launch."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def frozen_speedup(model, size: int = 224, batch: int = 8, reps: int = 5) -> dict:
    """Seconds per forward+backward of the input with frozen weights vs with weight gradients on.

    The two are measured alternately and each keeps its fastest repetition, so a burst of load from
    another process on a shared machine does not land on one side only.
    """
    x = torch.rand(batch, 3, size, size, device=model.device, requires_grad=True)
    params = list(model.net.parameters())

    def once(frozen: bool) -> float:
        for p in params:
            p.requires_grad_(not frozen)
        sync_device(model.device)
        t = time.perf_counter()
        model(x)[:, 0].sum().backward()
        sync_device(model.device)
        return time.perf_counter() - t

    try:
        once(True), once(False)  # warm-up
        times = {True: [], False: []}
        for _ in range(reps):
            for frozen in (True, False):
                times[frozen].append(once(frozen))
    finally:
        for p in params:
            p.requires_grad_(False)
            p.grad = None
    frozen, unfrozen = min(times[True]), min(times[False])
    return {"model": model.name, "size": size, "batch": batch, "s_frozen": round(frozen, 4),
            "s_unfrozen": round(unfrozen, 4), "ratio": round(unfrozen / frozen, 2)}
