"""What each target maximizes: a class logit, or the mean activation of one hidden channel.

One forward pass serves a whole batch of mixed targets. Hooks capture the hidden layers that the
batch needs; when no target needs the logits, the pass stops after the deepest such layer. A hook only sees the
passes of the thread that set it: lanes (lanes.py) run the same model on several threads at once.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch

from generator.engine.models import LoadedModel
from generator.engine.targets import ChannelTarget, ClassTarget, Target


class _Enough(Exception):
    """Raised by the last needed hook to skip the rest of the network."""


@contextmanager
def capture(model: LoadedModel, layers: set[str], stop_early: bool):
    acts: dict[str, torch.Tensor] = {}
    modules = dict(model.net.named_modules())
    handles = []
    owner = threading.get_ident()

    def make_hook(name):
        def hook(_m, _i, out):
            if threading.get_ident() != owner:  # another lane's pass through the same module
                return
            acts[name] = out
            if stop_early and len(acts) == len(layers):
                raise _Enough

        return hook

    for name in layers:
        handles.append(modules[name].register_forward_hook(make_hook(name)))
    try:
        yield acts
    finally:
        for h in handles:
            h.remove()


def evaluate(model: LoadedModel, images01: torch.Tensor, targets: list[Target]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-target objective values (N,) and, when any target is a class, the logits (N, classes)."""
    layers = {t.layer for t in targets if isinstance(t, ChannelTarget)}
    need_logits = any(isinstance(t, ClassTarget) for t in targets)
    logits = None
    with capture(model, layers, stop_early=not need_logits) as acts:
        try:
            logits = model(images01)
        except _Enough:
            pass
        values = []
        for i, t in enumerate(targets):
            if isinstance(t, ClassTarget):
                values.append(logits[i, t.index])
            else:
                values.append(acts[t.layer][i, t.channel].mean())
    return torch.stack(values), (logits if need_logits else None)


def class_logprob(logits: torch.Tensor, targets: list[Target]) -> torch.Tensor:
    """log p(class) of every class target's row (0 for a channel target's): maximizing it, and not only the logit,
    also pushes the other classes down, so the picture shows what sets the class apart from its neighbours."""
    rows = torch.arange(len(targets), device=logits.device)
    index = torch.tensor([t.index if isinstance(t, ClassTarget) else 0 for t in targets], device=logits.device)
    is_class = torch.tensor([isinstance(t, ClassTarget) for t in targets], device=logits.device)
    logp = torch.log_softmax(logits.float(), dim=1)[rows, index]
    return torch.where(is_class, logp, torch.zeros_like(logp))
