"""What the nodes do, in plain functions that tests call without ComfyUI.

ComfyUI's conventions: IMAGE is ``[B, H, W, C]`` float in [0, 1]; MASK is ``[B, H, W]`` (sometimes ``[H, W]``) with
1 = the pixels to inpaint. ``inpaint_core`` takes ``[B, 3, H, W]`` and ``[B, 1, H, W]``; the functions here convert,
broadcast batches (one mask for many images, or one per image) and leave every message to ``inpaint_core``'s errors.
Nothing in this module imports ComfyUI: what comes from ComfyUI (devices, progress, folders) is passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..inpaint_core import (
    AUTO_NAMES,
    DEFAULT_MODEL,
    InpaintError,
    InputError,
    boxes,
    build_model,
    list_models,
    load_auto,
    load_model,
    load_model_file,
    ready_models,
)
from ..inpaint_core.boxes import Box
from ..inpaint_core.examples import example
from ..inpaint_core.faces import aligned_box, detect_faces
from ..inpaint_core.hub import parse_repo_id
from ..inpaint_core.image_ops import prepare_inputs
from ..inpaint_core.masks.generators import generate_mask
from ..inpaint_core.masks.ops import feather, fill_holes, grow
from ..inpaint_core.model_info import model_info, name_of_label
from ..inpaint_core.models.base import InpaintModel
from ..inpaint_core.options import FaceOptions, InpaintOptions
from ..inpaint_core.outpaint import extend_canvas
from ..inpaint_core.pipeline import inpaint, inpaint_detailed
from ..inpaint_core.regions import StitchRecord, crop_regions, stitch_regions

Progress = Callable[[int, int], None]
LOG = logging.getLogger("inpaint_gan")
#: ``original`` warns when the network sees more than this many times its working size's pixels.
ORIGINAL_WARNING_FACTOR = 4

PREFILL_METHODS = ("telea", "navier-stokes", "neutral")
_OPENCV_PRESETS = {"telea": "opencv.telea", "navier-stokes": "opencv.ns"}
#: Suffix of the weights files the loader lists from ComfyUI's ``models/inpaint`` folders.
WEIGHTS_SUFFIX = ".safetensors"


# ---------------------------------------------------------------------------------------------------- layouts


def image_to_core(image: torch.Tensor) -> torch.Tensor:
    """ComfyUI IMAGE ``[B, H, W, C]`` (or one ``[H, W, C]``) -> ``[B, C, H, W]``."""
    if image.ndim == 3:
        image = image.unsqueeze(0)
    if image.ndim != 4:
        raise InputError(f"IMAGE must be [batch, height, width, channels], got shape {tuple(image.shape)}")
    return image.movedim(-1, 1)


def image_to_comfy(image: torch.Tensor) -> torch.Tensor:
    """``[B, C, H, W]`` -> ComfyUI IMAGE ``[B, H, W, 3]`` float32 on the CPU (one channel is repeated to RGB)."""
    if image.shape[1] == 1:
        image = image.expand(-1, 3, -1, -1)
    return image.movedim(1, -1).float().clamp(0, 1).cpu().contiguous()


def mask_to_core(mask: torch.Tensor) -> torch.Tensor:
    """ComfyUI MASK ``[B, H, W]`` or ``[H, W]`` (1 = inpaint) -> hole ``[B, 1, H, W]``."""
    if mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if mask.ndim == 4 and mask.shape[1] == 1:
        return mask
    if mask.ndim != 3:
        raise InputError(f"MASK must be [batch, height, width], got shape {tuple(mask.shape)}")
    return mask.unsqueeze(1)


def mask_to_comfy(hole: torch.Tensor) -> torch.Tensor:
    """Hole ``[B, 1, H, W]`` -> ComfyUI MASK ``[B, H, W]`` float32 on the CPU."""
    return hole[:, 0].float().clamp(0, 1).cpu().contiguous()


# ---------------------------------------------------------------------------------------------------- loading


def model_choices(files: Iterable[str], models_dirs: Iterable[str | Path] = ()) -> list[str]:
    """The loader's list: the automatic choices (``auto``, ``auto-face``), then the default (bundled) model, catalog
    weights, the engines that need no weights, each labelled with what it is (``name · bundled · face · 2.6 MB ·
    licence``, see ``inpaint_core.model_info``), then the user's weights files."""
    names = list(dict.fromkeys([DEFAULT_MODEL, *list_models("weights"), *ready_models()]))
    labels = [model_info(name, models_dirs).label for name in names]
    return [*AUTO_NAMES, *labels] + sorted(f for f in files if f.lower().endswith(WEIGHTS_SUFFIX))


