"""The official CTSDG checkpoint (``{'n_iter', 'generator', 'discriminator'}`` or a bare generator state dict) to
our layout. Our generator keeps the official module names, so the mapping is the identity; it is still checked
strictly: every official key must be one of ours with the same shape, and every key of ours must be present."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..models.ctsdg import CTSDG, OFFICIAL_WEIGHTS_URL, PRESETS, CTSDGConfig

_WHERE = (f"The official CTSDG weights (CelebA, Places2, Paris StreetView) are the .pt files in the Google Drive "
          f"folder linked from github.com/xiefan-guo/ctsdg: {OFFICIAL_WEIGHTS_URL}")


def read_official(path: str | Path) -> dict[str, torch.Tensor]:
    """The generator state dict of an official checkpoint file (read with ``weights_only=True``)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)  # noqa: TID251 (converter)
    except Exception as error:  # torch raises many types for a non-checkpoint file
        raise WeightsError(f"{path} is not a readable PyTorch checkpoint ({error}). {_WHERE}") from error
    if isinstance(data, dict) and isinstance(data.get("generator"), dict):
        data = data["generator"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise WeightsError(f"{path} holds neither an official CTSDG checkpoint nor a generator state dict. {_WHERE}")
    return {key.removeprefix("module."): value for key, value in data.items()}


def convert_state_dict(official: dict[str, torch.Tensor], config: CTSDGConfig) -> dict[str, torch.Tensor]:
    """Map (identity) and check an official generator state dict against a model built from ``config``."""
    with torch.device("meta"):
        expected = {key: value.shape for key, value in CTSDG(config).state_dict().items()}
    missing = sorted(set(expected) - set(official))
    unexpected = sorted(set(official) - set(expected))
    mismatched = [f"{key}: {tuple(official[key].shape)} vs {tuple(expected[key])}"
                  for key in sorted(set(expected) & set(official)) if official[key].shape != expected[key]]
    if missing or unexpected or mismatched:
        details = "; ".join(f"{len(items)} {label}: {', '.join(items[:4])}" for label, items in
                            (("missing", missing), ("unexpected", unexpected), ("with another shape", mismatched))
                            if items)
        raise WeightsError(f"not an official CTSDG generator ({details}). {_WHERE}")
    return {key: official[key].detach().clone().contiguous() for key in expected}


def convert_official(path: str | Path, **overrides: Any) -> tuple[dict[str, torch.Tensor], CTSDGConfig]:
    """The converter registered for ``ctsdg``: ``(state_dict, config)`` of the official preset with ``overrides``."""
    config = replace(PRESETS["celeba"], **overrides)
    return convert_state_dict(read_official(path), config), config
