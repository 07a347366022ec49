"""Converter of the official MI-GAN generators (``migan_256_places2.pt``, ``migan_512_places2.pt``,
``migan_256_ffhq.pt``) to the ``migan`` family.

The release files are plain state dicts of ``lib/model_zoo/migan_inference.Generator`` (``scripts/demo.py`` loads
them with ``model.load_state_dict(torch.load(path))``): keys ``encoder.*`` and ``synthesis.*``, including the fixed
``filter_const`` and ``noise_const`` buffers. Our module names are the official ones, so the mapping is the identity
(a ``module.`` prefix is dropped); the resolution and widths are read from the shapes, and every key and shape is then
checked strictly. A safetensors file with the same keys converts too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..models.migan import MIGAN, PRESETS, MIGANConfig
from .state_dicts import check_layout, read_tensors, tensors_only

LAYOUT = ("an official MI-GAN generator state dict (keys encoder.b<res>.*, synthesis.b<res>.*; "
          "migan_<256|512>_<places2|ffhq>.pt from the Google Drive folder linked in Picsart-AI-Research/MI-GAN)")


def config_from_state(state: dict[str, torch.Tensor], path: str | Path, **overrides: Any) -> MIGANConfig:
    """Resolution and widths of the network a state dict holds (its ``fromrgb`` block and its widths)."""
    inputs = [key for key in state if key.startswith("encoder.b") and key.endswith(".fromrgb.weight")]
    if len(inputs) != 1:
        raise WeightsError(f"{path} does not match {LAYOUT}: found {len(inputs)} encoder fromrgb layers "
                           f"(first keys: {', '.join(sorted(state)[:4])})")
    resolution = int(inputs[0].split(".")[1][1:])
    top = state[inputs[0]].shape[0]
    widest = state.get("encoder.b4.conv1.conv1.weight")
    if widest is None:
        raise WeightsError(f"{path} does not match {LAYOUT}: encoder.b4.conv1.conv1.weight is missing")
    values = {"resolution": resolution, "channel_base": top * resolution, "channel_max": widest.shape[0]}
    return dataclasses.replace(PRESETS["places2-512"], **{**values, **overrides})


def convert_migan(src: str | Path, **overrides: Any) -> tuple[dict[str, torch.Tensor], MIGANConfig]:
    """``(state_dict, config)`` of ours for an official MI-GAN file; ``overrides`` (e.g. ``aligned_faces=True`` for
    the FFHQ network) are config fields."""
    state = tensors_only(read_tensors(src, LAYOUT), src, LAYOUT)
    state = {key.removeprefix("module."): value for key, value in state.items()}
    config = config_from_state(state, src, **overrides)
    with torch.device("meta"):
        expected = {key: value.shape for key, value in MIGAN(config).state_dict().items()}
    return check_layout(state, expected, src, LAYOUT), config
