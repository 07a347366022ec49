"""Boxes on images: grow, square, crop with padding, scale and take back, for every path that works on a part of an
image (the pipeline's ``crop`` strategy, the face crop and the nodes' face crop and stitch).

A box is ``(top, left, bottom, right)`` in pixels, ends exclusive; it may reach outside the image, where a crop is
padded (edge pixels for images, zeros for masks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

Box = tuple[int, int, int, int]


def square_around(height: int, width: int) -> Box:
    """The smallest square centred on an image of ``height`` x ``width`` that holds all of it."""
    side = max(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return top, left, top + side, left + side


def context_box(box: Box, margin: int, height: int, width: int, square: bool) -> Box:
    """``box`` grown by ``margin`` on each side, made square (when the image allows, or always with ``square``, then
    at most the image's shorter side) and moved to lie inside the image."""
    top, left, bottom, right = box
    side_h, side_w = bottom - top + 2 * margin, right - left + 2 * margin
    side = max(side_h, side_w)
    side_h, side_w = min(side, height), min(side, width)
    if square and side_h != side_w:
        side_h = side_w = min(side_h, side_w)
    center_y, center_x = (top + bottom) / 2, (left + right) / 2
    new_top = int(min(max(0, round(center_y - side_h / 2)), height - side_h))
    new_left = int(min(max(0, round(center_x - side_w / 2)), width - side_w))
    return new_top, new_left, new_top + side_h, new_left + side_w


def clip(box: Box, height: int, width: int) -> Box:
    """The part of ``box`` inside a ``height`` x ``width`` image (empty when top >= bottom or left >= right)."""
    top, left, bottom, right = box
    return max(0, top), max(0, left), min(height, bottom), min(width, right)


def is_empty(box: Box) -> bool:
    return box[0] >= box[2] or box[1] >= box[3]


def window(tensor: torch.Tensor, box: Box) -> torch.Tensor:
    """The pixels of ``tensor`` (``[..., H, W]``) inside ``box``: a view, without padding."""
    top, left, bottom, right = clip(box, *tensor.shape[-2:])
    return tensor[..., top:max(top, bottom), left:max(left, right)]


def crop(tensor: torch.Tensor, box: Box, mode: str = "replicate") -> torch.Tensor:
    """``tensor[..., box]`` at the box's full size, padded where the box leaves the image (``"replicate"``: edge
    pixels; ``"constant"``: zeros)."""
    top, left, bottom, right = box
    height, width = tensor.shape[-2:]
    pads = (max(0, -left), max(0, right - width), max(0, -top), max(0, bottom - height))
    return F.pad(window(tensor, box), pads, mode=mode)


def uncrop(tensor: torch.Tensor, box: Box, height: int, width: int) -> torch.Tensor:
    """The inverse of :func:`crop`: the part of a box-sized ``tensor`` that lies inside a ``height`` x ``width``
    image (the shape of ``window(image, box)``)."""
    top, left, bottom, right = box
    inside = clip(box, height, width)
    return tensor[..., inside[0] - top : inside[2] - top, inside[1] - left : inside[3] - left]


def scale_image(tensor: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear resize (antialiased when shrinking), clamped to [0, 1]; the tensor itself when the size is right."""
    if tensor.shape[-2:] == (height, width):
        return tensor
    antialias = height < tensor.shape[-2] or width < tensor.shape[-1]
    return F.interpolate(
        tensor, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias
    ).clamp(0, 1)


def scale_hole(tensor: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A hole mask resized so that a pixel is a hole at the new size if any hole pixel contributed to it."""
    if tensor.shape[-2:] == (height, width):
        return tensor
    shrinking = height <= tensor.shape[-2] and width <= tensor.shape[-1]
    mode = {"mode": "area"} if shrinking else {"mode": "bilinear", "align_corners": False}
    return (F.interpolate(tensor, size=(height, width), **mode) > 0).to(tensor.dtype)
