"""Pixel reconstruction losses shared by the family objectives (images in the network's own range)."""

from __future__ import annotations

import torch


def masked_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over all pixels of ``|output - target| * mask`` (PConv's normalisation)."""
    return ((output - target).abs() * mask).mean()


def hole_valid_l1(
    output: torch.Tensor, target: torch.Tensor, hole: torch.Tensor, hole_weight: float, valid_weight: float
) -> torch.Tensor:
    """``hole_weight * masked_l1(hole) + valid_weight * masked_l1(1 - hole)`` (PConv's hole and valid terms)."""
    return hole_weight * masked_l1(output, target, hole) + valid_weight * masked_l1(output, target, 1 - hole)


def coarse_refined_l1(target: torch.Tensor, coarse: torch.Tensor, refined: torch.Tensor) -> torch.Tensor:
    """DeepFillv2's ``ae_loss``: L1 of both stages over all pixels (images in [-1, 1])."""
    return (target - coarse).abs().mean() + (target - refined).abs().mean()
