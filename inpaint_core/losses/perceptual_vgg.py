"""VGG16 perceptual and style (Gram) losses on pool1, pool2 and pool3, as in partial-convolution inpainting.

Weights: torchvision's ImageNet VGG16 (keys ``features.{i}.*``), resolved like any other weights, by default from the
Hub repo ``timm/vgg16.tv_in1k`` (the torchvision weights as safetensors; BSD-3-Clause). Only the layers up to pool3
are built and loaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from ..errors import WeightsError
from ..hub import resolve_weights

#: The commit of that repo that added model.safetensors.
DEFAULT_VGG16_WEIGHTS = "timm/vgg16.tv_in1k@3394518cba29aee1ea82a49d971be90d2dd1dab7"
#: VGG16 convolutions up to pool3, and the indices (in ``features``) of the pools whose outputs are compared.
_CONVS = {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128), 10: (128, 256), 12: (256, 256), 14: (256, 256)}
_POOLS = (4, 9, 16)
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """Frozen VGG16 ``features[:17]``; returns the pool1, pool2 and pool3 activations of an image in [0, 1].

    ``normalize=False`` feeds the input as it is, without ImageNet mean and std (CTSDG's losses give it [-1, 1]).
    """

    def __init__(self, weights: str | Path | None = DEFAULT_VGG16_WEIGHTS, normalize: bool = True) -> None:
        super().__init__()
        self.normalize = normalize
        layers: list[nn.Module] = []
        for index in range(_POOLS[-1] + 1):
            if index in _CONVS:
                layers.append(nn.Conv2d(*_CONVS[index], 3, padding=1))
            elif index in _POOLS:
                layers.append(nn.MaxPool2d(2))
            else:
                layers.append(nn.ReLU())
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)
        if weights is not None:
            self.load_weights(resolve_weights(weights))
        self.requires_grad_(False)
        self.eval()

    def load_weights(self, path: Path) -> None:
        state = load_file(str(path))
        wanted = self.features.state_dict()
        missing = [f"features.{k}" for k in wanted if f"features.{k}" not in state]
        if missing:
            raise WeightsError(f"{path} is not a VGG16 weights file with torchvision keys (missing {missing[:3]})")
        self.features.load_state_dict({k: state[f"features.{k}"] for k in wanted})

    def train(self, mode: bool = True) -> VGG16Features:
        return super().train(False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std if self.normalize else image
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in _POOLS:
                outputs.append(x)
        return outputs


def gram(x: torch.Tensor) -> torch.Tensor:
    batch, channels, height, width = x.shape
    flat = x.reshape(batch, channels, height * width)
    return flat @ flat.transpose(1, 2) / (channels * height * width)


def perceptual_and_style(vgg: VGG16Features, images: list[torch.Tensor],
                         target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
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
