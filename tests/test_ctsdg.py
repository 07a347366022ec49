"""CTSDG: layers against reference semantics, the tiny preset end to end, conversion, preprocessing, polarity."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import inpaint_core as ic
from inpaint_core.errors import WeightsError
from inpaint_core.layers.cfa import RegionAffinity
from inpaint_core.layers.partial_conv import PartialConv2d, concat_masked
from inpaint_core.models.ctsdg import CTSDG, PRESETS, CTSDGConfig, legacy_codes
from training.discriminators.ctsdg import CTSDGDiscriminator
from training.objectives.ctsdg import CTSDGObjective, CTSDGOptions

torch.set_num_threads(1)


def _image(size: int = 128, batch: int = 1, seed: int = 0) -> torch.Tensor:
    """Smooth shading plus discs: something with edges."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    base = torch.stack([0.5 + 0.4 * torch.sin(6 * xx + c) * torch.cos(4 * yy - c) for c in range(3)])
    images = base.expand(batch, 3, size, size).clone()
    for b in range(batch):
        for _ in range(5):
            cy, cx, r = torch.rand(3, generator=g).tolist()
            images[b, :, (yy - cy) ** 2 + (xx - cx) ** 2 < (0.05 + 0.15 * r) ** 2] = torch.rand(3, 1, generator=g)
    return (images * 255).round() / 255


def _hole(size: int = 128, batch: int = 1, box=(32, 40, 80, 96)) -> torch.Tensor:
    hole = torch.zeros(batch, 1, size, size)
    top, left, bottom, right = box
    hole[..., top:bottom, left:right] = 1
    return hole


@pytest.fixture(scope="module")
def tiny() -> CTSDG:
    torch.manual_seed(0)
    return ic.build_model("ctsdg.tiny").eval()


# --- layers ----------------------------------------------------------------------------------------------------------


def _reference_partial_conv(conv: PartialConv2d, x: torch.Tensor, mask: torch.Tensor):
    """The official rule with a full (C_out, C_in, k, k) all-ones mask kernel and a per-channel mask."""
    ones = torch.ones(conv.out_channels, conv.in_channels, *conv.kernel_size)
    count = F.conv2d(mask, ones, stride=conv.stride, padding=conv.padding)
    ratio = conv.in_channels * math.prod(conv.kernel_size) / (count + 1e-8)
    new_mask = count.clamp(0, 1)
    out = F.conv2d(x * mask, conv.weight, None, conv.stride, conv.padding) * (ratio * new_mask)
    return out, new_mask


def test_partial_conv_counts_the_mask_over_all_input_channels():
    torch.manual_seed(0)
    conv = PartialConv2d(6, 5, 3, stride=2, padding=1, bias=False)
    up, skip = torch.randn(2, 4, 16, 16), torch.randn(2, 2, 16, 16)
    m_up = (torch.rand(2, 1, 16, 16) > 0.5).float()
    m_skip = (torch.rand(2, 1, 16, 16) > 0.3).float()
    full_mask = torch.cat((m_up.expand(-1, 4, -1, -1), m_skip.expand(-1, 2, -1, -1)), 1)
    expected, expected_mask = _reference_partial_conv(conv, torch.cat((up, skip), 1), full_mask)
    out, new_mask = conv.forward_masked(*concat_masked([(up, m_up), (skip, m_skip)]))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    assert torch.equal(new_mask.expand_as(expected_mask), expected_mask)
    out_full, _ = conv(torch.cat((up, skip), 1), full_mask)  # a per-channel mask gives the same
    torch.testing.assert_close(out_full, expected, rtol=1e-5, atol=1e-6)


