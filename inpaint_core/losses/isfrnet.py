"""Training objective of ISFRNet's stages 2 and 3 (stage 1, pSp, stays frozen). Our reconstruction
(research/methods.md 4.3); the paper's losses are unknown.

Generator: L1 on hole and valid pixels of the stage-3 output (6 / 1) and of the stage-2 output (times
``stage2_weight``); VGG16 perceptual (0.05) and style (120) terms on the output and its composite; SN-PatchGAN hinge
(0.1) on the composite; optional identity term (ArcFace IR-SE-50, off by default because its weights are separate).
Discriminator: hinge loss on real images and detached composites, with the hole as a fourth input channel.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..discriminators.patch import SNPatchDiscriminator
from .identity import IdentityLoss
from .objective import GanObjective
from .perceptual_vgg import DEFAULT_VGG16_WEIGHTS, VGG16Features, perceptual_and_style


def masked_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over all pixels of ``|output - target| * mask`` (PConv's normalisation)."""
    return ((output - target).abs() * mask).mean()


class ISFRNetObjective(GanObjective):
    def __init__(
        self,
        config=None,
        *,
        l1_hole: float = 6.0,
        l1_valid: float = 1.0,
        stage2_weight: float = 1.0,
        perceptual: float = 0.05,
        style: float = 120.0,
        adversarial: float = 0.1,
        identity: float = 0.0,
        vgg_weights: str | Path | None = DEFAULT_VGG16_WEIGHTS,
        identity_weights: str | Path | None = None,
        disc_width: int = 64,
        disc_layers: int = 6,
    ) -> None:
        super().__init__()
        self.weights = {"l1_hole": l1_hole, "l1_valid": l1_valid, "stage2_l1": stage2_weight,
                        "perceptual": perceptual, "style": style, "adversarial": adversarial, "identity": identity}
        self.discriminator = SNPatchDiscriminator(4, disc_width, disc_layers)
        self.vgg = VGG16Features(vgg_weights) if perceptual or style else None
        if identity and identity_weights is None:
            raise ValueError("the identity term needs identity_weights (ArcFace IR-SE-50 as safetensors)")
        self.identity = IdentityLoss(identity_weights) if identity else None

    def generator_step(self, model, image, hole):
        outputs = model.predict_outputs(image, hole)
        out, coarse = outputs["image"], outputs["stage2"]
        composite = image * (1 - hole) + out * hole
        terms = {
            "l1_hole": masked_l1(out, image, hole),
            "l1_valid": masked_l1(out, image, 1 - hole),
            "stage2_l1": self.weights["l1_hole"] * masked_l1(coarse, image, hole)
            + self.weights["l1_valid"] * masked_l1(coarse, image, 1 - hole),
        }
        if self.vgg is not None:
            terms["perceptual"], terms["style"] = perceptual_and_style(self.vgg, [out, composite], image)
        if self.weights["adversarial"]:
            terms["adversarial"] = -self.discriminator(composite * 2 - 1, hole).mean()
        if self.identity is not None:
            terms["identity"] = self.identity(out, image)
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, {name: value.detach() for name, value in terms.items()}, outputs

    def discriminator_step(self, image, hole, outputs):
        composite = (image * (1 - hole) + outputs["image"].detach() * hole) * 2 - 1
        real = F.relu(1 - self.discriminator(image * 2 - 1, hole)).mean()
        fake = F.relu(1 + self.discriminator(composite, hole)).mean()
        return real + fake, {"d_real": real.detach(), "d_fake": fake.detach()}
