"""Crop every hole region into a batch for any image model, and stitch the processed batch back.

:func:`crop_regions` cuts the boxes of the pipeline's ``crop`` strategy (each connected hole region with ``margin``
pixels of context, see :func:`inpaint_core.pipeline.region_boxes`) out of every image of a batch, optionally
pre-fills the holes (OpenCV, neutral grey or an inpainting model), scales each crop so that its longer side is
``target_size`` and pads it (edge pixels, at the bottom and right) to one canvas whose sides are a multiple of
``multiple``, so that every crop fits one batch. :func:`stitch_regions` takes that batch back after any processing
that keeps its order and aspect (a sampler, a blur, an upscale), undoes the padding and scaling, and blends each
region into its image.

Order and overlaps: regions are ordered by image, then as :func:`inpaint_core.masks.ops.bounding_boxes` finds them.
Every crop is cut from the input image (all regions are processed at once), and its mask holds every hole pixel in
its box, also those of a neighbouring region that the box reaches. When stitching, a hole pixel is taken from the
first region whose box holds it; a later region never overwrites it, and blends over the image only in its own
feather band and its own not yet pasted hole pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .boxes import scale_hole, scale_image
from .errors import InputError
from .image_ops import as_image_batch, prepare_inputs
from .models.base import InpaintModel
from .models.prefill import opencv_fill
from .pipeline import blend_weight, inpaint, match_colors, region_boxes

Box = tuple[int, int, int, int]  # (top, left, bottom, right), exclusive ends, inside the image
PREFILLS = ("none", "telea", "navier-stokes", "neutral")
_OPENCV = {"telea": "telea", "navier-stokes": "ns"}


@dataclass(frozen=True)
class Region:
    """One crop: the image it came from, its box there, and its size on the canvas before padding."""

    index: int
    box: Box
    scaled: tuple[int, int]


@dataclass
class StitchRecord:
    """What :func:`stitch_regions` needs: the input images, their masks, the regions and the canvas size."""

    image: torch.Tensor  # [B, 3, H, W]
    soft: torch.Tensor  # [B, 1, H, W] in [0, 1]
    binary: torch.Tensor  # [B, 1, H, W] bool: the pixels that were holes
    regions: list[Region]
    canvas: tuple[int, int]


def crop_regions(
    image,
    hole,
    *,
    margin: int = 64,
    threshold: float = 0.1,
    target_size: int = 0,
    multiple: int = 8,
    prefill: str | InpaintModel = "none",
    square: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, StitchRecord]:
    """Crop each hole region of ``image`` (``[B, 3, H, W]`` in [0, 1]; ``hole`` 1 = fill) into one batch.

    ``target_size``: the crops' longer side after scaling (0: keep each crop's own size, the canvas being the
    largest). ``multiple``: the canvas sides are rounded up to it (8 for most latent models). ``prefill``: one of
    :data:`PREFILLS` or a model whose ``crop`` inpainting fills the holes first. ``square``: square boxes even where
    the image is too narrow for them (otherwise square when the image allows). Returns the crops ``[N, 3, h, w]``,
    their hole masks ``[N, 1, h, w]`` (1 = hole, 0 also on the padding) and the record for :func:`stitch_regions`.
    """
    if not 0 < threshold <= 1:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    if target_size < 0 or multiple < 1:
        raise InputError(f"target_size must be >= 0 and multiple >= 1, got {target_size} and {multiple}")
    image, soft = prepare_inputs(image, hole)
    binary = soft >= threshold
    regions_boxes = [(index, box) for index in range(image.shape[0])
                     for box in region_boxes(binary[index, 0], max(0, int(margin)), square)]
    if not regions_boxes:
        raise InputError("the mask has no hole (no value at or above the threshold): paint the area to crop")
    filled = _prefill(image, soft, binary, prefill, margin, threshold)
    regions = [Region(index, box, _scaled_size(box, target_size)) for index, box in regions_boxes]
    canvas = _canvas(regions, target_size, multiple)
    crops, holes = [], []
    for region in regions:
        window = _window(region)
        crops.append(_pad(scale_image(filled[window], *region.scaled), canvas, "replicate"))
        holes.append(_pad(scale_hole(binary[window].to(image.dtype), *region.scaled), canvas, "constant"))
    return torch.cat(crops), torch.cat(holes), StitchRecord(image, soft, binary, regions, canvas)


def stitch_regions(
    record: StitchRecord, processed, *, feather_pixels: float = 8, color_match: bool = False
) -> torch.Tensor:
    """Paste the processed crops (``[N, 3, h, w]``, in :func:`crop_regions`' order) back into the record's images.

    The crops may have been scaled on the way (an upscaler): they are scaled back to the canvas first, so their
    aspect ratio must be the canvas'. The result is the input image outside the holes and their ``feather_pixels``
    band; ``color_match`` matches each crop's colour statistics to the known pixels around its hole.
    """
    crops = as_image_batch(processed).to(record.image)
    if crops.shape[0] != len(record.regions):
        raise InputError(f"{crops.shape[0]} processed crops for {len(record.regions)} regions: process the crops "
                         "of this Crop node without adding, dropping or reordering images")
    height, width = record.canvas
    if abs(crops.shape[-2] / crops.shape[-1] - height / width) > 0.02 * height / width:
        raise InputError(f"the processed crops are {crops.shape[-2]}x{crops.shape[-1]}, the crops were "
                         f"{height}x{width}: scale them uniformly (or not at all) between Crop and Stitch")
    crops = scale_image(crops, height, width)
    result = record.image.clone()
    pasted = torch.zeros_like(record.binary)
    for crop, region in zip(crops, record.regions):
        window = _window(region)
        box_h, box_w = region.box[2] - region.box[0], region.box[3] - region.box[1]
        back = scale_image(crop[None, :, : region.scaled[0], : region.scaled[1]], box_h, box_w)
        known, binary = result[window], record.binary[window]
        if color_match:
            back = match_colors(back, record.image[window], binary.to(back.dtype))
        weight = blend_weight(binary, record.soft[window], feather_pixels) * ~pasted[window]
        result[window] = known + (back - known) * weight
        pasted[window] |= binary
    return result


def _prefill(image, soft, binary, prefill, margin, threshold) -> torch.Tensor:
    """The images with their holes pre-filled as ``prefill`` says (``"none"``: as they are)."""
    if isinstance(prefill, InpaintModel):
        return inpaint(prefill, image, soft, "crop", margin=margin, threshold=threshold)
    if prefill not in PREFILLS:
        raise InputError(f"unknown prefill {prefill!r}; choose one of {', '.join(PREFILLS)} or pass a model")
    if prefill == "none":
        return image
    hole = binary.to(image.dtype)
    fill = torch.full_like(image, 0.5) if prefill == "neutral" else opencv_fill(image, hole, _OPENCV[prefill])
    return torch.lerp(image, fill, hole)


def _scaled_size(box: Box, target_size: int) -> tuple[int, int]:
    height, width = box[2] - box[0], box[3] - box[1]
    if not target_size:
        return height, width
    scale = target_size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _canvas(regions: list[Region], target_size: int, multiple: int) -> tuple[int, int]:
    if target_size:
        height = width = target_size
    else:
        height, width = (max(region.scaled[axis] for region in regions) for axis in (0, 1))
    return math.ceil(height / multiple) * multiple, math.ceil(width / multiple) * multiple


def _window(region: Region) -> tuple[slice, ...]:
    top, left, bottom, right = region.box
    return slice(region.index, region.index + 1), slice(None), slice(top, bottom), slice(left, right)


def _pad(tensor: torch.Tensor, canvas: tuple[int, int], mode: str) -> torch.Tensor:
    """``tensor`` padded at the bottom and right to ``canvas`` (edge pixels: ``"replicate"``; zeros)."""
    pad_h, pad_w = canvas[0] - tensor.shape[-2], canvas[1] - tensor.shape[-1]
    return F.pad(tensor, (0, pad_w, 0, pad_h), mode=mode) if pad_h or pad_w else tensor
