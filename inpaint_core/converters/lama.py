"""Converter of big-lama generators to the ``lama`` family.

Accepted layouts (each a ``.pt``/``.pth``/``.ckpt`` pickle read with ``weights_only=True``, or a ``.safetensors``):

- the official PyTorch Lightning checkpoint (``big-lama/models/best.ckpt``): ``{"state_dict": {...}}`` whose
  ``generator.model.*`` entries are the generator (the discriminator and loss networks beside it are dropped);
- generator-only state dicts with ``generator.model.*`` keys (the widely used ``big-lama.safetensors`` conversions)
  or with bare ``model.*`` keys (``FFCResNetGenerator.state_dict()``).

Our module names equal the official ones, so the mapping is the identity after the prefix; depth, width and global
ratio are read from the shapes, then every key and shape is checked strictly. A Lightning checkpoint whose
``hyper_parameters`` hold OmegaConf objects does not load with ``weights_only=True``: convert such a file with a
generator-only export (or use the safetensors conversion in the catalog).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..models.lama import PRESETS, LaMa, LaMaConfig
from .state_dicts import check_layout, read_tensors, tensors_only

LAYOUT = ("a big-lama generator: the official Lightning checkpoint (state_dict with generator.model.* keys), or a "
          "generator state dict with generator.model.* or model.* keys (FFCResNetGenerator of configs/training/"
          "big-lama.yaml)")
_FFC = re.compile(r"^model\.(\d+)\.ffc\.convl2l\.weight$")
_BLOCK = re.compile(r"^model\.(\d+)\.conv1\.ffc\.convl2l\.weight$")


def generator_state(data: object, path: str | Path) -> dict[str, torch.Tensor]:
    """The generator's ``model.*`` tensors of any accepted layout."""
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if isinstance(data, dict) and any(str(key).startswith("generator.") for key in data):
        data = {key.removeprefix("generator."): value for key, value in data.items() if key.startswith("generator.")}
    return tensors_only(data, path, LAYOUT)


def config_from_state(state: dict[str, torch.Tensor], path: str | Path, **overrides: Any) -> LaMaConfig:
    """Width, depth and global ratio of the generator a state dict holds."""
    convs = sorted(int(m[1]) for key in state if (m := _FFC.match(key)))
    blocks = sorted(int(m[1]) for key in state if (m := _BLOCK.match(key)))
    if not convs or convs[0] != 1:
        raise WeightsError(f"{path} does not match {LAYOUT}: no model.1.ffc.convl2l.weight "
                           f"(keys found: {len(state)}, first: {', '.join(sorted(state)[:4])})")
    values: dict[str, Any] = {"ngf": state["model.1.ffc.convl2l.weight"].shape[0], "n_downsampling": len(convs) - 1,
                              "n_blocks": len(blocks)}
    if blocks:
        first = f"model.{blocks[0]}.conv1.ffc."
        local, spectral = state[first + "convl2l.weight"].shape[0], state[first + "convl2g.weight"].shape[0]
        values["global_ratio"] = spectral / (local + spectral)
    return dataclasses.replace(PRESETS["big-lama"], **{**values, **overrides})


def convert_lama(src: str | Path, **overrides: Any) -> tuple[dict[str, torch.Tensor], LaMaConfig]:
    """``(state_dict, config)`` of ours for a big-lama generator file in any accepted layout."""
    state = generator_state(read_tensors(src, LAYOUT), src)
    config = config_from_state(state, src, **overrides)
    with torch.device("meta"):
        expected = {key: value.shape for key, value in LaMa(config).state_dict().items()}
    return check_layout(state, expected, src, LAYOUT), config
