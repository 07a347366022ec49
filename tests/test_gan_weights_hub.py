"""The MI-GAN and LaMa catalog entries through the local Hub server with the real huggingface_hub client:
download -> sha256 check -> convert -> cache -> offline reuse, and the errors for corrupt, truncated or wrong files.

Each entry's repo serves a file in the entry's published layout, built from seeded random weights of the tiny preset
(the converter reads depth and widths from the shapes); the test points the entry's sha256 and size at that file."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tempfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import save

import inpaint_core as ic
from inpaint_core import catalog as catalog_module
from inpaint_core.hub import converted_dir

NEW_ENTRIES = ("migan-places2-512", "lama-big")


def _seeded(preset: str) -> ic.InpaintModel:
    torch.manual_seed(0)
    model = ic.build_model(preset)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return model.eval()


def published_file(name: str) -> tuple[bytes, ic.InpaintModel]:
    """Bytes in the layout the entry's Hub file has, and the model they hold."""
    if name == "migan-places2-512":  # the official state dict (torch.save of Generator.state_dict())
        model = _seeded("migan.tiny")
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        return buffer.getvalue(), model
    model = _seeded("lama.tiny")  # big-lama.safetensors: the generator with its generator. prefix
    state = {f"generator.{k}": v.contiguous() for k, v in model.state_dict().items()}
    return save(state), model


def serve(local_hub, monkeypatch, name: str, data: bytes, *, pin_sha: bool = True) -> catalog_module.WeightsEntry:
    entry = catalog_module.get_weights_entry(name)
    local_hub.commit(entry.repo_id, {entry.filename: data})
    changes = {"download_bytes": len(data)}
    if pin_sha and entry.sha256 is not None:
        changes["sha256"] = hashlib.sha256(data).hexdigest()
    served = dataclasses.replace(entry, **changes)
    monkeypatch.setitem(catalog_module._CATALOG, name, served)
    return served


def _inputs(model: ic.InpaintModel) -> tuple[torch.Tensor, torch.Tensor]:
    size = model.working_size if model.fixed_size else 40
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(3))
    hole = torch.zeros(1, 1, size, size)
    hole[..., 8:20, 6:22] = 1
    return image, hole


@pytest.mark.parametrize("name", NEW_ENTRIES)
def test_download_check_convert_cache_and_offline_reuse(name, local_hub, monkeypatch):
    data, original = published_file(name)
    entry = serve(local_hub, monkeypatch, name, data)
    model = ic.load_model(name)
    assert (converted_dir() / entry.local_filename).is_file()
    image, hole = _inputs(original)
    with torch.no_grad():
        assert torch.equal(model.predict(image, hole), original.predict(image, hole))
    assert local_hub.requests[("GET", entry.filename)] == 1
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    local_hub.failures[entry.filename] = 500
    assert ic.load_model(name).config == original.config  # the converted file, no request
    (converted_dir() / entry.local_filename).unlink()
    assert ic.load_model(name).config == original.config  # converted again from the HF cache, still offline
    assert local_hub.requests[("GET", entry.filename)] == 1


def test_the_pinned_sha256_of_the_real_file_is_enforced(local_hub, monkeypatch):
    data, _ = published_file("migan-places2-512")
    serve(local_hub, monkeypatch, "migan-places2-512", data, pin_sha=False)
    with pytest.raises(ic.WeightsError, match=r"has sha256 .* expected 1d6087ee"):
        ic.load_model("migan-places2-512")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ic.WeightsError, match="offline"):  # the bad download was evicted
        ic.load_model("migan-places2-512")


@pytest.mark.parametrize("name", NEW_ENTRIES)
def test_truncated_download_is_refused(name, local_hub, monkeypatch):
    data, _ = published_file(name)
    entry = serve(local_hub, monkeypatch, name, data)
    local_hub.failures[entry.filename] = "truncate"
    with pytest.raises(ic.WeightsError, match=entry.filename):
        ic.load_model(name)
    assert not (converted_dir() / entry.local_filename).exists()


@pytest.mark.parametrize("name,wrong", [("migan-places2-512", "lama"), ("lama-big", "migan")])
def test_corrupt_or_wrong_layout_gets_a_clear_error(name, wrong, local_hub, monkeypatch):
    entry = catalog_module.get_weights_entry(name)
    serve(local_hub, monkeypatch, name, b"\x00" * 64 + b"not a checkpoint")
    with pytest.raises(ic.WeightsError, match=rf"{entry.filename} is not a (PyTorch checkpoint|readable safetens)"):
        ic.load_model(name)
    other = _seeded(f"{wrong}.tiny").state_dict()
    if entry.filename.endswith(".safetensors"):
        data = save({k: v.contiguous() for k, v in other.items()})
    else:
        with tempfile.TemporaryDirectory() as folder:
            torch.save(other, Path(folder) / "x.pt")
            data = (Path(folder) / "x.pt").read_bytes()
    serve(local_hub, monkeypatch, name, data)
    layout = "an official MI-GAN" if name.startswith("migan") else "a big-lama generator"
    with pytest.raises(ic.WeightsError, match=rf"{entry.filename} does not match {layout}.*(first|Keys found)"):
        ic.load_model(name)
    assert not (converted_dir() / entry.local_filename).exists()


@pytest.mark.parametrize("name", NEW_ENTRIES)
def test_entries_show_licence_source_and_what_is_not_pinned(name):
    entry = catalog_module.get_weights_entry(name)
    notice = entry.download_notice()
    assert entry.repo_id in notice and entry.license in notice and "third-party" in notice
    assert entry.mirror and entry.unpinned and "Not pinned" in notice
    assert entry.sha256 is None or len(entry.sha256) == 64
