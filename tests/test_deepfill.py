"""DeepFillv2 (``deepfill``) and progressive (``progressive``): layers, presets, converter, objectives."""

import math

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import inpaint_core as ic
from inpaint_core.converters.deepfill import PORT_KEYS
from inpaint_core.errors import WeightsError
from inpaint_core.layers.contextual_attention import ContextualAttention
from inpaint_core.layers.gated_conv import GatedConv2d, GatedDeconv2d, tf_nearest_indices, tf_same_pad_amounts
from inpaint_core.models.progressive import downsample_masked, stage_size
from inpaint_core.registry import get_family
from training.discriminators.patch_gan import semantic_network
from training.objectives import build_objective
from training.vgg import VGG16Features

TINY_D = (8, 16, 16, 16, 16, 16)


def _inputs(batch=1, size=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, size, size, generator=gen)
    hole = torch.zeros(batch, 1, size, size)
    hole[..., size // 4 : size // 2, size // 8 : size * 3 // 4] = 1
    return image, hole


# --- layers -----------------------------------------------------------------------------------------------------


def test_tf_same_padding_amounts():
    assert tf_same_pad_amounts(64, 3, 2) == (0, 1)  # stride 2: nothing before, one after
    assert tf_same_pad_amounts(64, 5, 2) == (1, 2)
    assert tf_same_pad_amounts(64, 4, 2) == (1, 1)
    assert tf_same_pad_amounts(64, 5, 1) == (2, 2)
    assert tf_same_pad_amounts(64, 3, 1, dilation=16) == (16, 16)


def test_gated_conv_stride2_pads_asymmetrically():
    torch.manual_seed(0)
    layer = GatedConv2d(3, 4, 3, stride=2)
    x = torch.randn(1, 3, 16, 16)
    raw = F.conv2d(F.pad(x, (0, 1, 0, 1)), layer.conv.weight, layer.conv.bias, stride=2)
    features, gates = raw.split(4, dim=1)
    assert torch.allclose(layer(x), F.elu(features) * torch.sigmoid(gates), atol=1e-6)
    symmetric = GatedConv2d(3, 4, 3, stride=2, padding="same")
    symmetric.load_state_dict(layer.state_dict())
    assert not torch.allclose(symmetric(x), layer(x))
    plain = GatedConv2d(4, 3, 3, activation=None)
    assert plain.conv.out_channels == 3 and plain(torch.randn(1, 4, 8, 8)).shape == (1, 3, 8, 8)


def test_tf_index_picking():
    picked = tf_nearest_indices(64, 32).tolist()
    assert picked[14:18] == [28, 30, 33, 35]
    assert picked[0] == 0 and picked[-1] == 63
    for n in (4, 33, 64, 129):  # TF's x2 align-corners upsampling is PyTorch's nearest
        assert tf_nearest_indices(n, 2 * n).tolist() == [i // 2 for i in range(2 * n)]
    deconv = GatedDeconv2d(2, 2)
    x = torch.randn(1, 2, 8, 8)
    assert torch.equal(deconv(x), deconv.conv(x.repeat_interleave(2, -2).repeat_interleave(2, -1)))


def _reference_attention(f, b, mask, fuse, rate=2, scale=10.0):
    """Straightforward single-image attention with the TF reshapes for fusion (full score matrix)."""
    from inpaint_core.layers.contextual_attention import downsample_nearest

    channels, height, width = b.shape[1:]
    raw = F.unfold(F.pad(b, (1, 1, 1, 1)), 4, stride=2)[0].t().reshape(-1, channels, 4, 4)
    fs, bs = downsample_nearest(f, rate), downsample_nearest(b, rate)
    h, w = bs.shape[-2:]
    keys = F.unfold(F.pad(bs, (1, 1, 1, 1)), 3)[0].t().reshape(-1, channels, 3, 3)
    keys = keys / keys.flatten(1).norm(dim=1).clamp_min(1e-4).view(-1, 1, 1, 1)
    scores = F.conv2d(F.pad(fs, (1, 1, 1, 1)), keys)  # [1, L, h, w]
    if fuse:
        eye = torch.eye(3).view(1, 1, 3, 3)
        s = F.conv2d(scores.view(1, 1, h * w, h * w), eye, padding=1)
        s = s.view(h, w, h, w).permute(1, 0, 3, 2).reshape(1, 1, h * w, h * w)
        s = F.conv2d(s, eye, padding=1).view(w, h, w, h).permute(1, 0, 3, 2)
        scores = s.reshape(1, h * w, h, w)
    valid = (F.unfold(F.pad(mask, (1, 1, 1, 1)), 3)[0].mean(0) == 0).float().view(1, -1, 1, 1)
    attention = torch.softmax(scores * valid * scale, dim=1) * valid
    return F.conv_transpose2d(attention, raw, stride=2, padding=1) / 4


@pytest.mark.parametrize("fuse", [False, True])
def test_contextual_attention_matches_reference_chunked_and_per_sample(fuse):
    torch.manual_seed(0)
    f = torch.randn(2, 6, 16, 24)
    mask = torch.zeros(2, 1, 8, 12)
    mask[0, :, 2:5, 3:9] = 1
    mask[1, :, 4:8, 0:4] = 1
    whole = ContextualAttention(fuse=fuse)
    chunked = ContextualAttention(fuse=fuse, max_scores=96 * 10)  # 10 positions per chunk
    out = whole(f, f, mask)
    assert torch.allclose(chunked(f, f, mask), out, atol=1e-5)
    with torch.inference_mode():  # the chunks then share scratch buffers (the last chunk is a smaller view)
        assert torch.allclose(chunked(f, f, mask), out, atol=1e-5)
    f.requires_grad_(True)
    (grad,) = torch.autograd.grad(chunked(f, f, mask).square().sum(), f)
    (expected,) = torch.autograd.grad(whole(f, f, mask).square().sum(), f)
    assert torch.allclose(grad, expected, atol=1e-4)
    f = f.detach()
    for i in range(2):  # each sample uses its own mask
        expected = _reference_attention(f[i : i + 1], f[i : i + 1], mask[i : i + 1], fuse)
        assert torch.allclose(out[i : i + 1], expected, atol=1e-5)
    assert not torch.allclose(ContextualAttention(fuse=not fuse)(f, f, mask), out, atol=1e-3)


# --- models -----------------------------------------------------------------------------------------------------


def test_official_parameter_counts():
    model = ic.build_model("deepfill.places2")
    assert sum(p.numel() for p in model.parameters()) == 4_052_478
    assert sum(p.numel() for p in model.generator.coarse.parameters()) == 1_631_151
    assert len(model.state_dict()) == PORT_KEYS
    assert model.config.attention_fuse is True


@pytest.mark.parametrize("name", ["deepfill.tiny", "progressive.tiny"])
def test_tiny_forward_backward_save_reload(name, tmp_path):
    model = ic.build_model(name)
    image, hole = _inputs(batch=2)
    out = model.predict_outputs(image, hole)["image"]  # predict() runs under inference_mode: no gradient
    assert out.shape == image.shape and torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    path = ic.save_model(model, tmp_path / "m.safetensors")
    loaded = ic.load_model(path)
    assert loaded.config == model.config and type(loaded) is type(model)
    with torch.inference_mode():
        assert torch.allclose(loaded.predict(image, hole), model.eval().predict(image, hole), atol=1e-6)


def test_hole_polarity_deepfill():
    model = ic.build_model("deepfill.tiny").eval()
    image, hole = _inputs()
    changed_hole = image.clone()
    changed_hole[hole.expand_as(image) > 0] = 0.123
    changed_known = image.clone()
    changed_known[hole.expand_as(image) == 0] = 0.5
    with torch.inference_mode():
        base = model.predict(image, hole)
        assert torch.equal(model.predict(changed_hole, hole), base)  # pixels under the hole are never seen
        assert not torch.allclose(model.predict(changed_known, hole), base)


def test_progressive_presets_and_stage_sizes():
    five = get_family("progressive").presets["5stage"]
    assert five.scales == pytest.approx((0.25, math.sqrt(2) / 4, 0.5, math.sqrt(2) / 2, 1.0))
    assert [stage_size(256, 256, s) for s in five.scales] == [(64, 64), (88, 88), (128, 128), (184, 184), (256, 256)]
    three = ic.build_model("progressive.places2-256")
    assert len(three.stages) == 3 and sum(p.numel() for p in three.parameters()) == 3 * 4_052_478
    model = ic.build_model("progressive.tiny", scales=(0.25, math.sqrt(2) / 4, 0.5, math.sqrt(2) / 2, 1.0)).eval()
    image, hole = _inputs(size=72)
    with torch.inference_mode():
        assert model.predict(image, hole).shape == image.shape


def test_mask_aware_downsampling_keeps_sparse_masks_known():
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    hole = torch.ones(1, 1, 64, 64)
    hole[..., ::2, ::2] = 0  # nearest-neighbour x2 mask: 75 % hole
    small, small_hole = downsample_masked(x, hole, (16, 16))
    assert small_hole.sum() == 0  # every 4x4 footprint has known pixels
    assert torch.allclose(small, F.avg_pool2d(x[..., ::2, ::2], 2), atol=1e-5)  # the mean of the known pixels
    _, any_hole = downsample_masked(x, hole, (16, 16), rule="any")
    assert any_hole.all()


# --- converter --------------------------------------------------------------------------------------------------


def _port_state_dict():
    """A state dict in the layout of nipponjo's networks_tf.py (names only derived from ours)."""
    state = ic.build_model("deepfill.places2").state_dict()
    return {k.split(".", 2)[2]: torch.randn_like(v) for k, v in state.items()}


def test_converter_on_released_layout(tmp_path):
    state = _port_state_dict()
    assert len(state) == 84 and sum(v.numel() for v in state.values()) == 4_052_478
    for key in ("conv1.conv.weight", "conv13_upsample.conv.conv.bias", "xconv10_atrous.conv.weight",
                "pmconv6.conv.weight", "pmconv10.conv.bias", "allconv15_upsample.conv.conv.weight",
                "allconv17.conv.weight"):
        assert key in state
    src = tmp_path / "states_tf_places2.pth"
    torch.save({"G": state}, src)
    dst = ic.convert_checkpoint("deepfill", src, tmp_path / "deepfill.safetensors", attention_fuse=False)
    model = ic.load_model(dst)
    assert model.config.attention_fuse is False and model.preset == "places2"
    assert torch.equal(model.generator.coarse.conv13_upsample.conv.conv.bias, state["conv13_upsample.conv.conv.bias"])
    assert torch.equal(model.generator.refine.allconv11.conv.weight, state["allconv11.conv.weight"])


def test_converter_refuses_other_layouts(tmp_path):
    src = tmp_path / "states_pt_places2.pth"
    torch.save({"G": {"stage1.conv1.conv.weight": torch.zeros(1)}}, src)
    with pytest.raises(WeightsError, match="networks.py"):
        ic.convert_checkpoint("deepfill", src, tmp_path / "x.safetensors")


# --- objectives -------------------------------------------------------------------------------------------------


def test_deepfill_objective_steps():
    model = ic.build_model("deepfill.tiny")
    objective = build_objective("deepfill", model.config, {"discriminator_widths": TINY_D})
    image, hole = _inputs(batch=2)
    loss, terms, outputs = objective.generator_step(model, image, hole)
    loss.backward()
    assert set(terms) == {"l1", "gan"} and outputs["image"].shape == image.shape
    d_loss, _ = objective.discriminator_step(image, hole, outputs)
    d_loss.backward()
    assert all(p.grad is not None for p in objective.discriminator.parameters())


def test_progressive_objective_trains_one_stage():
    model = ic.build_model("progressive.tiny")
    objective = build_objective("progressive", model.config, {
        "semantic_weights": None, "allow_random_semantic": True, "semantic_layer": "relu2_2",
        "discriminator_widths": TINY_D,
    })
    assert objective.stage == 2
    objective.stage = 1
    with pytest.raises(ValueError):
        objective.stage = 3
    assert {id(p) for p in objective.generator_parameters(model)} == {id(p) for p in model.stages[1].parameters()}
    image, hole = _inputs(batch=2)
    loss, _, outputs = objective.generator_step(model, image, hole)
    loss.backward()
    assert all(p.grad is None for p in model.stages[0].parameters())
    assert all(p.grad is not None for p in model.stages[1].parameters())
    assert outputs["image"].shape == image.shape and outputs["stage_image"].shape[-1] == 32
    d_loss, _ = objective.discriminator_step(image, hole, outputs)
    d_loss.backward()
    assert all(p.grad is None for p in objective.discriminator.semantic.parameters())  # C stays frozen


def test_semantic_weights_resolve_or_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match="semantic"):
        semantic_network(weights=None)
    with pytest.raises(WeightsError, match="did not resolve"):
        semantic_network(weights="vgg16")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(WeightsError, match="did not resolve"):
        semantic_network()  # the default Hub weights, offline and not cached
    reference = VGG16Features(("relu2_2",))
    path = tmp_path / "vgg16.safetensors"
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))
    loaded = semantic_network(layer="relu2_2", weights=path)
    assert torch.equal(loaded.features[0].weight, reference.features[0].weight)


