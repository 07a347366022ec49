"""Fast Fourier convolutions (Chi et al., NeurIPS 2020) as LaMa uses them (``saicinpainting/training/modules/ffc.py``).

A feature map is a pair ``(local, global)``; either part may be absent (the int 0), as in the official code. Module and
attribute names equal the official ones so that released state dicts load key for key. Only what the big-lama
configuration uses is built: no local Fourier unit (``enable_lfu``), no gating, no squeeze-excitation, no spectral
positional encoding, groups of 1.
"""

from __future__ import annotations

import torch
from torch import nn

Pair = tuple[torch.Tensor | int, torch.Tensor | int]


class FourierUnit(nn.Module):
    """Real FFT over the last two dims (``norm="ortho"``), 1x1 conv + BN + ReLU on (real, imag) channels, inverse."""

    def __init__(self, in_channels: int, out_channels: int, fft_norm: str = "ortho") -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(in_channels * 2, out_channels * 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels * 2)
        self.relu = nn.ReLU(inplace=True)
        self.fft_norm = fft_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        spectrum = torch.view_as_real(torch.fft.rfftn(x, dim=(-2, -1), norm=self.fft_norm))  # [B, C, H, W', 2]
        spectrum = spectrum.permute(0, 1, 4, 2, 3).reshape(batch, -1, *spectrum.shape[2:4])  # channels c_re, c_im
        spectrum = self.relu(self.bn(self.conv_layer(spectrum)))
        spectrum = spectrum.view(batch, -1, 2, *spectrum.shape[2:]).permute(0, 1, 3, 4, 2).contiguous()
        return torch.fft.irfftn(torch.view_as_complex(spectrum), s=(height, width), dim=(-2, -1), norm=self.fft_norm)


class SpectralTransform(nn.Module):
    """The global-to-global path: 1x1 conv to half width, a Fourier unit with a residual, 1x1 conv back."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.downsample = nn.AvgPool2d(2, stride=2) if stride == 2 else nn.Identity()
        half = out_channels // 2
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, half, 1, bias=False), nn.BatchNorm2d(half),
                                   nn.ReLU(inplace=True))
        self.fu = FourierUnit(half, half)
        self.conv2 = nn.Conv2d(half, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.downsample(x))
        return self.conv2(x + self.fu(x))


def _conv(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int,
          dilation: int) -> nn.Module:
    if in_channels == 0 or out_channels == 0:
        return nn.Identity()
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, bias=False,
                     padding_mode="reflect")


class FFC(nn.Module):
    """Four paths between the local (spatial conv) and global (spectral) channel groups."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, ratio_gin: float, ratio_gout: float,
                 stride: int = 1, padding: int = 0, dilation: int = 1) -> None:
        super().__init__()
        in_g, out_g = int(in_channels * ratio_gin), int(out_channels * ratio_gout)
        in_l, out_l = in_channels - in_g, out_channels - out_g
        self.ratio_gout = ratio_gout
        self.global_in_num = in_g
        self.convl2l = _conv(in_l, out_l, kernel_size, stride, padding, dilation)
        self.convl2g = _conv(in_l, out_g, kernel_size, stride, padding, dilation)
        self.convg2l = _conv(in_g, out_l, kernel_size, stride, padding, dilation)
        self.convg2g = nn.Identity() if in_g == 0 or out_g == 0 else SpectralTransform(in_g, out_g, stride)

    def forward(self, x: Pair) -> Pair:
        x_l, x_g = x
        out_l = self.convl2l(x_l) + self.convg2l(x_g) if self.ratio_gout != 1 else 0
        out_g = self.convl2g(x_l) + self.convg2g(x_g) if self.ratio_gout != 0 else 0
        return out_l, out_g


class FFC_BN_ACT(nn.Module):  # noqa: N801 - the official class name, kept for the state-dict layout's sake
    """FFC, then BatchNorm and an activation on each part that exists."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, ratio_gin: float, ratio_gout: float,
                 stride: int = 1, padding: int = 0, dilation: int = 1) -> None:
        super().__init__()
        self.ffc = FFC(in_channels, out_channels, kernel_size, ratio_gin, ratio_gout, stride, padding, dilation)
        out_g = int(out_channels * ratio_gout)
        self.bn_l = nn.Identity() if ratio_gout == 1 else nn.BatchNorm2d(out_channels - out_g)
        self.bn_g = nn.Identity() if ratio_gout == 0 else nn.BatchNorm2d(out_g)
        self.act_l = nn.Identity() if ratio_gout == 1 else nn.ReLU(inplace=True)
        self.act_g = nn.Identity() if ratio_gout == 0 else nn.ReLU(inplace=True)

    def forward(self, x: Pair) -> Pair:
        x_l, x_g = self.ffc(x if isinstance(x, tuple) else (x, 0))
        return self.act_l(self.bn_l(x_l)), self.act_g(self.bn_g(x_g))


class FFCResnetBlock(nn.Module):
    """Two 3x3 FFC_BN_ACT with a residual on each part."""

    def __init__(self, channels: int, ratio: float, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = FFC_BN_ACT(channels, channels, 3, ratio, ratio, padding=dilation, dilation=dilation)
        self.conv2 = FFC_BN_ACT(channels, channels, 3, ratio, ratio, padding=dilation, dilation=dilation)

    def forward(self, x: Pair) -> Pair:
        x_l, x_g = self.conv2(self.conv1(x))
        return x[0] + x_l, x[1] + x_g


class ConcatTupleLayer(nn.Module):
    """``(local, global)`` -> one tensor."""

    def forward(self, x: Pair) -> torch.Tensor:
        x_l, x_g = x
        return torch.cat(x, dim=1) if torch.is_tensor(x_g) else x_l
