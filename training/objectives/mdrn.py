"""The MDRN training objective: L1, adversarial (hinge, SN-PatchGAN), InCo² and the memory regularisers.

InCo² (ShowFace: "a pair of similarity based losses" for the *inter*-coordination of corrupted and non-corrupted
regions and the *intra*-coordination inside the corrupted region) is reconstructed as follows (the equations are not
public): take feature maps of the output and of the ground truth, pool them to at most ``tokens`` x ``tokens``
positions, form the cosine-similarity matrix ``S`` of the positions of each, and compare the two matrices:

- inter = mean ``|S_out[H, V] - S_gt[H, V]|`` over hole positions H and known positions V;
- intra = mean ``|S_out[H, H] - S_gt[H, H]|`` over pairs of hole positions.

The filled region must relate to its context, and to itself, as the real face does. The features are the patch
discriminator's (layer ``inco2_layer``) on the composite and on the real image; the repository has no pretrained VGG
yet, and the discriminator's features need no download. The rest (our choice, all weights are options):
L1 on hole (x6) and known (x1) pixels of the refined and the coarse output (as PConv / CTSDG), hinge adversarial loss
(x0.1) on the composite, MNAD's compactness and separateness losses on the memory queries (x0.01), and a label-free
disentanglement term that makes each position pick one memory block while all blocks get used (x0.01).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from inpaint_core.models.mdrn import MDRN, MDRNConfig

from ..discriminators.patch_gan import SNPatchGAN, sn_patch_widths
from .adversarial import hinge_d_terms, hinge_g_loss
from .base import GanObjective
from .reconstruction import hole_valid_l1, masked_l1


def inco2_loss(
    output_features: torch.Tensor, target_features: torch.Tensor, hole: torch.Tensor, tokens: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inter, intra)`` coordination losses of feature maps ``[B, C, h, w]`` at a hole mask ``[B, 1, H, W]``.

    Both are 0 when the features are equal (and when a sample has no hole or no known position).
    """
    height, width = output_features.shape[-2:]
    size = (min(tokens, height), min(tokens, width))
    if (height, width) != size:
        output_features = F.adaptive_avg_pool2d(output_features, size)
        target_features = F.adaptive_avg_pool2d(target_features, size)
    in_hole = F.adaptive_max_pool2d(hole.to(output_features.dtype), size).flatten(1)  # [B, N]
    known = 1 - in_hole
    difference = (_similarity(output_features) - _similarity(target_features)).abs()
    inter_pairs = in_hole[:, :, None] * known[:, None, :]
    intra_pairs = in_hole[:, :, None] * in_hole[:, None, :]
    inter = (difference * inter_pairs).sum() / inter_pairs.sum().clamp_min(1)
    intra = (difference * intra_pairs).sum() / intra_pairs.sum().clamp_min(1)
    return inter, intra


def _similarity(features: torch.Tensor) -> torch.Tensor:
    tokens = F.normalize(features.flatten(2), dim=1)  # [B, C, N]
    return tokens.transpose(1, 2) @ tokens


