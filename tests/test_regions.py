"""Crop and stitch of hole regions, outpainting and the mask utilities of inpaint_core."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint_core import InputError
from inpaint_core.examples import EXAMPLES, example
from inpaint_core.masks.ops import fill_holes
from inpaint_core.outpaint import extend_canvas
from inpaint_core.regions import crop_regions, stitch_regions


def picture(batch: int = 1, height: int = 96, width: int = 128) -> torch.Tensor:
    y = torch.linspace(0, 1, height).view(1, 1, height, 1)
    x = torch.linspace(0, 1, width).view(1, 1, 1, width)
    return (0.2 + 0.5 * x * torch.tensor([0.9, 0.5, 0.2]).view(1, 3, 1, 1) + 0.2 * y).expand(batch, 3, -1, -1)


def boxes_hole(batch, height, width, boxes) -> torch.Tensor:
    hole = torch.zeros(batch, 1, height, width)
    for top, left, bottom, right in boxes:
        hole[..., top:bottom, left:right] = 1
    return hole


def test_crop_scales_pads_and_stitch_restores_every_region():
    image = picture(2)
    hole = boxes_hole(2, 96, 128, [(10, 10, 20, 30), (60, 90, 80, 110)])
    crops, holes, record = crop_regions(image, hole, margin=8, target_size=50, multiple=16)
    assert crops.shape == (4, 3, 64, 64) and holes.shape == (4, 1, 64, 64)
    assert [region.index for region in record.regions] == [0, 0, 1, 1]
    assert holes[:, :, 50:].max() == 0 and holes[:, :, :, 50:].max() == 0  # the padding is never a hole
    # the identity gives the image back; a changed crop changes exactly its hole
    assert torch.allclose(stitch_regions(record, crops, feather_pixels=0), image, atol=0.02)
    out = stitch_regions(record, torch.zeros_like(crops), feather_pixels=0)
    assert torch.equal(out[hole.expand_as(out) == 0], image[hole.expand_as(out) == 0])
    assert out[hole.expand_as(out) == 1].max() == 0


def test_stitch_undoes_an_upscale_and_feathers():
    image = picture()
    hole = boxes_hole(1, 96, 128, [(30, 40, 50, 70)])
    crops, _, record = crop_regions(image, hole, margin=16, target_size=0, multiple=8)
    upscaled = F.interpolate(1 - crops, scale_factor=2, mode="bilinear")
    out = stitch_regions(record, upscaled, feather_pixels=6)
    band = (out - image).abs().amax(1)[0]
    assert band[40, 55] > 0.3 and 0 < band[40, 37] < band[40, 55] and band[40, 20] == 0
    with pytest.raises(InputError, match="uniformly"):
        stitch_regions(record, upscaled[..., :, : upscaled.shape[-1] // 2])


def test_overlapping_regions_first_region_wins():
    """Two regions whose context boxes overlap: each hole pixel comes from the first region whose box holds it."""
    image = picture()
    hole = boxes_hole(1, 96, 128, [(10, 10, 30, 30), (10, 50, 30, 70)])
    crops, holes, record = crop_regions(image, hole, margin=16, target_size=0)
    first, second = record.regions
    assert first.box[3] > 50  # the first box reaches into the second hole
    assert holes[0].sum() == 400 + 20 * (first.box[3] - 50) and holes[1].sum() == 400
    out = stitch_regions(record, torch.stack([torch.full_like(crops[0], 0.1), torch.full_like(crops[1], 0.9)]),
                         feather_pixels=0)
    expected = torch.where(torch.arange(128) < first.box[3], 0.1, 0.9).expand(20, -1)[:, 50:70]
    assert torch.allclose(out[0, 0, 10:30, 50:70], expected)
    assert torch.allclose(out[0, :, 10:30, 10:30], torch.tensor(0.1))


def test_prefill_and_errors():
    image, hole = picture(), boxes_hole(1, 96, 128, [(30, 40, 50, 70)])
    grey, _, _ = crop_regions(image, hole, margin=8, prefill="neutral")
    telea, _, _ = crop_regions(image, hole, margin=8, prefill="telea")
    assert grey[0, :, 20, 30].tolist() == [0.5, 0.5, 0.5]
    assert (telea[0, :, 20, 30] - image[0, :, 40, 55]).abs().max() < 0.1
    with pytest.raises(InputError, match="no hole"):
        crop_regions(image, torch.zeros_like(hole))
    with pytest.raises(InputError, match="unknown prefill"):
        crop_regions(image, hole, prefill="blur")


def test_extend_canvas():
    image = picture()
    extended, hole = extend_canvas(image, left=5, bottom=3, overlap=2)
    assert extended.shape == (1, 3, 99, 133) and hole.shape == (1, 1, 99, 133)
    assert torch.equal(extended[..., :96, 5:], image)
    assert hole.sum() == (99 * 133 - 96 * 128) + 2 * 96 + 2 * 128 - 4
    assert torch.equal(extended[..., 0, 0], image[..., 0, 0])  # edge pixels stretched
    kept = boxes_hole(1, 96, 128, [(40, 40, 50, 50)])
    grey, with_old = extend_canvas(image, right=4, fill="neutral", hole=kept)
    assert grey[0, :, 0, -1].tolist() == [0.5, 0.5, 0.5] and with_old.sum() == 96 * 4 + 100
    with pytest.raises(InputError, match="at least one side"):
        extend_canvas(image)
    with pytest.raises(InputError, match=">= 0"):
        extend_canvas(image, left=-1)


def test_fill_holes_fills_enclosed_areas_only():
    ring = boxes_hole(1, 40, 40, [(5, 5, 25, 25)])
    ring[..., 10:20, 10:20] = 0
    ring[..., 0:3, 0:3] = 0.3  # soft values outside stay as they are
    filled = fill_holes(ring)
    assert filled[..., 5:25, 5:25].min() == 1 and filled[0, 0, 0, 0] == pytest.approx(0.3)
    assert filled.sum() == ring.sum() + 100


@pytest.mark.parametrize("name", [name for name in EXAMPLES if name != "large_landscape"])
def test_examples_are_drawn(name):
    image, hole = example(name)
    assert image.shape[:2] == (1, 3) and hole.shape[:2] == (1, 1) and image.shape[-2:] == hole.shape[-2:]
    assert (hole.max() == 1) == (name != "no_hole")
