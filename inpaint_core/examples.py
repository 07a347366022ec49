"""Example pictures the project draws itself (so they may be shipped, and need no download): a landscape with a
mask over its tree, a cartoon portrait that OpenCV's face detector finds, and variants with several holes.

:func:`example` gives any of them as an image ``[1, 3, H, W]`` and a hole ``[1, 1, H, W]``; the ComfyUI node
``Example Image`` and the app's gallery use it, so every example workflow runs as opened on a fresh install.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from .errors import InputError
from .image_ops import to_tensor

Box = tuple[int, int, int, int]  # (left, top, right, bottom), PIL's order


def landscape(width: int = 512, height: int = 384) -> tuple[Image.Image, Image.Image]:
    """A procedural landscape (sky, sun, hills, a house, a tree) and a mask (``L``, 255 = fill) over the tree."""
    y = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - y) * np.array([90, 150, 230]) + y * np.array([200, 225, 250])
    canvas = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    draw.ellipse((width * 0.75, height * 0.08, width * 0.87, height * 0.24), fill=(255, 230, 150))
    x = np.arange(width)
    for base, amp, freq, color in ((0.55, 0.07, 2.3, (96, 140, 110)), (0.68, 0.05, 3.7, (70, 128, 60))):
        ridge = height * (base + amp * np.sin(freq * np.pi * x / width + base * 9))
        draw.polygon([(0, height)] + list(zip(x.tolist(), ridge.tolist())) + [(width - 1, height)], fill=color)
    rng = np.random.default_rng(7)
    grass = np.asarray(canvas).astype(np.int16)
    grass[int(height * 0.7):] += rng.integers(-12, 13, grass[int(height * 0.7):].shape[:2])[..., None]
    canvas = Image.fromarray(grass.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    house = (int(width * 0.14), int(height * 0.6), int(width * 0.34), int(height * 0.8))
    draw.rectangle(house, fill=(226, 206, 170))
    draw.polygon([(house[0] - 10, house[1]), ((house[0] + house[2]) // 2, house[1] - 48), (house[2] + 10, house[1])],
                 fill=(150, 60, 50))
    draw.rectangle((house[0] + 40, house[1] + 30, house[0] + 62, house[3]), fill=(110, 70, 40))
    tree = (int(width * 0.55), int(height * 0.42), int(width * 0.67), int(height * 0.86))
    mask = Image.new("L", canvas.size, 0)
    trunk = ((tree[0] + tree[2]) // 2 - 6, (tree[1] + tree[3]) // 2, (tree[0] + tree[2]) // 2 + 6, tree[3])
    crown = (tree[0], tree[1], tree[2], (tree[1] + tree[3]) // 2 + 18)
    for target, value in ((draw, None), (ImageDraw.Draw(mask), 255)):
        target.rectangle(trunk, fill=value or (100, 70, 45))
        target.ellipse(crown, fill=value or (40, 100, 45))
    return canvas, mask.filter(ImageFilter.MaxFilter(9))


def cartoon_face(side: int = 256) -> Image.Image:
    """A blurred cartoon face (hair, brows, eyes, nose, mouth) that OpenCV's frontal-face cascade detects."""
    picture = Image.new("RGB", (side, side), (70, 80, 90))
    draw = ImageDraw.Draw(picture)

    def box(*values: float) -> list[int]:
        return [round(v * side / 256) for v in values]

    draw.ellipse(box(48, 40, 208, 240), fill=(205, 170, 145))
    draw.pieslice(box(38, 10, 218, 120), 180, 360, fill=(50, 35, 30))
    for x in (95, 161):
        draw.ellipse(box(x - 22, 95, x + 22, 105), fill=(60, 45, 40))
        draw.ellipse(box(x - 16, 111, x + 16, 129), fill=(40, 30, 30))
    draw.line(box(128, 120, 128, 155), fill=(230, 200, 180), width=max(1, round(6 * side / 256)))
    draw.ellipse(box(116, 154, 140, 166), fill=(150, 110, 95))
    draw.ellipse(box(98, 185, 158, 205), fill=(120, 60, 60))
    return picture.filter(ImageFilter.GaussianBlur(3 * side / 256))


def portrait() -> tuple[Image.Image, Image.Image]:
    """The cartoon face in front of the landscape (480x320), with a hole over the mouth."""
    background, _ = landscape(480, 320)
    background.paste(cartoon_face(), (120, 40))
    return background, _boxes_mask(background.size, [(225, 220, 275, 250)])


def three_holes() -> tuple[Image.Image, Image.Image]:
    """The landscape with three separate holes: the tree, a patch of sky and a corner of the house."""
    picture, tree = landscape()
    boxes = _boxes_mask(picture.size, [(60, 40, 130, 90), (40, 250, 110, 300)])
    return picture, Image.fromarray(np.maximum(np.asarray(tree), np.asarray(boxes)))


def large_landscape() -> tuple[Image.Image, Image.Image]:
    """The landscape at 2048x1536 with its tree masked: a high-resolution image with one region."""
    return landscape(2048, 1536)


def no_hole() -> tuple[Image.Image, Image.Image]:
    """The landscape with an empty mask, for generated masks or outpainting."""
    picture, _ = landscape()
    return picture, Image.new("L", picture.size, 0)


EXAMPLES: dict[str, Callable[[], tuple[Image.Image, Image.Image]]] = {
    "landscape": landscape,
    "three_holes": three_holes,
    "portrait": portrait,
    "large_landscape": large_landscape,
    "no_hole": no_hole,
}


def example(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The example ``name`` (one of :data:`EXAMPLES`) as an image ``[1, 3, H, W]`` and a hole ``[1, 1, H, W]``."""
    if name not in EXAMPLES:
        raise InputError(f"unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    picture, mask = EXAMPLES[name]()
    return to_tensor(np.array(picture.convert("RGB"))), to_tensor(np.array(mask))


def _boxes_mask(size: tuple[int, int], boxes: list[Box]) -> Image.Image:
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for box in boxes:
        draw.rectangle(box, fill=255)
    return mask
