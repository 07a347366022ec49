"""VGG16 perceptual and style (Gram) losses on pool1, pool2 and pool3, as in partial-convolution inpainting.

The VGG16 (torchvision's ImageNet weights, by default from the Hub repo ``timm/vgg16.tv_in1k``) is
:class:`training.vgg.VGG16Features`, built up to pool3 by :func:`perceptual_vgg`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import vgg as vgg_layers
from ..vgg import DEFAULT_VGG16_WEIGHTS, vgg16_features


@dataclass(frozen=True)
class VGGOptions:
    """The options of objectives with perceptual and style terms."""

    #: The VGG16 of the perceptual and style losses (None: a random VGG, which needs ``allow_random_vgg``: tests).
    vgg_weights: str | Path | None = DEFAULT_VGG16_WEIGHTS
    allow_random_vgg: bool = False


#: The VGG16 layers the perceptual and style losses compare.
PERCEPTUAL_TAPS = ("pool1", "pool2", "pool3")


def perceptual_vgg(
    weights: str | Path | None = DEFAULT_VGG16_WEIGHTS, allow_random: bool = False, normalize: bool = True
) -> vgg_layers.VGG16Features:
    """The frozen VGG16 of :func:`perceptual_and_style` (``weights=None`` needs ``allow_random=True``)."""
    return vgg16_features(
        PERCEPTUAL_TAPS,
        weights,
        allow_random=allow_random,
        purpose="the perceptual and style losses",
        normalize=normalize,
    )


def gram(x: torch.Tensor) -> torch.Tensor:
    batch, channels, height, width = x.shape
    flat = x.reshape(batch, channels, height * width)
    return flat @ flat.transpose(1, 2) / (channels * height * width)


def perceptual_and_style(
    vgg: vgg_layers.VGG16Features, images: list[torch.Tensor], target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum over ``images`` and the three pools of L1 feature distances and L1 Gram distances to ``target``."""
    with torch.no_grad():
        reference = vgg(target)
    perceptual = target.new_zeros(())
    style = target.new_zeros(())
    for image in images:
        for feature, ref in zip(vgg(image), reference):
            perceptual = perceptual + F.l1_loss(feature, ref)
            style = style + F.l1_loss(gram(feature), gram(ref))
    return perceptual, style