def _reference_region_affinity(x: torch.Tensor, rate: int = 2, scale: float = 10.0) -> torch.Tensor:
    """The reference algorithm: per image, a conv with one kernel per normalised key patch, softmax over kernels,
    transposed conv with the value patches."""
    small = F.interpolate(x, scale_factor=1 / rate, mode="bilinear", align_corners=True)
    out = []
    for item, small_item in zip(x, small):
        keys = F.unfold(small_item[None], 3, padding=1)[0].t().reshape(-1, x.shape[1], 3, 3)
        keys = keys / keys.square().sum((1, 2, 3), keepdim=True).sqrt().clamp_min(1e-4)
        values = F.unfold(item[None], 2 * rate, padding=1, stride=rate)[0].t()
        values = values.reshape(-1, x.shape[1], 2 * rate, 2 * rate)
        scores = F.conv2d(small_item[None], keys, padding=1)
        attention = F.softmax(scores * scale, dim=1).clamp(min=1e-8)
        out.append(F.conv_transpose2d(attention, values, stride=rate, padding=1) / 4.0)
    return torch.cat(out)


def test_region_affinity_matches_reference_and_chunking_changes_nothing():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 32, 32)
    layer = RegionAffinity()
    whole = layer(x)
    torch.testing.assert_close(whole, _reference_region_affinity(x), rtol=1e-4, atol=1e-5)
    x = torch.randn(1, 8, 40, 40)  # 20 query rows: one chunk, then (smallest chunks) 8, 8 and 4
    whole = layer(x)
    torch.testing.assert_close(whole, _reference_region_affinity(x), rtol=1e-4, atol=1e-5)
    layer.chunk_elements = 1
    x.requires_grad_(True)
    weights = torch.randn_like(whole)
    (grad,) = torch.autograd.grad((layer(x) * weights).sum(), x)
    (expected,) = torch.autograd.grad((_reference_region_affinity(x) * weights).sum(), x)
    torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-5)
    with torch.no_grad():  # without autograd the chunks share their buffers (the last chunk is a smaller view)
        torch.testing.assert_close(layer(x), whole, rtol=1e-5, atol=1e-6)
    with torch.inference_mode():
        layer.chunk_elements = RegionAffinity.chunk_elements
        x = torch.randn(2, 8, 32, 32)
        torch.testing.assert_close(layer(x), _reference_region_affinity(x), rtol=1e-4, atol=1e-5)


# --- the tiny preset end to end -------------------------------------------------------------------------------------


def test_tiny_forward_backward_with_objective():
    torch.manual_seed(0)
    model = ic.build_model("ctsdg.tiny").train()
    objective = CTSDGObjective(model.config, CTSDGOptions(vgg_weights=None, allow_random_vgg=True))
    image, hole = _image(128, batch=2), _hole(128, batch=2)
    loss, terms, outputs = objective.generator_step(model, image, hole)
    assert set(terms) == {"hole", "valid", "perceptual", "style", "adversarial", "intermediate"}
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(p.grad is None for p in objective.discriminator.parameters())  # frozen during the generator step
    assert outputs["image"].shape == image.shape and 0 <= outputs["image"].min() <= outputs["image"].max() <= 1
    d_loss, d_terms = objective.discriminator_step(image, hole, outputs)
    d_loss.backward()
    assert torch.isfinite(d_loss) and all(p.grad is not None for p in objective.discriminator.parameters())
    assert set(d_terms) == {"adversarial"}


def test_save_and_strict_reload(tiny, tmp_path):
    path = ic.save_model(tiny, tmp_path / "tiny.safetensors")
    loaded = ic.load_model(path)
    assert loaded.config == tiny.config and loaded.preset == "tiny"
    image, hole = _image(), _hole()
    with torch.inference_mode():
        assert torch.equal(loaded.predict(image, hole), tiny.predict(image, hole))


def test_predict_outputs_image_and_edge_in_unit_range(tiny):
    with torch.inference_mode():
        outputs = tiny.predict_outputs(_image(), _hole())
    assert set(outputs) == {"image", *tiny.extra_outputs} == {"image", "edge"}
    for value in outputs.values():
        assert value.shape[-2:] == (128, 128) and value.min() >= 0 and value.max() <= 1


