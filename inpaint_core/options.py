"""The options of the pipeline and of the face crop: one name, one default, one range and one help text each.

Every host builds its controls from these fields (the ComfyUI nodes' widgets, the app's controls, the command
line's flags), so that an option is spelled, bounded and defaulted once. Each field's ``metadata["option"]`` is an
:class:`OptionSpec`: the label a UI shows, the help text, the inclusive range (also the validation), a UI step, and
the choices of a string option. ``docs/options.md`` lists each option's name in every host.

Defaults, and why:

- ``strategy="crop"``: its cost grows with the holes, not with the image, so it suits photos of any size.
- ``margin=64``: enough context around a hole at the bundled networks' 256-pixel working size.
- ``feather_pixels=0``: the pixels outside the mask are returned bit for bit unless asked otherwise; a soft mask
  already blends by its value. Raise it when a seam shows.
- ``threshold=0.1``: soft brush edges and JPEG-degraded masks count as hole where they are clearly painted.
- ``color_match=False``: the networks' colours are usually right; matching can shift a fill whose ring is busy.
- ``working_size=0``: the network's own size, the one it was trained at.
- ``seed=0``: the networks that draw noise give the same result for the same input unless the seed changes.
- ``compile=False``: ``torch.compile`` pays off only over many runs at one size (its first run at each size takes
  tens of seconds to minutes) and needs a C++ compiler on the CPU.
- ``precision="auto"``: the dtype the model was loaded with (fp32 unless asked otherwise: what the networks were
  trained and checked in); ``fp16``/``bf16`` halve memory on a GPU.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from .errors import InputError

STRATEGIES = ("original", "resize", "crop")
#: Arithmetic of the network (:meth:`inpaint_core.InpaintModel.use_precision`); ``auto`` keeps the model's dtype.
#: Half precision is for GPUs; bf16 also runs on CPUs (where it is rarely faster).
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
#: Largest seed (ComfyUI's seeds are unsigned 64-bit integers; a ``torch.Generator`` takes them all).
MAX_SEED = 2**64 - 1
#: Box side added on each side of a face detection for aligned framing; see :mod:`inpaint_core.faces`.
ALIGNED_MARGIN = 0.26


@dataclass(frozen=True)
class OptionSpec:
    """How an option is shown and checked: ``minimum``/``maximum`` are inclusive; ``step`` is for UI widgets."""

    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()


def _option(default: Any, label: str, help: str, **spec: Any) -> Any:
    return field(default=default, metadata={"option": OptionSpec(label, help, **spec)})


class _Options:
    """Validation, keyword overrides and the spec listing of :class:`InpaintOptions` and :class:`FaceOptions`."""

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            object.__setattr__(self, item.name, _checked(item, getattr(self, item.name)))

    @classmethod
    def specs(cls) -> dict[str, tuple[dataclasses.Field, OptionSpec]]:
        """Each option's field (name, type, default) and its spec, in declaration order."""
        return {item.name: (item, item.metadata["option"]) for item in dataclasses.fields(cls)}

    @classmethod
    def resolve(cls, options=None, **overrides: Any):
        """``options`` (or the defaults) with the keywords that are not None replacing its fields."""
        base = cls() if options is None else options
        if not isinstance(base, cls):
            raise InputError(f"options must be {cls.__name__}, got {type(base).__name__}")
        unknown = sorted(set(overrides) - set(cls.specs()))
        if unknown:
            raise InputError(f"unknown option(s) {', '.join(unknown)}; {cls.__name__} has {', '.join(cls.specs())}")
        changes = {name: value for name, value in overrides.items() if value is not None}
        return dataclasses.replace(base, **changes) if changes else base

    def as_kwargs(self) -> dict[str, Any]:
        """The options as keywords (``ic.inpaint(model, image, hole, **options.as_kwargs())``)."""
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}


def _checked(item: dataclasses.Field, value: Any) -> Any:
    """``value`` if it has the field's type and lies in its range; an integer for a float option becomes a float,
    and a whole float (a UI slider's 64.0) or a numpy integer for an integer option an ``int``."""
    spec: OptionSpec = item.metadata["option"]
    kind = {"bool": bool, "int": int, "float": float, "str": str}[str(item.type)]
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if number and (kind is float or kind is int and float(value).is_integer()):  # a UI slider's 64.0 is 64
        value = kind(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InputError(f"{item.name} must be {kind.__name__}, got {value!r}")
    if kind is float and not math.isfinite(value):  # NaN passes every range comparison
        raise InputError(f"{item.name} must be a finite number, got {value}")
    if spec.choices and value not in spec.choices:
        raise InputError(f"unknown {item.name} {value!r}; choose one of {', '.join(spec.choices)}")
    low, high = spec.minimum, spec.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{item.name} must be in [{low}, {high}], got {value}")
    return value


@dataclass(frozen=True)
class InpaintOptions(_Options):
    """The options of :func:`inpaint_core.inpaint` (see the module doc for why each default)."""

    #: Options that change the loaded model itself (its weights' dtype, its compiled graph), not only one run: a host
    #: whose one model serves every user at once (the app) keeps their defaults instead of offering them per request.
    MODEL_WIDE: ClassVar[tuple[str, ...]] = ("compile", "precision")

    strategy: str = _option(
        "crop", "Strategy",
        "crop: each hole region with context around it at the network's size; resize: the whole image at the "
        "network's size; original: the whole image at full size",
        choices=STRATEGIES)
    margin: int = _option(
        64, "Context margin (crop), pixels", "crop: pixels of known context around each hole region",
        minimum=0, maximum=1024, step=8)
    feather_pixels: float = _option(
        0.0, "Feather, pixels", "how far outside the hole the result blends into the image (0: not at all)",
        minimum=0, maximum=256, step=1)
    threshold: float = _option(
        0.1, "Mask threshold", "mask values at or above it are holes; softer values only blend",
        minimum=0.01, maximum=1, step=0.01)
    color_match: bool = _option(
        False, "Match colours", "shift each fill's colour statistics to those of the known pixels around its hole")
    working_size: int = _option(
        0, "Working size, pixels", "resize and crop: the size the network sees; 0 = the network's own",
        minimum=0, maximum=4096, step=8)
    seed: int = _option(
        0, "Seed", "seeds the randomness of the networks that draw noise", minimum=0, maximum=MAX_SEED, step=1)
    compile: bool = _option(
        False, "Compile (torch.compile)",
        "compile the network for the working size: the first run at a size is slow, later ones faster")
    precision: str = _option(
        "auto", "Precision", "the network's arithmetic: auto (as loaded), fp32, or half precision (fp16, bf16) on a "
        "GPU; converts the model's weights in place", choices=PRECISIONS)

    def generator(self, device: str | torch.device = "cpu") -> torch.Generator:
        """The random generator of one run, seeded with ``seed``, on ``device``: the one place a seed becomes one."""
        return torch.Generator(device=device).manual_seed(self.seed)


@dataclass(frozen=True)
class FaceOptions(_Options):
    """The options of :func:`inpaint_core.inpaint_faces` beyond the pipeline's (which it takes too)."""

    assume_aligned: bool = _option(
        False, "Already an aligned face", "the image is one aligned face filling the frame: skip detection")
    margin: float = _option(
        ALIGNED_MARGIN, "Face margin, box sides",
        "context added on each side of a face detection, in face-box sides (aligned framing)",
        minimum=0, maximum=1, step=0.01)
    min_face: int = _option(
        32, "Smallest face, pixels", "smallest face side the detector reports", minimum=8, maximum=2048, step=1)
