"""A tiny classifier with 1000 outputs, for fast tests of the engine's mechanics."""

import torch
from torch import nn

from generator.engine.models import LoadedModel, Normalize, freeze


class NaNProbe(nn.Module):
    """A dead-end branch: channel 0 is NaN for every input, channel 1 is finite. Nothing downstream uses it."""

    def forward(self, x):
        return torch.cat([torch.sqrt(-1.0 - x[:, :1].abs()), x[:, 1:2]], dim=1)


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1234)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.probe = NaNProbe()
        self.block = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 1000)

    def forward(self, x):
        h = self.stem(x)
        self.probe(h)  # result unused: only hooks see it
        return self.fc(self.pool(self.block(h)).flatten(1))


def tiny_model() -> LoadedModel:
    return LoadedModel("tiny", freeze(TinyNet()), Normalize([0.5] * 3, [0.5] * 3), input_size=32, weights="tiny-seed-1234")
