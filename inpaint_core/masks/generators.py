"""Random hole masks for training and evaluation, and a loader for mask files. Every mask is 1 = hole.

Each generator is ``fn(height, width, generator) -> torch.Tensor [H, W]`` (float32, values 0 and 1); ``generator``
is a ``torch.Generator`` or a ``numpy.random.Generator`` (a torch generator seeds a numpy one by drawing from it), so
the same seed gives the same mask. :func:`generate_mask` looks generators up by name (:data:`MASK_GENERATORS`).

Types (re-implemented from the descriptions in the papers and challenge reports named below):

- NTIRE 2022 challenge: ``thick``, ``medium``, ``thin`` (LaMa-style strokes and boxes with the challenge's 256 and
  512 configurations, five candidates drawn and those with more than 50 % hole dropped), ``every_n_lines``,
  ``nearest_neighbor``, ``completion`` and ``expand``;
- DeepFillv2: ``free_form`` (the official ``brush_stroke_mask``), ``box`` (its random box) and ``deepfill``
  (their union, the official training mask);
- files: :func:`load_mask_file` reads masks such as the NVIDIA irregular masks (white = hole).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw

from ..errors import InputError

Generator = torch.Generator | np.random.Generator
MaskFn = Callable[[int, int, Generator], torch.Tensor]


def numpy_rng(generator: Generator | None) -> np.random.Generator:
    """A numpy generator from a numpy or torch one (``None``: a fresh, unseeded generator)."""
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None:
        return np.random.default_rng()
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))


def _tensor(mask: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((mask > 0).astype(np.float32))


# ---------------------------------------------------------------------------------------------------------------
# NTIRE 2022 strokes (LaMa's irregular and box generators with the challenge configurations)


@dataclass(frozen=True)
class StrokeConfig:
    """LaMa ``MixedMaskGenerator`` settings: irregular strokes and (with ``box_proba > 0``) boxes, in pixels."""

    min_times: int
    max_times: int
    max_width: int
    max_len: int
    max_angle: int
    box_proba: float = 0.0
    box_margin: int = 0
    box_min: int = 0
    box_max: int = 0
    box_min_times: int = 0
    box_max_times: int = 0


#: ``(kind, size) -> config`` of the NTIRE 2022 ``lama_generation/random_*.yaml`` files.
STROKE_CONFIGS = {
    ("thick", 256): StrokeConfig(1, 5, 100, 200, 4, 0.3, 10, 30, 150, 1, 3),
    ("thick", 512): StrokeConfig(1, 5, 250, 450, 4, 0.3, 10, 30, 300, 1, 4),
    ("medium", 256): StrokeConfig(4, 5, 50, 100, 4, 0.3, 0, 10, 50, 1, 5),
    ("medium", 512): StrokeConfig(4, 10, 100, 200, 4, 0.3, 0, 30, 150, 1, 5),
    ("thin", 256): StrokeConfig(4, 50, 10, 40, 4),
    ("thin", 512): StrokeConfig(4, 70, 20, 100, 4),
}


def _irregular(height: int, width: int, config: StrokeConfig, rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    for _ in range(rng.integers(config.min_times, config.max_times + 1)):
        x, y = int(rng.integers(width)), int(rng.integers(height))
        for segment in range(1 + int(rng.integers(5))):
            angle = 0.01 + rng.integers(config.max_angle)
            if segment % 2 == 0:
                angle = 2 * math.pi - angle
            length = 10 + int(rng.integers(config.max_len))
            brush = 5 + int(rng.integers(config.max_width))
            end_x = int(np.clip(x + length * math.sin(angle), 0, width))
            end_y = int(np.clip(y + length * math.cos(angle), 0, height))
            cv2.line(mask, (x, y), (end_x, end_y), 1, brush)
            x, y = end_x, end_y
    return mask


def _boxes(height: int, width: int, config: StrokeConfig, rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    margin = config.box_margin
    largest = min(config.box_max, height - 2 * margin, width - 2 * margin)
    for _ in range(rng.integers(config.box_min_times, config.box_max_times + 1)):
        box_w, box_h = int(rng.integers(config.box_min, largest)), int(rng.integers(config.box_min, largest))
        left = int(rng.integers(margin, width - margin - box_w + 1))
        top = int(rng.integers(margin, height - margin - box_h + 1))
        mask[top : top + box_h, left : left + box_w] = 1
    return mask


def _strokes(kind: str, variants: int = 5, max_area: float = 0.5) -> MaskFn:
    def generate(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
        rng = numpy_rng(generator)
        config = STROKE_CONFIGS[(kind, 256 if min(height, width) <= 384 else 512)]
        total = 1.0 + config.box_proba
        candidates = []
        for _ in range(variants):
            use_box = config.box_proba > 0 and rng.random() * total >= 1.0
            draw = _boxes if use_box else _irregular
            candidates.append(draw(height, width, config, rng))
        kept = [m for m in candidates if m.mean() <= max_area]
        return _tensor(kept[0] if kept else min(candidates, key=lambda m: m.mean()))

    generate.__doc__ = (f"NTIRE 2022 ``{kind}`` strokes: LaMa strokes/boxes with the challenge's 256 or 512 "
                        "configuration (by the smaller side), first of five candidates with at most 50 % hole.")
    return generate


thick_strokes, medium_strokes, thin_strokes = (_strokes(k) for k in ("thick", "medium", "thin"))


# ---------------------------------------------------------------------------------------------------------------
# NTIRE 2022 structured masks


def every_n_lines(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """Every n-th row or column (from index 0) is hole; n in {2, 3, 4, 5}, direction random."""
    rng = numpy_rng(generator)
    n = int(rng.integers(2, 6))
    mask = np.zeros((height, width), np.uint8)
    if rng.random() < 0.5:
        mask[::n, :] = 1
    else:
        mask[:, ::n] = 1
    return _tensor(mask)


def nearest_neighbor(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """Only the pixels on the grid ``[::k, ::k]`` are known (super-resolution-like); k in {2, 3, 4}."""
    rng = numpy_rng(generator)
    k = int(rng.integers(2, 5))
    mask = np.ones((height, width), np.uint8)
    mask[::k, ::k] = 0
    return _tensor(mask)


def completion(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """The top (or left) fraction ~ U(0.2, 0.8) of the image is hole; ``reverse`` (random) inverts the mask."""
    rng = numpy_rng(generator)
    ratio = rng.uniform(0.2, 0.8)
    vertical = rng.random() < 0.5
    reverse = rng.random() < 0.5
    mask = np.zeros((height, width), np.uint8)
    if vertical:
        mask[: int(round(height * ratio)), :] = 1
    else:
        mask[:, : int(round(width * ratio))] = 1
    return _tensor(1 - mask if reverse else mask)


def expand(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """Outpainting: all is hole but a centred square of side ``2 * (s // 2)``, s in {min/4, min/3, min/2}."""
    rng = numpy_rng(generator)
    side = min(height, width) // int(rng.choice([4, 3, 2]))
    half = side // 2
    mask = np.ones((height, width), np.uint8)
    cy, cx = height // 2, width // 2
    mask[cy - half : cy + half, cx - half : cx + half] = 0
    return _tensor(mask)


# ---------------------------------------------------------------------------------------------------------------
# DeepFillv2's training masks


def free_form(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """DeepFillv2's ``brush_stroke_mask``: 1-3 strokes of 4-11 vertices, width 12-40 px, round joints.

    As the official code: mean angle 2pi/5, angle range 2pi/15, segment length ~ N(r, r//2) clipped to [0, 2r] with
    r = sqrt(H^2 + W^2) / 8, no flips (the official flips are no-ops), and the start vertex drawn with the image's
    width and height swapped (irrelevant for square images).
    """
    rng = numpy_rng(generator)
    radius = math.sqrt(height**2 + width**2) / 8
    mean_angle, angle_range = 2 * math.pi / 5, 2 * math.pi / 15
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    size_a, size_b = image.size  # (W, H), unpacked as (h, w) by the official code
    for _ in range(int(rng.integers(1, 4))):
        vertices = int(rng.integers(4, 12))
        angle_min = mean_angle - rng.uniform(0, angle_range)
        angle_max = mean_angle + rng.uniform(0, angle_range)
        angles = [2 * math.pi - rng.uniform(angle_min, angle_max) if i % 2 == 0 else rng.uniform(angle_min, angle_max)
                  for i in range(vertices)]
        points = [(int(rng.integers(0, size_b)), int(rng.integers(0, size_a)))]
        for angle in angles:
            r = float(np.clip(rng.normal(radius, radius // 2), 0, 2 * radius))
            x = np.clip(points[-1][0] + r * math.cos(angle), 0, size_b)
            y = np.clip(points[-1][1] + r * math.sin(angle), 0, size_a)
            points.append((int(x), int(y)))
        line_width = int(rng.uniform(12, 40))
        draw.line(points, fill=1, width=line_width)
        half = line_width // 2
        for x, y in points:
            draw.ellipse((x - half, y - half, x + half, y + half), fill=1)
    return _tensor(np.asarray(image))


def box(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """DeepFillv2's random box: H/2 x W/2 (128 at 256) anywhere inside, each side shrunk by 0..H/16 px."""
    rng = numpy_rng(generator)
    box_h, box_w = height // 2, width // 2
    top, left = int(rng.integers(0, height - box_h)), int(rng.integers(0, width - box_w))
    dh, dw = int(rng.integers(height // 16 + 1)), int(rng.integers(width // 16 + 1))
    mask = np.zeros((height, width), np.uint8)
    mask[top + dh : top + box_h - dh, left + dw : left + box_w - dw] = 1
    return _tensor(mask)


def deepfill(height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """DeepFillv2's training mask: the union of :func:`box` and :func:`free_form`."""
    rng = numpy_rng(generator)
    return torch.maximum(box(height, width, rng), free_form(height, width, rng))


MASK_GENERATORS: dict[str, MaskFn] = {
    "thick": thick_strokes,
    "medium": medium_strokes,
    "thin": thin_strokes,
    "every_n_lines": every_n_lines,
    "nearest_neighbor": nearest_neighbor,
    "completion": completion,
    "expand": expand,
    "free_form": free_form,
    "box": box,
    "deepfill": deepfill,
}
#: The seven mask types of the NTIRE 2022 inpainting challenge.
NTIRE_TYPES = ("thick", "medium", "thin", "every_n_lines", "nearest_neighbor", "completion", "expand")


def generate_mask(name: str, height: int, width: int, generator: Generator | None = None) -> torch.Tensor:
    """A ``[H, W]`` hole mask (1 = hole) of the named type; see :data:`MASK_GENERATORS`."""
    try:
        fn = MASK_GENERATORS[name]
    except KeyError:
        raise InputError(f"unknown mask type {name!r}; known: {sorted(MASK_GENERATORS)}") from None
    return fn(height, width, generator)


def load_mask_file(path: str | Path, size: tuple[int, int] | None = None, invert: bool = False) -> torch.Tensor:
    """A mask image as ``[H, W]`` float 1 = hole: white (> 127) is hole, as in the NVIDIA irregular masks.

    ``size`` ``(H, W)`` resizes with nearest neighbour before thresholding; ``invert`` for files where black is hole.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            gray = image.convert("L")
            if size is not None and gray.size != (size[1], size[0]):
                gray = gray.resize((size[1], size[0]), Image.NEAREST)
            array = np.asarray(gray)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read mask file {path}: {error}") from error
    mask = array > 127
    return _tensor(~mask if invert else mask)