def memory_losses(
    query: torch.Tensor, gate: torch.Tensor, items: torch.Tensor, margin: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNAD's ``(compactness, separateness)`` for queries ``[B, N, d]`` in the block their gate picks.

    Compactness pulls each query to its nearest item; separateness (triplet, ``margin``) keeps the second-nearest item
    farther away (0 with a single item per block). Items are detached, as in MNAD: the losses shape the queries.
    """
    blocks, count, dim = items.shape
    items = items.detach()
    block = gate.argmax(-1)  # [B, N]
    scores = torch.einsum("bnd,kid->bnki", query, items)
    scores = scores.gather(2, block[..., None, None].expand(-1, -1, 1, count)).squeeze(2)  # [B, N, items]
    nearest = scores.topk(min(2, count), dim=-1).indices
    flat = items.reshape(blocks * count, dim)
    first = flat[block * count + nearest[..., 0]]
    compactness = (query - first).pow(2).sum(-1).mean()
    if count < 2:
        return compactness, compactness.new_zeros(())
    second = flat[block * count + nearest[..., 1]]
    separateness = F.relu((query - first).norm(dim=-1) - (query - second).norm(dim=-1) + margin).mean()
    return compactness, separateness


def disentangle_loss(gate: torch.Tensor) -> torch.Tensor:
    """Label-free block assignment: mean entropy of each position's gate minus the entropy of the mean gate, plus
    ``log(blocks)`` so that 0 means every position picks one block and every block is used equally."""
    entropy = -(gate * gate.clamp_min(1e-8).log()).sum(-1).mean()
    mean = gate.reshape(-1, gate.shape[-1]).mean(0)
    usage = -(mean * mean.clamp_min(1e-8).log()).sum()
    return entropy - usage + math.log(gate.shape[-1])


@dataclass(frozen=True)
class MDRNOptions:
    """The weights of the loss terms (each named after its term), where InCo² reads the discriminator, and the
    discriminator's size."""

    hole: float = 6.0
    valid: float = 1.0
    coarse: float = 1.0
    adversarial: float = 0.1
    inter: float = 1.0
    intra: float = 1.0
    compactness: float = 0.01
    separateness: float = 0.01
    disentangle: float = 0.01
    #: The discriminator layer whose features InCo² compares, and the pooled grid side of those features.
    inco2_layer: int = 2
    inco2_tokens: int = 32
    #: Width of the SN-PatchGAN's first layer and its number of layers.
    discriminator_width: int = 64
    discriminator_layers: int = 6


#: The loss terms of :class:`MDRNOptions`, each weighted by the field of its name.
TERMS = ("hole", "valid", "coarse", "adversarial", "inter", "intra", "compactness", "separateness", "disentangle")


class MDRNObjective(GanObjective):
    """The MDRN objective with an SN-PatchGAN discriminator on ``[composite in [-1, 1], hole]``."""

    Options = MDRNOptions

    def __init__(self, config: MDRNConfig, options: MDRNOptions = MDRNOptions()) -> None:  # noqa: B008 (frozen)
        super().__init__()
        if not 0 <= options.inco2_layer < options.discriminator_layers:
            raise ValueError(f"inco2_layer must be in [0, {options.discriminator_layers}), got {options.inco2_layer}")
        self.trains_discriminator = options.adversarial != 0
        if not self.trains_discriminator and (options.inter or options.intra):
            raise ValueError("InCo² compares the discriminator's features, which an untrained discriminator makes "
                             "meaningless: with adversarial 0, set inter and intra to 0 too")
        self.discriminator = SNPatchGAN(4, sn_patch_widths(options.discriminator_width, options.discriminator_layers),
                                        "same", last_activation=False)
        self.weights = {name: getattr(options, name) for name in TERMS}
        self.inco2_layer, self.inco2_tokens = options.inco2_layer, options.inco2_tokens

    def _score(self, image: torch.Tensor, hole: torch.Tensor):
        return self.discriminator(image * 2 - 1, hole, return_features=True)

    def generator_step(self, model: MDRN, image: torch.Tensor, hole: torch.Tensor):
        outputs = model.forward_train(image, hole)
        prediction = outputs["image"]
        composite = image + hole * (prediction - image)
        terms = {
            "hole": masked_l1(prediction, image, hole),
            "valid": masked_l1(prediction, image, 1 - hole),
            "coarse": hole_valid_l1(outputs["coarse"], image, hole, self.weights["hole"], self.weights["valid"]),
        }
        if self.trains_discriminator:
            scores, fake_features = self._score(composite, hole)
            with torch.no_grad():
                _, real_features = self._score(image, hole)
            terms["adversarial"] = hinge_g_loss(scores)
            terms["inter"], terms["intra"] = inco2_loss(fake_features[self.inco2_layer],
                                                        real_features[self.inco2_layer], hole, self.inco2_tokens)
        else:  # a reconstruction-only run: the trainer never updates the discriminator, so it is not run
            terms["adversarial"] = terms["inter"] = terms["intra"] = prediction.new_zeros(())
        query, gate = outputs["memory_query"], outputs["memory_gate"]
        terms["compactness"], terms["separateness"] = memory_losses(query, gate, model.memory_items())
        terms["disentangle"] = disentangle_loss(gate)
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, {name: value.detach() for name, value in terms.items()}, outputs

    def discriminator_step(self, image: torch.Tensor, hole: torch.Tensor, outputs: dict[str, torch.Tensor]):
        fake = image + hole * (outputs["image"].detach() - image)
        real_scores, _ = self._score(image, hole)
        fake_scores, _ = self._score(fake, hole)
        real, fake_term = hinge_d_terms(real_scores, fake_scores)
        return real + fake_term, {"real": real.detach(), "fake": fake_term.detach()}
