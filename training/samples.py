"""Sample grids for looking at a run: one row per image, input | output | ground truth."""

from __future__ import annotations

import torch


def sample_grid(image: torch.Tensor, hole: torch.Tensor, output: torch.Tensor, gap: int = 2) -> torch.Tensor:
    """``[3, H', W']`` in [0, 1]: each row shows the masked input (hole in white), the composited output and the
    original, separated by ``gap`` white pixels."""
    hole = hole.to(image.dtype)
    masked = image * (1 - hole) + hole
    composite = image * (1 - hole) + output.clamp(0, 1) * hole
    batch, _, height, width = image.shape
    grid = torch.ones(3, batch * (height + gap) - gap, 3 * (width + gap) - gap, dtype=image.dtype, device=image.device)
    for row in range(batch):
        for col, panel in enumerate((masked, composite, image)):
            top, left = row * (height + gap), col * (width + gap)
            grid[:, top : top + height, left : left + width] = panel[row]
    return grid.cpu()
