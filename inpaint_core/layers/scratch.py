"""Scratch buffers for the attention layers' chunk loops.

Each chunk of an attention layer needs temporaries as large as its score matrix (tens of MB). Allocated fresh, each
costs more in page faults (the allocator hands large blocks back to the system, and the next one is faulted in page
by page) than the arithmetic done in it; without autograd, one buffer per name serves every chunk.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class ScratchBuffers:
    """Temporaries by name: fresh tensors while autograd records (it keeps them for the backward pass), else one
    buffer per name, grown to the largest request and handed out as views."""

    def __init__(self, like: torch.Tensor) -> None:
        self.like, self.reuse, self.flat = like, not torch.is_grad_enabled(), {}

    def get(self, name: str, *shape: int) -> torch.Tensor:
        if not self.reuse:
            return self.like.new_empty(shape)
        count = math.prod(shape)
        if name not in self.flat or self.flat[name].numel() < count:
            self.flat[name] = self.like.new_empty(count)
        return self.flat[name][:count].view(shape)

    def zeros(self, name: str, *shape: int) -> torch.Tensor:
        return self.get(name, *shape).zero_()

    def matmul(self, a: torch.Tensor, b: torch.Tensor, into: torch.Tensor) -> torch.Tensor:
        """``into = a @ b`` (``into`` contiguous), computed in place without autograd; returns ``into``."""
        if self.reuse:
            return torch.matmul(a, b, out=into)
        return into.copy_(a @ b)

    def softmax(
        self, scores: torch.Tensor, dim: int, floor: float | None = None, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Softmax of ``scores`` along ``dim``, clamped below at ``floor`` and times ``weight`` where given (in place,
        in a buffer, without autograd)."""
        if not self.reuse:
            out = F.softmax(scores, dim=dim)
            out = out if floor is None else out.clamp_min(floor)
            return out if weight is None else out * weight
        out = torch.softmax(scores, dim, out=self.get("softmax", *scores.shape))
        out = out if floor is None else out.clamp_min_(floor)
        return out if weight is None else out.mul_(weight)
