"""Exponential moving average of the generator's weights (the weights that are sampled, evaluated and published)."""

from __future__ import annotations

import copy

import torch

from inpaint_core.models.base import InpaintModel


class Ema:
    """A frozen copy of ``model`` whose parameters follow ``decay * ema + (1 - decay) * model`` after each step;
    buffers (BatchNorm statistics) are copied. Before ``start_step`` the copy just tracks the model."""

    def __init__(self, model: InpaintModel, decay: float, start_step: int = 0) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.start_step = start_step
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: InpaintModel, step: int) -> None:
        decay = self.decay if step >= self.start_step else 0.0
        for average, param in zip(self.model.parameters(), model.parameters(), strict=True):
            if decay == 0:
                average.copy_(param)
            else:
                average.lerp_(param.to(average.dtype), 1 - decay)
        for average, buffer in zip(self.model.buffers(), model.buffers(), strict=True):
            average.copy_(buffer)
