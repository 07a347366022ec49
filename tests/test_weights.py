"""Weights files: metadata, strict loading, and clear errors for bad files."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

import inpaint_core as ic
from inpaint_core.weights import load_state_dict_strict, read_metadata


def test_metadata_describes_the_model(tmp_path):
    path = ic.save_model(ic.build_model("opencv.ns", radius=4), tmp_path / "m.safetensors")
    metadata = read_metadata(path)
    assert metadata["family"] == "opencv" and metadata["preset"] == "ns" and metadata["format_version"] == "1"
    assert json.loads(metadata["config"]) == {"method": "ns", "radius": 4}


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path):
    ic.save_model(ic.build_model("opencv.ns"), tmp_path / "m.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_truncated_file_is_reported_with_the_fix(tmp_path):
    path = tmp_path / "t.safetensors"
    save_file({"w": torch.zeros(1000)}, str(path), metadata={"format": "inpaint_core", "family": "opencv"})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ic.WeightsError, match="corrupt or truncated.*download it again"):
        ic.load_model(path)


def test_garbage_file(tmp_path):
    path = tmp_path / "g.safetensors"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(ic.WeightsError, match="corrupt or truncated"):
        ic.load_model(path)


@pytest.mark.parametrize(
    "metadata, message",
    [
        (None, "convert_checkpoint"),  # a foreign safetensors file
        ({"format": "inpaint_core", "family": "opencv", "format_version": "99", "config": "{}"}, "upgrade"),
        ({"format": "inpaint_core", "family": "opencv", "format_version": "1", "config": '{"bogus": 1}'}, "bogus"),
    ],
)
def test_metadata_that_cannot_be_loaded_names_the_fix(tmp_path, metadata, message):
    path = tmp_path / "m.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)
    with pytest.raises(ic.WeightsError, match=message):
        ic.load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(ic.WeightsError, match="does not exist"):
        ic.load_model(tmp_path / "absent.safetensors")


def test_strict_loading_lists_every_kind_of_difference():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    state = {"0.weight": torch.zeros(3, 2), "0.bias": torch.zeros(4), "2.weight": torch.zeros(1)}
    with pytest.raises(ic.WeightsError) as error:
        load_state_dict_strict(model, state, source="x")
    message = str(error.value)
    assert "missing" in message and "1.weight" in message
    assert "unexpected" in message and "2.weight" in message
    assert "shape mismatch" in message and "0.bias" in message


def test_presets_with_weights_needed_point_to_build_model():
    learned = [n for n in ic.list_models("presets") if not n.startswith("opencv.")]
    for name in learned[:1]:
        with pytest.raises(ic.UnknownModelError, match="build_model"):
            ic.load_model(name)
