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
    """A soft mask: 1 in the hole, falling smoothly to 0 at ``pixels`` (Euclidean distance) outside it."""
    if pixels <= 0:
        return hole
    outside = (hole.detach() <= 0.5).to(torch.uint8).cpu().numpy()
    distances = np.stack(
        [cv2.distanceTransform(plane, cv2.DIST_L2, 5) for plane in outside.reshape(-1, *outside.shape[-2:])]
    )
    ramp = torch.from_numpy(distances).reshape(hole.shape).to(hole.device, hole.dtype)
    ramp = (1 - ramp / pixels).clamp(0, 1)
    return torch.maximum(hole, ramp * ramp * (3 - 2 * ramp))  # smoothstep


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
