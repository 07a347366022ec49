"""The pipeline: strategies, compositing, soft masks, batches and input hygiene."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import inpaint_core as ic
from inpaint_core.image_ops import prepare_inputs
from inpaint_core.pipeline import match_colors


@pytest.fixture(scope="module")
def telea():
    return ic.load_model("opencv.telea")


def known(hole: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return (hole == 0).expand_as(image)


@pytest.mark.parametrize("strategy", ic.STRATEGIES)
def test_known_pixels_are_returned_bit_for_bit(telea, image, hole, strategy):
    out = ic.inpaint(telea, image, hole, strategy)
    keep = known(hole, out)
    assert torch.equal(out[keep], image[keep])
    assert (out - image).abs()[~keep].mean() > 0.01  # the holes were filled with something else


@pytest.mark.parametrize("strategy", ic.STRATEGIES)
def test_holes_are_filled_plausibly(telea, image, hole, strategy):
    corrupted = image * (1 - hole) + hole  # white holes
    out = ic.inpaint(telea, corrupted, hole, strategy)
    inside = ~known(hole, out)
    assert (out - image).abs()[inside].mean() < 0.15 < (corrupted - image).abs()[inside].mean()


def test_empty_mask_returns_the_input_unchanged(telea, image):
    out = ic.inpaint(telea, image, torch.zeros(1, 1, 64, 96))
    assert torch.equal(out, image)


def test_full_mask_is_an_error(telea, image):
    with pytest.raises(ic.InputError, match="whole image"):
        ic.inpaint(telea, image, torch.ones(64, 96))


def test_unknown_strategy(telea, image, hole):
    with pytest.raises(ic.InputError, match="unknown strategy"):
        ic.inpaint(telea, image, hole, "tile")


def test_soft_mask_blends_by_its_value(telea, image):
    soft = torch.zeros(1, 1, 64, 96)
    soft[..., 20:40, 20:40] = 1
    soft[..., 20:40, 40:50] = 0.5
    soft[..., 20:40, 50:60] = 0.05  # below the threshold: kept
    result = ic.inpaint_detailed(telea, image, soft, "original")
    assert torch.equal(result.image[..., 20:40, 50:60], image[..., 20:40, 50:60])
    assert result.hole[..., 20:40, 40:50].eq(1).all()
    pure = ic.inpaint_detailed(telea, image, (soft >= 0.5).float(), "original").image
    half = image[..., 20:40, 40:50] + (pure[..., 20:40, 40:50] - image[..., 20:40, 40:50]) * 0.5
    assert torch.allclose(result.image[..., 20:40, 40:50], half, atol=1e-6)


def test_feather_blends_only_a_band_outside_the_hole(telea, image, hole):
    out = ic.inpaint(telea, image, hole, "original", feather_pixels=4)
    far = ic.masks.grow(hole, 5) == 0
    assert torch.equal(out[far.expand_as(out)], image[far.expand_as(image)])


def test_crop_runs_once_per_region_and_reports_progress(telea, image, hole):
    calls = []
    ic.inpaint(telea, image, hole, "crop", margin=8, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]  # 2 images x 2 regions


def test_progress_callback_can_cancel(telea, image, hole):
    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        ic.inpaint(telea, image, hole, progress=cancel)


def test_overlapping_regions_are_filled_once(telea, image):
    hole = torch.zeros(1, 1, 64, 96)
    hole[..., 10:20, 10:20] = 1
    hole[..., 10:20, 24:34] = 1  # within the other's context box
    out = ic.inpaint(telea, image[:1], hole, "crop", margin=16)
    assert torch.equal(out[known(hole, out)], image[:1][known(hole, image[:1])])


def test_color_match_moves_prediction_statistics_to_the_ring(image, hole):
    prediction = (image * 0.5 + 0.4).clamp(0, 1)
    matched = match_colors(prediction, image, hole)
    ring = (ic.masks.grow(hole, 4) - hole).bool().expand_as(image)
    assert (matched[ring].mean() - image[ring].mean()).abs() < (prediction[ring].mean() - image[ring].mean()).abs()


class TestInputHygiene:
    def test_grayscale_and_rgba_are_converted(self, telea, hole):
        gray = torch.rand(1, 1, 64, 96)
        rgba = torch.rand(1, 4, 64, 96)
        assert ic.inpaint(telea, gray, hole).shape == (1, 3, 64, 96)
        out = ic.inpaint(telea, rgba, hole)
        assert torch.equal(out[known(hole, out)], rgba[:, :3][known(hole, out)])

    def test_pil_and_numpy_inputs(self, telea):
        array = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
        mask = np.zeros((40, 50), np.uint8)
        mask[10:20, 10:20] = 255
        from_pil = ic.inpaint(telea, Image.fromarray(array).convert("RGBA"), Image.fromarray(mask))
        from_numpy = ic.inpaint(telea, array, mask)
        assert torch.equal(from_pil, from_numpy)
        assert torch.equal(from_numpy[0, :, 0, 0], torch.from_numpy(array[0, 0]).float() / 255)

    def test_16_bit_images_are_scaled(self):
        array = np.full((16, 16, 3), 65535, np.uint16)
        image, _ = prepare_inputs(array, np.zeros((16, 16)))
        assert torch.equal(image, torch.ones(1, 3, 16, 16))
        pil16 = Image.fromarray(np.full((16, 16), 32768, np.uint16))
        image, _ = prepare_inputs(pil16, np.zeros((16, 16)))
        assert torch.allclose(image, torch.full((1, 3, 16, 16), 32768 / 65535))

    @pytest.mark.parametrize(
        "bad, message",
        [
            (torch.full((1, 3, 16, 16), float("nan")), "NaN"),
            (torch.full((1, 3, 16, 16), 200.0), "divide by 255"),
            (torch.full((1, 3, 16, 16), -1.0), r"\(x \+ 1\) / 2"),
            (torch.rand(1, 3, 4, 4), "smallest side"),
            (torch.rand(1, 5, 16, 16), "channels"),
            ("image.png", "torch tensor"),
        ],
    )
    def test_bad_images_are_errors(self, bad, message):
        with pytest.raises(ic.InputError, match=message):
            prepare_inputs(bad, torch.zeros(16, 16))

    def test_mask_of_same_aspect_is_resized_and_other_sizes_are_errors(self):
        image = torch.rand(1, 3, 64, 96)
        small = torch.zeros(32, 48)
        small[8:16, 8:16] = 1
        _, hole = prepare_inputs(image, small)
        assert hole.shape == (1, 1, 64, 96) and hole[0, 0, 20, 20] == 1
        with pytest.raises(ic.InputError, match=r"mask is 64x64 but the image is 96x64 \(width x height\)"):
            prepare_inputs(image, small.new_ones(64, 64))

    def test_sizes_in_messages_are_width_by_height(self):
        with pytest.raises(ic.InputError, match=r"mask is 30x40 but the image is 40x30 \(width x height\)"):
            prepare_inputs(torch.rand(1, 3, 30, 40), torch.ones(40, 30))

    def test_a_grayscale_image_gets_a_grayscale_fill(self, hole):
        gray = torch.linspace(0, 1, 96).expand(1, 3, 64, 96).contiguous()
        for name in ic.ready_models():
            out = ic.inpaint(ic.load_model(name), gray, hole)
            assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2]), name
            keep = hole.expand_as(out) == 0
            assert torch.equal(out[keep], gray[keep]), name

    def test_a_mask_without_any_hole_fits_any_image(self):
        # ComfyUI's LoadImage gives a 64x64 blank mask for an image without alpha
        image = torch.rand(2, 3, 48, 80)
        _, hole = prepare_inputs(image, torch.zeros(1, 64, 64))
        assert hole.shape == (2, 1, 48, 80) and not hole.any()
        assert torch.equal(ic.inpaint(ic.load_model("opencv.telea"), image, torch.zeros(64, 64)), image)

    def test_batches_broadcast_one_way_or_the_other(self):
        image, hole = prepare_inputs(torch.rand(3, 3, 16, 16), torch.zeros(16, 16))
        assert hole.shape == (3, 1, 16, 16)
        image, hole = prepare_inputs(torch.rand(1, 3, 16, 16), torch.zeros(2, 16, 16))
        assert image.shape == (2, 3, 16, 16)
        with pytest.raises(ic.InputError, match="2 masks for 3 images"):
            prepare_inputs(torch.rand(3, 3, 16, 16), torch.zeros(2, 16, 16))

    def test_nan_mask_is_an_error(self):
        with pytest.raises(ic.InputError, match="mask contains NaN"):
            prepare_inputs(torch.rand(1, 3, 16, 16), torch.full((16, 16), float("nan")))

    def test_huge_image_with_original_strategy_points_to_crop(self):
        class Net(ic.InpaintModel):
            family = "test"

        with pytest.raises(ic.InputError, match="use 'crop'"):
            ic.inpaint(
                Net(None),
                torch.zeros(1, 3, 2056, 16),
                torch.zeros(2056, 16).index_fill_(0, torch.tensor([5]), 1),
                "original",
            )


class _Spy(ic.InpaintModel):
    """Records what the pipeline shows the network."""

    family = "spy"
    seen: list[torch.Tensor] = []

    def predict_outputs(self, image, hole, generator=None):
        self.seen.append(image.clone())
        return {"image": image}


def test_the_network_never_sees_the_hole_content(image, hole):
    _Spy.seen = []
    ic.inpaint(_Spy(None), image[:1] * 0 + 0.7, hole, "original")
    assert torch.equal(_Spy.seen[0][(hole > 0).expand(1, 3, -1, -1)], torch.zeros(int(hole.sum()) * 3))


def test_ctsdg_edges_do_not_trace_the_hole_outline():
    from inpaint_core.models.ctsdg import structure_maps

    flat = torch.full((1, 3, 128, 128), 0.6)
    hole = torch.zeros(1, 1, 128, 128)
    hole[..., 40:90, 40:90] = 1
    outlined, _ = structure_maps(flat * (1 - hole), "clean", 2.0)
    assert outlined.sum() > 50  # what a zero-filled hole would give the network
    model = ic.build_model("ctsdg.tiny").eval()
    seen = []  # the edge maps the model computes
    original = model.native_inputs

    def spy(image, hole):
        inputs = original(image, hole)
        seen.append(inputs["edge"])
        return inputs

    model.native_inputs = spy
    ic.inpaint(model, flat, hole, "original")  # the pipeline hides the hole; the model Telea-fills it for Canny
    assert seen[0].sum() == 0
    model.predict_unhidden(flat * (1 - hole), hole)  # the same blank hole without the model's pre-fill
    assert seen[1].sum() > 50


def test_extras_are_collected_only_when_asked(image, hole):
    model = ic.build_model("deepfill.tiny").eval()
    kept = ic.inpaint_detailed(model, image, hole, "crop", seed=3)
    dropped = ic.inpaint_detailed(model, image, hole, "crop", seed=3, extras=False)
    assert set(kept.extras) == {"coarse"} and kept.extras["coarse"].shape[-2:] == image.shape[-2:]
    assert dropped.extras == {} and torch.equal(dropped.image, kept.image)


@pytest.mark.parametrize("size", [64, 1024])  # 1024: the output buffer comes from numpy (huge pages)
def test_the_input_is_never_written_to(telea, size):
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(size))
    hole = torch.zeros(size, size)
    hole[size // 4 : size // 2, size // 4 : size // 2] = 1
    before = image.clone()
    array = image[0].permute(1, 2, 0).numpy().copy()
    for given in (image, image[0], array):
        out = ic.inpaint(telea, given, hole, "crop")
        assert not torch.equal(out, before)
    assert torch.equal(image, before) and torch.equal(torch.from_numpy(array), before[0].permute(1, 2, 0))
