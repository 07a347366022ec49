"""MDRN (reconstruction of ShowFace's memory-disentangled refinement networks): the behaviour that matters."""

from __future__ import annotations

import pytest
import torch

import inpaint_core as ic
from inpaint_core.models.mdrn import DisentangledMemory, MaskRegionEnhance, MDRNConfig
from inpaint_core.registry import get_family
from training.objectives import build_objective
from training.objectives.mdrn import MDRNObjective, disentangle_loss, inco2_loss, memory_losses

TINY = get_family("mdrn").presets["tiny"]


def _inputs(size: int = 64, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, size, size, generator=generator)
    hole = torch.zeros(batch, 1, size, size)
    hole[:, :, size // 4 : size // 2, size // 3 : 2 * size // 3] = 1
    return image, hole


def test_memory_read_is_a_convex_combination_of_items():
    torch.manual_seed(0)
    memory = DisentangledMemory(channels=6, config=TINY)
    features = torch.randn(2, 6, 4, 5)
    read, aux = memory(features)
    gate, weights = memory.address(aux["memory_query"])
    combined = (gate[..., None] * weights).flatten(2)  # [B, N, blocks * items]
    assert (combined >= 0).all()
    torch.testing.assert_close(combined.sum(-1), torch.ones(combined.shape[:2]))
    items = memory.normalized_items().reshape(-1, TINY.memory_dim)
    tokens = read.flatten(2).transpose(1, 2)
    torch.testing.assert_close(tokens, combined @ items)
    # inside the convex hull: every coordinate lies between the items' extremes
    assert (tokens <= items.max(0).values + 1e-6).all() and (tokens >= items.min(0).values - 1e-6).all()


def test_memory_ema_update_moves_items_in_training_only():
    memory = DisentangledMemory(channels=6, config=MDRNConfig(**{**TINY.__dict__, "memory_update": "ema"}))
    assert "items" in dict(memory.named_buffers()) and "items" not in dict(memory.named_parameters())
    features = torch.randn(1, 6, 4, 4)
    before = memory.items.clone()
    memory.eval()(features)
    torch.testing.assert_close(memory.items, before)
    memory.train()(features)
    assert not torch.equal(memory.items, before)
    torch.testing.assert_close(memory.items.norm(dim=-1), torch.ones(before.shape[:2]))


@pytest.mark.parametrize("hole_key_weight", [0.0, 0.5])
def test_masked_correlation_reads_only_what_the_mask_allows(hole_key_weight):
    torch.manual_seed(0)
    config = MDRNConfig(**{**TINY.__dict__, "hole_key_weight": hole_key_weight, "correlation_chunk": 7})
    module = MaskRegionEnhance(channels=6, config=config)
    features = torch.randn(1, 6, 5, 6)
    hole = torch.zeros(1, 1, 5, 6)
    hole[..., 1:4, 2:5] = 1
    read, correlation = module.correlation(features, hole)
    in_hole = hole.flatten() > 0
    assert (correlation[0][~in_hole] == 0).all()  # known positions do not query
    torch.testing.assert_close(correlation[0][in_hole].sum(-1), torch.ones(int(in_hole.sum())))
    if hole_key_weight == 0:
        assert (correlation[0][:, in_hole] == 0).all()  # hole positions are never keys
        # perturbing every hole position except the query leaves the query's read unchanged
        query = int(in_hole.nonzero()[0])
        perturbed = features.clone().flatten(2)
        others = in_hole.clone()
        others[query] = False
        perturbed[..., others] += 10 * torch.randn(6, int(others.sum()))
        read2, _ = module.correlation(perturbed.reshape_as(features), hole)
        torch.testing.assert_close(read2.flatten(2)[..., query], read.flatten(2)[..., query])
    # the enhancement is zero at known positions, whatever the features there
    memory = torch.randn(1, config.memory_dim, 5, 6)
    assert (module(features, memory, hole)[..., ~in_hole.view(5, 6)] == 0).all()


def test_masked_correlation_without_allowed_keys_reads_nothing():
    module = MaskRegionEnhance(channels=4, config=TINY)
    read, correlation = module.correlation(torch.randn(1, 4, 3, 3), torch.ones(1, 1, 3, 3))
    assert torch.isfinite(read).all() and (correlation == 0).all()
    assert (module.read(torch.randn(1, 4, 3, 3), torch.ones(1, 1, 3, 3)) == 0).all()


@pytest.mark.parametrize("hole_key_weight", [0.0, 0.3, 1.0])
def test_attention_read_equals_the_read_of_the_full_map(hole_key_weight):
    """``read`` (scaled-dot-product attention over hole queries and allowed keys, chunked) equals the read of the
    full ``N x N`` correlation map, per image of a batch with different holes, and so do the gradients."""
    torch.manual_seed(0)
    config = MDRNConfig(**{**TINY.__dict__, "hole_key_weight": hole_key_weight, "correlation_chunk": 5})
    module = MaskRegionEnhance(channels=6, config=config)
    features = torch.randn(2, 6, 7, 8, requires_grad=True)
    hole = torch.zeros(2, 1, 7, 8)
    hole[0, :, 1:4, 2:7] = 1
    hole[1, :, 3:7, 0:3] = 1
    expected, _ = module.correlation(features, hole)
    read = module.read(features, hole)
    torch.testing.assert_close(read, expected, rtol=1e-5, atol=1e-6)
    weights = torch.randn_like(read)
    (grad,) = torch.autograd.grad((read * weights).sum(), features)
    (grad_expected,) = torch.autograd.grad((expected * weights).sum(), features)
    torch.testing.assert_close(grad, grad_expected, rtol=1e-4, atol=1e-5)
    with torch.inference_mode():
        torch.testing.assert_close(module.read(features, hole), expected.detach(), rtol=1e-5, atol=1e-6)


def test_inco2_is_zero_for_identical_features_and_grows_with_divergence():
    generator = torch.Generator().manual_seed(0)
    target = torch.randn(2, 16, 12, 12, generator=generator)
    other = torch.randn(2, 16, 12, 12, generator=generator)
    hole = torch.zeros(2, 1, 48, 48)
    hole[:, :, 10:30, 12:36] = 1
    inter, intra = inco2_loss(target.clone(), target, hole)
    assert inter == 0 and intra == 0
    values = [inco2_loss(target + t * (other - target), target, hole) for t in (0.05, 0.1, 0.2, 0.4, 0.8)]
    for name, index in (("inter", 0), ("intra", 1)):
        series = [float(v[index]) for v in values]
        assert series[0] > 0 and all(b > a for a, b in zip(series, series[1:])), (name, series)


def test_inco2_ignores_changes_outside_the_pairs_it_compares():
    target = torch.randn(1, 8, 8, 8)
    hole = torch.zeros(1, 1, 8, 8)
    hole[..., 2:5, 2:5] = 1
    changed = target.clone()
    changed[..., 6:, 6:] *= 3  # scaling known features keeps their cosine similarities to everything
    inter, intra = inco2_loss(changed, target, hole)
    assert float(inter) < 1e-6 and intra == 0
    assert inco2_loss(target, target, torch.zeros_like(hole)) == (0, 0)


def test_memory_losses_and_disentangle_are_finite_and_bounded():
    query = torch.nn.functional.normalize(torch.randn(2, 10, 16), dim=-1)
    gate = torch.randn(2, 10, 3).softmax(-1)
    items = torch.nn.functional.normalize(torch.randn(3, 4, 16), dim=-1)
    compactness, separateness = memory_losses(query, gate, items)
    assert 0 <= compactness <= 4 and 0 <= separateness <= 1 + 2
    one_hot = torch.eye(3).repeat(2, 4, 1)[:, :10]
    assert float(disentangle_loss(one_hot)) < 0.1  # confident and (almost) balanced
    assert float(disentangle_loss(torch.full((2, 10, 3), 1 / 3))) == pytest.approx(float(torch.log(torch.tensor(3.0))))


def test_tiny_forward_backward_save_and_strict_reload(tmp_path):
    torch.manual_seed(0)
    model = ic.build_model("mdrn.tiny")
    assert model.aligned_faces and model.working_size == 256 and model.size_multiple == 8
    image, hole = _inputs()
    objective = build_objective("mdrn", model.config, {"discriminator_width": 8, "discriminator_layers": 4})
    assert isinstance(objective, MDRNObjective)
    with torch.no_grad():  # open the fusion gates so that every module gets a gradient
        model.refine.fusion.memory_scale.fill_(0.5)
        model.refine.fusion.enhance_scale.fill_(0.5)
    loss, terms, outputs = objective.generator_step(model, image, hole)
    assert torch.isfinite(loss) and set(terms) >= {"hole", "valid", "adversarial", "inter", "intra"}
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing
    d_loss, _ = objective.discriminator_step(image, hole, outputs)
    d_loss.backward()
    assert all(p.grad is not None for p in objective.discriminator.parameters())

    model.eval()
    with torch.no_grad():
        prediction = model.predict(image, hole)
    assert prediction.shape == image.shape and prediction.min() >= 0 and prediction.max() <= 1
    path = ic.save_model(model, tmp_path / "mdrn.safetensors")
    loaded = ic.load_model(path)
    with torch.no_grad():
        torch.testing.assert_close(loaded.predict(image, hole), prediction)


def test_reconstruction_only_objective_never_runs_the_discriminator():
    """Adversarial weight 0 (the compact preset's run): no discriminator update, and InCo², which reads the
    discriminator's features, must be switched off too."""
    with pytest.raises(ValueError, match="set inter and intra to 0"):
        build_objective("mdrn", TINY, {"adversarial": 0})
    objective = build_objective("mdrn", TINY, {"adversarial": 0, "inter": 0, "intra": 0, "discriminator_width": 8,
                                               "discriminator_layers": 4})
    assert not objective.trains_discriminator
    objective.discriminator.forward = None  # any call would fail
    model = ic.build_model("mdrn.tiny")
    loss, terms, _ = objective.generator_step(model, *_inputs(batch=1))
    loss.backward()
    assert terms["adversarial"] == terms["inter"] == terms["intra"] == 0 and terms["hole"] > 0


@pytest.mark.parametrize("name", ["mdrn.tiny", "mdrn.compact"])
def test_hole_content_is_not_seen(name):
    model = ic.build_model(name).eval()
    image, hole = _inputs(batch=1)
    other = image.clone()
    other[hole.expand_as(image) > 0] = 0.5
    with torch.no_grad():
        torch.testing.assert_close(model.predict(image, hole), model.predict(other, hole))


def test_pipeline_runs_on_a_non_multiple_size():
    model = ic.build_model("mdrn.tiny").eval()
    image = torch.rand(1, 3, 50, 70)
    hole = torch.zeros(1, 1, 50, 70)
    hole[..., 10:30, 20:40] = 1
    result = ic.inpaint_detailed(model, image, hole, strategy="original")
    assert result.image.shape == image.shape and result.extras["coarse"].shape == image.shape
    assert torch.equal(result.image * (1 - hole), image * (1 - hole))


@pytest.mark.parametrize("overrides", [{"memory_level": 1}, {"memory_level": 3, "memory_update": "ema"}])
def test_config_variants_run_and_train(overrides):
    model = ic.build_model("mdrn.tiny", **overrides)
    image, hole = _inputs(batch=1)
    outputs = model.forward_train(image, hole)
    assert outputs["image"].shape == image.shape
    outputs["image"].mean().backward()


def test_config_rejects_bad_values():
    for overrides in ({"memory_update": "write"}, {"memory_level": 4}, {"hole_key_weight": 2.0}, {"prefill": "noise"}):
        with pytest.raises(ValueError):
            MDRNConfig(**{**TINY.__dict__, **overrides})