def test_mask_polarity(tiny):
    """The network sees the known pixels and not the hole: changing the hole's interior (farther from its border than
    Canny's smoothing reaches) changes nothing, changing known pixels does; the native mask is 1 = valid."""
    image, hole = _image(), _hole(box=(24, 24, 104, 104))
    inputs = tiny.native_inputs(image, hole)
    assert torch.equal(inputs["mask"], 1 - hole)
    with torch.inference_mode():
        base = tiny.predict(image, hole)
        inside = image.clone()
        inside[..., 48:80, 48:80] = 1 - inside[..., 48:80, 48:80]
        outside = image.clone()
        outside[..., :16, :] = 1 - outside[..., :16, :]
        assert torch.equal(tiny.predict(inside, hole), base)
        assert not torch.allclose(tiny.predict(outside, hole), base)
    in_hole = hole.bool().expand_as(image)
    assert (base[in_hole] - image[in_hole]).abs().mean() > 1e-3  # the hole is filled, not copied


def test_sizes_that_are_not_multiples_of_128_go_through_the_pipeline(tiny):
    image, hole = _image(160)[..., :100, :150], _hole(160)[..., :100, :150]
    with pytest.raises(ic.InputError):
        tiny.predict(image, hole)
    detailed = ic.inpaint_detailed(tiny, image, hole, strategy="original")
    result = detailed.image
    assert result.shape == image.shape and detailed.extras["edge"].shape == (1, 1, 100, 150)
    keep = ~hole.bool().expand_as(image)
    assert torch.equal(result[keep], image[keep])


# --- preprocessing --------------------------------------------------------------------------------------------------


def test_legacy_codes_are_the_wrapped_lookup_table():
    p = torch.arange(256)
    image = (p.to(torch.uint8).float().div(255)).view(1, 1, 1, 256).expand(1, 3, 1, 256)  # ToTensor of 8-bit pixels
    codes = legacy_codes(image)[0, 0, :, 0].long()
    expected = (2 * p + 1) % 256
    expected[64:128] = (2 * p[64:128] + 2) % 256
    assert torch.equal(codes, expected)
    # direct emulation of the official ToTensor -> Normalize(0.5, 0.5) -> ToPILImage (x * 255, 8-bit wrap)
    normalised = (p.to(torch.uint8).float().div(255) - 0.5) / 0.5
    wrapped = normalised.mul(255).to(torch.int64) & 0xFF
    assert torch.equal(codes, wrapped)


def test_legacy_and_clean_structure_inputs_differ(tiny):
    image, hole = _image(), _hole()
    legacy = ic.build_model("ctsdg.tiny", preprocessing="legacy").native_inputs(image, hole)
    clean = tiny.native_inputs(image, hole)
    for name in ("edge", "gray"):
        assert legacy[name].shape == clean[name].shape == (1, 1, 128, 128)
    assert set(clean["edge"].unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(legacy["gray"], clean["gray"])
    from skimage.color import rgb2gray

    expected = torch.from_numpy(rgb2gray(image[0].permute(1, 2, 0).numpy())).float()
    torch.testing.assert_close(clean["gray"][0, 0], expected)


# --- sizes, conversion, discriminator, VGG --------------------------------------------------------------------------


def _count(module_factory) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in module_factory().parameters())


def test_parameter_counts_of_the_default_widths():
    assert _count(lambda: CTSDG(PRESETS["celeba"])) == 52_147_789
    assert _count(CTSDGDiscriminator) == 5_531_729
    assert {PRESETS[name].preprocessing for name in ("celeba", "places2", "paris")} == {"legacy"}
    assert CTSDG.size_multiple == 128


