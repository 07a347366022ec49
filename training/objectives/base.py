"""The training objective of a family: its discriminator(s), loss terms and their weights.

The trainer (``training/``) is generic: it builds the family's objective (:func:`training.objectives.build_objective`),
calls :meth:`GanObjective.prepare` once before step 0, then alternates ``generator_step`` and
``discriminator_step``. Images are in [0, 1] and holes are 1 = fill here too; each objective
converts to its network's native conventions, as ``predict`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from inpaint_core.models.base import InpaintModel


@dataclass(frozen=True)
class NoOptions:
    """The options of an objective that has none."""


class GanObjective(nn.Module):
    """Base class: subclasses build ``self.discriminator`` (an ``nn.Module``) and implement the two steps.

    ``Options`` is the frozen dataclass of the objective's options (loss weights and such): the trainer's
    ``--objective.KEY VALUE`` flags set its fields, and the objective is built as ``cls(model_config, options)``.
    """

    Options: ClassVar[type] = NoOptions
    discriminator: nn.Module
    #: False when the adversarial weight is 0 (a reconstruction-only run): the trainer then skips the
    #: discriminator's update, and the objective need not run it.
    trains_discriminator: bool = True

    def prepare(self, model: InpaintModel, *, fine_tune: bool) -> None:
        """What the trainer does to ``model`` before step 0 (``fine_tune``: it starts from trained weights)."""

    def generator_step(
        self, model: InpaintModel, image: torch.Tensor, hole: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``(total_loss, {term: detached value}, outputs)``; ``outputs["image"]`` is the raw prediction in [0, 1]
        and is what :meth:`discriminator_step` scores as fake (detached there)."""
        raise NotImplementedError

    def discriminator_step(
        self, image: torch.Tensor, hole: torch.Tensor, outputs: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(total_loss, {term: detached value})`` of the discriminator on real ``image`` and fake ``outputs``."""
        raise NotImplementedError

    def generator_parameters(self, model: InpaintModel) -> Iterable[nn.Parameter]:
        """The generator parameters that train now (the progressive family trains one stage at a time)."""
        return (p for p in model.parameters() if p.requires_grad)
