"""Operations on hole masks ``[B, 1, H, W]`` (1 = hole), in torch, on any device."""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def grow(hole: torch.Tensor, pixels: int) -> torch.Tensor:
    """Dilate the hole by ``pixels`` (a square structuring element); negative values shrink it."""
    if pixels < 0:
        return shrink(hole, -pixels)
    if pixels == 0:
        return hole
    return F.max_pool2d(hole, kernel_size=2 * pixels + 1, stride=1, padding=pixels)


def shrink(hole: torch.Tensor, pixels: int) -> torch.Tensor:
    """Erode the hole by ``pixels``; negative values grow it."""
    if pixels <= 0:
        return grow(hole, -pixels)
    return 1 - grow(1 - hole, pixels)


def feather(hole: torch.Tensor, pixels: float) -> torch.Tensor:
    """A soft mask that is 1 inside the hole and falls to 0 over about ``pixels`` outside it."""
    if pixels <= 0:
        return hole
    radius = max(1, int(round(pixels)))
    sigma = radius / 2
    coords = torch.arange(-radius, radius + 1, device=hole.device, dtype=hole.dtype)
    kernel = torch.exp(-(coords**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    grown = grow(hole, radius)
    padded = F.pad(grown, (radius, radius, radius, radius), mode="replicate")
    blurred = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    blurred = F.conv2d(blurred, kernel.view(1, 1, -1, 1))
    return torch.maximum(hole, blurred.clamp(0, 1))


def hole_ratio(hole: torch.Tensor) -> torch.Tensor:
    """Fraction of hole pixels per sample, ``[B]``."""
    return hole.flatten(1).float().mean(1)


def bounding_boxes(hole: torch.Tensor, merge_distance: int = 0) -> list[tuple[int, int, int, int]]:
    """Boxes ``(top, left, bottom, right)`` (exclusive ends) of the connected hole regions of one ``[H, W]`` mask.

    Regions closer than ``merge_distance`` pixels are merged into one box.
    """
    binary = (hole.detach() > 0.5).to(torch.uint8).cpu().numpy()
    grouped = binary
    if merge_distance > 0:
        size = 2 * merge_distance + 1
        grouped = cv2.dilate(binary, np.ones((size, size), np.uint8))
    count, labels = cv2.connectedComponents(grouped, connectivity=8)
    boxes = []
    for label in range(1, count):
        rows, cols = np.nonzero((labels == label) & (binary > 0))
        if rows.size:
            boxes.append((int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1))
    return boxes
