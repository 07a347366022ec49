"""The public entry points: list, build, load, save and convert models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from .auto import AUTO_NAMES, BUNDLED, SCENE_AND_FACE, choose_model
from .catalog import catalog
from .content import ByContent
from .converters import convert_checkpoint
from .errors import UnknownModelError, WeightsError
from .hub import resolve_weights
from .models.base import InpaintModel
from .registry import build_model, is_preset_name, preset_names, split_preset_name
from .weights import load_model_file


def list_models(kind: str = "all") -> list[str]:
    """Registered ``family.preset`` names (``kind="presets"``), catalog weights (``"weights"``), or both."""
    if kind not in {"all", "presets", "weights"}:
        raise ValueError(f"kind must be 'all', 'presets' or 'weights', got {kind!r}")
    presets = preset_names() if kind in {"all", "presets"} else []
    weights = sorted(catalog()) if kind in {"all", "weights"} else []
    return weights + presets


def ready_models() -> list[str]:
    """Names that load without a download: catalog weights that are bundled, and presets that need no weights."""
    bundled = [name for name, entry in sorted(catalog().items()) if entry.bundled]
    engines = [name for name in preset_names() if not split_preset_name(name)[0].needs_weights]
    return bundled + engines


def load_model(
    name_or_path: str | Path,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    *,
    models_dirs: Iterable[str | Path] = (),
    offline: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> InpaintModel:
    """A model with trained weights, loaded strictly and in eval mode.

    ``name_or_path``: a weights file, a catalog name (``list_models("weights")``), a Hub repo id
    (``owner/repo[@revision]``, which holds ``model.safetensors``), or a preset that needs no weights
    (``opencv.telea``, ``opencv.ns``), or ``auto`` / ``auto-face`` (:func:`load_auto`; the choice is logged).
    ``progress(done_bytes, total_bytes)`` follows a download.
    """
    name = str(name_or_path)
    if name in AUTO_NAMES:
        return load_auto(AUTO_NAMES[name], device, dtype, models_dirs=models_dirs, offline=offline,
                         progress=progress)[0]
    if is_preset_name(name):
        family, _ = split_preset_name(name)
        if family.needs_weights:
            trained = [n for n, e in catalog().items() if e.family == family.name]
            raise UnknownModelError(
                f"{name} is a preset without trained weights: use build_model({name!r}) for fresh weights, "
                f"or load trained ones ({', '.join(sorted(trained)) or 'none in the catalog yet'}, "
                "a file or a Hub repo id)"
            )
        return build_model(name).to(device=device, dtype=dtype).eval()
    path = resolve_weights(name_or_path, models_dirs_extra=models_dirs, offline=offline, progress=progress)
    return load_model_file(path, device=device, dtype=dtype)


def load_auto(
    kind: str = "scene",
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    *,
    models_dirs: Iterable[str | Path] = (),
    offline: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[InpaintModel, str]:
    """``(model, reason)`` for :func:`inpaint_core.auto.choose_model`'s pick for ``kind`` (``"scene"`` or
    ``"face"``); when that pick cannot be fetched, the bundled network for ``kind`` runs and the reason says why."""
    extra = list(models_dirs)
    name, reason = choose_model(kind, models_dirs=extra, offline=offline)
    try:
        model = (bundled_for(kind, device, dtype) if name == BUNDLED[kind] else
                 load_model(name, device, dtype, models_dirs=extra, offline=offline, progress=progress))
    except WeightsError as error:
        if name == BUNDLED[kind]:
            raise
        reason = (f"auto ({kind}): {name} could not be loaded ({error}); the bundled {BUNDLED[kind]} runs instead"
                  + (SCENE_AND_FACE if kind == "scene" else ""))
        model = bundled_for(kind, device, dtype)
    logging.getLogger(__name__).info(reason)
    return model, reason


def bundled_for(kind: str, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> InpaintModel:
    """The bundled network for ``kind``; for scenes, :class:`~inpaint_core.content.ByContent` with the bundled face
    network for images whose hole is inside a detected face."""
    network = load_model(BUNDLED[kind], device, dtype)
    if kind != "scene":
        return network
    return ByContent(network, load_model(BUNDLED["face"], device, dtype), labels=(BUNDLED["scene"], BUNDLED["face"]))


__all__ = ["bundled_for", "convert_checkpoint", "list_models", "load_auto", "load_model", "ready_models"]
