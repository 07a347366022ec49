"""Operations on hole masks ``[B, 1, H, W]`` (1 = hole), in torch, on any device."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def grow(hole: torch.Tensor, pixels: int) -> torch.Tensor:
    """Dilate the hole by ``pixels`` (a square structuring element); negative values shrink it.

    The result equals a ``(2 pixels + 1)``-square max-pool; it is computed in time linear in the pixels whatever
    ``pixels`` is: ``cv2.dilate`` for float32 masks on the CPU, two 1-d max-pools (rows, then columns) otherwise.
    """
    if pixels < 0:
        return shrink(hole, -pixels)
    if pixels == 0:
        return hole
    side = 2 * pixels + 1
    if hole.device.type == "cpu" and hole.dtype == torch.float32 and not hole.requires_grad:
        planes = hole.detach().reshape(-1, *hole.shape[-2:]).numpy()
        kernel = np.ones((side, side), np.uint8)
        grown = np.stack([cv2.dilate(plane, kernel) for plane in planes])  # the border never wins, as in max_pool2d
        return torch.from_numpy(grown).reshape(hole.shape)
    rows = F.max_pool2d(hole, kernel_size=(side, 1), stride=1, padding=(pixels, 0))
    return F.max_pool2d(rows, kernel_size=(1, side), stride=1, padding=(0, pixels))


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


def hole_extent(binary: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per sample of a bool ``[B, 1, H, W]`` mask: whether no pixel is set, and whether every pixel is (numpy's
    reductions on the CPU, which stop at the first deciding pixel)."""
    planes = binary.detach().reshape(binary.shape[0], -1).cpu().numpy()
    return np.array([not plane.any() for plane in planes]), np.array([bool(plane.all()) for plane in planes])


def _block_any(mask: np.ndarray, factor: int) -> np.ndarray:
    """OR over ``factor x factor`` blocks of a bool ``[H, W]`` array (the last blocks may be partial)."""
    for axis in (0, 1):
        lines = np.moveaxis(mask, axis, 0)
        out = lines[0::factor].copy()
        for offset in range(1, factor):
            part = lines[offset::factor]
            out[: len(part)] |= part
        mask = np.moveaxis(out, 0, axis)
    return mask


def bounding_boxes(
    hole: torch.Tensor, merge_distance: int = 0, coarse_side: int = 1024
) -> list[tuple[int, int, int, int]]:
    """Boxes ``(top, left, bottom, right)`` (exclusive ends) of the connected hole regions of one ``[H, W]`` mask.

    Regions closer than about ``merge_distance`` pixels are merged into one box. Large masks are labelled on a
    block-maximum copy whose longer side is at most ``coarse_side`` (so the cost hardly grows with the image), then
    each box is tightened on the full-resolution mask.
    """
    hole = hole.detach().cpu()
    binary = (hole if hole.dtype == torch.bool else hole > 0.5).numpy()
    extent = _extent(binary)
    if extent is None:
        return []
    top, left = extent[0], extent[1]
    return [
        (top + box[0], left + box[1], top + box[2], left + box[3])
        for box in _labelled_boxes(binary[extent[0] : extent[2], extent[1] : extent[3]], merge_distance, coarse_side)
    ]


def _extent(binary: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(top, left, bottom, right)`` of all the set pixels of a bool ``[H, W]`` array, None when there are none."""
    rows = np.flatnonzero(binary.any(axis=1))
    if not rows.size:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(binary[top:bottom].any(axis=0))
    return top, int(cols[0]), bottom, int(cols[-1]) + 1


def _labelled_boxes(binary: np.ndarray, merge_distance: int, coarse_side: int) -> list[tuple[int, int, int, int]]:
    """:func:`bounding_boxes` of a bool array."""
    factor = max(1, math.ceil(max(binary.shape) / coarse_side))
    coarse = _block_any(binary, factor) if factor > 1 else binary
    grouped = coarse.astype(np.uint8)
    distance = math.ceil(merge_distance / factor)
    if distance > 0:
        grouped = cv2.dilate(grouped, np.ones((2 * distance + 1, 2 * distance + 1), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    boxes = []
    for label in range(1, count):
        left, top, width, height = (int(v) for v in stats[label, :4])
        box = (slice(top, top + height), slice(left, left + width))
        own = (labels[box] == label) & coarse[box]
        own = own.repeat(factor, 0).repeat(factor, 1)
        window = binary[top * factor : (top + height) * factor, left * factor : (left + width) * factor]
        rows, cols = np.nonzero(window & own[: window.shape[0], : window.shape[1]])
        if rows.size:
            boxes.append(
                (
                    top * factor + int(rows.min()),
                    left * factor + int(cols.min()),
                    top * factor + int(rows.max()) + 1,
                    left * factor + int(cols.max()) + 1,
                )
            )
    return boxes


def fill_holes(hole: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """``hole`` (``[B, 1, H, W]``) with every area it encloses set to 1: the pixels at or above ``threshold`` and
    those that no path of pixels below it joins to the image border. Other values are kept."""
    binary = (hole.detach() >= threshold).to(torch.uint8).cpu().numpy()
    enclosed = []
    for mask in binary[:, 0]:
        outside = np.pad(1 - mask, 1, constant_values=1)  # a frame of background joins every border pixel
        seed = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
        cv2.floodFill(outside, seed, (0, 0), 2, flags=4)
        enclosed.append(outside[1:-1, 1:-1] == 1)
    inside = torch.from_numpy(np.stack(enclosed))[:, None].to(hole.device)
    return torch.where(inside, torch.ones_like(hole), hole)
