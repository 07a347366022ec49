"""Mask generators: hole-ratio range and polarity of every type, seeding, the registry and the file loader."""

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_core.errors import InputError
from inpaint_core.masks import MASK_GENERATORS, NTIRE_TYPES, generate_mask, load_mask_file

# Hole-ratio bounds at 256x256 over many seeds (from each type's definition; strokes: observed with margin).
RATIO_RANGES = {
    "thick": (0.01, 0.5),
    "medium": (0.002, 0.5),
    "thin": (0.002, 0.5),
    "every_n_lines": (0.2, 0.5),
    "nearest_neighbor": (0.75, 0.9375),
    "completion": (0.2, 0.8),
    "expand": (0.75, 0.9375),
    "free_form": (0.01, 0.6),
    "box": (0.14, 0.25),
    "deepfill": (0.14, 0.75),
}
SEEDS = range(12)


def _masks(name, size=(256, 256)):
    return [generate_mask(name, *size, torch.Generator().manual_seed(seed)) for seed in SEEDS]


def test_all_types_registered():
    assert set(NTIRE_TYPES) <= set(MASK_GENERATORS)
    assert set(RATIO_RANGES) == set(MASK_GENERATORS)


@pytest.mark.parametrize("name", sorted(MASK_GENERATORS))
def test_hole_ratio_range_binary_and_seeded(name):
    masks = _masks(name)
    for mask in masks:
        assert mask.shape == (256, 256) and mask.dtype == torch.float32
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
        low, high = RATIO_RANGES[name]
        assert low - 1e-6 <= mask.mean().item() <= high + 1e-6, (name, mask.mean().item())
    again = generate_mask(name, 256, 256, torch.Generator().manual_seed(0))
    assert torch.equal(again, masks[0])
    assert torch.equal(generate_mask(name, 256, 256, np.random.default_rng(5)),
                       generate_mask(name, 256, 256, np.random.default_rng(5)))
    assert len({tuple(m.flatten()[::97].tolist()) for m in masks}) > 1  # not constant across seeds


@pytest.mark.parametrize("name", sorted(MASK_GENERATORS))
def test_non_square_sizes(name):
    mask = generate_mask(name, 192, 320, torch.Generator().manual_seed(1))
    assert mask.shape == (192, 320)


def test_polarity_of_structured_types():
    for mask in _masks("nearest_neighbor"):
        assert mask[0, 0] == 0 and mask[0, 1] == 1  # grid pixels known, the rest hole
    for mask in _masks("expand"):
        assert mask[128, 128] == 0 and mask[0, 0] == 1  # centre known, border is hole (outpainting)
    for mask in _masks("every_n_lines"):
        assert mask[0].all() or mask[:, 0].all()  # line 0 is a hole line
    for mask in _masks("completion"):
        edges = [mask[0].all(), mask[-1].all(), mask[:, 0].all(), mask[:, -1].all()]
        assert sum(bool(e) for e in edges) >= 1 and not mask.all()


def test_strokes_stay_under_half_and_box_inside():
    for mask in _masks("thick") + _masks("medium"):
        assert mask.mean() <= 0.5
    for mask in _masks("box"):
        rows, cols = torch.nonzero(mask, as_tuple=True)
        assert rows.max() - rows.min() + 1 <= 128 and cols.max() - cols.min() + 1 <= 128


def test_unknown_type_is_a_clear_error():
    with pytest.raises(InputError, match="unknown mask type"):
        generate_mask("nope", 64, 64)


def test_load_mask_file_white_is_hole_resized_binarised(tmp_path):
    array = np.zeros((512, 512), np.uint8)
    array[100:300, 50:200] = 255
    array[400, 400] = 100  # grey below the threshold stays known
    path = tmp_path / "mask.png"
    Image.fromarray(array).save(path)
    mask = load_mask_file(path)
    assert mask.shape == (512, 512) and mask[150, 100] == 1 and mask[0, 0] == 0 and mask[400, 400] == 0
    small = load_mask_file(path, (256, 256))
    assert small.shape == (256, 256) and set(small.unique().tolist()) == {0.0, 1.0}
    assert abs(small.mean().item() - mask.mean().item()) < 0.01
    assert load_mask_file(path, invert=True)[0, 0] == 1
    with pytest.raises(InputError):
        load_mask_file(tmp_path / "missing.png")
