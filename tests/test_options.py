"""The one option surface: every option has one name, one default and one validation, in the library and its hosts."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import inpaint_core as ic
from inpaint_core.options import FaceOptions, InpaintOptions


@pytest.mark.parametrize("options_cls", [InpaintOptions, FaceOptions])
def test_every_option_has_a_spec_and_its_default_is_valid(options_cls):
    specs = options_cls.specs()
    assert list(specs) == [item.name for item in dataclasses.fields(options_cls)]
    for name, (item, spec) in specs.items():
        assert spec.label and spec.help, name
        assert str(item.type) in {"bool", "int", "float", "str"}, name
        if str(item.type) in {"int", "float"}:
            assert spec.minimum <= item.default <= spec.maximum and spec.step, name
    options_cls()  # the defaults pass the validation


@pytest.mark.parametrize(("changes", "message"), [
    ({"strategy": "tile"}, "unknown strategy 'tile'"),
    ({"threshold": 0.0}, r"threshold must be in \[0.01, 1\]"),
    ({"margin": -8}, r"margin must be in \[0, 1024\]"),
    ({"margin": 1.5}, "margin must be int"),
    ({"color_match": 1}, "color_match must be bool"),
    ({"seed": -1}, "seed must be in"),
    ({"working_size": 5000}, "working_size must be in"),
])
def test_bad_values_are_input_errors(changes, message):
    with pytest.raises(ic.InputError, match=message):
        InpaintOptions(**changes)


def test_ui_numbers_become_the_option_types():
    options = InpaintOptions(margin=32.0, feather_pixels=4, seed=7.0)
    assert (type(options.margin), type(options.feather_pixels), type(options.seed)) == (int, float, int)


def test_resolve_takes_keywords_over_options_and_names_unknown_ones():
    base = InpaintOptions(margin=16)
    assert InpaintOptions.resolve(base, margin=None, seed=3) == InpaintOptions(margin=16, seed=3)
    assert InpaintOptions.resolve(None) == InpaintOptions()
    with pytest.raises(ic.InputError, match="unknown option.*context_margin.*has strategy, margin"):
        InpaintOptions.resolve(None, context_margin=8)
    assert InpaintOptions(seed=5).as_kwargs()["seed"] == 5


def test_the_seed_is_the_generator_of_a_run(image, hole):
    first, second = InpaintOptions(seed=11).generator(), InpaintOptions(seed=11).generator()
    assert torch.equal(torch.rand(4, generator=first), torch.rand(4, generator=second))
    telea = ic.load_model("opencv.telea")
    by_options = ic.inpaint(telea, image, hole, options=InpaintOptions(strategy="resize", feather_pixels=3))
    assert torch.equal(by_options, ic.inpaint(telea, image, hole, "resize", feather_pixels=3))


def test_face_options_are_separate_from_the_pipeline_options(image, hole):
    telea = ic.load_model("opencv.telea")
    aligned = ic.inpaint_faces(telea, image, hole, assume_aligned=True, feather_pixels=2)
    again = ic.inpaint_faces(telea, image, hole, face_options=FaceOptions(assume_aligned=True),
                             options=InpaintOptions(feather_pixels=2))
    assert torch.equal(aligned.image, again.image)
    with pytest.raises(ic.InputError, match="min_face must be in"):
        ic.inpaint_faces(telea, image, hole, min_face=2)
