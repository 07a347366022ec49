"""DeepFillv2's training objective (official TF ``build_graph_with_losses``) and the hinge losses it uses.

Generator: ``l1_weight * (mean|x - coarse| + mean|x - refined|)`` over all pixels, plus ``gan_weight * -E[D(fake)]``;
discriminator: ``0.5 * E[relu(1 - D(real))] + 0.5 * E[relu(1 + D(fake))]``. The fake is the refined output
composited with the known pixels; the discriminator sees ``cat(image, mask)`` with images in [-1, 1]. Official
weights: both 1 (Adam 1e-4, betas (0.5, 0.999), batch 16 at 256).
"""

from __future__ import annotations

import torch
from torch import nn

from ..discriminators.patch_gan import SN_PATCH_WIDTHS, SNPatchGAN
from ..models.base import InpaintModel
from .objective import GanObjective


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``0.5 * mean(relu(1 - real)) + 0.5 * mean(relu(1 + fake))`` (neuralgym's ``gan_hinge_loss``)."""
    return 0.5 * torch.relu(1 - real).mean() + 0.5 * torch.relu(1 + fake).mean()


def hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def coarse_refined_l1(target: torch.Tensor, coarse: torch.Tensor, refined: torch.Tensor) -> torch.Tensor:
    """DeepFillv2's ``ae_loss``: L1 of both stages over all pixels (images in [-1, 1])."""
    return (target - coarse).abs().mean() + (target - refined).abs().mean()


class DeepFillObjective(GanObjective):
    """DeepFillv2 with its SN-PatchGAN; ``discriminator_widths`` changes D's widths (tests)."""

    def __init__(
        self, config=None, gan_weight: float = 1.0, l1_weight: float = 1.0,
        discriminator_widths: tuple[int, ...] = SN_PATCH_WIDTHS,
    ) -> None:
        super().__init__()
        self.discriminator: nn.Module = SNPatchGAN(4, tuple(discriminator_widths))
        self.gan_weight, self.l1_weight = gan_weight, l1_weight

    def generator_step(self, model: InpaintModel, image: torch.Tensor, hole: torch.Tensor):
        x = image * 2 - 1
        coarse, refined = model.generator(x * (1 - hole), hole)
        l1 = coarse_refined_l1(x, coarse, refined)
        fake = refined * hole + x * (1 - hole)
        gan = hinge_g_loss(self.discriminator(fake, hole))
        total = self.l1_weight * l1 + self.gan_weight * gan
        outputs = {"image": (refined + 1) / 2, "coarse": (coarse + 1) / 2}
        return total, {"l1": l1.detach(), "gan": gan.detach()}, outputs

    def discriminator_step(self, image: torch.Tensor, hole: torch.Tensor, outputs: dict[str, torch.Tensor]):
        x = image * 2 - 1
        fake = (outputs["image"].detach() * 2 - 1) * hole + x * (1 - hole)
        loss = hinge_d_loss(self.discriminator(x, hole), self.discriminator(fake, hole))
        return loss, {"d_hinge": loss.detach()}
