"""LaMa (Suvorov et al., WACV 2022, *Resolution-robust Large Mask Inpainting with Fourier Convolutions*): family
``lama``, the ``FFCResNetGenerator`` of the big-lama configuration (``configs/training/big-lama.yaml``).

Layout: reflection pad 3 and a 7x7 conv (4 -> 64), three stride-2 3x3 downsamplings to 512 channels (the last one
splits 75 % of them into the global, spectral part), 18 FFC residual blocks (global ratio 0.75, no local Fourier
unit), three transposed-conv upsamplings with BatchNorm and ReLU, reflection pad 3, a 7x7 conv to RGB and a sigmoid.
The modules sit in one ``nn.Sequential`` called ``model`` with the official indices, so state-dict keys equal the
official ones (``model.5.conv1.ffc.convg2g.fu.conv_layer.weight``); the FFTs are ``torch.fft.rfftn`` / ``irfftn``
with the official ``norm="ortho"``.

Native conventions (``bin/predict.py`` with ``configs/prediction/default.yaml``): image in [0, 1], mask 1 = hole and
binarised (``mask > 0``); image and mask padded at the bottom and right to a multiple of 8 with numpy's
``"symmetric"`` mode (edge pixel repeated); input ``cat(image * (1 - mask), mask)``; the generator's sigmoid output
is cropped back. :meth:`LaMa.predict` does all of this, so it takes any size (``size_multiple = 1``).

Licence: code ours; official code and weights Apache-2.0 (Samsung AI Center), trained on Places2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..catalog import WeightsEntry, register_weights
from ..layers.ffc import FFC_BN_ACT, ConcatTupleLayer, FFCResnetBlock
from ..registry import Family, register_family
from .base import InpaintModel

LAMA_LICENSE = "Apache-2.0 (LaMa code and big-lama weights, Samsung AI Center); trained on Places2 (research dataset)"


@dataclass(frozen=True)
class LaMaConfig:
    #: Width after the first conv; doubled by each downsampling, capped at ``max_features``.
    ngf: int = 64
    n_downsampling: int = 3
    #: FFC residual blocks at the bottleneck (big-lama 18, lama-fourier 9).
    n_blocks: int = 18
    max_features: int = 1024
    #: Share of the bottleneck's channels in the global (spectral) part.
    global_ratio: float = 0.75
    #: The official predictor pads height and width to a multiple of this (``dataset.pad_out_to_modulo``).
    pad_to_multiple: int = 8

    def __post_init__(self) -> None:
        if not 0 <= self.global_ratio < 1:
            raise ValueError(f"global_ratio must be in [0, 1), got {self.global_ratio}")
        if self.pad_to_multiple < 1:
            raise ValueError(f"pad_to_multiple must be >= 1, got {self.pad_to_multiple}")


def pad_symmetric(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad bottom and right to a multiple of ``multiple`` like ``np.pad(mode="symmetric")`` (edge repeated)."""
    for dim in (-2, -1):
        extra = -x.shape[dim] % multiple
        while extra:  # a pad longer than the side mirrors again, as numpy does
            step = min(extra, x.shape[dim])
            x = torch.cat([x, x.flip(dim).narrow(dim, 0, step)], dim=dim)
            extra -= step
    return x


def ffc_resnet_generator(config: LaMaConfig, in_channels: int = 4, out_channels: int = 3) -> nn.Sequential:
    """The official module sequence (indices matter: they are the state-dict keys)."""
    width = [min(config.max_features, config.ngf * 2**i) for i in range(config.n_downsampling + 1)]
    ratio = config.global_ratio
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), FFC_BN_ACT(in_channels, width[0], 7, 0, 0)]
    for i in range(config.n_downsampling):
        last = i == config.n_downsampling - 1
        layers.append(FFC_BN_ACT(width[i], width[i + 1], 3, 0, ratio if last else 0, stride=2, padding=1))
    layers += [FFCResnetBlock(width[-1], ratio) for _ in range(config.n_blocks)]
    layers.append(ConcatTupleLayer())
    for i in range(config.n_downsampling, 0, -1):
        channels = min(config.max_features, config.ngf * 2**i // 2)
        layers += [nn.ConvTranspose2d(width[i], channels, 3, stride=2, padding=1, output_padding=1),
                   nn.BatchNorm2d(channels), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(config.ngf, out_channels, 7), nn.Sigmoid()]
    return nn.Sequential(*layers)


class LaMa(InpaintModel):
    """big-lama's generator; ``forward`` takes the official 4-channel input, ``predict`` our convention."""

    family = "lama"
    size_multiple = 1
    working_size = 512

    def __init__(self, config: LaMaConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.model = ffc_resnet_generator(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``cat(image * (1 - mask), mask)`` at a multiple of ``2 ** n_downsampling`` -> RGB in [0, 1]."""
        return self.model(x)

    def predict_outputs(self, image, hole, generator=None):
        height, width = image.shape[-2:]
        image = pad_symmetric(image, self.config.pad_to_multiple)
        hole = (pad_symmetric(hole, self.config.pad_to_multiple) > 0).to(image.dtype)
        output = self(torch.cat([image * (1 - hole), hole], dim=1))
        return {"image": output[..., :height, :width]}


PRESETS = {
    "big-lama": LaMaConfig(),
    "tiny": LaMaConfig(ngf=8, n_downsampling=2, n_blocks=2),
}

register_family(
    Family(
        name="lama",
        config_cls=LaMaConfig,
        model_cls=LaMa,
        presets=PRESETS,
        description="LaMa (WACV 2022): big-lama, fast Fourier convolutions, any size (Places2)",
    )
)

register_weights(
    WeightsEntry(
        name="lama-big",
        family="lama",
        preset="big-lama",
        license=LAMA_LICENSE,
        data="Places2 (Places365-Challenge), 4.5 M images, LaMa's random thin/medium/thick masks at 256",
        description="big-lama's generator as a safetensors conversion of the official best.ckpt, hosted by a third "
        "party; converted to our safetensors once after download. Not downloaded or checked against real images "
        "here (no Hub access when it was added).",
        repo_id="michaelgold/big-lama-safetensors",
        filename="big-lama.safetensors",
        source_format="lama",
        mirror="third-party conversion of the official big-lama checkpoint (advimman/lama, Yandex disk / Google "
        "Drive); the same file is also in biali/big-lama",
        unpinned="neither a commit nor a sha256 of this file is known: it is fetched from 'main' and not checked by "
        "hash, only by its keys and shapes on conversion",
    )
)
