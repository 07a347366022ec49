"""Outpainting: extend the canvas on chosen sides and return the hole to fill there.

The new area is filled with the edge pixels (networks never see what is under a hole, so this only matters for
models that take the pixels as a start, such as a sampler through Crop Hole Regions) or neutral grey. ``overlap``
extends the hole that many pixels into the original image, so the seam itself is repainted too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import InputError
from .image_ops import as_image_batch, prepare_inputs

FILLS = ("edge", "neutral")


def extend_canvas(
    image,
    left: int = 0,
    top: int = 0,
    right: int = 0,
    bottom: int = 0,
    *,
    overlap: int = 0,
    fill: str = "edge",
    hole=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``image`` (``[B, 3, H, W]`` in [0, 1]) with ``left``/``top``/``right``/``bottom`` pixels added, and the hole
    ``[B, 1, H', W']`` (1 = the new area and ``overlap`` pixels inside the old border on the extended sides).

    ``hole``: an existing mask of ``image`` that is kept (extended with the new area); ``fill``: one of
    :data:`FILLS`.
    """
    sides = (left, top, right, bottom)
    if any(side < 0 for side in sides) or overlap < 0:
        raise InputError(f"the sides and overlap must be >= 0 pixels, got {sides} and {overlap}")
    if not any(sides):
        raise InputError("extend at least one side by at least one pixel (left, top, right or bottom)")
    if fill not in FILLS:
        raise InputError(f"unknown fill {fill!r}; choose one of {', '.join(FILLS)}")
    if hole is None:
        image = as_image_batch(image)
        old = torch.zeros_like(image[:, :1])
    else:
        image, old = prepare_inputs(image, hole)
    height, width = image.shape[-2:]
    pads = (left, right, top, bottom)
    mode = "replicate" if fill == "edge" else "constant"
    extended = F.pad(image, pads, mode=mode, **({} if fill == "edge" else {"value": 0.5}))
    new_hole = F.pad(old, pads, value=1.0)
    rows = slice(top + (overlap if top else 0), top + height - (overlap if bottom else 0))
    cols = slice(left + (overlap if left else 0), left + width - (overlap if right else 0))
    seam = torch.ones_like(new_hole)
    seam[..., rows, cols] = 0
    return extended.contiguous(), torch.maximum(new_hole, seam).contiguous()