OFFICIAL_KEYS = (  # a sample of the released generator's state-dict keys
    "ec_texture_1.conv.weight", "ec_structure_7.bn.num_batches_tracked", "dc_texture_1.bn.running_var",
    "dc_structure_4.conv.weight", "texture_feature_projection.texture_resolver.bn2.running_mean",
    "structure_feature_projection.out_layer.0.bias", "bigff.texture_gamma", "bigff.structure_gate.0.weight",
    "fusion_layer1.0.weight", "cfa.msfa.dilated_conv_3.0.bias", "cfa.msfa.weight_calc.2.weight",
    "fusion_layer2.0.bias", "out_layer.0.weight",
)


def _official_checkpoint(config: CTSDGConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """A generator state dict with the released key layout and random values."""
    g = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        shapes = {k: (v.shape, v.dtype) for k, v in CTSDG(config).state_dict().items()}
    return {k: (torch.randn(s, generator=g) if d.is_floating_point else torch.zeros(s, dtype=d))
            for k, (s, d) in shapes.items()}


def test_converter_official_checkpoint(tmp_path):
    tiny = PRESETS["tiny"]
    overrides = dict(widths=tiny.widths, projection_width=tiny.projection_width)
    generator = _official_checkpoint(CTSDGConfig(**overrides))
    assert set(OFFICIAL_KEYS) <= set(generator) and len(generator) == 210
    discriminator = CTSDGDiscriminator().state_dict()
    assert {"texture_branch.conv1.0.weight_orig", "texture_branch.features.0.weight_orig"} <= set(discriminator)
    assert len(discriminator) == 59
    src = tmp_path / "official.pt"
    torch.save({"n_iter": 300000, "generator": generator, "discriminator": discriminator}, src)
    model = ic.load_model(ic.convert_checkpoint("ctsdg", src, tmp_path / "converted.safetensors", **overrides))
    assert model.config.preprocessing == "legacy"
    for key, value in model.state_dict().items():
        assert torch.equal(value, generator[key]), key
    bare = tmp_path / "bare.pth"  # a bare generator state dict converts too
    torch.save(generator, bare)
    ic.convert_checkpoint("ctsdg", bare, tmp_path / "bare.safetensors", **overrides)
    CTSDGDiscriminator().load_state_dict(discriminator, strict=True)  # the official 'discriminator' entry loads as is


def test_converter_is_strict_and_says_where_the_weights_are(tmp_path):
    tiny = PRESETS["tiny"]
    overrides = dict(widths=tiny.widths, projection_width=tiny.projection_width)
    generator = _official_checkpoint(CTSDGConfig(**overrides))
    for broken in ({k: v for k, v in generator.items() if k != "bigff.texture_gamma"},
                   {**generator, "extra.weight": torch.zeros(1)},
                   {**generator, "out_layer.0.weight": torch.zeros(3, 5, 1, 1)}):
        src = tmp_path / "broken.pt"
        torch.save({"n_iter": 1, "generator": broken}, src)
        with pytest.raises(WeightsError, match="drive.google.com"):
            ic.convert_checkpoint("ctsdg", src, tmp_path / "x.safetensors", **overrides)
    with pytest.raises(WeightsError, match="drive.google.com"):  # the default widths do not fit tiny tensors
        src = tmp_path / "tiny.pt"
        torch.save({"generator": generator}, src)
        ic.convert_checkpoint("ctsdg", src, tmp_path / "y.safetensors")


def test_vgg_features_for_ctsdg_see_the_input_unnormalised(tmp_path):
    objective = CTSDGObjective(PRESETS["tiny"], CTSDGOptions(vgg_weights=None, allow_random_vgg=True))
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    features = objective.vgg(x)
    assert [tuple(f.shape) for f in features] == [(1, 64, 32, 32), (1, 128, 16, 16), (1, 256, 8, 8)]
    torch.testing.assert_close(features[0], objective.vgg.features[:5](x))
    assert not any(p.requires_grad for p in objective.vgg.parameters())
    with pytest.raises(WeightsError):
        CTSDGObjective(PRESETS["tiny"], CTSDGOptions(vgg_weights=tmp_path / "missing.safetensors"))
