"""Training objective of the progressive family: one stage at a time, with the semantic-aware patch GAN.

``stage`` (default: the last) is the stage that trains; the stages before it run without gradients and
:meth:`ProgressiveObjective.generator_parameters` returns only that stage's parameters, so earlier stages stay frozen
(the poster's schedule: train 1/4, then 1/2 on top of it, then full scale). Set ``objective.stage`` to move on; the
patch discriminator is fully convolutional and is kept across stages.

Per stage, at the stage's size: DeepFillv2's L1 on coarse and refined outputs against the area-downsampled real image
(``l1``, 1) and the hinge GAN loss of :class:`SemanticPatchGAN` on the composite (``adversarial``; the poster
gives no value, 0.1 as in OpenMMLab's DeepFillv2 is our default). ``semantic_net="none"`` replaces it with DeepFillv2's
plain SN-PatchGAN (no semantic branch, for machines without the VGG16 weights); ``adversarial=0`` trains with the L1
terms only and never runs a discriminator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from inpaint_core.models.progressive import ProgressiveConfig

from ..discriminators.patch_gan import SN_PATCH_WIDTHS, SemanticPatchGAN, SNPatchGAN, semantic_network
from ..vgg import DEFAULT_VGG16_WEIGHTS
from .adversarial import hinge_d_loss, hinge_g_loss
from .base import GanObjective
from .reconstruction import coarse_refined_l1

CONDITIONS = ("self", "gt")


@dataclass(frozen=True)
class ProgressiveOptions:
    #: The stage that trains (default: the last).
    stage: int | None = None
    #: Weight of the L1 of both branches of the stage.
    l1: float = 1.0
    #: Weight of the hinge GAN loss.
    adversarial: float = 0.1
    #: The frozen semantic network of the discriminator ("none": the plain SN-PatchGAN), its tapped layer and weights.
    semantic_net: str = "vgg16"
    semantic_layer: str = "relu4_3"
    semantic_weights: str | Path | None = DEFAULT_VGG16_WEIGHTS
    #: The semantic features come from the scored image ("self") or from the ground truth ("gt").
    semantic_condition: str = "self"
    #: Allow a random semantic network when ``semantic_weights`` is None (tests only).
    allow_random_semantic: bool = False
    #: Channel widths of the patch discriminator's layers.
    discriminator_widths: tuple[int, ...] = SN_PATCH_WIDTHS


class ProgressiveObjective(GanObjective):
    Options = ProgressiveOptions

    def __init__(self, config: ProgressiveConfig, options: ProgressiveOptions = ProgressiveOptions()) -> None:  # noqa: B008
        super().__init__()
        if options.semantic_condition not in CONDITIONS:
            raise ValueError(f"semantic_condition must be one of {CONDITIONS}, got {options.semantic_condition!r}")
        self.num_stages = len(config.scales)
        self.stage = self.num_stages - 1 if options.stage is None else options.stage
        self.semantic = options.semantic_net != "none"
        if self.semantic:
            semantic = semantic_network(options.semantic_net, options.semantic_layer, options.semantic_weights,
                                        options.allow_random_semantic)
            self.discriminator: torch.nn.Module = SemanticPatchGAN(semantic, 4, tuple(options.discriminator_widths))
        else:
            self.discriminator = SNPatchGAN(4, tuple(options.discriminator_widths))
        self.gan_weight, self.l1_weight = options.adversarial, options.l1
        self.condition = options.semantic_condition
        self.trains_discriminator = options.adversarial != 0

    @property
    def stage(self) -> int:
        return self._stage

    @stage.setter
    def stage(self, value: int) -> None:
        if not 0 <= value < self.num_stages:
            raise ValueError(f"stage must be in [0, {self.num_stages - 1}], got {value}")
        self._stage = value

    def generator_parameters(self, model):
        return model.stages[self.stage].parameters()

    def _score(self, image: torch.Tensor, hole: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        if not self.semantic:
            return self.discriminator(image, hole)
        return self.discriminator(image, hole, real if self.condition == "gt" else None)

    def generator_step(self, model, image: torch.Tensor, hole: torch.Tensor):
        x = image * 2 - 1
        result = model.run_stages(x, hole, last=self.stage, frozen_below=self.stage)[-1]
        coarse, refined, small_hole = result["coarse"], result["refined"], result["hole"]
        target = F.adaptive_avg_pool2d(x, refined.shape[-2:])
        l1 = coarse_refined_l1(target, coarse, refined)
        fake = refined * small_hole + target * (1 - small_hole)
        gan = hinge_g_loss(self._score(fake, small_hole, target)) if self.trains_discriminator else l1.new_zeros(())
        total = self.l1_weight * l1 + self.gan_weight * gan
        prediction = (refined + 1) / 2
        outputs = {
            "image": F.interpolate(prediction, size=image.shape[-2:], mode="bilinear", align_corners=False)
            if prediction.shape[-2:] != image.shape[-2:] else prediction,
            "stage_image": prediction,
            "stage_hole": small_hole,
        }
        return total, {"l1": l1.detach(), "gan": gan.detach()}, outputs

    def discriminator_step(self, image: torch.Tensor, hole: torch.Tensor, outputs: dict[str, torch.Tensor]):
        prediction, small_hole = outputs["stage_image"].detach() * 2 - 1, outputs["stage_hole"].detach()
        real = F.adaptive_avg_pool2d(image * 2 - 1, prediction.shape[-2:])
        fake = prediction * small_hole + real * (1 - small_hole)
        loss = hinge_d_loss(self._score(real, small_hole, real), self._score(fake, small_hole, real))
        return loss, {"d_hinge": loss.detach()}
