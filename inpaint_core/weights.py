"""Safetensors weights files that carry their own model description (one file = one loadable model).

Metadata keys: ``format`` (``inpaint_core``), ``format_version``, ``family``, ``preset`` and ``config`` (JSON of the
family's config dataclass). Loading is strict: every key of the model must be in the file and nothing else.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .configs import config_from_dict, config_to_dict
from .errors import WeightsError
from .models.base import InpaintModel
from .registry import get_family

FORMAT = "inpaint_core"
FORMAT_VERSION = 1


def save_model(
    model: InpaintModel, path: str | Path, *, dtype: torch.dtype | None = None, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``model`` to ``path`` atomically; ``dtype`` (e.g. ``torch.float16``) casts floating-point tensors."""
    state = {}
    for key, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu")
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        state[key] = tensor.contiguous().clone()
    description = state_dict_metadata(model)
    header = {
        **(metadata or {}),
        **{key: str(value or "") for key, value in description.items() if key != "config"},
        "config": json.dumps(description["config"], sort_keys=True),
    }
    path = Path(path)
    write_atomically(path, lambda tmp: save_file(state, str(tmp), metadata=header))
    return path


def write_atomically(path: Path, write) -> None:
    """Call ``write(tmp)`` next to ``path``, fsync, then rename over ``path``: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The safetensors metadata of ``path``; a :class:`WeightsError` naming the fix if the file is not readable."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(_corrupt_message(path, error)) from error


def load_model_file(
    path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> InpaintModel:
    """Build the model described by a weights file's metadata and load its tensors strictly."""
    path = Path(path)
    metadata = read_metadata(path)
    if metadata.get("format") != FORMAT or "family" not in metadata:
        raise WeightsError(
            f"{path} is not an inpaint_core weights file (its metadata names no model family). If it is an official "
            "release checkpoint, convert it once with inpaint_core.convert_checkpoint(family, src, dst)."
        )
    version = int(metadata.get("format_version", "0"))
    if version > FORMAT_VERSION:
        raise WeightsError(
            f"{path} has weights format version {version}; this inpaint_core reads up to {FORMAT_VERSION}: upgrade it"
        )
    family = get_family(metadata["family"])
    try:
        config = config_from_dict(family.config_cls, json.loads(metadata["config"]))
    except (KeyError, ValueError, TypeError) as error:
        raise WeightsError(f"{path}: the config in its metadata does not fit {family.name}: {error}") from error
    model = family.model_cls(config, preset=metadata.get("preset") or None)
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsError(_corrupt_message(path, error)) from error
    load_state_dict_strict(model, state, source=str(path))
    return model.to(device=device, dtype=dtype).eval()


def load_state_dict_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """``load_state_dict(strict=True)`` with shapes checked first and an error that lists what differs."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state))
        if own[k].shape != state[k].shape
    ]
    if missing or unexpected or mismatched:
        parts = [f"{source} does not match {type(model).__name__}:"]
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)):
            if items:
                parts.append(f"{len(items)} {label} (first: {', '.join(items[:5])})")
        raise WeightsError(" ".join(parts))
    model.load_state_dict(state, strict=True)


def _corrupt_message(path: Path, error: Exception) -> str:
    return (
        f"weights file {path} is corrupt or truncated ({error}). Delete it and download it again; "
        "a download that was interrupted leaves no file behind, so a partial file was copied by hand."
    )


def state_dict_metadata(model: InpaintModel) -> dict[str, Any]:
    """The metadata that :func:`save_model` writes, as a dict (for config.json next to a Hub upload)."""
    return {
        "family": model.family,
        "preset": model.preset,
        "config": config_to_dict(model.config),
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
    }
