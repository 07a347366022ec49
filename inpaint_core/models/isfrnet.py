"""ISFRNet (Wang & Shin, KSII TIIS 17(3), 2023): three-stage identity and structure feature refinement for faces.

What the paper's abstract fixes: stage 1 is a pre-trained pSp + StyleGAN2 that imagines a realistic face with rich
structure; stage 2 a shallow network with a small receptive field; stage 3 a modified U-Net with two encoders and one
decoder with a large receptive field. Everything else is **our reconstruction**, each
unknown a config field:

1. ``face = pSp(masked)``: the masked face (holes at ``psp.hole_value`` in [-1, 1]) through the frozen pSp;
   ``prior = known * (1 - hole) + face * hole`` pastes the imagined face into the hole.
2. ``coarse = prior + stage2(cat(masked, hole, prior))``: a few 3x3 convolutions (receptive field
   ``1 + 2 * (stage2_layers + 1)`` px) that correct colours and seams where the prior meets the known pixels.
3. ``out = tanh(stage3(...))``: encoder A reads ``cat(known * (1 - hole) + coarse * hole, hole)``, encoder B the
   whole pSp face (structure and identity); a bottleneck of dilated residual blocks gives the large receptive field;
   the decoder takes skip connections from both encoders at every level.

All images inside are in [-1, 1]; ``predict_outputs`` returns the stage-3 image in [0, 1] plus the pSp face (``psp``)
and the stage-2 image (``stage2``). Stage 1 stays frozen (no gradients, BatchNorm in eval mode); load its weights with
:meth:`ISFRNet.load_stage1` before training. Licence of stage 1's weights: see ``models/psp.py`` (non-commercial).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import WeightsError
from ..registry import Family, register_family
from .base import InpaintModel
from .psp import PRESETS as PSP_PRESETS
from .psp import PSP, PSPConfig


@dataclass(frozen=True)
class ISFRNetConfig:
    #: Stage 1 (its ``image_size`` is the working size of the whole model).
    psp: PSPConfig = field(default_factory=PSPConfig)
    #: Catalog name, Hub repo id or path of the pSp weights stage 1 starts from in training (``load_stage1``).
    stage1_weights: str = "psp-ffhq-encode"
    #: Paste the pSp face into the hole only (True) or give stage 2 the whole pSp face (False).
    composite_prior: bool = True
    #: Stage 2: ``stage2_layers`` conv3x3 + LeakyReLU(0.2) of ``stage2_width`` channels, then conv3x3 -> RGB residual.
    stage2_width: int = 64
    stage2_layers: int = 4
    #: Stage 3: widths of the five stride-2 levels of each encoder (conv4x4 + InstanceNorm + LeakyReLU(0.2)).
    stage3_widths: tuple[int, ...] = (64, 128, 256, 512, 512)
    #: Dilations of the residual blocks at the bottleneck (one block per entry).
    dilations: tuple[int, ...] = (2, 4, 8, 16)

    def __post_init__(self) -> None:
        if self.psp.image_size % 2 ** len(self.stage3_widths):
            raise ValueError("psp.image_size must be divisible by 2 ** len(stage3_widths)")


def _norm_act(channels: int, negative_slope: float) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels, affine=True), nn.LeakyReLU(negative_slope) if negative_slope else nn.ReLU()]


class ShallowRefiner(nn.Module):
    """Stage 2: plain 3x3 convolutions with a small receptive field; predicts a residual on the prior."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for index in range(layers):
            blocks += [nn.Conv2d(7 if index == 0 else width, width, 3, padding=1), nn.LeakyReLU(0.2)]
        blocks.append(nn.Conv2d(width, 3, 3, padding=1))
        self.net = nn.Sequential(*blocks)

    def forward(self, masked: torch.Tensor, hole: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
        return prior + self.net(torch.cat([masked, hole, prior], dim=1))


class DownEncoder(nn.Module):
    """Stride-2 conv4x4 levels (no normalisation on the first); returns every level's features, finest first."""

    def __init__(self, in_channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.levels = nn.ModuleList()
        for index, width in enumerate(widths):
            conv = nn.Conv2d(in_channels, width, 4, 2, 1)
            self.levels.append(nn.Sequential(conv, nn.LeakyReLU(0.2)) if index == 0
                               else nn.Sequential(conv, *_norm_act(width, 0.2)))
            in_channels = width

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for level in self.levels:
            x = level(x)
            features.append(x)
        return features


class DilatedResBlock(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation), *_norm_act(channels, 0.0),
            nn.Conv2d(channels, channels, 3, padding=1), nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TwoEncoderUNet(nn.Module):
    """Stage 3: encoder A (refined composite + hole), encoder B (pSp face), dilated bottleneck, one decoder that
    concatenates the skips of both encoders at each level (nearest x2, conv3x3 + InstanceNorm + ReLU)."""

    def __init__(self, widths: tuple[int, ...], dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.encoder_a = DownEncoder(4, widths)
        self.encoder_b = DownEncoder(3, widths)
        deepest = widths[-1]
        self.fuse = nn.Sequential(nn.Conv2d(2 * deepest, deepest, 1), *_norm_act(deepest, 0.0))
        self.bottleneck = nn.Sequential(*(DilatedResBlock(deepest, d) for d in dilations))
        self.decoder = nn.ModuleList()
        in_channels = deepest
        for level in reversed(range(len(widths))):  # output resolutions: 1/2**level of the input
            out_channels = widths[max(level - 1, 0)]
            skips = 2 * widths[level - 1] if level > 0 else 0
            self.decoder.append(nn.Sequential(nn.Conv2d(in_channels + skips, out_channels, 3, padding=1),
                                              *_norm_act(out_channels, 0.0)))
            in_channels = out_channels
        self.to_rgb = nn.Conv2d(in_channels, 3, 3, padding=1)

    def forward(self, composite: torch.Tensor, hole: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        skips_a = self.encoder_a(torch.cat([composite, hole], dim=1))
        skips_b = self.encoder_b(face)
        x = self.bottleneck(self.fuse(torch.cat([skips_a[-1], skips_b[-1]], dim=1)))
        levels = len(skips_a)
        for index, block in enumerate(self.decoder):
            level = levels - 1 - index
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            if level > 0:
                x = torch.cat([x, skips_a[level - 1], skips_b[level - 1]], dim=1)
            x = block(x)
        return torch.tanh(self.to_rgb(x))


class ISFRNet(InpaintModel):
    family = "isfrnet"
    size_multiple = 1
    working_size = 256
    fixed_size = True
    aligned_faces = True
    extra_outputs = ("psp", "stage2")

    def __init__(self, config: ISFRNetConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.working_size = config.psp.image_size
        self.psp = PSP(config.psp)
        self.psp.requires_grad_(False)
        self.stage2 = ShallowRefiner(config.stage2_width, config.stage2_layers)
        self.stage3 = TwoEncoderUNet(config.stage3_widths, config.dilations)

    def train(self, mode: bool = True) -> ISFRNet:
        """Stages 2 and 3 follow ``mode``; the frozen pSp stays in eval mode."""
        super().train(mode)
        self.psp.eval()
        return self

    def load_stage1(self, source: PSP) -> None:
        """Copy a trained pSp (e.g. ``inpaint_core.load_model(config.stage1_weights)``) into stage 1."""
        if source.config != self.config.psp:
            raise WeightsError(f"the pSp weights have config {source.config}, stage 1 needs {self.config.psp}")
        self.psp.load_state_dict(source.state_dict(), strict=True)

    def predict_outputs(self, image, hole, generator=None):
        known = image * 2 - 1
        face, _ = self.psp(self.psp.masked_input(image, hole))
        prior = known * (1 - hole) + face * hole if self.config.composite_prior else face
        masked = known * (1 - hole)
        coarse = self.stage2(masked, hole, prior)
        out = self.stage3(masked + coarse * hole, hole, face)
        to_unit = lambda x: ((x + 1) / 2).clamp(0, 1)  # noqa: E731
        return {"image": to_unit(out), "psp": to_unit(face), "stage2": to_unit(coarse)}


PRESETS = {
    "full": ISFRNetConfig(),
    "tiny": ISFRNetConfig(psp=PSP_PRESETS["tiny"], stage2_width=8, stage2_layers=2, stage3_widths=(8, 16, 16, 32, 32),
                          dilations=(2, 4)),
}



register_family(
    Family(
        name="isfrnet",
        config_cls=ISFRNetConfig,
        model_cls=ISFRNet,
        presets=PRESETS,
        description="ISFRNet-style three-stage face inpainting: frozen pSp prior, shallow refiner, two-encoder U-Net",
    )
)
