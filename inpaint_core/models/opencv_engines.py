"""OpenCV's classical inpainting (Telea's fast marching and Navier-Stokes) behind the model interface.

They need no weights, so the pipeline, the nodes and the app work on a fresh machine, and they are the baseline that
every trained network is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Family, register_family
from .base import InpaintModel
from .prefill import CV2_METHODS, opencv_fill


@dataclass(frozen=True)
class OpenCVConfig:
    method: str = "telea"
    #: Radius in pixels of the neighbourhood each filled pixel is computed from (OpenCV's ``inpaintRadius``).
    radius: int = 5

    def __post_init__(self) -> None:
        if self.method not in CV2_METHODS:
            raise ValueError(f"method must be one of {sorted(CV2_METHODS)}, got {self.method!r}")
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


register_family(
    Family(
        name="opencv",
        config_cls=OpenCVConfig,
        model_cls=OpenCVInpaint,
        presets={"telea": OpenCVConfig("telea"), "ns": OpenCVConfig("ns")},
        needs_weights=False,
    )
)

