"""StyleGAN2 building blocks in plain PyTorch (no compiled extensions).

Module and parameter names follow rosinality's ``stylegan2-pytorch`` (the generator inside pSp), so released
checkpoints load one to one. The custom CUDA ops of that code base are replaced by their exact native equivalents:
``upfirdn2d`` (zero-insertion upsampling, padding, convolution with the *flipped* FIR kernel, subsampling) and the
fused bias + leaky ReLU(0.2) x sqrt(2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: The 4-tap binomial filter of StyleGAN2, used for every up-sampling blur.
BLUR_TAPS = (1, 3, 3, 1)


def make_kernel(taps: Sequence[float], gain: float = 1.0) -> torch.Tensor:
    """The separable 2-D FIR kernel of ``taps`` (outer product), normalised to sum 1, times ``gain``."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum() * gain


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative = crop), convolve each channel with the flipped ``kernel``, subsample.

    Same result as StyleGAN2's ``upfirdn2d`` with equal factors and padding on both axes.
    """
    batch, channels, height, width = x.shape
    if up > 1:
        x = F.pad(x.reshape(batch, channels, height, 1, width, 1), [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(batch, channels, height * up, width * up)
    pad0, pad1 = pad
    x = F.pad(x, [max(pad0, 0), max(pad1, 0), max(pad0, 0), max(pad1, 0)])
    if pad0 < 0 or pad1 < 0:
        x = x[:, :, max(-pad0, 0): x.shape[2] - max(-pad1, 0), max(-pad0, 0): x.shape[3] - max(-pad1, 0)]
    weight = kernel.flip([0, 1]).to(x.dtype)[None, None].expand(channels, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=channels)
    return x[:, :, ::down, ::down] if down > 1 else x


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor, negative_slope: float = 0.2,
                     scale: float = math.sqrt(2)) -> torch.Tensor:
    """``leaky_relu(x + bias) * scale`` with the bias broadcast over channel dimension 1.

    Without autograd (inference) the activation and scaling run in place on the sum: same values, two fewer passes
    over the largest feature maps.
    """
    out = x + bias.view((1, -1) + (1,) * (x.ndim - 2))
    if not _may_write(out):
        return F.leaky_relu(out, negative_slope) * scale
    return F.leaky_relu_(out, negative_slope).mul_(scale)


def _may_write(x: torch.Tensor) -> bool:
    """True when ``x`` can be updated in place: no autograd graph is being recorded through it."""
    return not (torch.is_grad_enabled() and x.requires_grad)


class FusedLeakyReLU(nn.Module):
    """Per-channel bias, leaky ReLU(0.2), times sqrt(2)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias)


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: weights stored / ``lr_mul``, applied x ``lr_mul / sqrt(in)``."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class Blur(nn.Module):
    """FIR filtering with a fixed kernel (a buffer, as in the released checkpoints)."""

    def __init__(self, pad: tuple[int, int], gain: float = 1.0, taps: Sequence[float] = BLUR_TAPS) -> None:
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps, gain))
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """2x FIR upsampling (the to-RGB skip path): up=2, kernel x 4, pad (2, 1)."""

    def __init__(self, taps: Sequence[float] = BLUR_TAPS, factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_kernel(taps, factor**2))
        p = len(taps) - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class ModulatedConv2d(nn.Module):
    """Style-modulated convolution; demodulation by rsqrt(sum w^2 + 1e-8); optional 2x transposed-conv upsampling."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False, taps: Sequence[float] = BLUR_TAPS) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.demodulate, self.upsample = demodulate, upsample
        if upsample:
            factor = 2
            p = (len(taps) - factor) - (kernel_size - 1)
            self.blur = Blur(((p + 1) // 2 + factor - 1, p // 2 + 1), gain=factor**2, taps=taps)
        self.scale = 1 / math.sqrt(in_channels * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channels, in_channels, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channels, bias_init=1.0)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        batch, in_channels, height, width = x.shape
        k = self.kernel_size
        style = self.modulation(style).view(batch, 1, in_channels, 1, 1)
        weight = self.scale * self.weight * style
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(batch, self.out_channels, 1, 1, 1)
        x = x.reshape(1, batch * in_channels, height, width)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(batch * in_channels, self.out_channels, k, k)
            out = F.conv_transpose2d(x, weight, stride=2, groups=batch)
            return self.blur(out.view(batch, self.out_channels, *out.shape[-2:]))
        weight = weight.reshape(batch * self.out_channels, in_channels, k, k)
        out = F.conv2d(x, weight, padding=self.padding, groups=batch)
        return out.view(batch, self.out_channels, *out.shape[-2:])


class NoiseInjection(nn.Module):
    """Adds ``weight * noise``; the noise map ([1 or B, 1, H, W]) is passed in."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return x.add_(self.weight * noise) if _may_write(x) else x + self.weight * noise