def check_choice(choice: str, files: Iterable[str]) -> bool | str:
    """True when the loader can take ``choice``: a label of any status (a workflow saved before a download says
    ``download``, the list now says ``cached``), a plain catalog or engine name, or a listed file; else a message."""
    name = name_of_label(choice)
    if name in files or name in AUTO_NAMES or name in list_models("weights") or name in ready_models():
        return True
    return f"model_name {choice!r} is not a catalog name, an engine or a file in models/inpaint"


def load_choice(
    choice: str,
    hub_repo_id: str = "",
    *,
    find_file: Callable[[str], str | Path],
    models_dirs: Iterable[str | Path] = (),
    progress: Progress | None = None,
) -> InpaintModel:
    """The model the loader's inputs name, on the CPU in eval mode.

    ``hub_repo_id`` (``owner/repo[@revision]``), when given, wins over ``choice``. A ``choice`` ending in
    ``.safetensors`` is a file in ComfyUI's ``inpaint`` folders, found with ``find_file``; anything else is a catalog
    name (downloaded into the Hugging Face cache when it is in none of ``models_dirs``) or an engine preset; a label
    of :func:`model_choices` stands for its name. ``progress(done, total)`` follows a download.
    """
    repo = hub_repo_id.strip()
    if repo:
        if parse_repo_id(repo) is None:
            raise InputError(f"hub_repo_id {repo!r} is not a Hugging Face repo id: write owner/name[@revision]")
        return load_model(repo, models_dirs=models_dirs, progress=progress)
    if choice.lower().endswith(WEIGHTS_SUFFIX):
        return load_model_file(find_file(choice))
    name = name_of_label(choice)
    if name in AUTO_NAMES:
        model, reason = load_auto(AUTO_NAMES[name], models_dirs=models_dirs, progress=progress)
        LOG.info("Load Inpaint GAN Model: %s", reason)
        return model
    info = model_info(name, models_dirs)
    if info is not None and info.kind == "face":
        LOG.warning("Load Inpaint GAN Model: %s was trained on aligned faces; put Face Crop / Face Stitch around the "
                    "Inpaint node for faces, and choose a scene or classical model for other pictures", name)
    return load_model(name, models_dirs=models_dirs, progress=progress)


@contextmanager
def interruptible(model: InpaintModel, check: Callable[[], None]) -> Iterator[InpaintModel]:
    """Call ``check`` before every layer of ``model`` for the duration of the block, so that a long forward pass
    (the ``original`` strategy on a large image) can be cancelled between two layers by raising from ``check``."""
    handles = [module.register_forward_pre_hook(lambda module, args: check()) for module in model.modules()]
    try:
        yield model
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def model_on(model: InpaintModel, device: torch.device | str, offload: torch.device | str) -> Iterator[InpaintModel]:
    """Move ``model`` to ``device`` for the duration of the block and to ``offload`` after, even on errors."""
    model.to(device)
    try:
        yield model
    finally:
        model.to(offload)


# ---------------------------------------------------------------------------------------------------- inpainting


def activation_bytes(model: InpaintModel, image: torch.Tensor, strategy: str, working_size: int = 0) -> int:
    """A rough budget for one forward pass: 256 float32 feature channels at the size the network sees."""
    if strategy == "original" and not model.fixed_size:
        pixels = image.shape[-3] * image.shape[-2]  # IMAGE is [B, H, W, C]
    else:
        pixels = (working_size or model.working_size) ** 2
    return pixels * 256 * 4


