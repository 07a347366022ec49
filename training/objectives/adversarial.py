"""Hinge adversarial losses shared by the family objectives."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss ``-mean(D(fake))``."""
    return -fake.mean()


def hinge_d_terms(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean(relu(1 - D(real))), mean(relu(1 + D(fake))))``, the two halves of the discriminator hinge loss."""
    return F.relu(1 - real).mean(), F.relu(1 + fake).mean()


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``0.5 * mean(relu(1 - real)) + 0.5 * mean(relu(1 + fake))`` (neuralgym's ``gan_hinge_loss``, DeepFillv2)."""
    real_term, fake_term = hinge_d_terms(real, fake)
    return 0.5 * real_term + 0.5 * fake_term
