"""Partial convolution (Liu et al. 2018) with the multi-channel mask rules of NVIDIA's and CTSDG's reference code.

The mask counts valid entries over *all input channels* of each window: ``ratio = C_in * k * k / (count + 1e-8)``,
the new mask is ``clamp(count, 0, 1)`` (the same for every output channel) and the output is
``conv(x * mask) * ratio * new_mask``. The reference computes ``count`` with a second convolution by an all-ones
``(C_out, C_in, k, k)`` kernel, which costs as much as the convolution itself. Here the mask is summed over channels
first and box-summed over each window (a single-channel all-ones kernel): the counts are small integers, exact in
float32, so the result is identical at a fraction of the cost. Masks are passed around as one channel; a
concatenation of masked features is described by its per-pixel number of valid channels (:func:`concat_masked`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PartialConv2d(nn.Conv2d):
    """``forward(x, mask) -> (out, new_mask)``; ``mask`` is ``[B, 1, H, W]`` (the same for every input channel) or
    ``[B, C_in, H, W]``; ``new_mask`` is ``[B, 1, H', W']``."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        valid = mask * self.in_channels if mask.shape[1] == 1 else mask.sum(1, keepdim=True)
        return self.forward_masked(x * mask, valid)

    def forward_masked(self, masked: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``masked``: the input already multiplied by its mask; ``valid``: ``[B, 1, H, W]``, the number of valid
        input channels at each pixel."""
        with torch.no_grad():
            if self.dilation == (1, 1):  # a box sum: the window's integer count, exact
                count = F.avg_pool2d(valid, self.kernel_size, self.stride, self.padding, divisor_override=1)
            else:
                ones = valid.new_ones(1, 1, *self.kernel_size)
                count = F.conv2d(valid, ones, stride=self.stride, padding=self.padding, dilation=self.dilation)
            window = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            new_mask = count.clamp(0, 1)
            ratio = window / (count + 1e-8) * new_mask
        if self.bias is None:
            return self._conv_forward(masked, self.weight, None) * ratio, new_mask
        bias = self.bias.view(1, -1, 1, 1)
        out = (self._conv_forward(masked, self.weight, self.bias) - bias) * ratio + bias
        return out * new_mask, new_mask


def concat_masked(
    parts: list[tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate ``(features, one-channel mask)`` pairs along channels for :meth:`PartialConv2d.forward_masked`:
    ``(cat(features * mask), sum(channels * mask))``, equal to masking the concatenation with the concatenated
    per-channel masks."""
    masked = torch.cat([features * mask for features, mask in parts], dim=1)
    valid = sum(mask * features.shape[1] for features, mask in parts)
    return masked, valid