class ConstantInput(nn.Module):
    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class StyledConv(nn.Module):
    """Modulated conv -> noise -> bias + leaky ReLU(0.2) x sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channels)

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """1x1 modulated conv without demodulation + bias, plus the 2x FIR-upsampled skip image."""

    def __init__(self, in_channels: int, style_dim: int, upsample: bool = True) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample()
        self.conv = ModulatedConv2d(in_channels, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.conv(x, style).add_(self.bias)  # a fresh tensor: in place is safe under autograd
        return out if skip is None else out.add_(self.upsample(skip))


class StyleGAN2Generator(nn.Module):
    """StyleGAN2 synthesis network driven by W+ latents ``[B, n_latent, style_dim]``.

    ``channels[i]`` is the width at resolution ``4 * 2**i``. The mapping network ``style`` (PixelNorm + ``n_mlp``
    equalised linear layers) is kept so that released checkpoints load strictly; :meth:`forward` takes latents that are
    already in W+ and does not use it. Style indices: ``conv1`` w0, ``to_rgb1`` w1; at each resolution the upsampling
    conv w[i], the next conv w[i+1], the to-RGB w[i+2] for i = 1, 3, 5, ...
    """

    def __init__(self, size: int, style_dim: int, n_mlp: int, channels: Sequence[int], lr_mlp: float = 0.01) -> None:
        super().__init__()
        log_size = int(math.log2(size))
        if 2**log_size != size or size < 8:
            raise ValueError(f"generator size must be a power of two >= 8, got {size}")
        if len(channels) != log_size - 1:
            raise ValueError(f"need {log_size - 1} channel widths for size {size}, got {len(channels)}")
        self.size, self.style_dim = size, style_dim
        self.style = nn.Sequential(
            PixelNorm(), *(EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, activation=True) for _ in range(n_mlp))
        )
        self.input = ConstantInput(channels[0])
        self.conv1 = StyledConv(channels[0], channels[0], style_dim)
        self.to_rgb1 = ToRGB(channels[0], style_dim, upsample=False)
        self.num_layers = (log_size - 2) * 2 + 1
        self.n_latent = log_size * 2 - 2
        self.noises = nn.Module()
        for index in range(self.num_layers):
            resolution = 2 ** ((index + 5) // 2)
            self.noises.register_buffer(f"noise_{index}", torch.randn(1, 1, resolution, resolution))
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        for in_channels, out_channels in zip(channels[:-1], channels[1:]):
            self.convs.append(StyledConv(in_channels, out_channels, style_dim, upsample=True))
            self.convs.append(StyledConv(out_channels, out_channels, style_dim))
            self.to_rgbs.append(ToRGB(out_channels, style_dim))

    def noise_maps(self, batch: int, randomize: bool, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """The stored noise buffers ([1, 1, r, r], shared over the batch), or fresh N(0, 1) maps per sample."""
        stored = [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        if not randomize:
            return stored
        return [torch.randn((batch, *n.shape[1:]), generator=generator, device=n.device, dtype=n.dtype)
                for n in stored]

    def forward(self, latent: torch.Tensor, noise: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """RGB image ``[B, 3, size, size]`` (unbounded, roughly [-1, 1]) from W+ ``latent``."""
        if latent.ndim != 3 or latent.shape[1] != self.n_latent:
            raise ValueError(f"latent must be [B, {self.n_latent}, {self.style_dim}], got {tuple(latent.shape)}")
        noise = self.noise_maps(latent.shape[0], randomize=False) if noise is None else noise
        out = self.conv1(self.input(latent.shape[0]), latent[:, 0], noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        for level, to_rgb in enumerate(self.to_rgbs):
            i = 2 * level + 1
            out = self.convs[2 * level](out, latent[:, i], noise[i])
            out = self.convs[2 * level + 1](out, latent[:, i + 1], noise[i + 1])
            skip = to_rgb(out, latent[:, i + 2], skip)
        return skip
