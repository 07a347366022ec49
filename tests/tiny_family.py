"""A minimal trainable family for the trainer's tests: ``tinytest.tiny``.

Training subprocesses import it as ``tiny_family`` (``--model.imports``), which registers it; the test process
registers :data:`FAMILY` per test only (a fixture), so other test modules never see it.

Kept independent of the real families so the loop's tests run in seconds; the real families' tiny presets are
tested too where they are installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_core.models.base import InpaintModel
from inpaint_core.registry import Family, register_family
from training.objectives import GanObjective, register_objective


@dataclass(frozen=True)
class TinyConfig:
    width: int = 8


class TinyNet(InpaintModel):
    family = "tinytest"
    size_multiple = 4
    working_size = 32

    def __init__(self, config: TinyConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)
        self.encode = nn.Conv2d(4, config.width, 3, padding=1)
        self.decode = nn.Conv2d(config.width, 3, 3, padding=1)

    def predict_outputs(self, image, hole, generator=None):
        features = F.relu(self.encode(torch.cat([image * (1 - hole), hole], 1)))
        return {"image": torch.sigmoid(self.decode(features))}


@dataclass(frozen=True)
class TinyOptions:
    adversarial: float = 0.1
    staged: bool = False


class TinyObjective(GanObjective):
    """L1 + hinge GAN. With ``staged=True`` it is a two-stage objective: stage 0 trains the encoder, stage 1 the
    decoder (what a progressive family does with its scales)."""

    Options = TinyOptions

    def __init__(self, config: TinyConfig, options: TinyOptions = TinyOptions()) -> None:  # noqa: B008 (frozen)
        super().__init__()
        self.adversarial = options.adversarial
        if options.staged:
            self.stage = 0
        self.discriminator = nn.Sequential(
            nn.Conv2d(4, config.width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(config.width, 1, 3, padding=1)
        )

    def generator_parameters(self, model):
        if not hasattr(self, "stage"):
            return super().generator_parameters(model)
        return (model.encode if self.stage == 0 else model.decode).parameters()

    def _score(self, image, hole):
        return self.discriminator(torch.cat([image * 2 - 1, hole], 1))

    def generator_step(self, model, image, hole):
        outputs = model.predict_outputs(image, hole)
        composite = image * (1 - hole) + outputs["image"] * hole
        l1 = (outputs["image"] - image).abs().mean()
        gan = -self._score(composite, hole).mean()
        return l1 + self.adversarial * gan, {"l1": l1.detach(), "gan": gan.detach()}, outputs

    def discriminator_step(self, image, hole, outputs):
        composite = image * (1 - hole) + outputs["image"] * hole
        real = F.relu(1 - self._score(image, hole)).mean()
        fake = F.relu(1 + self._score(composite, hole)).mean()
        return real + fake, {"real": real.detach(), "fake": fake.detach()}


FAMILY = Family(name="tinytest", config_cls=TinyConfig, model_cls=TinyNet, presets={"tiny": TinyConfig()})

if __name__ == "tiny_family":  # imported by a training subprocess (--model.imports tiny_family): register for real
    register_family(FAMILY)
    register_objective(FAMILY.name, TinyObjective)
