"""Reading and checking released state dicts: pickles with ``torch.load(weights_only=True)`` or safetensors files,
and strict key and shape checks whose errors name the file, the layout expected and the keys found."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ..errors import WeightsError


def read_tensors(path: str | Path, layout: str) -> dict:
    """The top-level object of a ``.safetensors`` file or a PyTorch pickle (read with ``weights_only=True``)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise WeightsError(f"{path} is not a readable safetensors file ({error}); expected {layout}") from error
    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # noqa: TID251 (converter)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a file that is not a safe checkpoint
        raise WeightsError(f"{path} is not a PyTorch checkpoint that loads with weights_only=True ({error}); "
                           f"expected {layout}") from error


def tensors_only(data: object, path: str | Path, layout: str) -> dict[str, torch.Tensor]:
    """``data`` as a ``{key: tensor}`` dict, else an error naming what the file holds."""
    if not isinstance(data, Mapping) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        found = sorted(data)[:8] if isinstance(data, Mapping) else type(data).__name__
        raise WeightsError(f"{path} holds no state dict of tensors (found {found}); expected {layout}")
    return dict(data)


def check_layout(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Size], path: str | Path,
                 layout: str) -> dict[str, torch.Tensor]:
    """``state`` restricted to and ordered like ``expected``; every key present with its shape, nothing extra."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = [f"{key}: {tuple(state[key].shape)} vs {tuple(expected[key])}"
                  for key in sorted(set(expected) & set(state)) if tuple(state[key].shape) != tuple(expected[key])]
    if missing or unexpected or mismatched:
        details = "; ".join(f"{len(items)} {label} ({', '.join(items[:4])})" for label, items in
                            (("missing", missing), ("unexpected", unexpected), ("with another shape", mismatched))
                            if items)
        raise WeightsError(f"{path} does not match {layout}: {details}. Keys found: {len(state)} "
                           f"(first: {', '.join(sorted(state)[:4])})")
    return {key: (state[key].float() if state[key].is_floating_point() else state[key]).detach().contiguous()
            for key in expected}
