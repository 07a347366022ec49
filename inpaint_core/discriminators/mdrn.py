"""A spectral-norm PatchGAN on ``[image, hole]`` (the SN-PatchGAN shape of DeepFillv2), used by the MDRN objective.

Each output value scores one patch as real or fake (hinge loss). :meth:`PatchDiscriminator.forward` can also return
the intermediate feature maps, which the MDRN objective uses as the feature space of its InCo² loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """``layers`` spectral-norm 5x5 stride-2 convs (widths ``channels * 2**i``, capped at ``4 * channels``)."""

    def __init__(self, in_channels: int = 4, channels: int = 64, layers: int = 6) -> None:
        super().__init__()
        widths = [in_channels] + [channels * min(2**i, 4) for i in range(layers)]
        self.convs = nn.ModuleList(spectral_norm(nn.Conv2d(widths[i], widths[i + 1], 5, 2, 2)) for i in range(layers))

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """Patch scores ``[B, C, h, w]`` (the last map, not activated), and the list of feature maps if asked."""
        features = []
        for index, conv in enumerate(self.convs):
            x = conv(x)
            if index < len(self.convs) - 1:
                x = F.leaky_relu(x, 0.2)
            features.append(x)
        return (x, features) if return_features else x
