"""Exponential moving average of the generator's weights (the weights that are sampled, evaluated and published)."""

from __future__ import annotations

import copy

import torch

from inpaint_core.models.base import InpaintModel


class Ema:
    """A frozen copy of ``model`` whose parameters follow ``decay * ema + (1 - decay) * model`` after each step;
    buffers (BatchNorm statistics) are copied. Before ``start_step`` the copy just tracks the model.

    With ``warmup`` the decay ``n`` steps after ``start_step`` is at most ``(1 + n) / (10 + n)`` (TensorFlow's
    ``num_updates`` rule), so the average of a short run covers its last tenth or so instead of being mostly the
    initial weights (0.999 would need thousands of steps); in long runs the configured decay takes over."""

    def __init__(self, model: InpaintModel, decay: float, start_step: int = 0, warmup: bool = True) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.start_step = start_step
        self.warmup = warmup
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def decay_at(self, step: int) -> float:
        """The decay of the update after optimizer step ``step`` (0 = copy the weights)."""
        if step < self.start_step:
            return 0.0
        updates = step - self.start_step
        return min(self.decay, (1 + updates) / (10 + updates)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self, model: InpaintModel, step: int) -> None:
        decay = self.decay_at(step)
        for average, param in zip(self.model.parameters(), model.parameters(), strict=True):
            if decay == 0:
                average.copy_(param)
            else:
                average.lerp_(param.to(average.dtype), 1 - decay)
        for average, buffer in zip(self.model.buffers(), model.buffers(), strict=True):
            average.copy_(buffer)
