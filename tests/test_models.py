"""Every registered family: its tiny preset builds, runs forward and backward, saves and reloads strictly."""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch

import inpaint_core as ic
from inpaint_core.registry import families

TINY = sorted(f"{name}.tiny" for name, family in families().items() if "tiny" in family.presets)
ENGINES = sorted(
    f"{name}.{preset}" for name, family in families().items() if not family.needs_weights for preset in family.presets
)


def inputs(model: ic.InpaintModel, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    size = model.working_size if model.fixed_size else max(64, model.size_multiple)
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(batch, 3, size, size, generator=generator)
    hole = torch.zeros(batch, 1, size, size)
    hole[..., size // 4 : size // 2, size // 4 : 3 * size // 4] = 1
    return image, hole


def test_every_learned_family_has_a_tiny_preset():
    learned = sorted(name for name, family in families().items() if family.needs_weights)
    assert sorted(name.split(".")[0] for name in TINY) == learned


@pytest.mark.parametrize("name", TINY)
def test_tiny_forward_backward_save_reload(name, tmp_path):
    torch.manual_seed(0)
    model = ic.build_model(name)
    image, hole = inputs(model)
    outputs = model.predict_outputs(image, hole)
    prediction = outputs["image"]
    assert prediction.shape == image.shape and torch.isfinite(prediction).all()
    assert prediction.min() >= 0 and prediction.max() <= 1
    assert set(outputs) == {"image", *model.extra_outputs}
    sum(value.float().mean() for value in outputs.values()).backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainable)

    path = ic.save_model(model, tmp_path / "model.safetensors")
    reloaded = ic.load_model(path)
    assert type(reloaded) is type(model) and reloaded.config == model.config
    model.eval()
    with torch.inference_mode():
        assert torch.allclose(model.predict(image, hole), reloaded.predict(image, hole), atol=1e-6)


@pytest.mark.parametrize("name", TINY + ENGINES)
def test_pipeline_runs_every_model_on_an_odd_size(name):
    model = ic.build_model(name).eval()
    image = torch.rand(1, 3, 70, 90)
    hole = torch.zeros(1, 1, 70, 90)
    hole[..., 30:45, 20:50] = 1
    out = ic.inpaint(model, image, hole, "resize" if model.fixed_size else "original")
    assert out.shape == image.shape
    keep = (hole == 0).expand_as(image)
    assert torch.equal(out[keep], image[keep])


def test_build_model_overrides_and_errors():
    assert ic.build_model("opencv.ns", radius=9).config.radius == 9
    with pytest.raises(ic.UnknownModelError, match="presets of opencv"):
        ic.build_model("opencv.nope")
    with pytest.raises(ic.UnknownModelError, match="unknown model family"):
        ic.build_model("nope.tiny")


def test_list_models():
    names = ic.list_models()
    assert "opencv.telea" in names and "opencv.ns" in names
    assert set(ic.list_models("presets")) <= set(names)
    assert {"opencv.telea", "opencv.ns"} <= set(ic.ready_models())


@pytest.mark.parametrize("name", ["deepfill.compact", "ctsdg.compact", "mdrn.compact"])
def test_fresh_residual_network_returns_the_telea_fill_and_learns(name):
    """The compact presets learn a correction of OpenCV's Telea fill: untrained, they return that fill exactly."""
    from inpaint_core.models.prefill import opencv_fill

    torch.manual_seed(0)
    model = ic.build_model(name)
    image = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(1))  # 2: CTSDG's BatchNorm trains
    hole = torch.zeros(2, 1, 128, 128)
    hole[..., 40:90, 30:100] = 1
    prediction = model.predict_outputs(image, hole)["image"]  # predict() runs under inference_mode: no gradient
    telea = opencv_fill(image * (1 - hole), hole)
    assert torch.allclose(prediction * hole, telea * hole, atol=1e-5)
    prediction.mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_boundary_ramp_fades_in_from_the_hole_edge():
    from inpaint_core.models.prefill import boundary_ramp

    hole = torch.zeros(1, 1, 40, 40)
    hole[..., 5:35, 5:35] = 1
    ramp = boundary_ramp(hole, 8.0)
    assert torch.equal(ramp[hole == 0], torch.zeros_like(ramp[hole == 0]))
    assert ramp[0, 0, 20, 20] == 1 and 0 < ramp[0, 0, 5, 20] < 0.2 and ramp[0, 0, 8, 20] < ramp[0, 0, 10, 20] < 1
    assert torch.equal(boundary_ramp(hole, 0), hole)


def test_precision_option_converts_the_weights_once(image, hole):
    model = ic.build_model("deepfill.tiny").eval()
    reference = ic.inpaint(model, image, hole, "resize")
    half = ic.inpaint(model, image, hole, "resize", precision="bf16")
    assert model.dtype == torch.bfloat16 and half.dtype == torch.float32
    assert (half - reference).abs().max() < 0.1 and not torch.equal(half, reference)  # bf16 keeps 8 mantissa bits
    with pytest.raises(ic.InputError, match="unknown precision"):
        ic.inpaint(model, image, hole, precision="fp8")
    assert torch.equal(ic.inpaint(model, image, hole, "resize"), half)  # "auto" keeps the dtype the model has
    model.use_precision("fp32")
    assert model.dtype == torch.float32


def test_compile_without_a_compiler_warns_and_runs_eagerly(image, hole, monkeypatch, tmp_path):
    model = ic.build_model("deepfill.tiny").eval()
    reference = ic.inpaint(model, image, hole, "resize")
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without c++, g++ or clang++
    with pytest.warns(RuntimeWarning, match="needs a C\\+\\+ compiler.*runs uncompiled"):
        out = ic.inpaint(model, image, hole, "resize", compile=True)
    assert torch.equal(out, reference) and "forward" not in model.generator.__dict__
    with pytest.warns(RuntimeWarning, match="has no network to compile"):
        assert ic.load_model("opencv.telea").compile_for(64) is None


@pytest.mark.slow
def test_compiled_model_gives_the_eager_output():
    """DeepFill compiles around its contextual attention (which inductor 2.13 fails on and which stays eager) and
    gives the eager output; without a C++ compiler it is warned about and runs eagerly."""
    model = ic.build_model("deepfill.tiny").eval()
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:40, 20:44] = 1
    eager = model.predict(image, hole)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seconds = model.compile_for(64)
    if not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")):
        assert seconds is None and any("runs uncompiled" in str(w.message) for w in caught)
        assert "forward" not in model.generator.__dict__
    else:
        assert seconds is not None, [str(w.message) for w in caught]
        assert seconds > 0 and model.compile_for(64) == 0.0  # compiled once per size
    torch.testing.assert_close(model.predict(image, hole), eager, rtol=1e-4, atol=1e-4)
    model.uncompile()
    assert "forward" not in model.generator.__dict__
