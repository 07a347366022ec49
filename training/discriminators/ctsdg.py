"""CTSDG's discriminator: a texture branch on the image, a structure branch on (edge map, gray image), and a small
edge detector that turns a generated image into the edge map the structure branch judges.

Same layers and state-dict keys as the official release, so its ``'discriminator'`` entry loads as is. Each branch
is five spectrally normalised 4x4 convs (strides 2, 2, 2, 1, 1; no bias) with sigmoid outputs (a 30x30 map at 256).
Quirk kept on purpose: the official branches register their first block twice (``conv1`` and ``features`` are one
module), so the state dict lists ``conv1.0.*`` and ``features.0.*`` with the same tensors.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class PatchBranch(nn.Module):
    """``TextureBranch`` / ``StructureBranch`` of the reference (identical apart from the input channels)."""

    def __init__(
        self, in_channels: int, widths: tuple[int, ...] = (64, 128, 256, 512), init_std: float = 0.02
    ) -> None:
        super().__init__()
        channels = (in_channels, *widths, 1)
        strides = (2, 2, 2, 1, 1)
        for index, stride in enumerate(strides, start=1):
            conv = nn.Conv2d(channels[index - 1], channels[index], 4, stride=stride, padding=1, bias=False)
            nn.init.normal_(conv.weight, 0.0, init_std)
            layers = [spectral_norm(conv)]
            if index < len(strides):
                layers.append(nn.LeakyReLU(0.2))
            self.add_module(f"conv{index}", nn.Sequential(*layers))
        self.features = self.conv1  # the official alias, kept for its duplicated state-dict keys

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index in range(1, 6):
            x = getattr(self, f"conv{index}")(x)
        return torch.sigmoid(x)


class EdgeDetector(nn.Module):
    """Image ([-1, 1]) to edge probability: conv-BN-ReLU, a residual conv block, 1x1 conv and sigmoid."""

    def __init__(self, in_channels: int = 3, hidden: int = 16) -> None:
        super().__init__()
        self.projection = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 3, padding=1), nn.BatchNorm2d(hidden), nn.ReLU()
        )
        self.res_layer = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.BatchNorm2d(hidden),
        )
        self.out_layer = nn.Sequential(nn.Conv2d(hidden, 1, 1), nn.Sigmoid())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.projection(image)
        return self.out_layer(torch.relu(self.res_layer(x) + x))


class CTSDGDiscriminator(nn.Module):
    """``forward(image, gray, edge=None) -> (predictions [B, 2, h, w], detected edge [B, 1, H, W])``.

    ``image`` in [-1, 1]; ``gray`` the ground truth's gray image; ``edge`` the ground-truth edge map for a real image,
    or None for a generated one, whose structure is then judged on the edge detector's output (as the reference).
    """

    def __init__(self, image_channels: int = 3, structure_channels: int = 2,
                 widths: tuple[int, ...] = (64, 128, 256, 512)) -> None:
        super().__init__()
        self.texture_branch = PatchBranch(image_channels, widths)
        self.structure_branch = PatchBranch(structure_channels, widths)
        self.edge_detector = EdgeDetector(image_channels)

    def forward(
        self, image: torch.Tensor, gray: torch.Tensor, edge: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        texture = self.texture_branch(image)
        detected = self.edge_detector(image)
        structure = self.structure_branch(torch.cat((detected if edge is None else edge, gray), dim=1))
        return torch.cat((texture, structure), dim=1), detected
