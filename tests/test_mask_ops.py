"""Mask operations: the fast paths give exactly what the plain definitions give."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import inpaint_core as ic


@pytest.mark.parametrize("pixels", [1, 6, 45])  # 45: the structuring element is larger than the mask
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])  # float64 takes the separable-pool path
def test_grow_and_shrink_equal_a_square_max_pool(pixels, dtype):
    hole = torch.rand(2, 1, 60, 83, generator=torch.Generator().manual_seed(pixels)).to(dtype)
    hole = torch.where(hole > 0.97, hole, torch.zeros_like(hole))  # soft, sparse values
    square = 2 * pixels + 1
    assert torch.equal(ic.masks.grow(hole, pixels), F.max_pool2d(hole, square, 1, pixels))
    assert torch.equal(ic.masks.shrink(hole, pixels), 1 - F.max_pool2d(1 - hole, square, 1, pixels))
    assert torch.equal(ic.masks.grow(hole, -pixels), ic.masks.shrink(hole, pixels))


def test_bounding_boxes_of_separate_merged_and_ragged_regions():
    hole = torch.zeros(2100, 1030, dtype=torch.bool)  # labelled at a coarse factor of 3, ragged at both ends
    hole[5:9, 1027:1030] = True
    hole[1000:1010, 500:520] = True
    hole[1015:1020, 500:503] = True  # 5 rows below the previous region
    hole[2099, 0] = True
    assert sorted(ic.masks.bounding_boxes(hole)) == [(5, 1027, 9, 1030), (1000, 500, 1010, 520),
                                                      (1015, 500, 1020, 503), (2099, 0, 2100, 1)]
    merged = sorted(ic.masks.bounding_boxes(hole, merge_distance=8))
    assert merged == [(5, 1027, 9, 1030), (1000, 500, 1020, 520), (2099, 0, 2100, 1)]


def test_bounding_boxes_of_small_holes_far_apart_in_a_large_mask_are_exact():
    # labelled within the holes' extent, at full resolution when that extent is small, not on a coarse grid
    hole = torch.zeros(4096, 4096, dtype=torch.bool)
    hole[2001:2003, 3000:3010] = True
    hole[2004:2009, 3005:3007] = True  # one row below the first region: merged only with merge_distance
    assert sorted(ic.masks.bounding_boxes(hole)) == [(2001, 3000, 2003, 3010), (2004, 3005, 2009, 3007)]
    assert ic.masks.bounding_boxes(hole, merge_distance=1) == [(2001, 3000, 2009, 3010)]
    assert ic.masks.bounding_boxes(torch.zeros(4096, 4096, dtype=torch.bool)) == []


def test_grayscale_samples_read_past_a_gray_sample_grid():
    from inpaint_core.image_ops import grayscale_samples

    image = torch.rand(3, 1, 130, 130).expand(3, 3, 130, 130).clone()
    image[1, 0, 5, 7] += 0.1  # off the 64-pixel grid: only the full check sees it
    image[2, 1, 64, 64] -= 0.1  # on the grid
    assert grayscale_samples(image).tolist() == [True, False, False]


def test_hole_extent_per_sample():
    binary = torch.zeros(3, 1, 5, 7, dtype=torch.bool)
    binary[1, :, 2, 3] = True
    binary[2] = True
    empty, full = ic.masks.hole_extent(binary)
    assert empty.tolist() == [True, False, False] and full.tolist() == [False, False, True]
