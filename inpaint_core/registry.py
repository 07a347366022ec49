"""Registry of network families and their named presets (``family.preset``).

Each model module registers its family at import (``inpaint_core.models`` imports them all). A family couples a frozen
config dataclass, the model class built from it and named presets. Converters of official checkpoints are found by
family name in :mod:`inpaint_core.converters`, training objectives in ``training.objectives``: neither is imported by
a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .errors import UnknownModelError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


@dataclass(frozen=True)
class Family:
    name: str
    config_cls: type
    model_cls: type
    presets: dict[str, Any]
    needs_weights: bool = True
    description: str = ""


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add a family; names are lower-case identifiers and must be unique."""
    for name in (family.name, *family.presets):
        if not _NAME.match(name):
            raise ValueError(f"invalid family or preset name {name!r}")
    if family.name in _FAMILIES:
        raise ValueError(f"family {family.name!r} is registered twice")
    _FAMILIES[family.name] = family
    return family


def families() -> dict[str, Family]:
    return dict(_FAMILIES)


def get_family(name: str) -> Family:
    try:
        return _FAMILIES[name]
    except KeyError:
        raise UnknownModelError(f"unknown model family {name!r}; registered: {sorted(_FAMILIES)}") from None


def preset_names() -> list[str]:
    return sorted(f"{f.name}.{p}" for f in _FAMILIES.values() for p in f.presets)


def split_preset_name(name: str) -> tuple[Family, str]:
    """``"ctsdg.tiny"`` -> (the ctsdg family, ``"tiny"``); a clear error for anything else."""
    family_name, _, preset = name.partition(".")
    family = get_family(family_name)
    if preset not in family.presets:
        raise UnknownModelError(f"unknown preset {name!r}; presets of {family.name}: {sorted(family.presets)}")
    return family, preset


def build_model(name: str, **overrides: Any):
    """A model with fresh (untrained) weights from a preset, optionally with config fields overridden."""
    family, preset = split_preset_name(name)
    config = replace(family.presets[preset], **overrides) if overrides else family.presets[preset]
    return family.model_cls(config, preset=preset)


def is_preset_name(name: str) -> bool:
    family_name, dot, preset = name.partition(".")
    return bool(dot) and family_name in _FAMILIES and preset in _FAMILIES[family_name].presets
