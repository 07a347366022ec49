"""Input hygiene and conversions at the public boundary.

Accepted images: torch tensors ``[B, C, H, W]``, ``[C, H, W]`` or ``[H, W]``, numpy arrays ``[H, W, C]`` or
``[H, W]``, and PIL images. Documented corrections, each tested:

- grayscale (1 channel) is repeated to RGB; an alpha channel (2 or 4 channels, PIL ``LA``/``RGBA``) is dropped;
- ``uint8`` is divided by 255, other integer types (16-bit images: ``uint16``, PIL ``I;16``) by 65535;
- float values within 1e-3 of [0, 1] are clamped into it;
- a grayscale image (every pixel's R, G and B equal) gets a grayscale fill: :func:`keep_grayscale` turns each
  changed pixel into the luminance of the fill, so a colour network leaves no tint in the hole.

Errors: NaN or infinite values, float values clearly outside [0, 1] (images in [0, 255] or [-1, 1]), images smaller
than ``MIN_SIDE`` pixels, unsupported layouts and dtypes (complex, object, tensors without data such as ``meta``).

Image files (:func:`open_image`, and PIL images given to any function here) are decoded completely up front, so a
truncated or corrupt file is an :class:`~inpaint_core.errors.InputError` naming it, not an ``OSError`` deep in the
pipeline; a picture that declares more than ``MAX_PIXELS`` pixels (a decompression bomb) is refused before any of it
is decoded.

Masks (1 = hole) take the same forms, but a 3-d tensor is a batch ``[B, H, W]`` (ComfyUI's MASK); a mask picture
with 3 or 4 channels uses the luminance of its colour channels. A mask whose
size differs from the image's but whose aspect ratio matches within 1 % is resized to the image (bilinear, then
treated as a soft mask); a mask with no hole at all (every value 0, such as the 64x64 blank mask ComfyUI's
``LoadImage`` gives for an image without alpha) fits an image of any size; any other size is an error.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import IO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .errors import InputError

MIN_SIDE = 8
#: Largest picture decoded (8192 x 8192): a float32 RGB copy of it takes 0.8 GB.
MAX_PIXELS = 8192 * 8192
_TOLERANCE = 1e-3


def open_image(
    source: str | os.PathLike | IO[bytes], what: str = "image", max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """A fully decoded PIL image from a file path or binary file; :class:`InputError` for anything unreadable.

    The declared size is checked against ``max_pixels`` before decoding, so a small file that unpacks to gigabytes
    is refused at once; a truncated or corrupt file is refused when its pixels are decoded.
    """
    name = getattr(source, "name", source)
    try:
        with warnings.catch_warnings():  # the size is checked below, against max_pixels
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(source)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"cannot read {what} {name}: {error}") from error
    try:
        return _decoded(picture, f"{what} {name}", max_pixels)
    except InputError:
        picture.close()
        raise


def _decoded(picture: Image.Image, what: str, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """``picture`` with its pixels loaded, after the size check (Pillow opens files lazily)."""
    width, height = picture.size
    if width * height > max_pixels:
        raise InputError(
            f"{what} declares {width}x{height} pixels, more than the {max_pixels} this reads (a decompression bomb "
            "or a very large picture); scale it down first"
        )
    try:
        picture.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise InputError(f"cannot decode {what}: {error} (the file is truncated or corrupt)") from error
    return picture


def to_tensor(data, what: str = "image") -> torch.Tensor:
    """A float32 ``[B, C, H, W]`` tensor in [0, 1] from a tensor, array or PIL image (no channel changes)."""
    if isinstance(data, Image.Image):
        data = _pil_to_array(_decoded(data, what))
    if isinstance(data, np.ndarray):
        array = data
        if array.ndim == 3:
            array = np.moveaxis(array, -1, 0)
        tensor = _from_numpy(np.ascontiguousarray(array))
    elif isinstance(data, torch.Tensor):
        tensor = data
    else:
        raise InputError(f"{what} must be a torch tensor, a numpy array or a PIL image, got {type(data).__name__}")
    while tensor.ndim < 4:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 4:
        raise InputError(f"{what} must have 2 to 4 dimensions ([B, C, H, W]), got shape {tuple(tensor.shape)}")
    return _to_unit_float(tensor, what)


def as_image_batch(image) -> torch.Tensor:
    """An RGB image batch ``[B, 3, H, W]`` in [0, 1] (see the module doc for the corrections applied)."""
    tensor = to_tensor(image, "image")
    channels = tensor.shape[1]
    if channels in (1, 2):
        tensor = tensor[:, :1].expand(-1, 3, -1, -1)
    elif channels == 4:
        tensor = tensor[:, :3]
    elif channels != 3:
        raise InputError(f"image must have 1, 2, 3 or 4 channels in dimension 1 ([B, C, H, W]), got {channels}")
    if min(tensor.shape[-2:]) < MIN_SIDE:
        raise InputError(f"image is {tensor.shape[-2]}x{tensor.shape[-1]}; the smallest side must be >= {MIN_SIDE}")
    return tensor.contiguous()


def prepare_inputs(image, hole) -> tuple[torch.Tensor, torch.Tensor]:
    """An RGB batch ``[B, 3, H, W]`` and a soft hole mask ``[B, 1, H, W]`` in [0, 1], of equal size and batch.

    One mask is used for every image, and one image is repeated for every mask.
    """
    image = as_image_batch(image)
    if isinstance(hole, torch.Tensor) and hole.ndim == 3:  # a tensor [B, H, W] is a batch of masks (ComfyUI's MASK)
        hole = hole.unsqueeze(1)
    mask = to_tensor(hole, "mask")
    if mask.shape[1] in (3, 4):  # an RGB(A) picture of a mask
        mask = 0.299 * mask[:, 0:1] + 0.587 * mask[:, 1:2] + 0.114 * mask[:, 2:3]
    elif mask.shape[1] != 1:
        raise InputError(f"mask must be [B, 1, H, W], [B, H, W] or [H, W], got shape {tuple(mask.shape)}")
    mask = mask.to(image.device)
    height, width = image.shape[-2:]
    if mask.shape[-2:] != (height, width) and not mask.any():
        mask = mask.new_zeros((mask.shape[0], 1, height, width))
    elif mask.shape[-2:] != (height, width):
        mh, mw = mask.shape[-2:]
        if abs(mh / mw - height / width) > 0.01 * height / width:
            raise InputError(f"mask is {mw}x{mh} but the image is {width}x{height} (width x height); give a mask of "
                             "the image's size")
        mask = F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False).clamp(0, 1)
    if image.shape[0] != mask.shape[0]:
        if 1 not in (image.shape[0], mask.shape[0]):
            raise InputError(f"{mask.shape[0]} masks for {image.shape[0]} images: give one mask, or one per image")
        batch = max(image.shape[0], mask.shape[0])
        image, mask = image.expand(batch, -1, -1, -1), mask.expand(batch, -1, -1, -1)
    return image.contiguous(), mask.contiguous()


def output_buffer(prepared: torch.Tensor, given) -> torch.Tensor:
    """``prepared`` (what :func:`prepare_inputs` made of ``given``) as a tensor the pipeline may write into: itself
    when preparing already copied it, else a copy. Large CPU copies go into memory numpy allocates, for which it asks
    Linux for transparent huge pages: a 4096x4096 RGB copy then takes about a fifth of the time, most of which is
    otherwise spent faulting in 4 KiB pages."""
    if isinstance(given, torch.Tensor):
        storage = given.untyped_storage()
        own = prepared.data_ptr()
        start, end = storage.data_ptr(), storage.data_ptr() + storage.nbytes()
        shared = given.device == prepared.device and own < end and start < own + prepared.nbytes
    elif isinstance(given, np.ndarray):
        shared = prepared.device.type == "cpu" and np.may_share_memory(given, prepared.numpy())
    else:
        shared = False
    if shared:
        if prepared.device.type != "cpu" or prepared.dtype != torch.float32 or prepared.numel() < 1 << 20:
            return prepared.clone()
        return torch.from_numpy(np.empty(tuple(prepared.shape), np.float32)).copy_(prepared)
    return prepared


def keep_grayscale(image: torch.Tensor, result: torch.Tensor) -> torch.Tensor:
    """``result`` with the pixels it changed in grayscale images of the batch ``image`` set to their luminance."""
    gray = grayscale_samples(image)
    if not gray.any():
        return result
    luminance = (0.299 * result[:, 0:1] + 0.587 * result[:, 1:2] + 0.114 * result[:, 2:3]).expand_as(result)
    changed = (result != image).any(1, keepdim=True) & gray.view(-1, 1, 1, 1)
    return torch.where(changed, luminance, result)


def grayscale_samples(image: torch.Tensor, stride: int = 64) -> torch.Tensor:
    """Per image of the batch: whether every pixel's R, G and B are equal. A sparse grid of pixels is looked at
    first, so a colour image is told apart without reading all of it (the whole image only when the grid is gray)."""
    def gray(pixels: torch.Tensor) -> torch.Tensor:
        return (pixels[:, :1] == pixels[:, 1:]).flatten(1).all(1)

    maybe = gray(image[..., ::stride, ::stride])
    if maybe.any():
        maybe[maybe.clone()] = gray(image[maybe])
    return maybe


def to_pil(image: torch.Tensor) -> Image.Image:
    """The first image of a ``[B, 3, H, W]`` batch (or a ``[3, H, W]`` image) as an 8-bit RGB PIL image."""
    if image.ndim == 4:
        image = image[0]
    array = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array)


def _pil_to_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return np.asarray(image).astype(np.int32)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    return np.array(image)


def _from_numpy(array: np.ndarray) -> torch.Tensor:
    if array.dtype.kind not in "biuf":
        raise InputError(f"arrays of dtype {array.dtype} are not images: give uint8, uint16, bool or float in [0, 1]")
    if array.dtype == np.uint16:
        return torch.from_numpy(array.astype(np.int32)) / 65535.0
    if array.dtype == bool:
        return torch.from_numpy(array.astype(np.float32))
    return torch.from_numpy(array)


def _to_unit_float(tensor: torch.Tensor, what: str) -> torch.Tensor:
    if tensor.is_meta or tensor.is_complex():
        kind = "on the meta device (it has no data)" if tensor.is_meta else f"of dtype {tensor.dtype}"
        raise InputError(f"{what} is a tensor {kind}: give uint8, uint16, bool or float in [0, 1]")
    if tensor.dtype == torch.bool:
        return tensor.float()
    if tensor.dtype == torch.uint8:
        return tensor.float() / 255
    if not tensor.is_floating_point():
        if tensor.dtype in (torch.uint16, torch.uint32, torch.uint64):  # unsigned types without min/max kernels
            tensor = tensor.to(torch.int64)
        if tensor.numel() and (int(tensor.min()) < 0 or int(tensor.max()) > 65535):
            raise InputError(f"{what} has integer values outside 0..65535; give 8-bit, 16-bit or float in [0, 1]")
        return tensor.float() / 65535
    tensor = tensor.float()
    if not tensor.numel():
        raise InputError(f"{what} is empty")
    low, high = (float(v) for v in torch.aminmax(tensor))  # one pass; NaN and inf propagate into these
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(f"{what} contains NaN or infinite values")
    if low < -_TOLERANCE or high > 1 + _TOLERANCE:
        hint = "[0, 255]: divide by 255" if high > 1.5 else "[-1, 1]: map it with (x + 1) / 2" if low < -0.5 else ""
        raise InputError(
            f"{what} values must be in [0, 1], got [{low:.3g}, {high:.3g}]"
            + (f"; it looks like {hint}" if hint else "")
        )
    return tensor.clamp(0, 1) if low < 0 or high > 1 else tensor
