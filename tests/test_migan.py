"""MI-GAN: presets, the fixed-size buffers, the official conventions and the converter's layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import inpaint_core as ic
from inpaint_core.models.migan import PRESETS

#: Parameter counts of the official ``migan_inference.Generator`` (benchmarks/parity_migan.py prints them).
OFFICIAL_PARAMETERS = {"places2-512": 5_973_366, "places2-256": 5_943_617, "ffhq-256": 5_943_617}


def _tiny() -> ic.InpaintModel:
    torch.manual_seed(0)
    return ic.build_model("migan.tiny").eval()


def _inputs(size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    hole = torch.zeros(1, 1, size, size)
    hole[..., 8:20, 10:24] = 1
    return image, hole


@pytest.mark.parametrize("preset", sorted(OFFICIAL_PARAMETERS))
def test_presets_have_the_official_size(preset):
    with torch.device("meta"):
        model = ic.build_model(f"migan.{preset}")
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMETERS[preset]
    assert model.working_size == PRESETS[preset].resolution and model.fixed_size
    assert model.aligned_faces == (preset == "ffhq-256")
    buffers = dict(model.named_buffers())
    assert buffers["synthesis.b64.conv1.upsample.filter_const"].shape[-2:] == (64, 64)
    assert buffers["synthesis.b64.conv2.noise_const"].shape == (64, 64)


def test_a_wrong_size_is_refused_with_both_sizes_named():
    model = _tiny()
    image, hole = _inputs(40)
    with pytest.raises(ic.InputError, match=r"32x32 only, got 40x40"):
        model.predict(image, hole)
    with pytest.raises(ic.InputError, match=r"\[B, 4, 32, 32\].*fixed at 32x32"):
        model(torch.zeros(1, 4, 64, 64))


def test_pipeline_feeds_the_working_size():
    model = _tiny()
    image = torch.rand(1, 3, 50, 75)
    hole = torch.zeros(1, 1, 50, 75)
    hole[..., 10:30, 20:40] = 1
    out = ic.inpaint(model, image, hole, strategy="resize")
    assert out.shape == image.shape
    with pytest.raises(ic.InputError, match="resize"):
        ic.inpaint(model, image, hole, strategy="original")


def test_predict_uses_the_official_input_and_ignores_hole_pixels():
    model = _tiny()
    image, hole = _inputs()
    other = torch.where(hole.bool(), torch.rand_like(image), image)
    with torch.no_grad():
        out = model.predict(image, hole)
        assert torch.equal(out, model.predict(other, hole))
        known = 1 - hole
        official_input = torch.cat([known - 0.5, (image * 2 - 1) * known], 1)
        assert torch.equal(out, (model(official_input) * 0.5 + 0.5).clamp(0, 1))
        assert not torch.equal(out, model.predict(image, torch.zeros_like(hole)))


def _official_state(model: ic.InpaintModel) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return {key: value.clone() for key, value in model.state_dict().items()}


@pytest.mark.parametrize("layout", ["pt", "module_prefix", "safetensors"])
def test_converter_reads_the_release_layouts(layout, tmp_path):
    model = _tiny()
    state = _official_state(model)
    if layout == "safetensors":
        src = tmp_path / "migan.safetensors"
        save_file(state, str(src))
    else:
        src = tmp_path / "migan_32.pt"
        torch.save({f"module.{k}": v for k, v in state.items()} if layout == "module_prefix" else state, src)
    converted = ic.load_model(ic.convert_checkpoint("migan", src, tmp_path / "out.safetensors"))
    assert converted.config == model.config and converted.preset == "tiny"
    image, hole = _inputs()
    with torch.no_grad():
        assert torch.equal(converted.predict(image, hole), model.predict(image, hole))


def test_converter_keeps_the_faces_flag_and_names_the_preset(tmp_path):
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in ic.build_model("migan.ffhq-256").state_dict().items()}
    src = tmp_path / "migan_256_ffhq.pt"
    torch.save({k: torch.rand(s) for k, s in shapes.items()}, src)
    out = ic.convert_checkpoint("migan", src, tmp_path / "ffhq.safetensors", aligned_faces=True)
    model = ic.load_model(out)
    assert model.preset == "ffhq-256" and model.aligned_faces and model.working_size == 256


def test_converter_errors_name_the_file_the_layout_and_the_keys(tmp_path):
    state = _official_state(_tiny())
    wrong = tmp_path / "wrong.pt"
    torch.save({k: v for k, v in state.items() if "noise_const" not in k}, wrong)
    with pytest.raises(ic.WeightsError, match=r"wrong\.pt does not match an official MI-GAN.*missing.*noise_const"):
        ic.convert_checkpoint("migan", wrong, tmp_path / "out.safetensors")
    lama = tmp_path / "lama.pt"
    torch.save(ic.build_model("lama.tiny").state_dict(), lama)
    with pytest.raises(ic.WeightsError, match=r"lama\.pt does not match .*fromrgb.*first keys: model\."):
        ic.convert_checkpoint("migan", lama, tmp_path / "out.safetensors")
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"x": Path("a")}, unsafe)  # an arbitrary object: refused by weights_only=True
    with pytest.raises(ic.WeightsError, match=r"unsafe\.pt is not a PyTorch checkpoint that loads with weights_only"):
        ic.convert_checkpoint("migan", unsafe, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()
