"""What a class is made of: the hidden channels that contribute most to its logit.

A classifier's logit is linear in the channels of the layer it pools: logit_c = sum_k W[c, k] * mean(A_k) + b_c,
where A is the feature map that global average pooling reduces (ResNet18's ``layer4.1``, EfficientNet-Lite's pooled
head activation ``_avg_pooling``). So W[c, k] * mean(A_k) is exactly channel k's share of class c's logit on an
image. Measured on the class's own rendered image, it says which units the network combined into that picture;
the weight alone (W[c, k]) says which units the class listens to on any image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generator.engine.models import LoadedModel, stage_outputs


@dataclass(frozen=True)
class Contribution:
    channel: int
    value: float  # W[c, k] * mean activation: its part of the logit
    share: float  # value / logit


def classifier(model: LoadedModel) -> nn.Linear | None:
    """The final linear layer, when it maps pooled features to the classes."""
    linears = [m for m in model.net.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def pooled_layer(model: LoadedModel) -> str | None:
    """The addressable layer whose spatial mean is exactly the classifier's input (None when there is none).

    Found by probing, not by name, so any torchvision classifier with a global-pooling head works. Several modules
    can output the same map (ResNet18's ``layer4`` and its last block ``layer4.1``): the stage output is preferred,
    so a unit has one name, the one ``[channels] per_stage`` and ``explicit`` use (``layer4.1:37``), and the same
    unit is never rendered twice under two names; else the first feature map (H, W > 1) in the network's order;
    else a 1x1 pooled output, where the activation before pooling has no module of its own (EfficientNet-Lite:
    ``_avg_pooling``).
    """
    return head_layers(model)[0]


def render_layer(model: LoadedModel) -> str | None:
    """The layer whose channels are rendered as the pooled layer's: the pooled layer itself when it is a feature
    map (ResNet18: ``layer4.1``); for a 1x1 pooled output, the last feature map before it with as many channels
    (EfficientNet-Lite: ``_bn1``, the head's pre-activation). Why: the pooled value is the mean of the head's
    activation, and EfficientNet-Lite's is ReLU6, capped at 6; maximizing it, every channel reaches a flat 6.0 within
    the first steps, its gradient vanishes, and L2 and blur wash the picture out. The pre-activation is the same unit
    (channel k of it feeds channel k of the pool, through a rising function) without the cap."""
    return head_layers(model)[1]


@torch.no_grad()
def head_layers(model: LoadedModel) -> tuple[str | None, str | None]:
    """(pooled_layer, render_layer), from one probing forward pass."""
    fc = classifier(model)
    if fc is None:
        return None, None
    channels = model.layer_channels()
    modules = dict(model.net.named_modules())
    acts: dict[str, torch.Tensor] = {}
    seen: dict[str, torch.Tensor] = {}
    hooks = [modules[n].register_forward_hook(lambda _m, _i, out, n=n: acts.__setitem__(n, out))
             for n, c in channels.items() if c == fc.in_features]
    hooks.append(fc.register_forward_pre_hook(lambda _m, inputs: seen.__setitem__("x", inputs[0])))
    try:
        gen = torch.Generator().manual_seed(0)
        model(torch.rand(2, 3, model.input_size, model.input_size, generator=gen).to(model.device))
    finally:
        for h in hooks:
            h.remove()
    x = seen.get("x")
    if x is None or x.dim() != 2:
        return None, None
    # in the network's order (hooks fire inner modules first)
    matches = [n for n in channels if n in acts and torch.allclose(acts[n].mean(dim=(2, 3)), x, rtol=1e-4, atol=1e-5)]
    stages = [n for n in matches if n in stage_outputs(model)]
    spatial = [n for n in matches if acts[n].shape[-1] > 1]
    pooled = (stages or spatial or matches or [None])[0]
    if pooled is None or acts[pooled].shape[-1] > 1:
        return pooled, pooled
    before = list(channels)[:list(channels).index(pooled)]
    maps = [n for n in before if n in acts and acts[n].shape[-1] > 1]
    return pooled, (maps[-1] if maps else pooled)


@torch.no_grad()
def pooled_features(model: LoadedModel, layer: str, images01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean activation of every channel of ``layer``, logits) for a batch of images in [0, 1] at the model's size."""
    module = dict(model.net.named_modules())[layer]
    acts: dict[str, torch.Tensor] = {}
    handle = module.register_forward_hook(lambda _m, _i, out: acts.__setitem__("a", out))
    try:
        logits = model(images01)
    finally:
        handle.remove()
    return acts["a"].float().mean(dim=(2, 3)), logits.float()


def top_contributions(weights: torch.Tensor, features: torch.Tensor, logits: torch.Tensor, classes: list[int],
                      k: int) -> list[list[Contribution]]:
    """For image i and its class classes[i]: the k channels with the largest W[c, k] * feature, largest first.

    ``weights`` (classes, channels), ``features`` (N, channels), ``logits`` (N, classes). Pure: no model involved.
    """
    out = []
    for i, c in enumerate(classes):
        parts = weights[c].float() * features[i]
        value, idx = parts.topk(min(k, parts.numel()))
        logit = float(logits[i, c])
        out.append([Contribution(int(j), round(float(v), 4), round(float(v) / logit, 4) if logit else 0.0)
                    for v, j in zip(value, idx)])
    return out


def weight_ranking(weights: torch.Tensor, class_index: int, k: int) -> list[tuple[int, float]]:
    """The second view: the k channels with the largest weight into the class, on any image."""
    w, idx = weights[class_index].float().topk(min(k, weights.shape[1]))
    return [(int(j), round(float(v), 4)) for v, j in zip(w, idx)]


def classifier_drive(model: LoadedModel, layer: str, channels: list[int], k: int = 5) -> dict[str, list] | None:
    """The weight view of channels: for a layer that feeds the final linear classifier through global pooling (the
    last stage output, the pooled layer, or the layer rendered for it), the k classes each channel's activation raises most (largest weights);
    None where that is not meaningful."""
    fc = classifier(model)
    if fc is None or layer not in (stage_outputs(model)[-1], *head_layers(model)):
        return None
    if fc.in_features != model.layer_channels()[layer] or fc.out_features != 1000:
        return None
    out = {}
    for c in channels:
        w, idx = fc.weight[:, c].detach().float().cpu().topk(k)
        out[str(c)] = [[int(i), round(float(v), 4)] for v, i in zip(w, idx)]
    return out


def measure(model: LoadedModel, images01: torch.Tensor, classes: list[int], k: int,
            layer: str | None = None) -> list[list[Contribution]]:
    """The top-k contributions of the pooled layer to each image's class logit (images resized to the model).
    ``layer``: the pooled layer when the caller has probed it already."""
    layer, fc = layer or pooled_layer(model), classifier(model)
    if layer is None or fc is None:
        return [[] for _ in classes]
    size = model.input_size
    if images01.shape[-1] != size:
        images01 = nn.functional.interpolate(images01, size=(size, size), mode="bilinear", antialias=True,
                                             align_corners=False)
    features, logits = pooled_features(model, layer, images01.to(model.device))
    return top_contributions(fc.weight.detach().cpu(), features.cpu(), logits.cpu(), classes, k)
