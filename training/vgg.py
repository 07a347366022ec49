"""Frozen VGG16 ``features`` (torchvision layout) tapped at named layers: the perceptual/style losses' and the
semantic-aware discriminator's feature network.

Weights: torchvision's ImageNet VGG16 (keys ``features.{i}.*``; other keys ignored), resolved with
:func:`inpaint_core.hub.resolve_weights`, by default from the Hub repo ``timm/vgg16.tv_in1k`` (the torchvision weights
as safetensors; BSD-3-Clause). Only the layers up to the last tap are built and loaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from inpaint_core.errors import UnknownModelError, WeightsError
from inpaint_core.hub import resolve_weights

#: The commit of that repo that added model.safetensors.
DEFAULT_VGG16_WEIGHTS = "timm/vgg16.tv_in1k@3394518cba29aee1ea82a49d971be90d2dd1dab7"
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
#: Indices in ``features`` of the ReLU ending each block and of the pools.
VGG16_LAYERS = {
    "relu1_2": 3, "pool1": 4, "relu2_2": 8, "pool2": 9, "relu3_3": 15, "pool3": 16,
    "relu4_3": 22, "pool4": 23, "relu5_3": 29, "pool5": 30,
}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """Frozen VGG16 ``features`` (randomly initialised; see :func:`vgg16_features`); ``forward(image in [0, 1])``
    returns the activations at ``taps`` (names of :data:`VGG16_LAYERS`) in network order, ImageNet-normalised
    inside unless ``normalize=False`` (CTSDG's losses feed it [-1, 1] images as they are)."""

    def __init__(self, taps: tuple[str, ...] = ("relu4_3",), normalize: bool = True) -> None:
        super().__init__()
        self.normalize = normalize
        unknown = [tap for tap in taps if tap not in VGG16_LAYERS]
        if not taps or unknown:
            raise ValueError(f"taps must be names among {sorted(VGG16_LAYERS)}, got {taps!r}")
        self.taps = tuple(VGG16_LAYERS[tap] for tap in taps)
        modules: list[nn.Module] = []
        channels = 3
        for item in _VGG16:
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
                channels = item
        self.features = nn.Sequential(*modules[: max(self.taps) + 1])
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        self.out_channels = convs[-1].out_channels
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def load_weights(self, path: str | Path) -> None:
        """Load torchvision's ``vgg16`` state dict saved as safetensors (``features.*`` keys; others ignored)."""
        state = load_file(str(path))
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        if missing:
            raise WeightsError(f"{path} lacks VGG16 tensors {missing[:3]}: expected torchvision's vgg16 layout")
        self.load_state_dict({key: state[key] for key in own})

    def train(self, mode: bool = True) -> VGG16Features:
        return super().train(False)  # always frozen

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std if self.normalize else image
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                outputs.append(x)
        return outputs


def vgg16_features(
    taps: tuple[str, ...], weights: str | Path | None = DEFAULT_VGG16_WEIGHTS, *, allow_random: bool = False,
    purpose: str = "VGG16 features", normalize: bool = True,
) -> VGG16Features:
    """A frozen :class:`VGG16Features` with pretrained ``weights`` (a path or a name for ``resolve_weights``).

    ``weights=None`` leaves it random, which is only allowed with ``allow_random=True`` (tests); ``purpose`` names
    the user in error messages.
    """
    network = VGG16Features(taps, normalize)
    if weights is None:
        if not allow_random:
            raise WeightsError(f"pretrained VGG16 weights are needed for {purpose}; a random VGG16 is allowed only "
                           "when explicitly asked for (tests)")
        return network
    try:
        path = resolve_weights(weights)
    except (WeightsError, UnknownModelError) as error:
        raise WeightsError(
            f"the VGG16 weights {str(weights)!r} for {purpose} did not resolve ({error}). Save torchvision's "
            "ImageNet vgg16 state dict as safetensors (keys features.*) and pass its path, or put it in a models "
            "folder under that name."
        ) from error
    network.load_weights(path)
    return network
