"""OpenCV's classical inpainting (Telea's fast marching and Navier-Stokes) behind the model interface.

They need no weights, so the pipeline, the nodes and the app work on a fresh machine, and they are the baseline that
every trained network is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ..registry import Family, register_family
from .base import InpaintModel

_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


@dataclass(frozen=True)
class OpenCVConfig:
    method: str = "telea"
    #: Radius in pixels of the neighbourhood each filled pixel is computed from (OpenCV's ``inpaintRadius``).
    radius: int = 5

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {sorted(_METHODS)}, got {self.method!r}")
        if self.radius < 1:
            raise ValueError(f"radius must be >= 1, got {self.radius}")


class OpenCVInpaint(InpaintModel):
    """``cv2.inpaint`` on 8-bit RGB; runs on the CPU whatever device the inputs are on."""

    family = "opencv"
    size_multiple = 1
    working_size = 512

    def __init__(self, config: OpenCVConfig, preset: str | None = None) -> None:
        super().__init__(config, preset)

    def predict_outputs(self, image, hole, generator=None):
        return {"image": opencv_fill(image, hole, self.config.method, self.config.radius)}


def opencv_fill(image: torch.Tensor, hole: torch.Tensor, method: str = "telea", radius: int = 5) -> torch.Tensor:
    """``cv2.inpaint`` of ``image`` ([0, 1], ``[B, 3, H, W]``) where ``hole`` > 0.5, on 8-bit RGB on the CPU; the
    result has the input's device and dtype and carries no gradient (networks use it as a pre-fill)."""
    rgb = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    holes = (hole.detach()[:, 0] > 0.5).to(torch.uint8).cpu().numpy()
    filled = [cv2.inpaint(np.ascontiguousarray(rgb[i]), holes[i], radius, _METHODS[method]) for i in range(len(rgb))]
    out = torch.from_numpy(np.stack(filled)).permute(0, 3, 1, 2).float() / 255
    return out.to(device=image.device, dtype=image.dtype)


register_family(
    Family(
        name="opencv",
        config_cls=OpenCVConfig,
        model_cls=OpenCVInpaint,
        presets={"telea": OpenCVConfig("telea"), "ns": OpenCVConfig("ns")},
        needs_weights=False,
    )
)


#: What a residual network sees under the hole: zeros, or OpenCV's Telea fill (:func:`telea_prefill`).
PREFILLS = ("zeros", "telea")


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

