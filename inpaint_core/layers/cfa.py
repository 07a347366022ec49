"""CTSDG's Contextual Feature Aggregation: region affinity learning (patch attention) + multi-scale aggregation.

Region affinity (``RegionAffinity``, the reference's ``RAL`` with its defaults: rate 2, 3x3 keys) computes: the query
map ``q`` is the input downsampled by 2 (bilinear, ``align_corners=True``), ``h x w``; keys are its 3x3 patches (zero
padding 1), each L2-normalised with a floor of 1e-4; scores ``S[p, l] = <patch_p, patch_l> / |patch_l|`` are scaled
by ``softmax_scale``, soft-maxed over all keys ``l``, clamped at 1e-8; the values, the 4x4 patches of the input at
stride 2 (zero padding 1), are pasted back with a transposed convolution (stride 2, padding 1) divided by 4. No hole
mask is used.

The reference runs this as a convolution with one output channel per key and a transposed convolution with one input
channel per key: ``9 C`` and ``16 C`` multiply-adds per (query, key) pair, and a score tensor of ``(h w)^2`` floats
per image (64 MB at 256x256, 1 GB at 512x512). The same sums are regrouped here, exactly up to float32 rounding:

- scores: ``<patch_p, patch_l> = sum_d G[p + d, l + d]`` over the 9 offsets ``d``, where ``G = q^T q`` is the
  channel Gram matrix (``C`` multiply-adds per pair, then shifted additions);
- paste: the output pixel ``(2 m + a, 2 n + b)`` is ``sum_t M_ab[(m, n), t] * x[2 t + (a, b)]`` with
  ``M_ab[m, t] = sum_{delta in D_a x D_b} A[m + delta, t + delta]`` (``D_0 = {0, -1}``, ``D_1 = {0, 1}``): four
  matrix products with ``C`` columns instead of one with ``16 C``;
- queries are processed in chunks of rows (the softmax runs over keys, so rows are independent; a halo of one row
  feeds the shifted sums), about ``chunk_elements`` scores at a time;
- without autograd (inference), the chunks' score-sized temporaries live in buffers allocated once per call and
  reused by every chunk: a fresh buffer of that size costs more in page faults than the arithmetic done in it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .scratch import ScratchBuffers


def _diagonal_sum(src: torch.Tensor, out: torch.Tensor, query_dim: int, key_dim: int) -> torch.Tensor:
    """``out = sum_{d in -1, 0, 1} src[.., 1 + d + i, .., 1 + d + j, ..]``: ``src`` shifted by the same offset along a
    query axis and a key axis (both padded by one on each side of what ``out`` covers)."""
    size_q, size_k = out.shape[query_dim], out.shape[key_dim]
    for index, offset in enumerate((-1, 0, 1)):
        part = src.narrow(query_dim, 1 + offset, size_q).narrow(key_dim, 1 + offset, size_k)
        if index == 0:
            out.copy_(part)
        else:
            out.add_(part)
    return out


class RegionAffinity(nn.Module):
    """Patch attention of a feature map onto itself (``RAL`` of the reference; no parameters)."""

    #: About the most score entries held at once per image (2**22 floats = 16 MB; a few buffers of that size), but
    #: never fewer than 8 query rows (at 512x512 a chunk then holds 8 x 128**3 scores, 64 MB).
    chunk_elements: int = 2**22

    def __init__(self, softmax_scale: float = 10.0) -> None:
        super().__init__()
        self.softmax_scale = softmax_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        if height % 2 or width % 2:
            raise ValueError(f"RegionAffinity needs even sides, got {height}x{width}")
        h, w = height // 2, width // 2
        small = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)
        flat = small.flatten(2)  # [B, C, h w]
        energy = F.avg_pool2d(small.square().sum(1, keepdim=True), 3, 1, 1, divisor_override=1)
        norms = energy.sqrt().clamp_min(1e-4).view(batch, 1, 1, h, w)
        phases = [[x[:, :, a::2, b::2].flatten(2).transpose(1, 2) for b in (0, 1)] for a in (0, 1)]  # [B, h w, C]
        out = x.new_empty(batch, channels, height, width)
        scale = self.softmax_scale / norms  # [B, 1, 1, h, w], per key
        buffers = ScratchBuffers(x)
        # at least 8 query rows per chunk: each chunk recomputes a halo of 2 Gram rows and 1 attention row per side
        rows = min(h, max(8, self.chunk_elements // (h * w * w)))
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            attention = self._attention(flat, scale, r0, r1, h, w, buffers)  # query rows r0 - 1 .. r1, padded
            self._paste(attention, phases, out, r0, r1, h, w, buffers)
        return out / 4.0

    @staticmethod
    def _attention(flat, scale, r0: int, r1: int, h: int, w: int, buffers: ScratchBuffers) -> torch.Tensor:
        """Soft-maxed scores of query rows ``r0 - 1 .. r1`` (zero outside the image), ``[B, n + 2, w, h, w]``
        zero-padded by one along query columns and both key axes."""
        batch, rows = flat.shape[0], r1 - r0 + 2
        g0, g1 = max(0, r0 - 2), min(h, r1 + 2)  # Gram rows needed for the 3x3 sums of rows r0 - 1 .. r1
        gram = buffers.zeros("gram", batch, rows + 2, w + 2, h + 2, w + 2)
        top = g0 - (r0 - 2)
        inner = torch.bmm(flat[:, :, g0 * w : g1 * w].transpose(1, 2), flat).view(batch, g1 - g0, w, h, w)
        gram[:, top : top + g1 - g0, 1:-1, 1:-1, 1:-1] = inner
        del inner
        across = _diagonal_sum(gram, buffers.get("across", batch, rows + 2, w, h + 2, w), 2, 4)
        scores = _diagonal_sum(across, buffers.get("scores", batch, rows, w, h, w), 1, 3).mul_(scale)
        attention = buffers.softmax(scores.view(batch, rows, w, h * w), -1, floor=1e-8).view_as(scores)
        padded = buffers.zeros("attention", batch, rows, w + 2, h + 2, w + 2)
        interior = padded[:, :, 1:-1, 1:-1, 1:-1]
        interior.copy_(attention)
        if r0 == 0:
            interior[:, 0] = 0
        if r1 == h:
            interior[:, -1] = 0
        return padded

    @staticmethod
    def _paste(attention, phases, out, r0: int, r1: int, h: int, w: int, buffers: ScratchBuffers) -> None:
        batch, channels, rows = out.shape[0], out.shape[1], r1 - r0
        for a, dy in ((0, -1), (1, 1)):
            row_sum = buffers.get("row_sum", batch, rows, w + 2, h, w + 2)
            row_sum.copy_(attention[:, 1 : 1 + rows, :, 1 : 1 + h])
            row_sum.add_(attention[:, 1 + dy : 1 + dy + rows, :, 1 + dy : 1 + dy + h])
            for b, dx in ((0, -1), (1, 1)):
                mixed = buffers.get("mixed", batch, rows, w, h, w)
                mixed.copy_(row_sum[:, :, 1 : 1 + w, :, 1 : 1 + w])
                mixed.add_(row_sum[:, :, 1 + dx : 1 + dx + w, :, 1 + dx : 1 + dx + w])
                pasted = torch.bmm(mixed.view(batch, rows * w, h * w), phases[a][b])  # [B, rows w, C]
                out[:, :, 2 * r0 + a : 2 * r1 : 2, b::2] = pasted.view(batch, rows, w, channels).permute(0, 3, 1, 2)


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
        self, channels: int = 64, dilations: Sequence[int] = (1, 2, 4, 8), softmax_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.ral = RegionAffinity(softmax_scale)
        self.msfa = MultiScaleAggregation(channels, dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.msfa(self.ral(x))
