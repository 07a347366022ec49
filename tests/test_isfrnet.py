"""ISFRNet: the tiny preset end to end, the frozen pSp stage, and the training objective."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

import inpaint_core as ic
from inpaint_core.errors import WeightsError
from training.objectives import build_objective
from training.objectives.identity import ArcFaceIRSE50
from training.objectives.isfrnet import ISFRNetObjective, ISFRNetOptions
from training.objectives.perceptual import PERCEPTUAL_TAPS
from training.vgg import VGG16Features

torch.set_num_threads(1)


def _inputs(batch: int = 2, size: int = 64):
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(batch, 3, size, size, generator=generator)
    hole = torch.zeros(batch, 1, size, size)
    hole[..., 16:48, 8:40] = 1
    return image, hole


@pytest.fixture
def vgg_file(tmp_path):
    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in VGG16Features(PERCEPTUAL_TAPS).features.state_dict().items()}
    save_file(state, str(tmp_path / "vgg16.safetensors"))
    return tmp_path / "vgg16.safetensors"


def test_tiny_forward_backward_save_reload(tmp_path):
    torch.manual_seed(0)
    model = ic.build_model("isfrnet.tiny").train()
    assert not model.psp.training and model.stage3.training
    image, hole = _inputs()
    outputs = model.predict_outputs(image, hole)
    assert set(outputs) == {"image", "psp", "stage2"}
    assert all(v.shape == image.shape and v.min() >= 0 and v.max() <= 1 for v in outputs.values())
    outputs["image"].mean().backward()
    assert model.stage3.to_rgb.weight.grad is not None and model.stage2.net[0].weight.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in model.psp.parameters())
    model.eval()
    path = ic.save_model(model, tmp_path / "isfrnet.safetensors")
    loaded = ic.load_model(path)
    assert loaded.config == model.config and loaded.working_size == 64
    with torch.no_grad():
        assert torch.equal(loaded.predict(image, hole), model.predict(image, hole))


def test_hole_polarity_and_known_pixels_reach_the_output():
    torch.manual_seed(0)
    model = ic.build_model("isfrnet.tiny").eval()
    image, hole = _inputs(1)
    with torch.no_grad():
        base = model.predict(image, hole)
        changed_known = image.clone()
        changed_known[..., :8, :] = 1 - changed_known[..., :8, :]
        assert not torch.allclose(model.predict(changed_known, hole), base)
        changed_hole = image.clone()
        changed_hole[..., 20:40, 12:36] = 1 - changed_hole[..., 20:40, 12:36]
        assert torch.equal(model.predict(changed_hole, hole), base)  # what lies under the hole is never seen


def test_load_stage1(tmp_path):
    torch.manual_seed(1)
    psp = ic.build_model("psp.tiny")
    path = ic.save_model(psp, tmp_path / "psp.safetensors")
    model = ic.build_model("isfrnet.tiny")
    model.load_stage1(ic.load_model(path))
    assert torch.equal(model.psp.decoder.input.input, psp.decoder.input.input)
    assert not any(p.requires_grad for p in model.psp.parameters())
    other = ic.save_model(ic.build_model("psp.tiny", style_dim=16), tmp_path / "other.safetensors")
    with pytest.raises(ic.WeightsError, match="stage 1 needs"):
        model.load_stage1(ic.load_model(other))


def test_objective_steps(vgg_file):
    torch.manual_seed(0)
    model = ic.build_model("isfrnet.tiny").train()
    objective = build_objective("isfrnet", model.config,
                                {"vgg_weights": str(vgg_file), "discriminator_width": 8, "discriminator_layers": 3})
    image, hole = _inputs()
    loss, terms, outputs = objective.generator_step(model, image, hole)
    assert set(terms) == {"l1_hole", "l1_valid", "stage2_l1", "perceptual", "style", "adversarial"}
    assert torch.isfinite(loss)
    loss.backward()
    assert model.stage3.to_rgb.weight.grad is not None
    d_loss, d_terms = objective.discriminator_step(image, hole, outputs)
    d_loss.backward()
    assert torch.isfinite(d_loss) and next(objective.discriminator.parameters()).grad is not None
    trainable = {id(p) for p in objective.generator_parameters(model)}
    assert trainable and not any(id(p) in trainable for p in model.psp.parameters())
    assert not any(p.requires_grad for p in objective.vgg.parameters())


def test_random_vgg_only_when_allowed():
    with pytest.raises(WeightsError, match="perceptual"):
        ISFRNetObjective(None, ISFRNetOptions(vgg_weights=None, discriminator_width=8, discriminator_layers=2))
    objective = ISFRNetObjective(None, ISFRNetOptions(vgg_weights=None, allow_random_vgg=True, discriminator_width=8,
                                                  discriminator_layers=2))
    assert objective.vgg.out_channels == 256


def test_identity_term_is_optional(tmp_path):
    with pytest.raises(ValueError, match="identity_weights"):
        ISFRNetObjective(None, ISFRNetOptions(identity=0.1, vgg_weights=None, perceptual=0, style=0))
    torch.manual_seed(0)
    path = tmp_path / "arcface.safetensors"
    save_file(ArcFaceIRSE50().state_dict(), str(path))
    objective = ISFRNetObjective(None, ISFRNetOptions(identity=0.1, identity_weights=str(path), perceptual=0, style=0,
                                                  adversarial=0, discriminator_width=8, discriminator_layers=2))
    model = ic.build_model("isfrnet.tiny").train()
    image, hole = _inputs(2)
    loss, terms, _ = objective.generator_step(model, image, hole)
    assert "identity" in terms and 0 <= terms["identity"] <= 2
    loss.backward()
