"""IR-SE residual units (ArcFace's IR-SE-50 as in TreB1eN/InsightFace_Pytorch), used by pSp's encoder and the
identity loss. Module names (``shortcut_layer``, ``res_layer``, ``fc1``/``fc2``) follow that code, so its checkpoints
and pSp's load one to one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Units per block of IR-SE-50; the first unit of each block has stride 2.
IR50_UNITS = (3, 4, 14, 3)
IR50_WIDTHS = (64, 128, 256, 512)


class SEModule(nn.Module):
    """Squeeze-and-excitation with 1x1 convolutions without bias."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * scale


class BottleneckIRSE(nn.Module):
    """BN -> conv3x3 -> PReLU -> conv3x3 (stride) -> BN -> SE, plus a shortcut (1x1 max-pool or conv1x1 + BN)."""

    def __init__(self, in_channels: int, depth: int, stride: int, se_reduction: int = 16) -> None:
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(in_channels, depth, 1, stride, bias=False),
                                                nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
            SEModule(depth, se_reduction),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


def ir_se_body(units: Sequence[int] = IR50_UNITS, widths: Sequence[int] = IR50_WIDTHS, stem: int = 64,
               se_reduction: int = 16) -> nn.Sequential:
    """The residual body: ``len(units)`` blocks, each starting with a stride-2 unit (also the first one)."""
    layers = []
    in_channels = stem
    for count, depth in zip(units, widths):
        for index in range(count):
            layers.append(BottleneckIRSE(in_channels, depth, 2 if index == 0 else 1, se_reduction))
            in_channels = depth
    return nn.Sequential(*layers)


def input_layer(in_channels: int, stem: int = 64) -> nn.Sequential:
    """conv3x3 (no bias) -> BN -> PReLU."""
    return nn.Sequential(nn.Conv2d(in_channels, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem), nn.PReLU(stem))
