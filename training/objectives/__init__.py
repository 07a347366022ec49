"""The training objectives, registered by family name: loss terms, discriminators and typed options.

:func:`build_objective` turns a family name, the model's config and the run's ``--objective.KEY VALUE`` options into
the family's :class:`GanObjective`. Options are the fields of the objective's ``Options`` dataclass; weights shared
by several families have one spelling (``adversarial``, ``l1``, ``hole``, ``valid``, ``perceptual``, ``style``,
``discriminator_width``...). The spellings of earlier versions (:data:`RENAMED`) are still read, so old configs
and ``train_config.json`` files keep working.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .base import GanObjective
from .ctsdg import CTSDGObjective
from .deepfill import DeepFillObjective
from .isfrnet import ISFRNetObjective
from .mdrn import MDRNObjective
from .progressive import ProgressiveObjective

OBJECTIVES: dict[str, type[GanObjective]] = {
    "ctsdg": CTSDGObjective,
    "deepfill": DeepFillObjective,
    "progressive": ProgressiveObjective,
    "mdrn": MDRNObjective,
    "isfrnet": ISFRNetObjective,
}

#: Earlier option names -> today's, per family (CTSDG's nested ``weights`` dict is read as its fields).
RENAMED: dict[str, dict[str, str]] = {
    "deepfill": {"gan_weight": "adversarial", "l1_weight": "l1"},
    "progressive": {"gan_weight": "adversarial", "l1_weight": "l1"},
    "mdrn": {
        **{f"{term}_weight": term for term in ("hole", "valid", "coarse", "adversarial", "inter", "intra",
                                                "compactness", "separateness", "disentangle")},
        "discriminator_channels": "discriminator_width",
    },
    "isfrnet": {"l1_hole": "hole", "l1_valid": "valid", "stage2_weight": "stage2", "disc_width": "discriminator_width",
                "disc_layers": "discriminator_layers"},
}


def register_objective(family: str, objective: type[GanObjective]) -> type[GanObjective]:
    """Make ``objective`` the training objective of ``family`` (for families registered outside the package)."""
    if family in OBJECTIVES and OBJECTIVES[family] is not objective:
        raise ValueError(f"family {family!r} already has the objective {OBJECTIVES[family].__name__}")
    OBJECTIVES[family] = objective
    return objective


def objective_options(family: str, options: dict[str, Any]) -> Any:
    """The typed ``Options`` of ``family``'s objective from a dict of (today's or earlier) option names."""
    cls = objective_class(family)
    values = dict(options)
    if family == "ctsdg" and isinstance(values.get("weights"), dict):
        values.update(values.pop("weights"))
    renamed = RENAMED.get(family, {})
    values = {renamed.get(key, key): value for key, value in values.items()}
    fields = {f.name: f for f in dataclasses.fields(cls.Options)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} of the {family} objective; its options: "
                         f"{', '.join(fields) or 'none'}")
    for key, value in values.items():
        if isinstance(value, list):  # JSON has no tuples
            values[key] = tuple(value)
    return cls.Options(**values)


def objective_class(family: str) -> type[GanObjective]:
    try:
        return OBJECTIVES[family]
    except KeyError:
        raise ValueError(f"family {family!r} has no training objective (known: {', '.join(sorted(OBJECTIVES))}); "
                         "register one with training.objectives.register_objective") from None


def build_objective(family: str, config: Any, options: dict[str, Any] | None = None) -> GanObjective:
    """The objective of ``family`` for a model ``config``, with ``options`` as :func:`objective_options` reads them."""
    return objective_class(family)(config, objective_options(family, options or {}))


__all__ = ["OBJECTIVES", "RENAMED", "GanObjective", "build_objective", "objective_options", "register_objective"]
