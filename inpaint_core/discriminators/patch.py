"""SN-PatchGAN discriminator (DeepFillv2-style): stride-2 5x5 convolutions with spectral normalisation on
``cat(image, hole)``; every output cell scores one patch."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class SNPatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int = 4, width: int = 64, layers: int = 6) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for index in range(layers):
            out_channels = width * min(2**index, 4)
            blocks.append(spectral_norm(nn.Conv2d(in_channels, out_channels, 5, 2, 2)))
            if index < layers - 1:
                blocks.append(nn.LeakyReLU(0.2))
            in_channels = out_channels
        self.net = nn.Sequential(*blocks)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """Patch scores ``[B, C, H / 2**layers, W / 2**layers]`` for ``image`` in [-1, 1] and ``hole`` (1 = fill)."""
        return self.net(torch.cat([image, hole], dim=1))
