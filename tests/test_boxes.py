"""The crop / pad / scale / paste helpers shared by the crop strategy, the face path and the face nodes."""

from __future__ import annotations

import torch

from inpaint_core import boxes


def test_crop_pads_outside_the_image_and_uncrop_takes_back_the_inside():
    image = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    box = (-2, 3, 6, 11)  # leaves the image above, below and on the right
    cropped = boxes.crop(image, box)
    assert cropped.shape[-2:] == (8, 8)
    assert torch.equal(cropped[..., 0, :4], image[..., 0, 3:7])  # edge rows replicated above
    assert torch.equal(cropped[..., 2:7, 4:], image[..., :, 6:7].expand(-1, -1, 5, 4))  # edge column on the right
    assert torch.equal(boxes.crop(image, box, "constant")[..., :2, :], torch.zeros(1, 2, 2, 8))
    assert torch.equal(boxes.uncrop(cropped, box, 5, 7), boxes.window(image, box))
    assert boxes.window(image, box).shape[-2:] == (5, 4) and boxes.clip(box, 5, 7) == (0, 3, 5, 7)
    assert boxes.is_empty(boxes.clip((6, 0, 9, 3), 5, 7)) and not boxes.is_empty(boxes.clip(box, 5, 7))


def test_square_and_context_boxes():
    assert boxes.square_around(4, 10) == (-3, 0, 7, 10)
    # grown by the margin, squared, and moved inside the image
    assert boxes.context_box((0, 0, 4, 6), 2, 20, 30, square=False) == (0, 0, 10, 10)
    assert boxes.context_box((10, 2, 12, 28), 4, 16, 40, square=False) == (0, 0, 16, 34)
    assert boxes.context_box((10, 2, 12, 28), 4, 16, 40, square=True) == (0, 7, 16, 23)


def test_scaling_keeps_every_contributing_hole_pixel_and_clamps_images():
    hole = torch.zeros(1, 1, 8, 8)
    hole[..., 3, 3] = 1
    small = boxes.scale_hole(hole, 4, 4)
    assert small.sum() == 1 and small[..., 1, 1] == 1
    assert boxes.scale_hole(hole, 8, 8) is hole and boxes.scale_hole(small, 8, 8).sum() >= 1
    image = torch.rand(1, 3, 9, 9)
    scaled = boxes.scale_image(image, 20, 13)
    assert scaled.shape[-2:] == (20, 13) and scaled.min() >= 0 and scaled.max() <= 1