def run_inpaint(
    model: InpaintModel,
    image: torch.Tensor,
    mask: torch.Tensor,
    options: InpaintOptions | None = None,
    *,
    progress: Progress | None = None,
    **overrides,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inpaint ComfyUI tensors with ``options`` (the defaults when None; keywords replace its fields); returns
    (IMAGE, extra IMAGE), both ``[B, H, W, 3]``.

    The extra image is the network's first extra output (CTSDG's edge map, the coarse stage of DeepFill and MDRN),
    filled in the inpainted boxes and black elsewhere; it is black for networks without one. A mask with no hole at
    all (such as the 64x64 blank mask ``LoadImage`` gives for an image without alpha) returns the image unchanged.
    """
    options = InpaintOptions.resolve(options, **overrides)
    core_image, hole = image_to_core(image), mask_to_core(mask)
    if not bool((hole >= options.threshold).any()):
        LOG.warning("Inpaint (GAN): the mask has no value at or above threshold %s, so the image is returned "
                    "unchanged; paint the area to fill (Load Image: right-click > Open in MaskEditor)",
                    options.threshold)
    elif options.strategy == "original":
        warn_original_cost(model, core_image.shape[-2], core_image.shape[-1], core_image.shape[0])
    try:
        result = inpaint_detailed(model, core_image, hole, options=options, progress=progress)
    except torch.OutOfMemoryError as error:
        raise InpaintError(
            f"{model.name} ran out of memory on {model.device} with the {options.strategy!r} strategy: use 'crop' "
            "(its cost grows with the holes, not the image), a smaller working_size or a smaller batch"
        ) from error
    output = image_to_comfy(result.image)
    extra = next((result.extras[name] for name in model.extra_outputs if name in result.extras), None)
    return output, torch.zeros_like(output) if extra is None else image_to_comfy(extra[:, :3])


def warn_original_cost(model: InpaintModel, height: int, width: int, batch: int = 1) -> float:
    """Log a warning when the ``original`` strategy makes a learned network see many times its working size; returns
    that factor (pixels seen / the working size's pixels)."""
    factor = batch * height * width / model.working_size**2
    if factor > ORIGINAL_WARNING_FACTOR and any(True for _ in model.parameters()):
        LOG.warning(
            "Inpaint (GAN): 'original' runs %s on %d image(s) of %dx%d, %.0fx the pixels of its %dx%d working size: "
            "expect about %.0fx the time of one 'crop' region, or more (its attention grows faster than the pixels). "
            "Cancel stops it between two layers; 'crop' costs what the holes need.",
            model.name, batch, height, width, factor, model.working_size, model.working_size, factor,
        )
    return factor


# ---------------------------------------------------------------------------------------------------- helpers


def adjust_mask(
    mask: torch.Tensor, grow_pixels: int = 0, feather_pixels: float = 0, threshold: float = 0
) -> torch.Tensor:
    """Binarise (``threshold`` > 0: values at or above it become 1, others 0), grow (negative: shrink), then feather.

    Returns a MASK ``[B, H, W]``. Feathering makes the mask soft outside the hole, which the inpaint node blends with.
    """
    hole = mask_to_core(mask).float()
    if threshold > 0:
        hole = (hole >= threshold).float()
    hole = grow(hole, int(grow_pixels))
    if feather_pixels > 0:
        hole = feather(hole, feather_pixels)
    return mask_to_comfy(hole)


def clean_mask(mask: torch.Tensor, ignore_below: float = 0, fill_enclosed: bool = False,
               invert: bool = False) -> torch.Tensor:
    """Zero the values below ``ignore_below``, fill the areas the mask encloses (holes inside a painted shape), then
    invert (1 - mask), each when asked, in that order. Returns a MASK ``[B, H, W]``."""
    hole = mask_to_core(mask).float()
    if ignore_below > 0:
        hole = torch.where(hole < ignore_below, torch.zeros_like(hole), hole)
    if fill_enclosed:
        hole = fill_holes(hole, max(ignore_below, 0.5))
    return mask_to_comfy(1 - hole if invert else hole)


def extend_image(image: torch.Tensor, left: int, top: int, right: int, bottom: int, *, overlap: int = 0,
                 fill: str = "edge", mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The image with a wider canvas and the MASK of the new area (``inpaint_core.outpaint.extend_canvas``)."""
    hole = None if mask is None else mask_to_core(mask)
    extended, new_hole = extend_canvas(image_to_core(image), left, top, right, bottom, overlap=overlap, fill=fill,
                                       hole=hole)
    return image_to_comfy(extended), mask_to_comfy(new_hole)


def prefill(image: torch.Tensor, mask: torch.Tensor, method: str = "telea", radius: int = 5) -> torch.Tensor:
    """Fill the masked area before another step: OpenCV's Telea or Navier-Stokes, or neutral grey (0.5).

    Soft mask values blend the fill with the image; pixels where the mask is 0 are returned unchanged.
    """
    if method not in PREFILL_METHODS:
        raise InputError(f"unknown pre-fill method {method!r}; choose one of {', '.join(PREFILL_METHODS)}")
    core_image, hole = image_to_core(image), mask_to_core(mask)
    if not bool(hole.any()):
        return image_to_comfy(core_image[:, :3])
    if method == "neutral":
        core_image, hole = prepare_inputs(core_image, hole)
        return image_to_comfy(torch.lerp(core_image, torch.full_like(core_image, 0.5), hole))
    engine = build_model(_OPENCV_PRESETS[method], radius=int(radius))
    return image_to_comfy(inpaint(engine, core_image, hole, "original"))



# ---------------------------------------------------------------------------------------------------- regions


def crop_holes(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    margin: int = 64,
    target_size: int = 512,
    multiple: int = 8,
    prefill: str | InpaintModel = "none",
    threshold: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, StitchRecord]:
    """Every hole region of a ComfyUI batch as one IMAGE batch, its MASK batch and the record for :func:`stitch_holes`
    (see ``inpaint_core.regions``)."""
    crops, holes, record = crop_regions(image_to_core(image), mask_to_core(mask), margin=margin,
                                        target_size=target_size, multiple=multiple, prefill=prefill,
                                        threshold=threshold)
    return image_to_comfy(crops), mask_to_comfy(holes), record


def stitch_holes(record: StitchRecord, crops: torch.Tensor, feather_pixels: float = 8,
                 color_match: bool = False) -> torch.Tensor:
    """The processed crops of :func:`crop_holes` pasted back into their images (IMAGE out)."""
    return image_to_comfy(stitch_regions(record, image_to_core(crops)[:, :3], feather_pixels=feather_pixels,
                                         color_match=color_match))


# ---------------------------------------------------------------------------------------------------- faces


@dataclass
class FaceCrops:
    """Where each face crop came from, for :func:`stitch_faces`: image index and square box (may leave the image)."""

    image: torch.Tensor  # [B, 3, H, W]
    hole: torch.Tensor  # [B, 1, H, W], soft
    boxes: list[tuple[int, Box]]


def crop_faces(
    image: torch.Tensor,
    mask: torch.Tensor,
    size: int = 256,
    face_options: FaceOptions | None = None,
    threshold: float = InpaintOptions.threshold,
) -> tuple[torch.Tensor, torch.Tensor, FaceCrops]:
    """Crop every face that holds a hole, framed as an aligned face and scaled to ``size`` x ``size``.

    Returns the crops (IMAGE ``[N, size, size, 3]``), their masks (MASK ``[N, size, size]``) and what
    :func:`stitch_faces` needs to paste them back. Faces come from OpenCV's Haar cascade (see
    ``inpaint_core.faces``); ``face_options.assume_aligned`` takes each whole image, padded to a square, as one face.
    """
    face_options = FaceOptions.resolve(face_options)
    assume_aligned, margin, min_face = face_options.assume_aligned, face_options.margin, face_options.min_face
    core_image, hole = prepare_inputs(image_to_core(image), mask_to_core(mask))
    chosen: list[tuple[int, Box]] = []
    for index in range(core_image.shape[0]):
        binary = hole[index] >= threshold
        if not binary.any():
            continue
        if assume_aligned:
            found = [boxes.square_around(*core_image.shape[-2:])]
        else:
            found = [aligned_box(face, margin) for face in detect_faces(core_image[index], binary.float(), min_face)]
        chosen += [(index, box) for box in found if boxes.window(binary[None], box).any()]
    if not chosen:
        raise InputError(
            "no face holds a hole: check the mask, lower min_face, or set assume_aligned for images that are "
            "already aligned faces (the face filling the frame)"
        )
    crops = [boxes.scale_image(boxes.crop(core_image[index : index + 1], box), size, size) for index, box in chosen]
    holes = [boxes.scale_image(boxes.crop(hole[index : index + 1], box, "constant"), size, size)
             for index, box in chosen]
    return image_to_comfy(torch.cat(crops)), mask_to_comfy(torch.cat(holes)), FaceCrops(core_image, hole, chosen)


def stitch_faces(crops: FaceCrops, inpainted: torch.Tensor) -> torch.Tensor:
    """Paste inpainted face crops back; only hole pixels change, blended by the mask's value (IMAGE out)."""
    faces = image_to_core(inpainted)[:, :3].to(crops.image)
    if faces.shape[0] != len(crops.boxes):
        raise InputError(f"{faces.shape[0]} inpainted crops for {len(crops.boxes)} face crops: connect the crops of "
                         "this Face Crop node, inpainted, without changing the batch")
    result = crops.image.clone()
    height, width = result.shape[-2:]
    for face, (index, box) in zip(faces, crops.boxes):
        back = boxes.uncrop(boxes.scale_image(face[None], box[2] - box[0], box[3] - box[1]), box, height, width)
        target = boxes.window(result[index : index + 1], box)
        alpha = boxes.window(crops.hole[index : index + 1], box)
        target.copy_(target + (back - target) * alpha)
    return image_to_comfy(result)


def example_image(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One of ``inpaint_core.examples.EXAMPLES`` as an IMAGE and its MASK."""
    image, hole = example(name)
    return image_to_comfy(image), mask_to_comfy(hole)


def generate_masks(kind: str, height: int, width: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    """``batch`` random hole masks of one type (``inpaint_core.masks.MASK_GENERATORS``) as a MASK ``[B, H, W]``."""
    generator = torch.Generator().manual_seed(int(seed))
    return torch.stack([generate_mask(kind, height, width, generator) for _ in range(batch)]).float()