@pytest.mark.parametrize("overrides", [
    {"attention_mask_resize": "two_step"},
    {"padding": "same", "attention_downsample": "stride"},
    {"attention_downsample": "stride", "attention_mask_resize": "two_step"},
])
def test_deepfill_config_variants_run(overrides):
    model = ic.build_model("deepfill.tiny", **overrides).eval()
    image, hole = _inputs(size=48)
    with torch.inference_mode():
        assert torch.isfinite(model.predict(image, hole)).all()
    with pytest.raises(ValueError):
        ic.build_model("deepfill.tiny", attention_mask_resize="nope")


def test_progressive_compact_starts_from_telea_and_corrects_stage_by_stage():
    """A fresh ``progressive.compact`` returns the Telea fill of its 1/4-scale image, carried up through the stages
    (every stage's correction starts at zero); a stage pre-fill, which would overwrite the previous stage's
    completion, is refused."""
    from inpaint_core.models.deepfill import DeepFillConfig
    from inpaint_core.models.prefill import telea_prefill
    from inpaint_core.models.progressive import ProgressiveConfig

    model = ic.build_model("progressive.compact").eval()
    image, hole = _inputs(size=64)
    x = image * 2 - 1
    with torch.no_grad():
        stages = model.run_stages(x * (1 - hole), hole)
    known, small_hole = downsample_masked(x, hole, (16, 16))
    assert torch.allclose(stages[0]["refined"], telea_prefill(known * (1 - small_hole), small_hole), atol=1e-6)
    upsampled = F.interpolate(stages[1]["refined"], size=(64, 64), mode="bilinear", align_corners=False)
    assert torch.allclose(stages[2]["refined"] * hole, upsampled * hole, atol=1e-6)
    assert float(stages[0]["refined"][small_hole.expand_as(known) > 0].std()) > 0  # Telea, not a constant
    with pytest.raises(ValueError, match="stage.prefill"):
        ProgressiveConfig(stage=DeepFillConfig(cnum=8, prefill="telea"))


def test_progressive_objective_without_the_semantic_branch_or_a_discriminator():
    """``semantic_net="none"``: DeepFillv2's plain SN-PatchGAN, no VGG16 weights needed; ``adversarial=0``: L1 only,
    the discriminator never runs (the scene preset's objective)."""
    from training.discriminators.patch_gan import SNPatchGAN

    model = ic.build_model("progressive.tiny")
    image, hole = _inputs(batch=2)
    plain = build_objective("progressive", model.config, {"semantic_net": "none", "discriminator_widths": TINY_D})
    assert isinstance(plain.discriminator, SNPatchGAN) and plain.trains_discriminator
    loss, terms, outputs = plain.generator_step(model, image, hole)
    d_loss, _ = plain.discriminator_step(image, hole, outputs)
    assert terms["gan"] != 0 and torch.isfinite(d_loss)
    l1_only = build_objective("progressive", model.config, {"adversarial": 0, "semantic_net": "none"})
    loss, terms, _ = l1_only.generator_step(model, image, hole)
    assert not l1_only.trains_discriminator and terms["gan"] == 0 and torch.equal(loss, terms["l1"])
