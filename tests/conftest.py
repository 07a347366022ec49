"""Shared fixtures: small seeded images and masks, an isolated Hugging Face cache, and the local Hub server."""

from __future__ import annotations

import huggingface_hub.constants  # noqa: F401  (it reads HF_HUB_OFFLINE once, when imported: before any test sets it)
import pytest
import torch

from .hub_server import LocalHub


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    """No test reads the user's caches or models folders, and none reaches the network."""
    cache = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache / "hub"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a closed port: an accidental download fails fast
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("INPAINT_MODELS_DIR", raising=False)
    monkeypatch.setenv("INPAINT_CONVERTED_DIR", str(cache / "converted"))


@pytest.fixture
def local_hub(monkeypatch):
    with LocalHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", hub.token)
        yield hub


@pytest.fixture
def image() -> torch.Tensor:
    """A smooth 2 x 3 x 64 x 96 test image with structure (gradients and a disc)."""
    generator = torch.Generator().manual_seed(0)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 96), indexing="ij")
    disc = (((ys - 0.5) ** 2 + (xs - 0.4) ** 2) < 0.05).float()
    base = torch.stack([ys, xs, disc * 0.8 + 0.1])
    noise = torch.rand(2, 3, 64, 96, generator=generator) * 0.05
    return (base.unsqueeze(0) * 0.9 + noise).clamp(0, 1)


@pytest.fixture
def hole() -> torch.Tensor:
    """A 1 x 1 x 64 x 96 mask with two separate holes."""
    mask = torch.zeros(1, 1, 64, 96)
    mask[..., 10:26, 12:30] = 1
    mask[..., 40:52, 60:84] = 1
    return mask
