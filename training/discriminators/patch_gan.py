"""Patch discriminators: SN-PatchGAN (DeepFillv2; MDRN and ISFRNet use it with symmetric padding) and the
progressive family's semantic-aware projection discriminator.

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
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from inpaint_core.layers.gated_conv import PADDINGS, tf_same_pad

from ..vgg import DEFAULT_VGG16_WEIGHTS, VGG16Features, vgg16_features

SN_PATCH_WIDTHS = (64, 128, 256, 256, 256, 256)


def sn_patch_widths(width: int = 64, layers: int = 6) -> tuple[int, ...]:
    """``width * 2**i`` capped at ``4 * width`` for ``layers`` convolutions (64 and 6 give :data:`SN_PATCH_WIDTHS`)."""
    return tuple(width * min(2**i, 4) for i in range(layers))


class SNConvStack(nn.Module):
    """Strided spectral-norm convolutions, each followed by leaky ReLU 0.2 (the last one only if
    ``last_activation``). ``padding``: ``"tf_same"`` (TensorFlow's ``SAME``, DeepFillv2) or ``"same"``
    (``(k - 1) // 2`` on both sides)."""

    def __init__(
        self, in_channels: int, widths: tuple[int, ...] = SN_PATCH_WIDTHS, kernel_size: int = 5,
        padding: str = "tf_same", last_activation: bool = True,
    ) -> None:
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.kernel_size, self.tf_same, self.last_activation = kernel_size, padding == "tf_same", last_activation
        channels = (in_channels, *widths)
        symmetric = 0 if self.tf_same else (kernel_size - 1) // 2
        self.convs = nn.ModuleList(
            spectral_norm(nn.Conv2d(a, b, kernel_size, stride=2, padding=symmetric))
            for a, b in zip(channels, channels[1:])
        )

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """The last map, and the list of every layer's output (after its activation) if ``return_features``."""
        features = []
        last = len(self.convs) - 1
        for index, conv in enumerate(self.convs):
            x = conv(tf_same_pad(x, self.kernel_size, 2) if self.tf_same else x)
            if index < last or self.last_activation:
                x = F.leaky_relu(x, 0.2)
            features.append(x)
        return (x, features) if return_features else x


class SNPatchGAN(nn.Module):
    """SN-PatchGAN on ``cat(image, hole)``: ``forward(image, hole)`` -> logits ``[B, C * h * w]``.

    The defaults are DeepFillv2's discriminator (TF padding, activation after the last layer). MDRN and ISFRNet use
    ``padding="same", last_activation=False``; ``return_features=True`` also returns every layer's output (MDRN's
    InCo² feature space).
    """

    def __init__(
        self, in_channels: int = 4, widths: tuple[int, ...] = SN_PATCH_WIDTHS, padding: str = "tf_same",
        last_activation: bool = True,
    ) -> None:
        super().__init__()
        self.body = SNConvStack(in_channels, tuple(widths), padding=padding, last_activation=last_activation)

    def forward(self, image: torch.Tensor, hole: torch.Tensor, return_features: bool = False):
        logits, features = self.body(torch.cat([image, hole], dim=1), return_features=True)
        return (logits.flatten(1), features) if return_features else logits.flatten(1)


def semantic_network(
    name: str = "vgg16", layer: str = "relu4_3", weights: str | Path | None = DEFAULT_VGG16_WEIGHTS,
    allow_random: bool = False,
) -> VGG16Features:
    """The frozen semantic network ``C``. ``weights`` is a path or a weights name for ``resolve_weights``;
    ``None`` leaves it random, which is only allowed with ``allow_random=True`` (tests)."""
    if name != "vgg16":
        raise ValueError(f"semantic network {name!r} is not available; use 'vgg16'")
    return vgg16_features((layer,), weights, allow_random=allow_random,
                          purpose="the semantic-aware discriminator (semantic_weights)")


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
        semantic = self.semantic(((image if condition is None else condition) + 1) / 2)[-1]
        embedded = self.embed(F.adaptive_avg_pool2d(semantic, features.shape[-2:]))
        logits = self.head(features) + (features * embedded).sum(1, keepdim=True)
        return logits.flatten(1)
