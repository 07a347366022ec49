"""pSp (pixel2style2pixel, Richardson et al. CVPR 2021): a GradualStyleEncoder on IR-SE-50 that predicts W+ codes
for a pre-trained StyleGAN2 generator. Stage 1 of ISFRNet, and a family of its own.

Parameter names equal those of the released pSp checkpoints (``encoder.*``, ``decoder.*``), plus ``latent_avg``,
which the release keeps outside its state dict. ``forward(x)`` equals the official
``pSp.forward(x, resize=True, randomize_noise=False, return_latents=True)``: the input is an aligned RGB face in
[-1, 1]; the generator image is average-pooled to ``image_size`` (for 1024 -> 256 an exact 4x4 mean) and not clamped.

Licence: the code is ours; the released pSp FFHQ weights contain NVIDIA's StyleGAN2 FFHQ generator (NVIDIA Source
Code License-NC) and an IR-SE-50 trained for face recognition: non-commercial use only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..catalog import WeightsEntry, register_weights
from ..layers.irse import IR50_UNITS, IR50_WIDTHS, input_layer, ir_se_body
from ..layers.stylegan2 import EqualLinear, StyleGAN2Generator
from ..registry import Family, register_family
from .base import InpaintModel
from .prefill import PREFILLS, telea_prefill

PSP_LICENSE = (
    "non-commercial: pSp code MIT (Richardson et al.), but the weights contain NVIDIA's StyleGAN2 FFHQ generator "
    "(NVIDIA Source Code License-NC) and an IR-SE-50 face-recognition backbone (research use)"
)


@dataclass(frozen=True)
class PSPConfig:
    #: Side of the encoder's input face and of the pooled output (the official 256).
    image_size: int = 256
    #: Channels of the encoder input (``opts.input_nc``).
    in_channels: int = 3
    #: IR-SE units per block (IR-SE-50: 3, 4, 14, 3) and widths; the three feature taps are the ends of blocks 2-4.
    encoder_units: tuple[int, ...] = IR50_UNITS
    encoder_widths: tuple[int, ...] = IR50_WIDTHS
    encoder_stem: int = 64
    se_reduction: int = 16
    #: Styles ``[0, coarse)`` come from the 1/16 map, ``[coarse, middle)`` from 1/8, the rest from 1/4.
    coarse_styles: int = 3
    middle_styles: int = 7
    #: StyleGAN2 generator (config-f FFHQ: 1024, 512, 8 mapping layers, widths 4 px ... 1024 px).
    generator_size: int = 1024
    style_dim: int = 512
    n_mlp: int = 8
    generator_channels: tuple[int, ...] = (512, 512, 512, 512, 512, 256, 128, 64, 32)
    #: Add ``latent_avg`` to the encoder's codes (``opts.start_from_latent_avg``; True for the released models).
    start_from_latent_avg: bool = True
    #: What the encoder sees under the hole (our choice, not pSp's: it was trained on whole faces): "telea", OpenCV's
    #: Telea fill of the known pixels, so that it inverts a face without a grey patch; or "zeros", ``hole_value``.
    prefill: str = "telea"
    #: Value in [-1, 1] that hole pixels get with ``prefill="zeros"`` (0, mid-grey).
    hole_value: float = 0.0

    def __post_init__(self) -> None:
        if self.prefill not in PREFILLS:
            raise ValueError(f"prefill must be one of {PREFILLS}, got {self.prefill!r}")
        if len(self.encoder_units) != 4 or len(self.encoder_widths) != 4:
            raise ValueError("the encoder has exactly four blocks (encoder_units and encoder_widths of length 4)")
        if self.image_size % 64 or self.image_size < 64:
            raise ValueError(f"image_size must be a multiple of 64, got {self.image_size}")
        if not 0 < self.coarse_styles < self.middle_styles < self.n_styles:
            raise ValueError("need 0 < coarse_styles < middle_styles < n_styles")

    @property
    def n_styles(self) -> int:
        return 2 * int(math.log2(self.generator_size)) - 2


class GradualStyleBlock(nn.Module):
    """``log2(spatial)`` stride-2 conv3x3 + LeakyReLU(0.01) down to 1x1, then an equalised linear layer."""

    def __init__(self, in_channels: int, out_channels: int, spatial: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for index in range(int(math.log2(spatial))):
            layers += [nn.Conv2d(in_channels if index == 0 else out_channels, out_channels, 3, 2, 1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(out_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convs(x).flatten(1))


class GradualStyleEncoder(nn.Module):
    """IR-SE body with a feature pyramid (bilinear, ``align_corners=True``) and one map2style head per W+ code."""

    def __init__(self, config: PSPConfig) -> None:
        super().__init__()
        widths = config.encoder_widths
        self.input_layer = input_layer(config.in_channels, config.encoder_stem)
        self.body = ir_se_body(config.encoder_units, widths, config.encoder_stem, config.se_reduction)
        ends = [sum(config.encoder_units[: i + 1]) - 1 for i in range(4)]
        self.taps = (ends[1], ends[2], ends[3])
        self.coarse, self.middle = config.coarse_styles, config.middle_styles
        deepest = config.image_size // 16
        self.styles = nn.ModuleList(
            GradualStyleBlock(widths[3], config.style_dim,
                              deepest if i < self.coarse else deepest * 2 if i < self.middle else deepest * 4)
            for i in range(config.n_styles)
        )
        self.latlayer1 = nn.Conv2d(widths[2], widths[3], 1)
        self.latlayer2 = nn.Conv2d(widths[1], widths[3], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """W+ codes ``[B, n_styles, style_dim]`` (before ``latent_avg`` is added)."""
        x = self.input_layer(x)
        features = []
        for index, unit in enumerate(self.body):
            x = unit(x)
            if index in self.taps:
                features.append(x)
        c1, c2, c3 = features
        p2 = F.interpolate(c3, size=c2.shape[-2:], mode="bilinear", align_corners=True) + self.latlayer1(c2)
        p1 = F.interpolate(p2, size=c1.shape[-2:], mode="bilinear", align_corners=True) + self.latlayer2(c1)
        maps = [c3 if i < self.coarse else p2 if i < self.middle else p1 for i in range(len(self.styles))]
        codes = [style(x) for style, x in zip(self.styles, maps)]
        return torch.stack(codes, dim=1)


class PSP(InpaintModel):
    """pSp encoder + StyleGAN2 generator. As an inpainting model it encodes the masked face (its hole pre-filled as
    ``prefill`` says) and returns the generated face: ISFRNet's stage 1 and prior, which the pipeline composites."""

    family = "psp"
    compile_modules = ("",)
    size_multiple = 1
    working_size = 256
    fixed_size = True
    aligned_faces = True

    def __init__(self, config: PSPConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.working_size = config.image_size
        self.encoder = GradualStyleEncoder(config)
        self.decoder = StyleGAN2Generator(config.generator_size, config.style_dim, config.n_mlp,
                                          config.generator_channels)
        self.register_buffer("latent_avg", torch.zeros(config.n_styles, config.style_dim))

    def forward(self, x: torch.Tensor, randomize_noise: bool = False,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(image, latents)``: the generated face pooled to ``image_size`` (unclamped, about [-1, 1]) and the W+
        codes it was generated from. ``x`` is an RGB face in [-1, 1] at ``image_size``. Noise comes from the stored
        buffers unless ``randomize_noise``."""
        codes = self.encoder(x)
        if self.config.start_from_latent_avg:
            codes = codes + self.latent_avg
        noise = self.decoder.noise_maps(x.shape[0], randomize_noise, generator)
        image = self.decoder(codes, noise)
        return F.adaptive_avg_pool2d(image, self.config.image_size), codes

    def masked_input(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """Our public convention (image in [0, 1], hole 1 = fill) -> pSp's input in [-1, 1] with holes filled."""
        x = (image * 2 - 1) * (1 - hole) + hole * self.config.hole_value
        return telea_prefill(x, hole) if self.config.prefill == "telea" else x

    def predict_outputs(self, image, hole, generator=None):
        face, _ = self(self.masked_input(image, hole))
        return {"image": ((face + 1) / 2).clamp(0, 1)}



PRESETS = {
    "ffhq": PSPConfig(),
    "tiny": PSPConfig(image_size=64, encoder_units=(1, 1, 1, 1), encoder_widths=(8, 16, 16, 32), encoder_stem=8,
                      se_reduction=4, generator_size=128, style_dim=32, n_mlp=2,
                      generator_channels=(32, 32, 32, 16, 16, 8)),
}

register_family(
    Family(
        name="psp",
        config_cls=PSPConfig,
        model_cls=PSP,
        presets=PRESETS,
        description="pSp encoder + StyleGAN2 FFHQ generator (face prior; stage 1 of ISFRNet)",
    )
)

register_weights(
    WeightsEntry(
        name="psp-ffhq-encode",
        family="psp",
        preset="ffhq",
        license=PSP_LICENSE,
        data="FFHQ (StyleGAN inversion, FFHQ-aligned faces at 256)",
        description="The official pSp FFHQ encoder (psp_ffhq_encode.pt, 1.2 GB), mirrored on the Hub by a third party "
        "(trysem/pixel2style2pixel); converted to safetensors once after download.",
        repo_id="trysem/pixel2style2pixel",
        filename="psp_ffhq_encode.pt",
        #: The commit that uploaded the file; sha256 is its Git LFS object id on the Hub.
        revision="f5add9ecc484a3591f52c2144d5319cc5725954d",
        sha256="f786ac5cf18fcdbc5c57c9f3f12cbedca69381fbdf5694dd132294e3133749d7",
        source_format="psp",
        subject="face",
        download_bytes=1_200_000_000,  # "1.2 GB" (the Hub's file page)
    )
)
