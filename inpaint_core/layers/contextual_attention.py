"""Contextual attention (Yu et al. 2018), as DeepFillv2's refinement network uses it.

For every foreground position the layer scores all background 3x3 patches (cosine-like: background patches are
L2-normalised, foreground patches are not), optionally *fuses* the scores, masks out background patches that touch
the hole, takes a softmax over the background and pastes the matching full-resolution ``2*rate`` patches back with a
transposed convolution. Matching runs on features downsampled by ``rate``.

Faithful to the official TensorFlow code (``contextual_attention`` in ``inpaint_ops.py``):

- downsampling by ``rate`` picks TF1 ``resize_nearest_neighbor(align_corners=True)`` indices (``"tf_align_corners"``);
- fusion (``fuse=True``) sums the score matrix ``[foreground, background]`` along its diagonal with a ``fuse_k``
  identity kernel, once in row-major order of both position grids and once in column-major order, with the
  wrap-around at row ends that the reshapes of the official code imply;
- the hole mask is evaluated **per sample** (``mask`` is ``[B, 1, h, w]``), where some ports use the first sample's.

Memory: the layer loops over the batch and over chunks of foreground positions, so at most about ``max_scores``
score values exist at a time (the full matrix is ``(H/8 * W/8)^2`` per image: 64 MiB at 512x512, 1 GiB at 1024;
the default bound, 4 M values, is 16 MiB per temporary).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .gated_conv import tf_nearest_indices, tf_same_pad
from .scratch import ScratchBuffers

DOWNSAMPLES = ("tf_align_corners", "stride")


def downsample_nearest(x: torch.Tensor, factor: int, mode: str = "tf_align_corners") -> torch.Tensor:
    """``[B, C, H, W]`` -> ``[B, C, H // factor, W // factor]`` by picking pixels.

    ``"tf_align_corners"`` picks ``round(i * (H-1) / (H//factor - 1))`` as TF's nearest resize with
    ``align_corners=True``; ``"stride"`` picks every ``factor``-th pixel from the first.
    """
    if mode not in DOWNSAMPLES:
        raise ValueError(f"downsample mode must be one of {DOWNSAMPLES}, got {mode!r}")
    height, width = x.shape[-2] // factor, x.shape[-1] // factor
    if mode == "stride":
        return x[..., ::factor, ::factor][..., :height, :width]
    rows = tf_nearest_indices(x.shape[-2], height, x.device)
    cols = tf_nearest_indices(x.shape[-1], width, x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def _column_major(index: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Row-major flat index on a ``height x width`` grid -> its column-major flat index."""
    return (index % width) * height + index // width


def _row_major(index: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Column-major flat index -> row-major flat index."""
    return (index % height) * width + index // height


class _DiagonalFuse:
    """The score fusion of the official code on a chunk of foreground positions, without the full matrix.

    ``scores[i, j]`` (background ``i``, foreground ``j``, both row-major) becomes
    ``A[i, j] = sum_d scores[i + d, j + d]`` and then ``sum_d A[cm^-1(cm(i) + d), cm^-1(cm(j) + d)]`` where ``cm``
    maps a row-major index to the column-major one and ``d`` runs over ``-(k//2) .. k//2``; out-of-range terms are 0.
    """

    def __init__(self, k: int, grid: tuple[int, int], device: torch.device) -> None:
        self.offsets = range(-(k // 2), k - k // 2)
        self.grid = grid  # the same grid for foreground and background (the layer matches f against b = f's size)
        self.size = grid[0] * grid[1]
        positions = torch.arange(self.size, device=device)
        # Background row maps for both passes; index `size` selects an appended zero row.
        self.rows_a = [self._shift(positions, d) for d in self.offsets]
        column = _column_major(positions, *grid)
        self.rows_b = [self._from_column_major(column + d) for d in self.offsets]

    def _valid(self, index: torch.Tensor) -> torch.Tensor:
        return (index >= 0) & (index < self.size)

    def _shift(self, index: torch.Tensor, d: int) -> torch.Tensor:
        shifted = index + d
        return torch.where(self._valid(shifted), shifted, torch.full_like(shifted, self.size))

    def _from_column_major(self, column: torch.Tensor) -> torch.Tensor:
        return torch.where(self._valid(column), _row_major(column.clamp(0, self.size - 1), *self.grid),
                           torch.full_like(column, self.size))

    def needed(self, chunk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Foreground positions whose raw scores (first) and once-fused scores (second) the chunk needs."""
        column = _column_major(chunk, *self.grid)
        second = torch.cat([self._from_column_major(column + d) for d in self.offsets])
        second = torch.unique(second[second < self.size])
        first = torch.cat([second + d for d in self.offsets])
        first = torch.unique(first[self._valid(first)])
        return first, second

    def _pass(self, scores: torch.Tensor, have: torch.Tensor, want_columns: list[torch.Tensor],
              rows: list[torch.Tensor]) -> torch.Tensor:
        lookup = torch.full((self.size + 1,), have.numel(), dtype=torch.long, device=have.device)
        lookup[have] = torch.arange(have.numel(), device=have.device)
        padded = F.pad(scores, (0, 1, 0, 1))  # zero row and column for out-of-range terms
        return sum(padded.index_select(1, lookup[col]).index_select(0, row) for row, col in zip(rows, want_columns))

    def __call__(self, scores: torch.Tensor, first: torch.Tensor, second: torch.Tensor,
                 chunk: torch.Tensor) -> torch.Tensor:
        once = self._pass(scores, first, [self._shift(second, d) for d in self.offsets], self.rows_a)
        column = _column_major(chunk, *self.grid)
        return self._pass(once, second, [self._from_column_major(column + d) for d in self.offsets], self.rows_b)


class ContextualAttention(nn.Module):
    """Attention of foreground ``f`` over background ``b`` patches (DeepFillv2 uses ``f = b``).

    ``forward(f, b, mask)``: ``f``, ``b`` ``[B, C, H, W]`` (H, W even); ``mask`` ``[B, 1, H / rate, W / rate]`` with
    1 = hole (background patches touching it are not used). Returns ``[B, C, H, W]``.
    """

    def __init__(
        self,
        ksize: int = 3,
        stride: int = 1,
        rate: int = 2,
        fuse_k: int = 3,
        softmax_scale: float = 10.0,
        fuse: bool = True,
        downsample: str = "tf_align_corners",
        max_scores: int = 1 << 22,
    ) -> None:
        super().__init__()
        if stride != 1:
            raise ValueError("only stride 1 is implemented (DeepFillv2 uses 1)")
        if downsample not in DOWNSAMPLES:
            raise ValueError(f"downsample must be one of {DOWNSAMPLES}, got {downsample!r}")
        self.ksize, self.rate, self.fuse_k = ksize, rate, fuse_k
        self.softmax_scale, self.fuse, self.downsample = softmax_scale, fuse, downsample
        self.max_scores = max_scores

    # Left eager under torch.compile: inductor 2.13 fails on its index arithmetic ("vr must not be None"), and the
    # rest of the network compiles around it (measured in benchmarks/bench_compile.py).
    @torch.compiler.disable
    def forward(self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if f.shape != b.shape:
            raise ValueError(f"foreground and background must have the same shape, got {f.shape} and {b.shape}")
        batch, channels, height, width = b.shape
        kernel = 2 * self.rate
        # Full-resolution background patches for pasting: [B, C*k*k, L], L on the downsampled grid.
        raw = F.unfold(tf_same_pad(b, kernel, self.rate), kernel, stride=self.rate)
        f_small = downsample_nearest(f, self.rate, self.downsample)
        b_small = downsample_nearest(b, self.rate, self.downsample)
        grid = tuple(b_small.shape[-2:])
        if raw.shape[-1] != grid[0] * grid[1] or tuple(mask.shape[-2:]) != grid:
            raise ValueError(f"contextual attention needs sizes divisible by {self.rate} and a mask of {grid}")
        pad = self.ksize // 2
        keys = F.unfold(F.pad(b_small, (pad,) * 4), self.ksize)  # [B, C*k*k, L]
        keys = keys / keys.norm(dim=1, keepdim=True).clamp_min(1e-4)
        queries = F.unfold(F.pad(f_small, (pad,) * 4), self.ksize)
        valid = F.unfold(F.pad(mask.to(b.dtype), (pad,) * 4), self.ksize).mean(1) == 0  # [B, L]

        positions = grid[0] * grid[1]
        chunk = max(1, min(positions, self.max_scores // positions))
        fuse = _DiagonalFuse(self.fuse_k, grid, b.device) if self.fuse else None
        buffers = ScratchBuffers(b)
        outputs = []
        for i in range(batch):
            mm = valid[i].to(b.dtype)[:, None]  # [L, 1]
            keys_t = keys[i].transpose(0, 1)  # [L, C*k*k]
            patches = raw.new_empty(positions, raw.shape[1])  # pasted patches [L, C*k*k], filled chunk by chunk
            for start in range(0, positions, chunk):
                end = min(start + chunk, positions)
                if fuse is None:
                    into = buffers.get("scores", positions, end - start)
                    scores = buffers.matmul(keys_t, queries[i][:, start:end], into)
                else:
                    wanted = torch.arange(start, end, device=b.device)
                    first, second = fuse.needed(wanted)
                    scores = fuse(keys_t @ queries[i].index_select(1, first), first, second, wanted)
                attention = buffers.softmax(scores.mul_(mm * self.softmax_scale), 0, weight=mm)
                buffers.matmul(attention.transpose(0, 1), raw[i].transpose(0, 1), patches[start:end])
            patches = patches.transpose(0, 1)[None]
            outputs.append(F.fold(patches, (height, width), kernel, stride=self.rate, padding=self.rate // 2))
        return torch.cat(outputs, dim=0) / 4.0
