"""Converters of official release checkpoints to our safetensors files, found by family name.

A converter reads an official file and returns ``(state_dict, config)`` in our layout; the config starts from the
family's ``preset`` named here. Converters import their model modules; no model module imports a converter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WeightsError
from ..registry import get_family
from ..weights import load_state_dict_strict, save_model
from .ctsdg import convert_official
from .deepfill import convert_deepfill
from .lama import convert_lama
from .migan import convert_migan
from .psp import convert_psp_checkpoint


@dataclass(frozen=True)
class Converter:
    #: ``convert(path, **config_overrides) -> (state_dict, config)``.
    convert: Callable[..., tuple[dict[str, Any], Any]]
    #: The preset whose config the converter starts from (the file is stamped with the preset its config equals).
    preset: str


CONVERTERS: dict[str, Converter] = {
    "ctsdg": Converter(convert_official, "celeba"),
    "deepfill": Converter(convert_deepfill, "places2"),
    "lama": Converter(convert_lama, "big-lama"),
    "migan": Converter(convert_migan, "places2-512"),
    "psp": Converter(convert_psp_checkpoint, "ffhq"),
}


def convert_checkpoint(family: str, src: str | Path, dst: str | Path, **config_overrides: Any) -> Path:
    """Convert an official release checkpoint of ``family`` into one of our safetensors files at ``dst``."""
    spec = get_family(family)
    converter = CONVERTERS.get(spec.name)
    if converter is None:
        raise WeightsError(f"family {family!r} has no official checkpoint to convert")
    src = Path(src)
    if not src.is_file():
        raise WeightsError(f"checkpoint {src} does not exist")
    state, config = converter.convert(src, **config_overrides)
    preset = next((name for name, known in spec.presets.items() if known == config), converter.preset)
    model = spec.model_cls(config, preset=preset)
    load_state_dict_strict(model, state, source=f"converted {src}")
    return save_model(model, dst)
