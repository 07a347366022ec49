"""CTSDG: Image Inpainting via Conditional Texture and Structure Dual Generation (Guo, Yang, Huang; ICCV 2021).

Faithful to the official release (github.com/xiefan-guo/ctsdg, MIT): the same layers, numerics and state-dict keys,
so the official checkpoint converts by identity (``inpaint_core.converters.ctsdg``). Two partial-convolution U-Nets,
a texture stream on the masked image and a structure stream on the masked Canny edges and gray image, each decoder
starting from the *other* stream's deepest feature; then Bi-directional Gated Feature Fusion, Contextual Feature
Aggregation and projection heads that predict an image and an edge map from the two decoders.

Native conventions: image in [-1, 1], mask 1 = valid; the wrapper converts from the package's [0, 1] and hole = 1.
Preprocessing modes (``CTSDGConfig.preprocessing``):

- ``legacy``: what the released weights were trained with. The official data pipeline takes Canny edges and the gray
  image of the *normalised* tensor converted back to 8 bits, where negative values wrap around: pixel value p becomes
  (2p + 1) mod 256 ((2p + 2) mod 256 for p = 64..127, float32 rounding). The gray input is scikit-image's ``rgb2gray``
  of that wrapped image. Reproduced bit for bit (:func:`legacy_codes`), with scikit-image's Canny.
- ``clean``: edges and gray of the image itself, for models trained with this package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..catalog import UTKFACE_LICENSE, UTKFACE_TRAIN, WeightsEntry, register_weights
from ..layers.cfa import ContextualFeatureAggregation
from ..layers.partial_conv import PartialConv2d, concat_masked
from ..registry import Family, register_family
from .base import InpaintModel
from .prefill import boundary_ramp, opencv_fill, telea_prefill

PREPROCESSING = ("clean", "legacy")
#: Kernel size of each encoder level (stride 2, padding k // 2), as the official generator.
_ENCODER_KERNELS = (7, 5, 5, 3, 3, 3, 3)
OFFICIAL_WEIGHTS_URL = "https://drive.google.com/drive/folders/1lcATVc_U7plyEI__j5NWKCmKV_MNuhwq"


@dataclass(frozen=True)
class CTSDGConfig:
    #: Output channels of the 7 encoder levels of each stream (decoder level k outputs ``widths[max(k - 2, 0)]``).
    widths: tuple[int, ...] = (64, 128, 256, 512, 512, 512, 512)
    #: Hidden width of the residual bottleneck in each projection head.
    projection_width: int = 16
    #: Dilations of the multi-scale aggregation branches of CFA.
    cfa_dilations: tuple[int, ...] = (1, 2, 4, 8)
    cfa_softmax_scale: float = 10.0
    #: ``"legacy"`` (the released weights' wrapped 8-bit edge and gray inputs) or ``"clean"``; see the module doc.
    preprocessing: str = "clean"
    #: Gaussian sigma of the Canny edge detector (scikit-image, default thresholds).
    canny_sigma: float = 2.0
    #: Standard deviation of the N(0, std) initialisation of conv weights (BatchNorm weights: N(1, std)).
    init_std: float = 0.02
    #: Output OpenCV's Telea fill of the hole plus, inside the hole, the output layer's result (that layer
    #: zero-initialised, no ``tanh``) instead of ``tanh`` of it: the network learns a correction of the fill.
    #: Our compact preset; not in the paper (docs/ctsdg.md).
    residual: bool = False
    #: With ``residual``: the correction fades in over this many pixels from the hole's edge (0 = no fade).
    residual_ramp: float = 0.0

    def __post_init__(self) -> None:
        if len(self.widths) != len(_ENCODER_KERNELS) or min(self.widths) < 1:
            raise ValueError(f"widths must be {len(_ENCODER_KERNELS)} positive ints, got {self.widths}")
        if self.preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}, got {self.preprocessing!r}")
        if self.canny_sigma <= 0 or self.projection_width < 1:
            raise ValueError("canny_sigma and projection_width must be positive")


class PartialConvBlock(nn.Module):
    """``PConvBNActiv`` of the reference: partial conv (no bias), optional BatchNorm, activation."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, bn: bool, activation: nn.Module) -> None:
        super().__init__()
        self.conv = PartialConv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.activation = activation

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._post(*self.conv(x, mask))

    def forward_masked(self, masked: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._post(*self.conv.forward_masked(masked, valid))

    def _post(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bn is not None:
            x = self.bn(x)
        return self.activation(x), mask


class Bottleneck(nn.Module):
    """Residual 3x3 bottleneck of the projection heads (no conv bias)."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


class FeatureProjection(nn.Module):
    """``Feature2Texture`` / ``Feature2Structure``: bottleneck then a 1x1 conv and tanh (image) or sigmoid (edge)."""

    def __init__(self, kind: str, channels: int, hidden: int) -> None:
        super().__init__()
        self.resolver_name = f"{kind}_resolver"
        self.add_module(self.resolver_name, Bottleneck(channels, hidden))
        out, activation = (3, nn.Tanh()) if kind == "texture" else (1, nn.Sigmoid())
        self.out_layer = nn.Sequential(nn.Conv2d(channels, out, 1), activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out_layer(getattr(self, self.resolver_name)(x))


class BiGatedFusion(nn.Module):
    """``BiGFF``: each stream adds the other's feature through a sigmoid gate scaled by a learnt scalar (init 0);
    the structure update uses the already updated texture feature, as the reference does."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.structure_gate = nn.Sequential(nn.Conv2d(2 * channels, channels, 3, padding=1), nn.Sigmoid())
        self.texture_gate = nn.Sequential(nn.Conv2d(2 * channels, channels, 3, padding=1), nn.Sigmoid())
        self.structure_gamma = nn.Parameter(torch.zeros(1))
        self.texture_gamma = nn.Parameter(torch.zeros(1))

    def forward(self, texture: torch.Tensor, structure: torch.Tensor) -> torch.Tensor:
        energy = torch.cat((texture, structure), dim=1)
        texture = texture + self.texture_gamma * (self.structure_gate(energy) * structure)
        structure = structure + self.structure_gamma * (self.texture_gate(energy) * texture)
        return torch.cat((texture, structure), dim=1)


class CTSDG(InpaintModel):
    """The CTSDG generator; ``forward`` is the official one (native conventions), ``predict`` the package's."""

    family = "ctsdg"
    compile_modules = ("",)
    size_multiple = 2 ** len(_ENCODER_KERNELS)  # 7 stride-2 levels: 128
    working_size = 256
    extra_outputs = ("edge",)

    def __init__(self, config: CTSDGConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        widths = config.widths
        #: Put every BatchNorm in eval mode during training (the official ``freeze_ec_bn`` of fine-tuning).
        self.freeze_batchnorm = False
        for stream, cin in (("texture", 3), ("structure", 2)):
            previous = cin
            for level, (kernel, width) in enumerate(zip(_ENCODER_KERNELS, widths), start=1):
                block = PartialConvBlock(previous, width, kernel, 2, bn=level > 1, activation=nn.ReLU())
                self.add_module(f"ec_{stream}_{level}", block)
                previous = width
            for level in range(len(widths), 0, -1):
                skip = widths[level - 2] if level > 1 else cin
                out = widths[max(level - 2, 0)]
                block = PartialConvBlock(previous + skip, out, 3, 1, bn=True, activation=nn.LeakyReLU(0.2))
                self.add_module(f"dc_{stream}_{level}", block)
                previous = out
        feature = widths[0]
        self.structure_feature_projection = FeatureProjection("structure", feature, config.projection_width)
        self.texture_feature_projection = FeatureProjection("texture", feature, config.projection_width)
        self.bigff = BiGatedFusion(feature)
        self.fusion_layer1 = nn.Sequential(nn.Conv2d(2 * feature, feature, 3, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.cfa = ContextualFeatureAggregation(feature, config.cfa_dilations, config.cfa_softmax_scale)
        self.fusion_layer2 = nn.Sequential(nn.Conv2d(2 * feature, feature, 3, padding=1), nn.LeakyReLU(0.2))
        self.out_layer = nn.Sequential(nn.Conv2d(3 * feature, 3, 1), nn.Tanh())
        self.apply(self._init_weights)
        if config.residual:
            nn.init.zeros_(self.out_layer[0].weight)

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.init_std
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, std)
            nn.init.zeros_(module.bias)

    def train(self, mode: bool = True) -> CTSDG:
        super().train(mode)
        if self.freeze_batchnorm:
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.eval()
        return self

    def _stream(self, name: str, x: torch.Tensor, mask: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        levels = [(x, mask)]
        for level in range(1, len(self.config.widths) + 1):
            levels.append(getattr(self, f"ec_{name}_{level}")(*levels[-1]))
        return levels

    def _decode(self, name: str, start: tuple[torch.Tensor, torch.Tensor], skips) -> torch.Tensor:
        x, mask = start
        for level in range(len(self.config.widths), 0, -1):
            x = F.interpolate(x, scale_factor=2, mode="bilinear")
            mask = F.interpolate(mask, scale_factor=2, mode="nearest")
            x, mask = getattr(self, f"dc_{name}_{level}").forward_masked(*concat_masked([(x, mask), skips[level - 1]]))
        return x

    def forward(
        self, image: torch.Tensor, structure: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Official signature: ``image`` masked, in [-1, 1]; ``structure`` = masked ``cat(edge, gray)``; ``mask``
        ``[B, 1, H, W]`` with 1 = valid (the official convention, unlike the package's 1 = hole). Returns ``(output
        in [-1, 1] (unclamped if ``residual``), projected image, projected edge)``. A residual network corrects
        ``image`` with its hole Telea-filled."""
        textures = self._stream("texture", image, mask)
        structures = self._stream("structure", structure, mask)
        texture = self._decode("texture", structures[-1], textures)
        structure = self._decode("structure", textures[-1], structures)
        projected_image = self.texture_feature_projection(texture)
        projected_edge = self.structure_feature_projection(structure)
        fused = self.bigff(texture, structure)
        x = self.fusion_layer1(fused)
        x = self.fusion_layer2(torch.cat((x, self.cfa(x)), dim=1))
        x = F.interpolate(x, scale_factor=2, mode="bilinear")
        features = torch.cat((x, fused), dim=1)
        if not self.config.residual:
            return self.out_layer(features), projected_image, projected_edge
        base = telea_prefill(image, 1 - mask)
        weight = boundary_ramp(1 - mask, self.config.residual_ramp)
        return base + self.out_layer[0](features) * weight, projected_image, projected_edge

    def native_inputs(self, image: torch.Tensor, hole: torch.Tensor) -> dict[str, torch.Tensor]:
        """The official network inputs for ``image`` in [0, 1] and ``hole`` (1 = fill): normalised image, mask
        (1 = valid), unmasked edge and gray maps ``[B, 1, H, W]``."""
        edge, gray = structure_maps(image, self.config.preprocessing, self.config.canny_sigma)
        return {"image": (image - 0.5) / 0.5, "mask": (hole < 0.5).to(image.dtype), "edge": edge, "gray": gray}

    def predict_outputs(self, image, hole, generator=None):
        """The hole is Telea-filled first: Canny edges of a hole left blank would trace its outline. (A residual
        network corrects a second Telea fill, of the [-1, 1] image: the two differ where the round trip changes a
        known pixel's 8-bit value, and the bundled weights were trained with both.)"""
        return self._outputs(torch.lerp(image, opencv_fill(image, hole), hole), hole)

    def predict_unhidden(self, image, hole, generator=None):
        """The official test: the edges are computed on ``image`` as given, the hole's content included."""
        return self._outputs(image, hole)

    def _outputs(self, image, hole) -> dict[str, torch.Tensor]:
        inputs = self.native_inputs(image, hole)
        mask = inputs["mask"]
        structure = torch.cat((inputs["edge"] * mask, inputs["gray"] * mask), dim=1)
        output, _, projected_edge = self(inputs["image"] * mask, structure, mask)
        return {"image": ((output + 1.0) / 2.0).clamp(0, 1), "edge": projected_edge}


def legacy_codes(image: torch.Tensor) -> torch.Tensor:
    """The 8-bit picture the official pipeline computes edges on, uint8 ``[B, H, W, 3]``: ``image`` ([0, 1]) normalised
    to [-1, 1], times 255, truncated and wrapped modulo 256 (torchvision's ``ToPILImage`` on the normalised tensor).
    For 8-bit input p this is (2p + 1) mod 256, or (2p + 2) mod 256 for p = 64..127."""
    normalised = (image.detach().float().cpu() - 0.5) / 0.5
    codes = torch.trunc(normalised * 255).to(torch.int64).remainder(256).to(torch.uint8)
    return codes.permute(0, 2, 3, 1)


def structure_maps(image: torch.Tensor, preprocessing: str, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Canny edges and gray image ``[B, 1, H, W]`` of ``image`` ([0, 1]) as the official dataset computes them
    (``legacy``), or of the image itself (``clean``). Runs scikit-image on the CPU."""
    from skimage.color import rgb2gray
    from skimage.feature import canny

    if preprocessing == "legacy":
        pictures = legacy_codes(image).numpy()
    else:
        pictures = image.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    edges, grays = [], []
    for picture in pictures:
        gray = rgb2gray(picture)
        edges.append(canny(gray, sigma=sigma))
        grays.append(gray.astype(np.float32))
    as_tensor = lambda arrays: torch.from_numpy(np.stack(arrays)[:, None].astype(np.float32))  # noqa: E731
    options = dict(device=image.device, dtype=image.dtype)
    return as_tensor(edges).to(**options), as_tensor(grays).to(**options)


def _official(**overrides) -> CTSDGConfig:
    return CTSDGConfig(preprocessing="legacy", **overrides)


PRESETS = {
    # The official release's weights (convert the user's checkpoint file first); identical networks.
    "celeba": _official(),
    "places2": _official(),
    "paris": _official(),
    # The same network with clean preprocessing, for training with this package.
    "celebahq": CTSDGConfig(),
    "tiny": CTSDGConfig(widths=(8, 16, 16, 32, 32, 32, 32), projection_width=4),
    # Our bundled faces model: an eighth of the width, learning a correction of OpenCV's Telea fill (docs/ctsdg.md).
    "compact": CTSDGConfig(widths=(16, 32, 64, 64, 64, 64, 64), projection_width=8, residual=True),
}




register_family(
    Family(
        name="ctsdg",
        config_cls=CTSDGConfig,
        model_cls=CTSDG,
        presets=PRESETS,
        description="CTSDG (ICCV 2021): texture and structure dual generation with partial convolutions",
    )
)

register_weights(
    WeightsEntry(
        name="ctsdg-compact-utkface",
        family="ctsdg",
        preset="compact",
        license=UTKFACE_LICENSE,
        data=UTKFACE_TRAIN,
        description="CTSDG with widths 16-64, correcting a Telea pre-fill; trained here for 2.3 h on a CPU (model "
        "card: inpaint_core/weights/ctsdg-compact-utkface.md).",
        bundled="ctsdg-compact-utkface.safetensors",
        sha256="b83c3e7ffb2912e2e43ae4ec2c492f35e8029aeaf6d194438648d12c34241ac1",
        subject="face",
    )
)
