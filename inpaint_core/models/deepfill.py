"""DeepFillv2 (Yu et al., *Free-Form Image Inpainting with Gated Convolution*, ICCV 2019): family ``deepfill``.

A coarse gated-convolution encoder-decoder, then a refinement network with a dilated-convolution branch and a
contextual-attention branch. Layer names and widths follow the official TensorFlow model (``inpaint_model.py``,
``cnum = 48``: 4,052,478 parameters, 1,631,151 in the coarse net); our state dict nests them as ``coarse.<tf name>``
and ``refine.<tf name>`` (e.g. ``coarse.conv13_upsample.conv.conv.weight``).

Native conventions: image in [-1, 1], mask 1 = hole, input ``cat(image * (1 - mask), ones, mask)`` (5 channels),
tanh outputs. ``predict`` converts from [0, 1] and returns the refined output.

TF compatibility: ``padding="tf_same"`` is TF's asymmetric ``SAME`` padding; the attention downsampling picks TF's
``align_corners=True`` indices; the x2 upsampling of TF (nearest, ``align_corners=True``) equals PyTorch's nearest.
Two details of the official TF code that the widely used PyTorch port changes are config fields:
``attention_fuse`` (TF: True, our default; port: False) and ``attention_mask_resize`` (port: one pick by ``4 * rate``
from the full-resolution mask, ``"direct"``, our default; TF: to the 1/4 feature grid, then by ``rate``,
``"two_step"``). ``ic.convert_checkpoint("deepfill", port_file, out, attention_fuse=False)`` reproduces the port;
add ``attention_mask_resize="two_step"`` to follow the official TF network in every detail we know of.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..catalog import UTKFACE_LICENSE, UTKFACE_TRAIN, WeightsEntry, register_weights
from ..layers.contextual_attention import DOWNSAMPLES, ContextualAttention, downsample_nearest
from ..layers.gated_conv import PADDINGS, GatedConv2d, GatedDeconv2d, tf_resize_nearest
from ..registry import Family, register_family
from .base import InpaintModel
from .prefill import PREFILLS, boundary_ramp, residual_output, telea_prefill

MASK_RESIZES = ("direct", "two_step")


@dataclass(frozen=True)
class DeepFillConfig:
    #: TF's ``cnum``: a gated layer computes ``2 * width`` channels; effective widths are cnum/2, cnum, 2*cnum.
    cnum: int = 48
    #: ``"tf_same"`` (TF ``SAME``: stride-2 layers pad 0 before, 1 after) or ``"same"`` (symmetric).
    padding: str = "tf_same"
    #: Score fusion in contextual attention (official TF: True; nipponjo's port: False).
    attention_fuse: bool = True
    #: Pixel picking of the attention's x ``1/rate`` downsampling: ``"tf_align_corners"`` or ``"stride"``.
    attention_downsample: str = "tf_align_corners"
    #: Attention mask from the full mask: ``"direct"`` (port) or ``"two_step"`` (official TF); see module docstring.
    attention_mask_resize: str = "direct"
    attention_rate: int = 2
    attention_ksize: int = 3
    attention_fuse_k: int = 3
    attention_softmax_scale: float = 10.0
    #: Memory bound of the attention: score values computed at a time (per image, per chunk of positions).
    attention_max_scores: int = 1 << 22
    #: What the generator sees under the hole: ``"zeros"`` (DeepFillv2) or ``"telea"`` (OpenCV's fill, computed in
    #: ``forward``; our compact presets). Not in the paper: see docs/deepfill.md.
    prefill: str = "zeros"
    #: Each stage outputs its input plus its last layer's output inside the hole (that layer zero-initialised, so a
    #: fresh network returns the pre-fill) instead of ``tanh`` of it: the network learns a correction of the pre-fill.
    residual: bool = False
    #: With ``residual``: the correction is scaled by the distance to the nearest known pixel over this many pixels
    #: (0 to 1), so that it fades in from the hole's edge instead of leaving a seam; 0 = no fade.
    residual_ramp: float = 0.0

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("prefill", self.prefill, PREFILLS),
            ("padding", self.padding, PADDINGS),
            ("attention_downsample", self.attention_downsample, DOWNSAMPLES),
            ("attention_mask_resize", self.attention_mask_resize, MASK_RESIZES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if self.cnum < 4 or self.cnum % 4:
            raise ValueError(f"cnum must be a positive multiple of 4, got {self.cnum}")


def _encoder(config: DeepFillConfig, prefix: str, in_channels: int, widths: tuple[int, int, int, int]) -> list:
    """``(name, layer)`` pairs of a 5x5 conv, stride-2 conv, conv, stride-2 conv, conv (TF's conv1..conv5)."""
    pad = config.padding
    a, b, c, d = widths
    return [
        (f"{prefix}conv1", GatedConv2d(in_channels, a, 5, padding=pad)),
        (f"{prefix}conv2_downsample", GatedConv2d(a, b, 3, 2, padding=pad)),
        (f"{prefix}conv3", GatedConv2d(b, c, 3, padding=pad)),
        (f"{prefix}conv4_downsample", GatedConv2d(c, d, 3, 2, padding=pad)),
        (f"{prefix}conv5", GatedConv2d(d, 2 * config.cnum, 3, padding=pad)),
    ]


def _dilated(config: DeepFillConfig, prefix: str) -> list:
    width, pad = 2 * config.cnum, config.padding
    layers = [(f"{prefix}conv6", GatedConv2d(width, width, 3, padding=pad))]
    for index, rate in zip(range(7, 11), (2, 4, 8, 16)):
        layers.append((f"{prefix}conv{index}_atrous", GatedConv2d(width, width, 3, dilation=rate, padding=pad)))
    return layers


def _decoder(config: DeepFillConfig, prefix: str, in_channels: int, first: int) -> list:
    """TF's conv11 .. conv17 (``allconv11`` .. ``allconv17`` in the refinement net)."""
    cnum, pad = config.cnum, config.padding
    return [
        (f"{prefix}{first}", GatedConv2d(in_channels, 2 * cnum, 3, padding=pad)),
        (f"{prefix}{first + 1}", GatedConv2d(2 * cnum, 2 * cnum, 3, padding=pad)),
        (f"{prefix}{first + 2}_upsample", GatedDeconv2d(2 * cnum, cnum, padding=pad)),
        (f"{prefix}{first + 3}", GatedConv2d(cnum, cnum, 3, padding=pad)),
        (f"{prefix}{first + 4}_upsample", GatedDeconv2d(cnum, cnum // 2, padding=pad)),
        (f"{prefix}{first + 5}", GatedConv2d(cnum // 2, cnum // 4, 3, padding=pad)),
        (f"{prefix}{first + 6}", GatedConv2d(cnum // 4, 3, 3, activation=None, padding=pad)),
    ]


def _run(module: nn.Module, names: list[str], x: torch.Tensor) -> torch.Tensor:
    for name in names:
        x = getattr(module, name)(x)
    return x


class CoarseNet(nn.Module):
    """Stage 1: ``[B, 5, H, W]`` -> ``[B, 3, H, W]`` in [-1, 1] (TF names conv1 .. conv17)."""

    def __init__(self, config: DeepFillConfig) -> None:
        super().__init__()
        c = config.cnum
        layers = _encoder(config, "", 5, (c // 2, c, c, 2 * c)) + _dilated(config, "")
        layers += _decoder(config, "conv", 2 * c, 11)
        for name, layer in layers:
            self.add_module(name, layer)
        self.order = [name for name, _ in layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's output, before the generator's ``tanh`` (or residual sum)."""
        return _run(self, self.order, x)


class RefineNet(nn.Module):
    """Stage 2: a dilated branch (``xconv*``) and an attention branch (``pmconv*``), merged (``allconv*``)."""

    def __init__(self, config: DeepFillConfig) -> None:
        super().__init__()
        c, pad = config.cnum, config.padding
        branch = _encoder(config, "x", 3, (c // 2, c // 2, c, c)) + _dilated(config, "x")
        attention = _encoder(config, "pm", 3, (c // 2, c // 2, c, 2 * c))
        attention.append(("pmconv6", GatedConv2d(2 * c, 2 * c, 3, activation="relu", padding=pad)))
        after = [(f"pmconv{i}", GatedConv2d(2 * c, 2 * c, 3, padding=pad)) for i in (9, 10)]
        merge = _decoder(config, "allconv", 4 * c, 11)
        for name, layer in branch + attention + after + merge:
            self.add_module(name, layer)
        self.contextual_attention = ContextualAttention(
            ksize=config.attention_ksize, rate=config.attention_rate, fuse_k=config.attention_fuse_k,
            softmax_scale=config.attention_softmax_scale, fuse=config.attention_fuse,
            downsample=config.attention_downsample, max_scores=config.attention_max_scores,
        )
        self.config = config
        self.branch = [n for n, _ in branch]
        self.attention = [n for n, _ in attention]
        self.after = [n for n, _ in after]
        self.merge = [n for n, _ in merge]

    def attention_mask(self, mask: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
        """The hole mask on the attention's matching grid (feature size / rate)."""
        config, rate = self.config, self.config.attention_rate
        if config.attention_mask_resize == "direct":
            return downsample_nearest(mask, mask.shape[-1] // feature.shape[-1] * rate, config.attention_downsample)
        if config.attention_downsample == "tf_align_corners":
            mask = tf_resize_nearest(mask, tuple(feature.shape[-2:]))
        else:
            mask = downsample_nearest(mask, mask.shape[-1] // feature.shape[-1], "stride")
        return downsample_nearest(mask, rate, config.attention_downsample)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hallucinated = _run(self, self.branch, x)
        feature = _run(self, self.attention, x)
        attended = self.contextual_attention(feature, feature, self.attention_mask(mask, feature))
        attended = _run(self, self.after, attended)
        return _run(self, self.merge, torch.cat([hallucinated, attended], dim=1))


class DeepFillGenerator(nn.Module):
    """Both stages. ``forward(x, mask)``: ``x`` ``[B, 3, H, W]`` in [-1, 1] whose hole pixels are the network's
    input (zeros for plain DeepFillv2; the progressive family pre-fills them), ``mask`` ``[B, 1, H, W]`` 1 = hole.
    Returns ``(coarse, refined)``, in [-1, 1] unless ``config.residual`` (then unclamped)."""

    def __init__(self, config: DeepFillConfig) -> None:
        super().__init__()
        self.config = config
        self.coarse = CoarseNet(config)
        self.refine = RefineNet(config)
        if config.residual:
            for last in (getattr(self.coarse, self.coarse.order[-1]), getattr(self.refine, self.refine.merge[-1])):
                nn.init.zeros_(last.conv.weight)
                nn.init.zeros_(last.conv.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.config.prefill == "telea":
            x = telea_prefill(x, mask)
        # the correction is confined to the hole: outside it the L1 loss of a near-zero residual would be pure noise
        weight = boundary_ramp(mask, self.config.residual_ramp) if self.config.residual else None
        ones = torch.ones_like(mask)
        coarse = residual_output(self.coarse(torch.cat([x, ones, ones * mask], dim=1)), x, weight)
        composite = coarse * mask + x * (1 - mask)
        refined = residual_output(self.refine(composite, mask), composite, weight)
        return coarse, refined


class DeepFill(InpaintModel):
    """DeepFillv2 behind the model interface; ``extra_outputs``: the coarse stage's image."""

    family = "deepfill"
    compile_modules = ("generator",)
    size_multiple = 8
    working_size = 256
    extra_outputs = ("coarse",)

    def __init__(self, config: DeepFillConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.generator = DeepFillGenerator(config)

    def predict_outputs(self, image, hole, generator=None):
        x = image * 2 - 1
        coarse, refined = self.generator(x * (1 - hole), hole)
        return {"image": ((refined + 1) / 2).clamp(0, 1), "coarse": ((coarse + 1) / 2).clamp(0, 1)}


PRESETS = {
    # Architectures of the official TF releases (Places2, CelebA-HQ), as converted by nipponjo/deepfillv2-pytorch.
    "places2": DeepFillConfig(),
    "celebahq": DeepFillConfig(),
    "tiny": DeepFillConfig(cnum=8),
    # Our bundled faces model: a third of the width, learning a correction of OpenCV's Telea fill (docs/deepfill.md).
    "compact": DeepFillConfig(cnum=16, prefill="telea", residual=True),
}




register_family(
    Family(
        name="deepfill",
        config_cls=DeepFillConfig,
        model_cls=DeepFill,
        presets=PRESETS,
        description="DeepFillv2: gated convolutions, coarse-to-fine with contextual attention (Yu et al. 2019)",
    )
)

register_weights(
    WeightsEntry(
        name="deepfill-compact-utkface",
        family="deepfill",
        preset="compact",
        license=UTKFACE_LICENSE,
        data=UTKFACE_TRAIN,
        description="DeepFillv2 at a third of the width, correcting a Telea pre-fill; trained here for 2.3 h on a CPU "
        "(model card: inpaint_core/weights/deepfill-compact-utkface.md). The fastest bundled network.",
        bundled="deepfill-compact-utkface.safetensors",
        sha256="d8ed7e0f600db738579b1564dd3d8c01ac08512144bd148604a5ea0f4caab1b0",
        subject="face",
    )
)
