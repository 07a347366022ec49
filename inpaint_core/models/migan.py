"""MI-GAN (Sargsyan et al., ICCV 2023, *MI-GAN: A Simple Baseline for Image Inpainting on Mobile Devices*): family
``migan``.

The inference generator of the official repository (``lib/model_zoo/migan_inference.py``): an encoder of
depthwise-separable convolutions with fixed-FIR ([1, 3, 3, 1]) downsampling, and a StyleGAN-like synthesis network
without modulation that adds the encoder's features at every resolution and accumulates RGB skips. Module and
parameter names equal the official ones (``encoder.b512.conv1.conv1.weight``, ``synthesis.b64.conv1.noise_const``),
so an official state dict loads key for key.

**Fixed size.** Every upsampling step multiplies by a stored ``filter_const`` (the zero-insertion pattern) and every
synthesis convolution adds a stored ``noise_const`` map, both of the training resolution; the network therefore runs
at ``resolution`` x ``resolution`` only (``fixed_size``). :meth:`MIGAN.predict` and :meth:`MIGAN.forward` reject any
other size with an :class:`InputError` naming both sizes; ``inpaint_core.inpaint`` (``resize`` / ``crop``) scales
each region to ``working_size`` and back.

Native conventions (``scripts/demo.py``): image in [-1, 1], mask 1 = known; input ``cat(mask - 0.5, image * mask)``
(4 channels); output ``(out * 0.5 + 0.5).clamp(0, 1)``. The demo's uint8 rounding and its PIL/cv2 resizing are the
host's job (here the pipeline's, which resizes in float).

Licence: code ours; official code and weights MIT (Picsart AI Research).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..catalog import WeightsEntry, register_weights
from ..errors import InputError
from ..registry import Family, register_family
from .base import InpaintModel

MIGAN_LICENSE = "MIT (MI-GAN code and weights, Picsart AI Research); trained on Places2 or FFHQ (research datasets)"
_FIR = (1.0, 3.0, 3.0, 1.0)
_GAIN = math.sqrt(2.0)
_CLAMP = 256.0


@dataclass(frozen=True)
class MIGANConfig:
    #: Training resolution (a power of two): the only size the network runs at.
    resolution: int = 512
    #: Width at resolution ``r`` is ``min(channel_base // r, channel_max)`` (official 32768 and 512).
    channel_base: int = 32768
    channel_max: int = 512
    #: True for the FFHQ network: it expects an aligned face filling the frame (the Faces mode).
    aligned_faces: bool = False

    def __post_init__(self) -> None:
        if self.resolution < 8 or self.resolution & (self.resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, got {self.resolution}")

    def channels(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)


def lrelu_agc(x: torch.Tensor) -> torch.Tensor:
    """The official activation: leaky ReLU (0.2), gain sqrt(2), clamp to [-256, 256]."""
    return F.leaky_relu(x, 0.2).mul_(_GAIN).clamp_(-_CLAMP, _CLAMP)


def _fir_weight(channels: int, gain: float) -> nn.Parameter:
    """The depthwise 4x4 [1, 3, 3, 1] outer-product filter, normalised to sum ``gain`` (a trained parameter)."""
    taps = torch.tensor(_FIR)
    kernel = torch.outer(taps, taps)
    kernel = kernel / kernel.sum() * gain
    return nn.Parameter(kernel.expand(channels, 1, 4, 4).clone())


class Downsample2d(nn.Module):
    """Depthwise 4x4 FIR filter with stride 2 (padding 1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.filter = nn.Conv2d(channels, channels, 4, stride=2, padding=1, groups=channels, bias=False)
        self.filter.weight = _fir_weight(channels, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.filter(x)


class Upsample2d(nn.Module):
    """x2: nearest upsampling times the stored zero-insertion pattern ``filter_const``, then a 4x4 FIR filter."""

    def __init__(self, channels: int, resolution: int) -> None:
        super().__init__()
        pattern = torch.tensor([[1.0, 0.0], [0.0, 0.0]]).repeat(resolution // 2, resolution // 2)
        self.register_buffer("filter_const", pattern[None, None])
        self.filter = nn.Conv2d(channels, channels, 4, groups=channels, bias=False)
        self.filter.weight = _fir_weight(channels, 4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest") * self.filter_const
        return self.filter(F.pad(x, (2, 1, 2, 1)))


class SeparableConv2d(nn.Module):
    """Depthwise kxk (+bias), activation, optional downsampling, pointwise 1x1, optional upsampling, optional stored
    noise, activation (the official block applies the activation twice)."""

    def __init__(self, in_channels: int, out_channels: int, *, resolution: int | None = None, noise: bool = False,
                 down: bool = False, up: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels)
        self.conv2 = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.downsample = Downsample2d(in_channels) if down else None
        self.upsample = Upsample2d(out_channels, resolution) if up else None
        if noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros(()))
        else:
            self.noise_const = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = lrelu_agc(self.conv1(x))
        if self.downsample is not None:
            x = self.downsample(x)
        x = self.conv2(x)
        if self.upsample is not None:
            x = self.upsample(x)
        if self.noise_const is not None:
            x = x + self.noise_const * self.noise_strength
        return lrelu_agc(x)


class EncoderBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, rgb_channels: int | None, down: bool) -> None:
        super().__init__()
        self.fromrgb = nn.Conv2d(rgb_channels, in_channels, 1) if rgb_channels else None
        self.conv1 = SeparableConv2d(in_channels, in_channels)
        self.conv2 = SeparableConv2d(in_channels, out_channels, down=down)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.fromrgb is not None:
            y = lrelu_agc(self.fromrgb(img))
            x = y if x is None else x + y
        feature = self.conv1(x)
        return self.conv2(feature), feature


class Encoder(nn.Module):
    """Blocks ``b{r}`` for r = resolution ... 8 (each halves the size) and ``b4``; returns the 4x4 map and the
    feature of every block's first convolution, by resolution."""

    def __init__(self, config: MIGANConfig, in_channels: int = 4) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(int(math.log2(config.resolution)), 2, -1)]
        for index, res in enumerate(self.resolutions):
            block = EncoderBlock(config.channels(res), config.channels(res // 2), in_channels if index == 0 else None,
                                 down=True)
            self.add_module(f"b{res}", block)
        self.b4 = EncoderBlock(config.channels(4), config.channels(4), None, down=False)

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        x, features = None, {}
        for res in (*self.resolutions, 4):
            x, features[res] = getattr(self, f"b{res}")(x, img)
        return x, features


class SynthesisBlockFirst(nn.Module):
    def __init__(self, channels: int, rgb_channels: int) -> None:
        super().__init__()
        self.conv1 = SeparableConv2d(channels, channels)
        self.conv2 = SeparableConv2d(channels, channels)
        self.torgb = nn.Conv2d(channels, rgb_channels, 1)

    def forward(self, x: torch.Tensor, feature: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv2(self.conv1(x) + feature)
        return x, self.torgb(x)


class SynthesisBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, resolution: int, rgb_channels: int) -> None:
        super().__init__()
        self.conv1 = SeparableConv2d(in_channels, out_channels, resolution=resolution, noise=True, up=True)
        self.conv2 = SeparableConv2d(out_channels, out_channels, resolution=resolution, noise=True)
        self.torgb = nn.Conv2d(out_channels, rgb_channels, 1)
        self.upsample = Upsample2d(rgb_channels, resolution)

    def forward(self, x: torch.Tensor, feature: torch.Tensor, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv2(self.conv1(x) + feature)
        return x, self.upsample(img) + self.torgb(x)


class Synthesis(nn.Module):
    def __init__(self, config: MIGANConfig, rgb_channels: int = 3) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(3, int(math.log2(config.resolution)) + 1)]
        self.b4 = SynthesisBlockFirst(config.channels(4), rgb_channels)
        for res in self.resolutions:
            self.add_module(f"b{res}", SynthesisBlock(config.channels(res // 2), config.channels(res), res,
                                                      rgb_channels))

    def forward(self, x: torch.Tensor, features: dict[int, torch.Tensor]) -> torch.Tensor:
        x, img = self.b4(x, features[4])
        for res in self.resolutions:
            x, img = getattr(self, f"b{res}")(x, features[res], img)
        return img


class MIGAN(InpaintModel):
    """The MI-GAN generator; ``forward`` takes the official 4-channel input, ``predict`` our convention."""

    family = "migan"
    size_multiple = 1
    working_size = 512
    fixed_size = True

    def __init__(self, config: MIGANConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.working_size = config.resolution
        self.aligned_faces = config.aligned_faces
        self.synthesis = Synthesis(config)
        self.encoder = Encoder(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Official ``Generator.forward``: ``x = cat(mask - 0.5, image * mask)`` in its conventions -> [-1, 1]."""
        size = self.config.resolution
        if x.ndim != 4 or x.shape[1] != 4 or tuple(x.shape[-2:]) != (size, size):
            raise InputError(f"{self.name} takes [B, 4, {size}, {size}] (its filter_const and noise_const buffers are "
                             f"fixed at {size}x{size}), got {tuple(x.shape)}; use inpaint_core.inpaint(), which "
                             "resizes")
        x, features = self.encoder(x)
        return self.synthesis(x, features)

    def predict_outputs(self, image, hole, generator=None):
        known = 1 - hole
        x = torch.cat([known - 0.5, (image * 2 - 1) * known], dim=1)
        return {"image": (self(x) * 0.5 + 0.5).clamp(0, 1)}


PRESETS = {
    "places2-512": MIGANConfig(resolution=512),
    "places2-256": MIGANConfig(resolution=256),
    "ffhq-256": MIGANConfig(resolution=256, aligned_faces=True),
    "tiny": MIGANConfig(resolution=32, channel_base=512, channel_max=32),
}

register_family(
    Family(
        name="migan",
        config_cls=MIGANConfig,
        model_cls=MIGAN,
        presets=PRESETS,
        description="MI-GAN (ICCV 2023): mobile inpainting GAN, fixed 256 or 512 (Places2, FFHQ)",
    )
)

register_weights(
    WeightsEntry(
        name="migan-places2-512",
        family="migan",
        preset="places2-512",
        license=MIGAN_LICENSE,
        data="Places2 (Places365-Challenge), 512x512, MI-GAN's free-form masks",
        description="The official MI-GAN 512 Places2 generator (migan_512_places2.pt, a PyTorch state dict) as "
        "mirrored on the Hub by a third party; converted to safetensors once after download. Not downloaded or "
        "checked against real images here (no Hub access when it was added).",
        repo_id="BryanHaley/photowagon-models",
        filename="migan_512_places2.pt",
        sha256="1d6087eee0aac8923ad2606be5d8caeb4824d3e4de331995e420c74e124a466a",
        source_format="migan",
        mirror="third-party mirror of the official Google Drive release (folder 1xNtvN2lto0p5yFKOEEg9RioMjGrYM74w)",
        unpinned="no commit of the mirror is known: the file is fetched from 'main' and checked by its sha256",
    )
)
