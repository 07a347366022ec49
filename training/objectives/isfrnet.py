"""Training objective of ISFRNet's stages 2 and 3 (stage 1, pSp, is loaded from trained weights before step 0 and
stays frozen). Our reconstruction: the paper's losses are not published.

Generator: L1 on hole and valid pixels of the stage-3 output (6 / 1) and of the stage-2 output (times
``stage2_weight``); VGG16 perceptual (0.05) and style (120) terms on the output and its composite; SN-PatchGAN hinge
(0.1) on the composite; optional identity term (ArcFace IR-SE-50, off by default because its weights are separate).
Discriminator: hinge loss on real images and detached composites, with the hole as a fourth input channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import inpaint_core as ic
from inpaint_core.models.isfrnet import ISFRNet

from ..discriminators.patch_gan import SNPatchGAN, sn_patch_widths
from .adversarial import hinge_d_terms, hinge_g_loss
from .base import GanObjective
from .identity import IdentityLoss
from .perceptual import VGGOptions, perceptual_and_style, perceptual_vgg
from .reconstruction import hole_valid_l1, masked_l1


@dataclass(frozen=True)
class ISFRNetOptions(VGGOptions):
    #: L1 weights of the hole and the known pixels of the stage-3 output; ``stage2`` scales the same L1 of stage 2.
    hole: float = 6.0
    valid: float = 1.0
    stage2: float = 1.0
    perceptual: float = 0.05
    style: float = 120.0
    adversarial: float = 0.1
    #: Weight of the identity term (needs ``identity_weights``: ArcFace IR-SE-50 as safetensors).
    identity: float = 0.0
    identity_weights: str | Path | None = None
    #: Width of the SN-PatchGAN's first layer and its number of layers.
    discriminator_width: int = 64
    discriminator_layers: int = 6
    #: The trained pSp that stage 1 starts from (a file, catalog name or Hub repo id; empty: the model config's
    #: ``stage1_weights``). Not loaded when fine-tuning trained ISFRNet weights, which hold their stage 1.
    stage1_weights: str = ""


class ISFRNetObjective(GanObjective):
    Options = ISFRNetOptions

    def __init__(self, config=None, options: ISFRNetOptions = ISFRNetOptions()) -> None:  # noqa: B008 (frozen)
        super().__init__()
        self.options = options
        self.weights = {"l1_hole": options.hole, "l1_valid": options.valid, "stage2_l1": options.stage2,
                        "perceptual": options.perceptual, "style": options.style,
                        "adversarial": options.adversarial, "identity": options.identity}
        self.discriminator = SNPatchGAN(4, sn_patch_widths(options.discriminator_width, options.discriminator_layers),
                                        "same", last_activation=False)
        self.vgg = (perceptual_vgg(options.vgg_weights, options.allow_random_vgg)
                    if options.perceptual or options.style else None)
        if options.identity and options.identity_weights is None:
            raise ValueError("the identity term needs identity_weights (ArcFace IR-SE-50 as safetensors)")
        self.identity = IdentityLoss(options.identity_weights) if options.identity else None

    def prepare(self, model: ISFRNet, *, fine_tune: bool) -> None:
        """Load the trained pSp into stage 1 (a fresh model's stage 1 is random, and it never trains)."""
        if not fine_tune:
            model.load_stage1(ic.load_model(self.options.stage1_weights or model.config.stage1_weights))

    def generator_step(self, model, image, hole):
        outputs = model.predict_outputs(image, hole)
        out, coarse = outputs["image"], outputs["stage2"]
        composite = image * (1 - hole) + out * hole
        terms = {
            "l1_hole": masked_l1(out, image, hole),
            "l1_valid": masked_l1(out, image, 1 - hole),
            "stage2_l1": hole_valid_l1(coarse, image, hole, self.weights["l1_hole"], self.weights["l1_valid"]),
        }
        if self.vgg is not None:
            terms["perceptual"], terms["style"] = perceptual_and_style(self.vgg, [out, composite], image)
        if self.weights["adversarial"]:
            terms["adversarial"] = hinge_g_loss(self.discriminator(composite * 2 - 1, hole))
        if self.identity is not None:
            terms["identity"] = self.identity(out, image)
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, {name: value.detach() for name, value in terms.items()}, outputs

    def discriminator_step(self, image, hole, outputs):
        composite = (image * (1 - hole) + outputs["image"].detach() * hole) * 2 - 1
        real, fake = hinge_d_terms(self.discriminator(image * 2 - 1, hole), self.discriminator(composite, hole))
        return real + fake, {"d_real": real.detach(), "d_fake": fake.detach()}
