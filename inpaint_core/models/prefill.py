"""What a network sees under the hole, and how a residual network's output is built on it.

Shared by the families that learn a correction of a classical fill (the compact DeepFill, CTSDG and MDRN presets) and
by CTSDG, whose Canny edges are computed on a Telea-filled image so that they do not trace the hole's outline. The
pipeline only hides the hole (zeros); everything here is the model's business.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

#: OpenCV's inpainting methods by name.
CV2_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
#: Radius in pixels of the neighbourhood OpenCV fills each pixel from, for the pre-fills.
PREFILL_RADIUS = 5
#: What a residual network sees under the hole: zeros, or OpenCV's Telea fill (:func:`telea_prefill`).
PREFILLS = ("zeros", "telea")


@torch.compiler.disable  # OpenCV on numpy arrays: outside any compiled graph (tracing it fails a guard)
def opencv_fill(
    image: torch.Tensor, hole: torch.Tensor, method: str = "telea", radius: int = PREFILL_RADIUS
) -> torch.Tensor:
    """``cv2.inpaint`` of ``image`` ([0, 1], ``[B, 3, H, W]``) where ``hole`` > 0.5, on 8-bit RGB on the CPU; the
    result has the input's device and dtype and carries no gradient (networks use it as a pre-fill)."""
    rgb = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    holes = (hole.detach()[:, 0] > 0.5).to(torch.uint8).cpu().numpy()
    filled = [cv2.inpaint(np.ascontiguousarray(rgb[i]), holes[i], radius, CV2_METHODS[method])
              for i in range(len(rgb))]
    out = torch.from_numpy(np.stack(filled)).permute(0, 3, 1, 2).float() / 255
    return out.to(device=image.device, dtype=image.dtype)


def telea_prefill(x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """``x`` (in [-1, 1]) with its hole pixels replaced by OpenCV's Telea fill of the known ones (no gradient)."""
    return torch.lerp(x, opencv_fill((x + 1) / 2, hole) * 2 - 1, hole)


def residual_output(raw: torch.Tensor, base: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """A network's image from its last layer's output ``raw``: ``tanh(raw)`` when ``weight`` is None; otherwise (a
    residual network) ``base`` plus the correction ``raw`` scaled by ``weight``, the hole's :func:`boundary_ramp`, so
    that it stays inside the hole (unclamped)."""
    return torch.tanh(raw) if weight is None else base + raw * weight


def boundary_ramp(hole: torch.Tensor, width: float) -> torch.Tensor:
    """``[B, 1, H, W]`` weight in [0, 1]: a hole pixel's Euclidean distance to the nearest known pixel divided by
    ``width``, clipped at 1 (0 outside the hole; 1 everywhere in it when ``width`` is 0). No gradient."""
    if width <= 0:
        return (hole.detach() > 0.5).to(hole.dtype)
    holes = (hole.detach()[:, 0] > 0.5).to(torch.uint8).cpu().numpy()
    ramps = [np.minimum(cv2.distanceTransform(h, cv2.DIST_L2, 5) / width, 1.0) for h in holes]
    return torch.from_numpy(np.stack(ramps)[:, None].astype(np.float32)).to(device=hole.device, dtype=hole.dtype)
