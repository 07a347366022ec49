"""Patch discriminators of DeepFillv2 (SN-PatchGAN) and of the progressive family (semantic-aware projection).

SN-PatchGAN (official TF ``build_sn_patch_gan_discriminator``): six 5x5 stride-2 convolutions with spectral
normalisation, TF ``SAME`` padding and leaky ReLU 0.2 (after the last one too), widths 64, 128, 256, 256, 256, 256, on
``cat(image, mask)``; every value of the final ``[256, H/64, W/64]`` map is a logit of the hinge loss.

Semantic-aware patch GAN (Cai et al. 2022, from the poster only): ``phi`` = those six convolutions plus a per-patch
fully connected layer to 256-d features, and a projection with semantic features ``C(x)`` of a frozen pretrained
network: ``logit = psi(phi(x)) + <phi(x), E(C(x))>`` per patch, where ``C(x)`` is average-pooled to the patch grid and
``E`` is a linear map to 256-d. Our choices (the poster names neither): ``C`` = VGG16 up to ``relu4_3`` (ImageNet
weights in torchvision's ``features.*`` layout, resolved with :func:`inpaint_core.hub.resolve_weights`, by default
from the Hub repo ``timm/vgg16.tv_in1k`` as the perceptual loss's VGG16), conditioned
on the scored image itself (``condition="self"``) or on the real image (``"gt"``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..errors import UnknownModelError, WeightsError
from ..hub import resolve_weights
from ..layers.gated_conv import tf_same_pad
from ..losses.perceptual_vgg import DEFAULT_VGG16_WEIGHTS

SN_PATCH_WIDTHS = (64, 128, 256, 256, 256, 256)


class SNConvStack(nn.Module):
    """Strided 5x5 spectral-norm convolutions with TF ``SAME`` padding and leaky ReLU 0.2 after each."""

    def __init__(self, in_channels: int, widths: tuple[int, ...] = SN_PATCH_WIDTHS, kernel_size: int = 5) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        channels = (in_channels, *widths)
        self.convs = nn.ModuleList(
            spectral_norm(nn.Conv2d(a, b, kernel_size, stride=2)) for a, b in zip(channels, channels[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(tf_same_pad(x, self.kernel_size, 2)), 0.2)
        return x


class SNPatchGAN(nn.Module):
    """DeepFillv2's discriminator: ``forward(image, hole)`` -> logits ``[B, 256 * H/64 * W/64]``."""

    def __init__(self, in_channels: int = 4, widths: tuple[int, ...] = SN_PATCH_WIDTHS) -> None:
        super().__init__()
        self.body = SNConvStack(in_channels, widths)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([image, hole], dim=1)).flatten(1)


# VGG16 ``features`` indices (torchvision layout): convolutions, and the ReLU ending each named layer.
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
VGG16_LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22, "relu5_3": 29}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """Frozen VGG16 ``features`` up to a named ReLU; input in [-1, 1], ImageNet-normalised inside."""

    def __init__(self, layer: str = "relu4_3") -> None:
        super().__init__()
        if layer not in VGG16_LAYERS:
            raise ValueError(f"layer must be one of {sorted(VGG16_LAYERS)}, got {layer!r}")
        modules: list[nn.Module] = []
        channels = 3
        for item in _VGG16:
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
                channels = item
        self.features = nn.Sequential(*modules[: VGG16_LAYERS[layer] + 1])
        self.out_channels = [m for m in self.features if isinstance(m, nn.Conv2d)][-1].out_channels
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)

    def load_weights(self, path: str | Path) -> None:
        """Load torchvision's ``vgg16`` state dict (as safetensors; ``features.*`` keys, others ignored)."""
        state = load_file(str(path))
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        if missing:
            raise WeightsError(f"{path} lacks VGG16 tensors {missing[:4]}...: expected torchvision's vgg16 layout")
        self.load_state_dict({key: state[key] for key in own})

    def train(self, mode: bool = True) -> VGG16Features:
        return super().train(False)  # always frozen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(((x + 1) / 2 - self.mean) / self.std)


def semantic_network(
    name: str = "vgg16", layer: str = "relu4_3", weights: str | Path | None = DEFAULT_VGG16_WEIGHTS,
    allow_random: bool = False,
) -> VGG16Features:
    """The frozen semantic network ``C``. ``weights`` is a path or a weights name for ``resolve_weights``;
    ``None`` leaves it random, which is only allowed with ``allow_random=True`` (tests)."""
    if name != "vgg16":
        raise ValueError(f"semantic network {name!r} is not available; use 'vgg16'")
    network = VGG16Features(layer)
    if weights is None:
        if not allow_random:
            raise WeightsError("the semantic-aware discriminator needs pretrained semantic_weights; a random "
                               "network is allowed only for tests (allow_random_semantic=True)")
        return network
    try:
        path = resolve_weights(weights)
    except (WeightsError, UnknownModelError) as error:
        raise WeightsError(
            f"the semantic network's weights {str(weights)!r} did not resolve ({error}). Save torchvision's "
            "ImageNet vgg16 state dict as safetensors (keys features.*) and pass its path as semantic_weights, "
            "or put it in a models folder under that name."
        ) from error
    network.load_weights(path)
    return network


class SemanticPatchGAN(nn.Module):
    """Projection patch discriminator conditioned on semantic features.

    ``forward(image, hole, condition=None)``: ``image`` in [-1, 1]; ``C`` reads ``condition`` (default: ``image``).
    Returns per-patch logits ``[B, H/64 * W/64]``.
    """

    def __init__(
        self, semantic: nn.Module, in_channels: int = 4, widths: tuple[int, ...] = SN_PATCH_WIDTHS,
        feature_dim: int = 256,
    ) -> None:
        super().__init__()
        self.body = SNConvStack(in_channels, widths)
        self.fc = spectral_norm(nn.Conv2d(widths[-1], feature_dim, 1))
        self.head = spectral_norm(nn.Conv2d(feature_dim, 1, 1))
        self.embed = spectral_norm(nn.Conv2d(semantic.out_channels, feature_dim, 1, bias=False))
        self.semantic = semantic

    def forward(self, image: torch.Tensor, hole: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        features = self.fc(self.body(torch.cat([image, hole], dim=1)))
        semantic = self.semantic(image if condition is None else condition)
        embedded = self.embed(F.adaptive_avg_pool2d(semantic, features.shape[-2:]))
        logits = self.head(features) + (features * embedded).sum(1, keepdim=True)
        return logits.flatten(1)
