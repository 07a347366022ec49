"""LaMa (big-lama): the official layout, padding to a multiple of 8, and the converter's layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import inpaint_core as ic
from inpaint_core.models.lama import pad_symmetric

#: Parameters of the official ``FFCResNetGenerator`` with configs/training/big-lama.yaml (parity_lama.py prints it).
OFFICIAL_PARAMETERS = 50_975_875


def _tiny() -> ic.InpaintModel:
    torch.manual_seed(0)
    model = ic.build_model("lama.tiny")
    with torch.no_grad():  # non-trivial BatchNorm statistics, so that a wrong key mapping shows
        for name, tensor in model.state_dict().items():
            if name.endswith(("running_mean", "running_var")):
                tensor.copy_(torch.rand_like(tensor) + 0.5)
    return model.eval()


def test_big_lama_has_the_official_layout():
    with torch.device("meta"):
        model = ic.build_model("lama.big-lama")
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMETERS
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["model.1.ffc.convl2l.weight"] == (64, 4, 7, 7)
    assert shapes["model.4.ffc.convl2g.weight"] == (384, 256, 3, 3)
    assert shapes["model.5.conv1.ffc.convg2g.fu.conv_layer.weight"] == (384, 384, 1, 1)
    assert shapes["model.22.conv2.bn_g.running_var"] == (384,)
    assert shapes["model.24.weight"] == (512, 256, 3, 3) and shapes["model.34.weight"] == (3, 64, 7, 7)
    assert not any(k.startswith("model.23.") or k.startswith("model.35.") for k in shapes)


@pytest.mark.parametrize("size,multiple", [(13, 8), (3, 8), (16, 8), (1, 8)])
def test_padding_equals_numpy_symmetric(size, multiple):
    x = torch.arange(size * (size + 2), dtype=torch.float32).reshape(1, 1, size, size + 2)
    expected = np.pad(x[0].numpy(), ((0, 0), (0, -size % multiple), (0, -(size + 2) % multiple)), mode="symmetric")
    assert torch.equal(pad_symmetric(x, multiple)[0], torch.from_numpy(expected))


def test_predict_pads_binarises_and_crops():
    model = _tiny()
    image = torch.rand(1, 3, 37, 45, generator=torch.Generator().manual_seed(2))
    soft = torch.zeros(1, 1, 37, 45)
    soft[..., 10:20, 5:30] = 0.3
    with torch.no_grad():
        out = model.predict(image, soft)
        assert out.shape == image.shape and out.min() >= 0 and out.max() <= 1
        hole = pad_symmetric((soft > 0).float(), 8)
        padded = pad_symmetric(image, 8)
        expected = model(torch.cat([padded * (1 - hole), hole], 1))[..., :37, :45]
        assert torch.equal(out, expected)
        assert torch.equal(out, model.predict(image, (soft > 0).float()))


def _layouts(model: ic.InpaintModel) -> dict[str, object]:
    generator = {f"generator.{k}": v.clone() for k, v in model.state_dict().items()}
    extra = {"discriminator.model0.0.weight": torch.rand(4, 3, 3, 3),
             "loss_resnet_pl.impl.conv1.weight": torch.rand(2)}
    return {
        "best.ckpt": {"state_dict": {**generator, **extra}, "epoch": 40, "global_step": 10},
        "generator.pth": generator,
        "bare.pt": {k: v.clone() for k, v in model.state_dict().items()},
        "big-lama.safetensors": generator,
    }


@pytest.mark.parametrize("filename", ["best.ckpt", "generator.pth", "bare.pt", "big-lama.safetensors"])
def test_converter_reads_every_published_layout(filename, tmp_path):
    model = _tiny()
    data = _layouts(model)[filename]
    src = tmp_path / filename
    if filename.endswith(".safetensors"):
        save_file(data, str(src))
    else:
        torch.save(data, src)
    converted = ic.load_model(ic.convert_checkpoint("lama", src, tmp_path / "out.safetensors"))
    assert converted.config == model.config and converted.preset == "tiny"
    image, hole = torch.rand(1, 3, 24, 24), torch.zeros(1, 1, 24, 24)
    hole[..., 4:12, 6:18] = 1
    with torch.no_grad():
        assert torch.equal(converted.predict(image, hole), model.predict(image, hole))


def test_converter_errors_name_the_file_the_layout_and_the_keys(tmp_path):
    state = _tiny().state_dict()
    broken = tmp_path / "broken.pth"
    torch.save({f"generator.{k}": v for k, v in state.items() if "fu.bn" not in k}, broken)
    with pytest.raises(ic.WeightsError, match=r"broken\.pth does not match a big-lama generator.*missing.*fu\.bn"):
        ic.convert_checkpoint("lama", broken, tmp_path / "out.safetensors")
    migan = tmp_path / "migan.pt"
    torch.save(ic.build_model("migan.tiny").state_dict(), migan)
    with pytest.raises(ic.WeightsError, match=r"migan\.pt does not match .*first: encoder\."):
        ic.convert_checkpoint("lama", migan, tmp_path / "out.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ic.WeightsError, match=r"garbage\.safetensors is not a readable safetensors file"):
        ic.convert_checkpoint("lama", garbage, tmp_path / "out.safetensors")
