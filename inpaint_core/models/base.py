"""The one interface every inpainting network implements.

Public convention: images are float in [0, 1], ``[B, 3, H, W]``; the hole mask is ``[B, 1, H, W]`` with
1 = pixel to fill and 0 = keep. ``predict`` returns the network's raw prediction for every pixel; compositing with the
known pixels happens in the pipeline only. A network whose native convention differs converts inside ``predict``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import InputError


class InpaintModel(nn.Module):
    """Base class of the inpainting networks.

    Subclasses set the class attributes, keep their frozen config in ``self.config`` and implement
    :meth:`predict_outputs`.
    """

    family: ClassVar[str]
    #: Height and width must be multiples of this.
    size_multiple: ClassVar[int] = 8
    #: The resolution the network was trained at; the pipeline's ``resize`` and ``crop`` strategies work at it.
    working_size: ClassVar[int] = 256
    #: True when the network runs at ``working_size`` x ``working_size`` only.
    fixed_size: ClassVar[bool] = False
    #: True when the network expects an aligned face filling the frame.
    aligned_faces: ClassVar[bool] = False
    #: Names of the extra outputs of :meth:`predict_outputs` besides ``"image"`` (e.g. CTSDG's ``"edge"``).
    extra_outputs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, preset: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.preset = preset

    @property
    def name(self) -> str:
        return f"{self.family}.{self.preset}" if self.preset else self.family

    @property
    def device(self) -> torch.device:
        for tensor in (*self.parameters(), *self.buffers()):
            return tensor.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        tensor = next(iter(self.parameters()), None)
        return tensor.dtype if tensor is not None else torch.float32

    def predict_outputs(
        self, image: torch.Tensor, hole: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Raw prediction ``{"image": [B, 3, H, W] in [0, 1], **extra_outputs}`` for a binary ``hole``."""
        raise NotImplementedError

    def predict_unhidden(
        self, image: torch.Tensor, hole: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """:meth:`predict_outputs` of an ``image`` whose hole still holds its content, as some papers' official tests
        give it (CTSDG computes its edges on it). The pipeline never does this; the evaluation can."""
        return self.predict_outputs(image, hole, generator)

    def predict(
        self, image: torch.Tensor, hole: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Raw prediction ``[B, 3, H, W]`` in [0, 1]; ``image`` in [0, 1], ``hole`` 1 = fill."""
        self.check_input(image, hole)
        return self.predict_outputs(image, hole, generator)["image"]

    def check_input(self, image: torch.Tensor, hole: torch.Tensor) -> None:
        """Raise :class:`InputError` unless ``image`` and ``hole`` have the layout and size this network takes."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise InputError(f"{self.name}: image must be [B, 3, H, W], got {tuple(image.shape)}")
        if (
            hole.ndim != 4
            or hole.shape[1] != 1
            or hole.shape[0] != image.shape[0]
            or hole.shape[2:] != image.shape[2:]
        ):
            raise InputError(f"{self.name}: hole must be [B, 1, H, W] matching the image, got {tuple(hole.shape)}")
        height, width = image.shape[-2:]
        if self.fixed_size and (height, width) != (self.working_size, self.working_size):
            raise InputError(
                f"{self.name} runs at {self.working_size}x{self.working_size} only, got {height}x{width}; "
                "use inpaint_core.inpaint(), which resizes for you"
            )
        if height % self.size_multiple or width % self.size_multiple:
            raise InputError(
                f"{self.name} needs height and width that are multiples of {self.size_multiple}, "
                f"got {height}x{width}; use inpaint_core.inpaint(), which pads for you"
            )
