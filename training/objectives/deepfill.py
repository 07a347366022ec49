"""DeepFillv2's training objective (official TF ``build_graph_with_losses``).

Generator: ``l1 * (mean|x - coarse| + mean|x - refined|)`` over all pixels, plus ``adversarial * -E[D(fake)]``;
discriminator: ``0.5 * E[relu(1 - D(real))] + 0.5 * E[relu(1 + D(fake))]``. The fake is the refined output
composited with the known pixels; the discriminator sees ``cat(image, mask)`` with images in [-1, 1]. Official
weights: both 1 (Adam 1e-4, betas (0.5, 0.999), batch 16 at 256).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from inpaint_core.models.base import InpaintModel

from ..discriminators.patch_gan import SN_PATCH_WIDTHS, SNPatchGAN
from .adversarial import hinge_d_loss, hinge_g_loss
from .base import GanObjective
from .reconstruction import coarse_refined_l1


@dataclass(frozen=True)
class DeepFillOptions:
    #: Weight of the L1 of both stages.
    l1: float = 1.0
    #: Weight of the hinge GAN loss (0: reconstruction only, the discriminator does not train).
    adversarial: float = 1.0
    #: Channel widths of the SN-PatchGAN's layers.
    discriminator_widths: tuple[int, ...] = SN_PATCH_WIDTHS


class DeepFillObjective(GanObjective):
    """DeepFillv2 with its SN-PatchGAN."""

    Options = DeepFillOptions

    def __init__(self, config=None, options: DeepFillOptions = DeepFillOptions()) -> None:  # noqa: B008 (frozen)
        super().__init__()
        self.discriminator: nn.Module = SNPatchGAN(4, tuple(options.discriminator_widths))
        self.gan_weight, self.l1_weight = options.adversarial, options.l1
        self.trains_discriminator = options.adversarial != 0

    def generator_step(self, model: InpaintModel, image: torch.Tensor, hole: torch.Tensor):
        x = image * 2 - 1
        coarse, refined = model.generator(x * (1 - hole), hole)
        l1 = coarse_refined_l1(x, coarse, refined)
        fake = refined * hole + x * (1 - hole)
        gan = hinge_g_loss(self.discriminator(fake, hole)) if self.trains_discriminator else l1.new_zeros(())
        total = self.l1_weight * l1 + self.gan_weight * gan
        outputs = {"image": ((refined + 1) / 2).clamp(0, 1), "coarse": ((coarse + 1) / 2).clamp(0, 1)}
        return total, {"l1": l1.detach(), "gan": gan.detach()}, outputs

    def discriminator_step(self, image: torch.Tensor, hole: torch.Tensor, outputs: dict[str, torch.Tensor]):
        x = image * 2 - 1
        fake = (outputs["image"].detach() * 2 - 1) * hole + x * (1 - hole)
        loss = hinge_d_loss(self.discriminator(x, hole), self.discriminator(fake, hole))
        return loss, {"d_hinge": loss.detach()}
