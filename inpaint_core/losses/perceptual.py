"""Frozen VGG16 features (ImageNet weights) for perceptual and style losses, and the Gram matrix.

The weights are torchvision's ImageNet VGG16 in safetensors form, resolved like any other weights
(``inpaint_core.hub.resolve_weights``: a path, or a Hub repo id that is looked up in the Hugging Face cache and
downloaded unless offline). The default is timm's copy of the torchvision weights, whose ``features.*`` keys are
torchvision's. Nothing is downloaded before a :class:`VGG16Features` is built.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import InpaintError, WeightsError

#: timm's safetensors copy of torchvision's ImageNet VGG16 (BSD-3-Clause), pinned to a commit.
DEFAULT_VGG16 = "timm/vgg16.tv_in1k@3394518cba29aee1ea82a49d971be90d2dd1dab7"
#: ``features`` layers of torchvision's VGG16 up to pool3: (out channels of each conv, or "M" for a max-pool).
_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M")


class VGG16Features(nn.Module):
    """``forward(x) -> [pool1, pool2, pool3]`` of VGG16 (``features[:5]``, ``[5:10]``, ``[10:17]``), frozen.

    ``weights``: a safetensors file or Hub repo id holding torchvision-style ``features.{i}.weight/bias``;
    ``None`` keeps the random initialisation (for tests only: the losses then mean nothing).
    """

    stages = (5, 10, 17)

    def __init__(self, weights: str | Path | None = DEFAULT_VGG16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in _LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
                channels = item
        self.features = nn.Sequential(*layers)
        if weights is not None:
            self.load_weights(weights)
        self.requires_grad_(False)
        self.eval()

    def load_weights(self, weights: str | Path) -> None:
        from safetensors.torch import load_file

        from ..hub import resolve_weights

        hint = (f"VGG16 ImageNet weights are needed for the perceptual and style losses: pass a safetensors file "
                f"with torchvision's 'features.*' keys, or the Hub repo {DEFAULT_VGG16.split('@')[0]} (downloaded "
                "into the Hugging Face cache when online)")
        try:
            path = resolve_weights(weights)
            state = load_file(str(path))
        except InpaintError as error:
            raise WeightsError(f"{error}. {hint}") from error
        except Exception as error:  # safetensors raises its own error types for unreadable files
            raise WeightsError(f"cannot read VGG16 weights from {weights} ({error}). {hint}") from error
        own = self.features.state_dict()
        wanted = {key: state.get(f"features.{key}") for key in own}
        bad = [key for key, value in wanted.items() if value is None or value.shape != own[key].shape]
        if bad:
            raise WeightsError(f"{weights} lacks VGG16 tensors (or has other shapes): features.{bad[0]} ... {hint}")
        self.features.load_state_dict(wanted)

    def train(self, mode: bool = True) -> VGG16Features:
        return super().train(False)  # always frozen

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs, start = [], 0
        for stop in self.stages:
            x = self.features[start:stop](x)
            outputs.append(x)
            start = stop
        return outputs


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``F F^T / (C H W)`` per sample, ``[B, C, C]``."""
    batch, channels, height, width = features.shape
    flat = features.reshape(batch, channels, height * width)
    return torch.bmm(flat, flat.transpose(1, 2)) / (channels * height * width)
