"""Gated convolution (Yu et al., *Free-Form Image Inpainting with Gated Convolution*, 2019) and its x2 upsampling.

A gated convolution computes ``2 * width`` channels, splits them into features and gates and returns
``activation(features) * sigmoid(gates)``; with ``activation=None`` or 3 output channels it is a plain convolution
(DeepFillv2's last layer). The split order (features first, then gates) is TensorFlow's ``tf.split`` order, which the
official checkpoints and their PyTorch conversions use.

Padding ``"tf_same"`` is TensorFlow's ``SAME``: the total padding ``max((ceil(n/s) - 1) * s + d * (k - 1) + 1 - n, 0)``
is split with the smaller half before, so a stride-2 3x3 convolution on an even size pads 0 before and 1 after.
``"same"`` pads ``d * (k - 1) // 2`` on both sides (PyTorch's usual choice; equal to TF for stride 1 and odd k).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PADDINGS = ("tf_same", "same")
_ACTIVATIONS = {"elu": nn.ELU, "relu": nn.ReLU}


def tf_same_pad_amounts(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(before, after)`` zero padding of TensorFlow's ``SAME`` for one spatial dimension."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def tf_same_pad(x: torch.Tensor, kernel: int, stride: int = 1, dilation: int = 1) -> torch.Tensor:
    """Zero-pad ``[B, C, H, W]`` as TensorFlow's ``SAME`` does before a convolution."""
    top, bottom = tf_same_pad_amounts(x.shape[-2], kernel, stride, dilation)
    left, right = tf_same_pad_amounts(x.shape[-1], kernel, stride, dilation)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom))


def tf_nearest_indices(size_in: int, size_out: int, device: torch.device | None = None) -> torch.Tensor:
    """Source indices of TF1 ``resize_nearest_neighbor(align_corners=True)``: ``round(i * (in-1) / (out-1))``.

    Computed in float32 as ``floor(linspace + 0.5)``, which is how the PyTorch port picks them (64 -> 32 takes
    ..., 28, 30, 33, 35, ...).
    """
    if size_out == 1:
        return torch.zeros(1, dtype=torch.long, device=device)
    positions = torch.linspace(0, size_in - 1, steps=size_out, device=device, dtype=torch.float32)
    return positions.add(0.5).floor().long().clamp_(max=size_in - 1)


def tf_resize_nearest(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of ``[B, C, H, W]`` with TensorFlow's ``align_corners=True`` index picking."""
    rows = tf_nearest_indices(x.shape[-2], size[0], x.device)
    cols = tf_nearest_indices(x.shape[-1], size[1], x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


class GatedConv2d(nn.Module):
    """``activation(conv(x)[:width]) * sigmoid(conv(x)[width:])``; a plain convolution if ``activation`` is None
    or ``out_channels == 3``. Parameters live in ``self.conv`` (key ``<name>.conv.weight``, as in the TF ports)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        dilation: int = 1,
        activation: str | None = "elu",
        padding: str = "tf_same",
    ) -> None:
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.gated = activation is not None and out_channels != 3
        self.out_channels = out_channels
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        # TF SAME equals symmetric padding for stride 1 and odd kernels: let the convolution pad (no copy).
        self.pad_first = padding == "tf_same" and (stride != 1 or kernel_size % 2 == 0)
        symmetric = 0 if self.pad_first else dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(
            in_channels, 2 * out_channels if self.gated else out_channels, kernel_size,
            stride=stride, padding=symmetric, dilation=dilation,
        )
        self.activation = _ACTIVATIONS[activation]() if self.gated else None
        nonlinearity = "relu" if activation in ("elu", "relu") else "linear"
        nn.init.kaiming_uniform_(self.conv.weight, nonlinearity=nonlinearity, mode="fan_out")
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_first:
            x = tf_same_pad(x, self.kernel_size, self.stride, self.dilation)
        x = self.conv(x)
        if not self.gated:
            return x
        features, gates = x.split(self.out_channels, dim=1)
        return self.activation(features) * torch.sigmoid(gates)


class GatedDeconv2d(nn.Module):
    """x2 nearest upsampling then a 3x3 :class:`GatedConv2d` (DeepFillv2's ``gen_deconv``).

    The official code upsamples with TF1's ``resize_nearest_neighbor(align_corners=True)``, which for a factor of 2
    picks ``round(i * (n-1) / (2n-1)) = i // 2``: exactly PyTorch's nearest (a test pins this).
    """

    def __init__(self, in_channels: int, out_channels: int, padding: str = "tf_same") -> None:
        super().__init__()
        self.conv = GatedConv2d(in_channels, out_channels, 3, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
