"""CTSDG's training objective, as the official ``criteria/loss.py`` and ``trainer.py`` (weights: their defaults).

Generator: 60 * hole L1 + 10 * valid L1 + 0.1 * perceptual + 250 * style (VGG16 pool1-3 of the raw output and of
the composite, both against the ground truth) + 0.1 * adversarial (BCE of the discriminator's verdict on the raw
output, and of its edge detector against the ground-truth edges) + 1 * intermediate (BCE of the projected edge map,
L1 of the projected image). Discriminator: BCE(real, 1) + BCE(fake, 0) + BCE of the edge detector on both images
against the ground-truth edges. Everything runs in the network's native conventions ([-1, 1], mask 1 = valid);
VGG16 sees the [-1, 1] images without ImageNet normalisation, as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from inpaint_core.models.ctsdg import CTSDG, CTSDGConfig

from ..discriminators.ctsdg import CTSDGDiscriminator
from .base import GanObjective
from .perceptual import VGGOptions, gram, perceptual_vgg


@dataclass(frozen=True)
class CTSDGOptions(VGGOptions):
    """The weights of the loss terms (the official defaults), the VGG16 of the perceptual and style terms, and the
    BatchNorm freeze of the official fine-tuning stage."""

    hole: float = 60.0
    valid: float = 10.0
    #: With ``perceptual`` and ``style`` 0 no VGG is needed.
    perceptual: float = 0.1
    style: float = 250.0
    #: With ``adversarial`` 0 the discriminator does not train.
    adversarial: float = 0.1
    intermediate: float = 1.0
    #: Put every BatchNorm of the generator in eval mode while training (the official ``freeze_ec_bn``, set by the
    #: fine-tuning stage).
    freeze_batchnorm: bool = False


class CTSDGObjective(GanObjective):
    Options = CTSDGOptions

    def __init__(self, config: CTSDGConfig, options: CTSDGOptions = CTSDGOptions()) -> None:  # noqa: B008 (frozen)
        super().__init__()
        self.config, self.options = config, options
        self.discriminator = CTSDGDiscriminator()
        self.trains_discriminator = options.adversarial != 0
        # the official losses feed VGG16 images in [-1, 1], without ImageNet normalisation
        uses_vgg = options.perceptual != 0 or options.style != 0
        self.vgg = (perceptual_vgg(options.vgg_weights, allow_random=options.allow_random_vgg, normalize=False)
                    if uses_vgg else None)

    def prepare(self, model: CTSDG, *, fine_tune: bool) -> None:
        model.freeze_batchnorm = self.options.freeze_batchnorm
        model.train(model.training)

    def generator_step(self, model: CTSDG, image: torch.Tensor, hole: torch.Tensor):
        inputs = model.native_inputs(image, hole)
        truth, mask, edge, gray = inputs["image"], inputs["mask"], inputs["edge"], inputs["gray"]
        output, projected_image, projected_edge = model(
            truth * mask, torch.cat((edge * mask, gray * mask), dim=1), mask
        )
        composite = truth * mask + output * (1 - mask)
        perceptual, style = self._vgg_terms(truth, output, composite)
        terms = {
            "hole": F.l1_loss((1 - mask) * output, (1 - mask) * truth),
            "valid": F.l1_loss(mask * output, mask * truth),
            "perceptual": perceptual,
            "style": style,
            "adversarial": self._adversarial_term(output, gray, edge),
            "intermediate": F.binary_cross_entropy(projected_edge, edge) + F.l1_loss(projected_image, truth),
        }
        total = sum(getattr(self.options, name) * value for name, value in terms.items())
        outputs = {
            "image": ((output + 1) / 2).clamp(0, 1),
            "edge": projected_edge,
            "native": output,
            "truth_edge": edge,
            "truth_gray": gray,
        }
        return total, {name: value.detach() for name, value in terms.items()}, outputs

    def _vgg_terms(self, truth, output, composite) -> tuple[torch.Tensor, torch.Tensor]:
        """Perceptual and style losses of the raw output and the composite (zeros without a VGG)."""
        perceptual = output.new_zeros(())
        style = output.new_zeros(())
        if self.vgg is None:
            return perceptual, style
        for real, fake, comp in zip(self.vgg(truth), self.vgg(output), self.vgg(composite)):
            perceptual = perceptual + F.l1_loss(fake, real) + F.l1_loss(comp, real)
            target = gram(real)
            style = style + F.l1_loss(gram(fake), target) + F.l1_loss(gram(comp), target)
        return perceptual, style

    def _adversarial_term(self, output: torch.Tensor, gray: torch.Tensor, edge: torch.Tensor) -> torch.Tensor:
        if not self.trains_discriminator:
            return output.new_zeros(())
        self.discriminator.requires_grad_(False)
        try:
            verdict, detected = self.discriminator(output, gray)
        finally:
            self.discriminator.requires_grad_(True)
        return F.binary_cross_entropy(verdict, torch.ones_like(verdict)) + F.binary_cross_entropy(detected, edge)

    def discriminator_step(self, image: torch.Tensor, hole: torch.Tensor, outputs: dict[str, torch.Tensor]):
        truth = (image - 0.5) / 0.5
        edge, gray = outputs["truth_edge"], outputs["truth_gray"]
        real, real_edge = self.discriminator(truth, gray, edge)
        fake, fake_edge = self.discriminator(outputs["native"].detach(), gray)
        adversarial = (
            F.binary_cross_entropy(real, torch.ones_like(real))
            + F.binary_cross_entropy(fake, torch.zeros_like(fake))
            + F.binary_cross_entropy(real_edge, edge)
            + F.binary_cross_entropy(fake_edge, edge)
        )
        return adversarial, {"adversarial": adversarial.detach()}
