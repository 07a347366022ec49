"""CTSDG's Contextual Feature Aggregation: region affinity learning (patch attention) + multi-scale aggregation.

Region affinity (``RegionAffinity``) follows the reference numerics: the query map is the input downsampled by
``rate`` (bilinear, ``align_corners=True``); keys are its 3x3 patches (zero padding 1), each L2-normalised with a
floor of 1e-4; values are the ``2 * rate`` square patches of the full-resolution input at stride ``rate``; scores are
scaled by ``softmax_scale``, soft-maxed over all keys, clamped at 1e-8, and the values are pasted back with a
transposed convolution (stride ``rate``, padding 1) divided by 4. No hole mask is used.

The reference does this with one convolution whose output has one channel per key, so the score tensor is
``(H W / rate^2)^2`` floats per image: 64 MB at 256x256 but 1 GB at 512x512. Here the same sums are matrix
products over chunks of query positions (the softmax runs over keys, so chunks of queries are independent), which
bounds the memory by ``chunk_elements`` scores at a time; results equal the reference up to float32 summation order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class RegionAffinity(nn.Module):
    """Patch attention of a feature map onto itself (``RAL`` of the reference; no parameters)."""

    #: Most score entries held at once per image (2**24 floats = 64 MB): 256x256 inputs run as one chunk.
    chunk_elements: int = 2**24

    def __init__(self, rate: int = 2, softmax_scale: float = 10.0) -> None:
        super().__init__()
        self.rate, self.softmax_scale = rate, softmax_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        small = F.interpolate(x, scale_factor=1.0 / self.rate, mode="bilinear", align_corners=True)
        queries = F.unfold(small, 3, padding=1)  # [B, C*9, L]: one 3x3 patch per low-resolution position
        norms = queries.square().sum(1, keepdim=True).sqrt().clamp_min(1e-4)
        keys = (queries / norms).transpose(1, 2)  # [B, L, C*9]
        values = F.unfold(x, 2 * self.rate, padding=1, stride=self.rate).transpose(1, 2)  # [B, L, C*k*k]
        if values.shape[1] != keys.shape[1]:
            raise ValueError(f"RegionAffinity needs sides divisible by {self.rate}, got {height}x{width}")
        length = keys.shape[1]
        step = max(1, self.chunk_elements // length)
        pasted = []
        for start in range(0, length, step):
            scores = torch.bmm(queries[:, :, start : start + step].transpose(1, 2), keys.transpose(1, 2))
            attention = F.softmax(scores * self.softmax_scale, dim=-1).clamp_min(1e-8)  # [B, chunk, L]
            pasted.append(torch.bmm(attention, values))  # [B, chunk, C*k*k]
        columns = torch.cat(pasted, dim=1).transpose(1, 2)
        out = F.fold(columns, (height, width), 2 * self.rate, padding=1, stride=self.rate)
        return out / 4.0


class MultiScaleAggregation(nn.Module):
    """``MSFA``: dilated 3x3 branches mixed by a per-pixel softmax over branches (after a ReLU)."""

    def __init__(self, channels: int = 64, dilations: Sequence[int] = (1, 2, 4, 8)) -> None:
        super().__init__()
        self.dilations = tuple(dilations)
        for index, dilation in enumerate(self.dilations):
            branch = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation), nn.ReLU())
            self.add_module(f"dilated_conv_{index}", branch)
        self.weight_calc = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, len(self.dilations), 1),
            nn.ReLU(),
            nn.Softmax(dim=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.weight_calc(x)
        out = weights[:, 0:1] * self.dilated_conv_0(x)
        for index in range(1, len(self.dilations)):
            out = out + weights[:, index : index + 1] * getattr(self, f"dilated_conv_{index}")(x)
        return out


class ContextualFeatureAggregation(nn.Module):
    """``CFA``: region affinity then multi-scale aggregation; parameter names as the reference (``msfa.*``)."""

    def __init__(
        self, channels: int = 64, dilations: Sequence[int] = (1, 2, 4, 8), rate: int = 2, softmax_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.ral = RegionAffinity(rate, softmax_scale)
        self.msfa = MultiScaleAggregation(channels, dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.msfa(self.ral(x))
