"""The one interface every inpainting network implements.

Public convention: images are float in [0, 1], ``[B, 3, H, W]``; the hole mask is ``[B, 1, H, W]`` with
1 = pixel to fill and 0 = keep. ``predict`` returns the network's raw prediction for every pixel; compositing with the
known pixels happens in the pipeline only. A network whose native convention differs converts inside ``predict``.
"""

from __future__ import annotations

import shutil
import time
import warnings
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import InputError
from ..options import PRECISIONS

_DTYPES = dict(zip(PRECISIONS[1:], (torch.float32, torch.float16, torch.bfloat16)))


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
    #: Submodules (``get_submodule`` names, ``""`` = the model) that :meth:`compile_for` compiles: the networks, not
    #: the pre- and post-processing on numpy, OpenCV and scikit-image around them.
    compile_modules: ClassVar[tuple[str, ...]] = ()
    #: True for a model that picks another network per image (``choose(image, hole) -> (network, reason)``), as
    #: :class:`inpaint_core.content.ByContent` does; the pipeline asks it before it crops or resizes.
    chooses_per_image: ClassVar[bool] = False

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
        with torch.inference_mode():
            return self.predict_outputs(image, hole, generator)["image"]

    def compile_targets(self) -> list[nn.Module]:
        """The modules :meth:`compile_for` compiles (``compile_modules`` by default)."""
        return [self.get_submodule(name) for name in self.compile_modules]

    def use_precision(self, precision: str) -> None:
        """Convert the weights in place to ``"fp32"``, ``"fp16"`` or ``"bf16"`` (nothing when they already are, or
        for ``"auto"``)."""
        if precision not in PRECISIONS:
            raise InputError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        if precision != "auto" and self.dtype != _DTYPES[precision]:
            self.to(_DTYPES[precision])

    def compile_for(self, height: int, width: int | None = None) -> float | None:
        """Opt in to ``torch.compile`` for inputs of ``height x width`` (the working size): compiles on a warm-up
        prediction at that size unless done before, and returns the seconds that took (0 when cached).

        Other sizes compile once each on first use (``dynamic=False``: one graph per size, cached by
        ``torch.compile``; past its cache limit of 8 sizes it runs eagerly). Returns None, with a warning that says
        why, when there is nothing to compile or no compiler works; the model then runs as before (eagerly).
        :meth:`uncompile` undoes it.
        """
        width = width or height
        if (height, width) in self.__dict__.get("_compiled_sizes", ()):
            return 0.0
        targets = self.compile_targets()
        reason = None
        if not targets:
            reason = f"{self.name} has no network to compile"
        elif self.device.type == "cpu" and not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")):
            reason = "torch.compile's CPU backend needs a C++ compiler (c++, g++ or clang++ on PATH); none was found"
        if reason is None:
            for module in targets:
                if "forward" not in module.__dict__:
                    module.forward = torch.compile(module.forward, dynamic=False)
            image = torch.rand(1, 3, height, width, device=self.device, dtype=self.dtype)
            hole = torch.zeros(1, 1, height, width, device=self.device, dtype=self.dtype)
            hole[..., height // 4 : height // 2, width // 4 : width // 2] = 1
            start = time.perf_counter()
            try:
                self.predict(image, hole)
            except Exception as error:  # noqa: BLE001 - any compiler failure falls back to eager mode
                self.uncompile()
                reason = f"torch.compile failed ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
            else:
                self.__dict__.setdefault("_compiled_sizes", set()).add((height, width))
                return time.perf_counter() - start
        warnings.warn(f"{reason}; {self.name} runs uncompiled", RuntimeWarning, stacklevel=2)
        return None

    def uncompile(self) -> None:
        """Back to eager execution after :meth:`compile_for`."""
        for module in self.compile_targets():
            module.__dict__.pop("forward", None)
        self.__dict__.pop("_compiled_sizes", None)

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
