"""The inpainting pipeline: sizes, regions, compositing and blending, for any model.

Strategies (as users know them from IOPaint and Crop-and-Stitch):

- ``original``: the whole image at its own size, padded to the network's size multiple;
- ``resize``: the whole image scaled so that its longer side is the working size, the prediction scaled back;
- ``crop``: each connected hole region in a box with ``margin`` pixels of context, made square, scaled to the working
  size, inpainted and stitched back. Its cost grows with the holes, not with the image.

Soft masks: the network fills every pixel whose mask value is at least ``threshold``; the result is blended with the
input by the mask value there, so a soft brush edge gives a soft transition. ``feather`` extends the blend that many
pixels outside the hole. Pixels that are neither in the hole nor in the feather band are returned bit for bit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .boxes import context_box, scale_hole, scale_image
from .errors import InputError
from .image_ops import keep_grayscale, output_buffer, prepare_inputs
from .masks.ops import bounding_boxes, feather, grow, hole_extent
from .models.base import InpaintModel
from .options import InpaintOptions

#: Sides above this are refused by the ``original`` strategy for learned networks (use ``crop`` or ``resize``).
MAX_ORIGINAL_SIDE = 2048
#: Hole regions closer than ``margin / MERGE_DIVISOR`` pixels share one crop.
MERGE_DIVISOR = 4

Progress = Callable[[int, int], None]
LOG = logging.getLogger(__name__)


@dataclass
class InpaintResult:
    image: torch.Tensor
    #: The hole the network filled, ``[B, 1, H, W]`` bool.
    hole: torch.Tensor
    #: Extra outputs of the network (e.g. CTSDG's ``"edge"``) at the image's size, zero outside the inpainted boxes.
    extras: dict[str, torch.Tensor] = field(default_factory=dict)
    #: For a model that chooses per image (``auto``), one line per image of the batch: which network and why.
    notes: list[str] = field(default_factory=list)


def inpaint(model: InpaintModel, image, hole, strategy: str | None = None, **options) -> torch.Tensor:
    """Inpaint ``image`` ([0, 1], ``[B, 3, H, W]``) where ``hole`` is 1; options as :func:`inpaint_detailed`."""
    return inpaint_detailed(model, image, hole, strategy, extras=False, **options).image


def inpaint_detailed(
    model: InpaintModel,
    image,
    hole,
    strategy: str | None = None,
    *,
    options: InpaintOptions | None = None,
    generator: torch.Generator | None = None,
    progress: Progress | None = None,
    extras: bool = True,
    **overrides,
) -> InpaintResult:
    """Run the pipeline and return the composited image, the hole used and the network's extra outputs.

    ``options`` (an :class:`~inpaint_core.options.InpaintOptions`, its defaults when None) and ``strategy`` and the
    other option names as keywords, which replace its fields: ``margin`` (context pixels around each region,
    ``crop``), ``feather_pixels`` (width of the blend outside the hole), ``color_match`` (shift each prediction's
    colour statistics to those of the known pixels around its hole), ``threshold`` (mask values at or above it are
    holes), ``working_size`` (overrides the model's for ``resize`` and ``crop``; 0 or None: the model's), ``seed``.
    ``generator``: used instead of one seeded with ``seed``. ``progress(done, total)`` is called after each region;
    raising from it cancels the run. ``extras=False`` leaves :attr:`InpaintResult.extras` empty (each extra output
    is an image-sized canvas). A mask without any hole returns the image unchanged, whatever its size.
    """
    options = InpaintOptions.resolve(options, strategy=strategy, **overrides)
    given = image
    image, soft = prepare_inputs(image, hole)
    return inpaint_prepared(model, image, soft, options, generator, progress, given=given, extras=extras)


def inpaint_prepared(
    model: InpaintModel,
    image: torch.Tensor,
    soft: torch.Tensor,
    options: InpaintOptions,
    generator: torch.Generator | None = None,
    progress: Progress | None = None,
    given: object = None,
    extras: bool = True,
) -> InpaintResult:
    """:func:`inpaint_detailed` of an image and soft hole as :func:`prepare_inputs` returns them, with resolved
    ``options`` (the face path converts its input once and calls this for each face crop). ``given``: what the caller
    passed to :func:`prepare_inputs`, so that the result is written in place only where that made a copy (default:
    ``image`` itself, which is then never written to). ``extras``: as :func:`inpaint_detailed`."""
    strategy, margin, feather_pixels = options.strategy, options.margin, options.feather_pixels
    binary = soft >= options.threshold
    empty, full = hole_extent(binary)
    if full.any():
        raise InputError("the mask covers the whole image: there are no known pixels to inpaint from")
    result = InpaintResult(output_buffer(image, image if given is None else given), binary, {})
    if empty.all():
        _report(progress, 1, 1)
        return result
    generator = options.generator(model.device) if generator is None else generator
    if model.chooses_per_image:
        _run_chosen(model, image, soft, options, generator, progress, extras, result)
        return result
    working_size = options.working_size or model.working_size
    model.use_precision(options.precision)
    if options.compile:
        model.compile_for(working_size)
    runner = _Runner(model, generator, working_size, options.color_match, soft, binary, feather_pixels, extras)
    with torch.inference_mode():
        if strategy == "crop":
            _run_crops(runner, image, binary, max(margin, math.ceil(feather_pixels)), result, progress)
        else:
            if strategy == "original":
                _check_original_size(model, image)
            size = None if strategy == "original" else runner.working_size
            for index in range(image.shape[0]):
                if not empty[index]:
                    runner.fill_box(
                        image[index : index + 1],
                        binary[index : index + 1],
                        (0, 0, *image.shape[-2:]),
                        size,
                        result,
                        index,
                    )
                _report(progress, index + 1, image.shape[0])
    result.image = keep_grayscale(image, result.image)
    return result


def _run_chosen(model, image, soft, options, generator, progress, extras, result: InpaintResult) -> None:
    """Fill each image of the batch with the network ``model.choose`` picks for it, and note the choice."""
    for index in range(image.shape[0]):
        one = slice(index, index + 1)
        network, reason = model.choose(image[one], result.hole[one])
        result.notes.append(reason)
        LOG.info("auto, image %d: %s", index, reason)
        if result.hole[one].any():
            filled = inpaint_prepared(network, image[one], soft[one], options, generator, extras=extras)
            result.image[one] = filled.image
            for name, value in filled.extras.items():
                result.extras.setdefault(name, value.new_zeros((image.shape[0], *value.shape[1:])))[one] = value
        _report(progress, index + 1, image.shape[0])


def _check_original_size(model: InpaintModel, image: torch.Tensor) -> None:
    if model.fixed_size:
        raise InputError(
            f"{model.name} runs at {model.working_size}x{model.working_size} only; use 'resize' or 'crop'"
        )
    if model.size_multiple > 1 and max(image.shape[-2:]) > MAX_ORIGINAL_SIDE:
        raise InputError(
            f"{image.shape[-2]}x{image.shape[-1]} is too large for the 'original' strategy with a learned network "
            f"(at most {MAX_ORIGINAL_SIDE} per side); use 'crop', which inpaints around each hole"
        )


def _run_crops(runner, image, binary, margin, result, progress) -> None:
    square = runner.model.fixed_size
    jobs = [(index, box) for index in range(image.shape[0]) for box in region_boxes(binary[index, 0], margin, square)]
    # Holes filled by an earlier region count as known pixels now (one region alone needs no record of that).
    filled = torch.zeros_like(binary) if len(jobs) > 1 else None
    for done, (index, crop) in enumerate(jobs, start=1):
        top, left, bottom, right = crop
        window = (slice(index, index + 1), slice(None), slice(top, bottom), slice(left, right))
        todo = binary[window] if filled is None else binary[window] & ~filled[window]
        if todo.any():
            done_before = None if filled is None else filled[window]
            runner.fill_box(result.image[window], todo, crop, runner.working_size, result, index, done_before)
            if filled is not None:
                filled[window] |= todo
        _report(progress, done, len(jobs))


def region_boxes(binary: torch.Tensor, margin: int, square: bool = False) -> list[tuple[int, int, int, int]]:
    """The ``crop`` strategy's boxes for one ``[H, W]`` hole mask, in order: each connected region (regions closer
    than about ``margin / MERGE_DIVISOR`` merged) grown by ``margin`` pixels of context, kept inside the image, and
    square when the image allows (always for ``square``: networks of a fixed size)."""
    height, width = binary.shape
    return [
        context_box(box, margin, height, width, square)
        for box in bounding_boxes(binary, merge_distance=max(1, margin // MERGE_DIVISOR))
    ]


class _Runner:
    """Runs the model on one box of one image and composites the prediction into the result."""

    def __init__(self, model, generator, working_size, color_match, soft, binary, feather_pixels, extras) -> None:
        self.model, self.generator, self.working_size, self.color_match = model, generator, working_size, color_match
        self.soft, self.binary, self.feather_pixels, self.extras = soft, binary, feather_pixels, extras

    def fill_box(self, crop, hole, box, size, result: InpaintResult, index: int, filled=None) -> None:
        """Inpaint ``crop`` (the pixels of ``box`` in image ``index``) where ``hole`` is true, and blend it in."""
        top, left, bottom, right = box
        hole = hole.to(crop.dtype)
        outputs = self._predict(crop, hole, size)
        prediction = outputs.pop("image")
        if self.color_match:
            prediction = match_colors(prediction, crop, hole)
        weight = self._weight(index, box, filled)
        result.image[index : index + 1, :, top:bottom, left:right] = crop + (prediction - crop) * weight
        for name, value in outputs.items() if self.extras else ():
            canvas = result.extras.setdefault(
                name, result.image.new_zeros((result.image.shape[0], value.shape[1], *result.image.shape[-2:]))
            )
            canvas[index : index + 1, :, top:bottom, left:right] = value

    def _weight(self, index: int, box, filled) -> torch.Tensor:
        """The blend weight in ``box``: the mask value in the hole, the feather band around it, 0 where filled."""
        window = (slice(index, index + 1), slice(None), slice(box[0], box[2]), slice(box[1], box[3]))
        weight = blend_weight(self.binary[window], self.soft[window], self.feather_pixels)
        return weight if filled is None else weight * ~filled

    def _predict(self, crop: torch.Tensor, hole: torch.Tensor, size: int | None) -> dict[str, torch.Tensor]:
        """Scale (``size``: longer side) and pad to what the model takes, predict, and undo both."""
        model = self.model
        height, width = crop.shape[-2:]
        if model.fixed_size:
            target_h = target_w = model.working_size
        elif size is None:
            target_h, target_w = height, width
        else:
            scale = size / max(height, width)
            target_h, target_w = max(1, round(height * scale)), max(1, round(width * scale))
        net_image = scale_image(network_input(crop, hole), target_h, target_w)
        net_hole = scale_hole(hole, target_h, target_w)
        multiple = model.size_multiple
        pad_h, pad_w = -target_h % multiple, -target_w % multiple
        if pad_h or pad_w:
            mode = "reflect" if pad_h < target_h and pad_w < target_w else "replicate"
            net_image = F.pad(net_image, (0, pad_w, 0, pad_h), mode=mode)
            net_hole = F.pad(net_hole, (0, pad_w, 0, pad_h))
        if (target_h, target_w) != (height, width):  # the hole grew where scaling mixed hole and known pixels
            net_image = network_input(net_image, net_hole)
        outputs = model.predict_outputs(
            net_image.to(model.device, model.dtype), net_hole.to(model.device, model.dtype), self.generator
        )
        return {
            name: scale_image(value.float()[..., :target_h, :target_w].to(crop.device), height, width)
            for name, value in outputs.items()
        }


def blend_weight(binary: torch.Tensor, soft: torch.Tensor, feather_pixels: float = 0) -> torch.Tensor:
    """How much of a prediction replaces the image: the mask value in the hole, a fall-off over ``feather_pixels``
    outside it, 0 elsewhere."""
    weight = torch.where(binary, soft, torch.zeros_like(soft))
    if feather_pixels > 0:
        weight = torch.maximum(weight, feather(binary.to(soft.dtype), feather_pixels))
    return weight


def network_input(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """What a network is shown of ``image``: never what is under the hole, which is zeroed. What a model puts there
    instead (CTSDG's and the compact presets' Telea fill) is the model's business."""
    return image * (1 - hole)


def match_colors(
    prediction: torch.Tensor, image: torch.Tensor, hole: torch.Tensor, ring: int | None = None
) -> torch.Tensor:
    """Shift and scale the prediction per channel so that, on the known ring around the hole, it has the image's mean
    and standard deviation (the scale is limited to [0.5, 2])."""
    ring = ring or max(4, math.ceil(0.05 * max(hole.shape[-2:])))
    band = (grow(hole, ring) - hole) > 0
    if not band.any():
        return prediction
    band = band.expand_as(prediction)
    out = prediction.clone()
    for channel in range(prediction.shape[1]):
        mask = band[:, channel]
        pred, real = prediction[:, channel][mask], image[:, channel][mask]
        scale = (real.std() / pred.std().clamp_min(1e-4)).clamp(0.5, 2.0) if pred.numel() > 1 else 1.0
        out[:, channel] = (prediction[:, channel] - pred.mean()) * scale + real.mean()
    return out.clamp(0, 1)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
