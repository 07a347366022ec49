"""The Gradio Space: inpaint a photo in the browser with any model of ``inpaint_core``.

``python gradio_app.py`` serves it on http://127.0.0.1:7860; on Hugging Face Spaces this file is the ``app_file``.
The app is a thin layer over ``inpaint_core``: it turns the editor's painted layer (or an uploaded mask) into a hole
mask, loads models through ``inpaint_core.load_model`` (a small LRU cache keeps memory bounded) and runs
``inpaint_core.inpaint_detailed``. Every ``inpaint_core.InpaintError`` becomes a ``gr.Error`` with its message.

Programmatic use (``gradio_client``)::

    from gradio_client import Client, handle_file
    result_path = Client("http://127.0.0.1:7860").predict(
        handle_file("photo.png"), handle_file("mask.png"), "ctsdg-compact-utkface", "crop", api_name="/inpaint")

Settings (environment variables): ``INPAINT_APP_DEVICE`` (default ``cuda`` when available, else ``cpu``),
``INPAINT_APP_CONCURRENCY`` (model runs at a time, default 2), ``INPAINT_APP_CACHE_SIZE`` (models kept loaded,
default 2), ``INPAINT_APP_ALLOW_PATHS`` (``1`` lets users type local weights paths; default on, off on a Space),
``INPAINT_MODELS_DIR`` (folders whose ``*.safetensors`` files are offered as models).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

import inpaint_core as ic
from inpaint_core import faces
from inpaint_core.catalog import get_weights_entry
from inpaint_core.examples import landscape
from inpaint_core.hub import models_dirs, names_a_file
from inpaint_core.image_ops import as_image_batch, open_image, prepare_inputs, to_pil
from inpaint_core.masks.ops import bounding_boxes
from inpaint_core.model_info import KINDS, model_info
from inpaint_core.options import FaceOptions, InpaintOptions
from inpaint_core.outpaint import extend_canvas
from inpaint_core.registry import families

DEVICE = os.environ.get("INPAINT_APP_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
CONCURRENCY = int(os.environ.get("INPAINT_APP_CONCURRENCY", "2"))
#: Requests that may wait for a worker; more are refused at once ("queue is full") instead of piling up in memory.
QUEUE_SIZE = int(os.environ.get("INPAINT_APP_QUEUE_SIZE", "64"))
CACHE_SIZE = int(os.environ.get("INPAINT_APP_CACHE_SIZE", "2"))
ALLOW_PATHS = os.environ.get("INPAINT_APP_ALLOW_PATHS", "0" if os.environ.get("SPACE_ID") else "1") == "1"
#: Largest image side the app accepts (the pipeline's ``crop`` strategy handles large images; this bounds memory).
MAX_SIDE = 4096
#: A learned network may see at most this many times its working area (working size squared) in one pass: what
#: bounds a request's memory (a 2000x1500 photo in one CTSDG pass took 12 GB).
MAX_PASS_AREA = float(os.environ.get("INPAINT_APP_MAX_PASS_AREA", "4"))
#: Hole regions one request may inpaint with the crop strategy (one network pass each), and when to warn.
MAX_REGIONS = int(os.environ.get("INPAINT_APP_MAX_REGIONS", "64"))
WARN_REGIONS = 16
MAX_FILE_SIZE = "20mb"
#: Colour of the hole in the overlay and of the brush.
HOLE_RGB = (255, 45, 85)
#: Colour of the face boxes in the overlay.
FACE_RGB = (255, 214, 0)
EXAMPLES_DIR = Path(tempfile.gettempdir()) / "inpaint_gan_app_examples"

LAUNCH_OPTIONS = {"max_file_size": MAX_FILE_SIZE, "theme": gr.themes.Soft()}


# ---------------------------------------------------------------- models


def user_error(message: str) -> gr.Error:
    """An error shown to the user; expected, so its traceback is not printed to the server log."""
    return gr.Error(message, print_exception=False)


class ModelCache:
    """At most ``size`` loaded models, the least recently used evicted first; thread safe."""

    def __init__(self, size: int, device: str) -> None:
        self.size, self.device = max(1, size), device
        self._models: OrderedDict[str, ic.InpaintModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, name: str) -> ic.InpaintModel:
        # a model is loaded once however many users ask for it; a long download does not block the other models
        with self._lock:
            if name in self._models:
                self._models.move_to_end(name)
                return self._models[name]
            loading = self._loading.setdefault(name, threading.Lock())
        with loading:
            with self._lock:
                if name in self._models:
                    return self._models[name]
            try:
                model = ic.load_model(name, device=self.device)
                with self._lock:
                    self._models[name] = model
                    while len(self._models) > self.size:
                        self._models.popitem(last=False)
            finally:  # also when loading fails: a name that never loads must not keep its lock alive
                with self._lock:
                    self._loading.pop(name, None)
            return model


MODELS = ModelCache(CACHE_SIZE, DEVICE)


def model_choices() -> list[tuple[str, str]]:
    """(label, value) pairs: the automatic choices, then the models grouped by kind (scene, face, classical; ready
    before downloads in each), each label saying what the model is (``face · mdrn-compact-utkface · bundled · 2.6 MB ·
    research use only``), then files in the models folders."""
    infos = [model_info(name) for name in dict.fromkeys([*ic.ready_models(), *ic.list_models("weights")])]
    infos = sorted((info for info in infos if info is not None),
                   key=lambda info: (KINDS.index(info.kind), info.status == "download"))
    choices = [("auto · the strongest scene network ready or downloadable", "auto"),
               ("auto-face · the strongest face network ready or downloadable", "auto-face")]
    choices += [(f"{info.kind} · {info.name} · {info.details}", info.name) for info in infos]
    for folder in models_dirs():
        choices += [(f"file · {path.name} ({folder})", str(path)) for path in sorted(folder.glob("*.safetensors"))]
    return choices


def resolve_model_name(name: str | None) -> str:
    """The name to load, with a readable error for an empty name or a local path where paths are not allowed."""
    name = (name or "").strip()
    if not name:
        raise user_error("Choose a model, or type a weights file path or a Hub repo id (owner/repo).")
    in_models_dir = any(Path(name).parent == folder for folder in models_dirs())
    if is_local_path(name) and not ALLOW_PATHS and not in_models_dir:
        raise user_error("Local weights paths are disabled here; use a catalog name or a Hub repo id (owner/repo).")
    return name


def is_local_path(name: str) -> bool:
    """True when ``inpaint_core`` reads ``name`` as a local weights file rather than a model name or a Hub repo id."""
    return name not in ic.list_models() and names_a_file(name)


def load(name: str | None) -> ic.InpaintModel:
    name = resolve_model_name(name)
    try:
        return MODELS.get(name)
    except ic.InpaintError as error:
        raise user_error(f"Cannot load model {name!r}: {error}") from error


# ---------------------------------------------------------------- inputs


@dataclass
class Inputs:
    """A request's picture and hole, decoded by ``inpaint_core`` (16-bit, grayscale, palette, transparency)."""

    image: torch.Tensor  #: ``[1, 3, H, W]`` in [0, 1]
    hole: torch.Tensor  #: ``[1, 1, H, W]`` in [0, 1], 1 = fill
    alpha: Image.Image | None = None  #: the photo's transparency, put back on the result
    note: str = ""  #: a correction the user should know of ("scaled down from ...")


def read_upload(payload, what: str) -> Image.Image | None:
    """An uploaded picture (Gradio's unprocessed file payload or a path), decoded in full; None when none was given.
    A file that is not a readable picture is an error that says so (Gradio's own decoding would only say "Error")."""
    path = payload.get("path") if isinstance(payload, dict) else payload
    if not path:
        return None
    try:
        return open_image(path)
    except ic.InputError as error:  # named as the user's file, not the server's temporary copy
        name = (payload.get("orig_name") if isinstance(payload, dict) else None) or Path(path).name
        raise user_error(f"{what}: {str(error).replace(str(path), name)}") from error


def photo(picture: Image.Image, scale_down: bool) -> tuple[torch.Tensor, Image.Image | None, str]:
    """The picture as an RGB batch, its transparency (None when opaque) and a note; larger than ``MAX_SIDE`` it is
    scaled down to that (``scale_down``) or refused."""
    alpha = None
    if "A" in picture.getbands() or "transparency" in picture.info:
        alpha = picture.convert("RGBA").getchannel("A")
        alpha = None if alpha.getextrema()[0] == 255 else alpha
    note, width, height = "", *picture.size
    if max(width, height) > MAX_SIDE:
        if not scale_down:
            raise user_error(f"The picture is {width}x{height} (width x height); this endpoint takes at most "
                             f"{MAX_SIDE} pixels per side: scale it down first (the editor does that for you).")
        scale = MAX_SIDE / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        picture = picture.convert("RGBA" if alpha else "RGB").resize(size, Image.Resampling.LANCZOS)
        alpha = alpha.resize(size, Image.Resampling.LANCZOS) if alpha else None
        note = f"scaled down from {width}x{height} to {size[0]}x{size[1]} (at most {MAX_SIDE} pixels per side)"
    try:
        return as_image_batch(picture), alpha, note
    except ic.InputError as error:
        raise user_error(f"Image: {error}") from error


def editor_inputs(editor: dict | None, mask_upload) -> Inputs:
    """The editor's photo and hole: every painted pixel of its layers, plus the uploaded mask (see
    :func:`mask_from_picture`) when one is given. ``editor`` and ``mask_upload`` are Gradio's unprocessed payloads."""
    background = read_upload((editor or {}).get("background"), "Image")
    if background is None:
        raise user_error("Upload an image first (drop it on the editor). If you did and the editor stayed empty, "
                         "the browser could not read the file: save it as PNG or JPEG and try again.")
    hole = np.zeros(background.size[::-1], np.float32)
    for layer in (editor or {}).get("layers") or []:
        painted = read_upload(layer, "Painted layer")
        if painted is None:
            continue
        if painted.size != background.size:
            raise user_error(f"The painted layer is {painted.size[0]}x{painted.size[1]} but the image is "
                             f"{background.size[0]}x{background.size[1]}; reload the image and paint again.")
        hole = np.maximum(hole, _painted(painted))
    image, alpha, note = photo(background, scale_down=True)
    full_size = torch.zeros(1, 3, *hole.shape)
    hole = prepare_inputs(full_size, hole)[1]
    mask = read_upload(mask_upload, "Uploaded mask")
    if mask is not None:
        try:  # inpaint_core's rules: luminance of a coloured mask, 16-bit, resized when the aspect ratio matches
            hole = torch.maximum(hole, prepare_inputs(full_size, mask_from_picture(mask))[1])
        except ic.InputError as error:
            raise user_error(f"Uploaded mask: {error}") from error
    if hole.shape[-2:] != image.shape[-2:]:
        hole = torch.nn.functional.interpolate(hole, size=image.shape[-2:], mode="area")
    return Inputs(image, hole, alpha, note)


def api_inputs(image_upload, mask_upload) -> Inputs:
    """The API's photo and mask (unprocessed payloads); a photo above ``MAX_SIDE`` is refused, not scaled."""
    picture, mask = read_upload(image_upload, "Image"), read_upload(mask_upload, "Mask")
    if picture is None or mask is None:
        raise user_error("Give both an image and a mask (white = fill).")
    image, alpha, note = photo(picture, scale_down=False)
    try:
        return Inputs(image, prepare_inputs(image, mask_from_picture(mask))[1], alpha, note)
    except ic.InputError as error:
        raise user_error(f"Mask: {error}") from error


def _painted(layer: Image.Image) -> np.ndarray:
    """1 where a layer has paint (any opacity), else 0."""
    if "A" in layer.getbands():
        return (np.asarray(layer.getchannel("A")) > 0).astype(np.float32)
    return (np.asarray(layer.convert("L")) > 0).astype(np.float32)


def mask_from_picture(mask: Image.Image) -> np.ndarray | Image.Image:
    """A mask picture: white (or any non-black) = fill. A picture with transparency (a painted layer saved as PNG)
    is a mask by its alpha; anything else goes to ``inpaint_core`` as is (grayscale, RGB luminance, 16-bit)."""
    if "A" in mask.getbands():
        alpha = np.asarray(mask.getchannel("A"))
        if alpha.min() < 255:
            return alpha.astype(np.float32) / 255
        mask = mask.convert("RGB" if mask.mode == "RGBA" else "L")
    return mask


def result_picture(image: torch.Tensor, alpha: Image.Image | None) -> Image.Image:
    """The result as a picture, with the input's transparency back on it (transparent pixels stay transparent)."""
    picture = to_pil(image)
    if alpha is not None:
        picture.putalpha(alpha)
    return picture


def overlay(image: torch.Tensor, hole: torch.Tensor, boxes: list[tuple[int, int, int, int]] = ()) -> Image.Image:
    """The input with the hole tinted and outlined in the hole colour, and face boxes (top, left, bottom, right)."""
    hole = hole[:1].float()
    edge = (torch.nn.functional.max_pool2d(hole, 3, 1, 1) - hole).clamp(0, 1)
    color = torch.tensor(HOLE_RGB, dtype=torch.float32).view(1, 3, 1, 1) / 255
    tinted = image[:1] * (1 - 0.55 * hole) + color * 0.55 * hole
    picture = to_pil(tinted * (1 - edge) + color * edge)
    draw = ImageDraw.Draw(picture)
    for top, left, bottom, right in boxes:
        draw.rectangle((left, top, right - 1, bottom - 1), outline=FACE_RGB, width=max(2, picture.width // 200))
    return picture


# ---------------------------------------------------------------- running


def option_values(options_cls, values) -> InpaintOptions | FaceOptions:
    """The options of ``options_cls`` from the controls' values, given in the order of its fields."""
    try:
        return options_cls(**dict(zip(options_cls.specs(), values)))
    except ic.InputError as error:
        raise user_error(str(error)) from error


def run_pipeline(model: ic.InpaintModel, image, hole, options: InpaintOptions,
                 progress: Callable[[int, int], None] | None = None) -> tuple[ic.InpaintResult, float]:
    """``inpaint_core.inpaint_detailed`` with the app's options, within the app's budget (:func:`check_budget`);
    returns the result and the seconds it took."""
    check_budget(model, image, hole >= options.threshold, options)
    start = time.perf_counter()
    try:
        result = ic.inpaint_detailed(model, image, hole, options=options, progress=progress)
    except ic.InpaintError as error:
        raise user_error(f"{model.name}: {error}") from error
    except (torch.OutOfMemoryError, MemoryError) as error:
        raise user_error(f"{model.name} ran out of memory on this image: use the crop strategy or a smaller "
                         "working size, or scale the image down") from error
    return result, time.perf_counter() - start


def check_budget(model: ic.InpaintModel, image: torch.Tensor, hole: torch.Tensor, options: InpaintOptions) -> None:
    """Refuse, before any work, a request whose network passes would exceed what one request may take here: a learned
    network sees at most ``MAX_PASS_AREA`` times its working area in one pass, and the crop strategy runs at most
    ``MAX_REGIONS`` passes (one per hole region); warn when a run has many regions. OpenCV's engines are cheap and
    bounded by ``MAX_SIDE`` alone."""
    if next(model.parameters(), None) is None:
        return
    height, width = image.shape[-2:]
    native = model.working_size
    if options.strategy == "original" and not model.fixed_size:
        seen, what = height * width, f"the whole {width}x{height} image in one pass"
    else:
        side = native if model.fixed_size else options.working_size or native
        seen, what = side * side, f"{side}x{side} pixels in each pass"
    limit = int(MAX_PASS_AREA * native * native)
    if seen > limit:
        raise user_error(
            f"{model.name} would see {what}, more than one request may take here ({limit:,} pixels: "
            f"{MAX_PASS_AREA:g}x its {native}x{native} working size), which could exhaust the server's memory. Use "
            "the crop strategy (it inpaints each hole with context at the network's size), the resize strategy, or "
            "a smaller working size."
        )
    if options.strategy == "crop":
        regions = len(bounding_boxes(hole[0, 0], merge_distance=1))
        if regions > MAX_REGIONS:
            raise user_error(f"The mask has {regions} separate hole regions; one request may inpaint at most "
                             f"{MAX_REGIONS} with the crop strategy. Join nearby holes, or use the resize strategy.")
        if regions > WARN_REGIONS:
            gr.Warning(f"{regions} hole regions: {model.name} runs once per region, so this may take a while.")


def model_label(choice: str, model: ic.InpaintModel) -> str:
    """What the user picked, and the network it is when the name does not say (``deepfill-... (deepfill.compact)``)."""
    return choice if choice == model.name else f"{choice} ({model.name})"


def _progress_callback(progress: gr.Progress, what: str) -> Callable[[int, int], None]:
    return lambda done, total: progress((done, total), desc=what, unit="regions")


def inpaint_ui(editor, mask_upload, model_name, strategy, margin, feather_pixels, threshold, color_match,
               working_size, seed, progress=gr.Progress()):  # noqa: B008  (Gradio injects the tracker this way)
    """The Inpaint tab: returns the result, the hole overlay and a status line."""
    options = option_values(InpaintOptions, (strategy, margin, feather_pixels, threshold, color_match, working_size,
                                             seed))
    inputs = editor_inputs(editor, mask_upload)
    if not (inputs.hole >= options.threshold).any():
        raise user_error("The mask is empty: paint over what should be filled, or upload a mask (white = fill).")
    progress(0, desc=f"loading {model_name}")
    model = load(model_name)
    result, seconds = run_pipeline(model, inputs.image, inputs.hole, options,
                                   progress=_progress_callback(progress, model.name))
    height, width = inputs.image.shape[-2:]
    share = 100 * float(result.hole.float().mean())
    label = model_label(model_name, model) if not result.notes else f"{model_name}: {result.notes[0]}"
    status = (f"**{label}** · {options.strategy} · {width}x{height} · {share:.1f} % hole · {seconds:.2f} s"
              + (f" · {inputs.note}" if inputs.note else ""))
    return result_picture(result.image, inputs.alpha), overlay(inputs.image, result.hole), status


def compare_ui(editor, mask_upload, model_names, strategy, margin, feather_pixels, threshold, color_match,
               working_size, seed, progress=gr.Progress()):  # noqa: B008
    """The Compare tab: every chosen model on the same input; a gallery and a table of times."""
    options = option_values(InpaintOptions, (strategy, margin, feather_pixels, threshold, color_match, working_size,
                                             seed))
    inputs = editor_inputs(editor, mask_upload)
    if not (inputs.hole >= options.threshold).any():
        raise user_error("The mask is empty: paint over what should be filled, or upload a mask (white = fill).")
    if not model_names:
        raise user_error("Choose at least one model to compare.")
    gallery, rows, errors = [], [], []
    for index, name in enumerate(model_names):
        progress((index, len(model_names)), desc=f"{name}", unit="models")
        try:
            start = time.perf_counter()
            model = load(name)
            loaded = time.perf_counter() - start
            result, seconds = run_pipeline(model, inputs.image, inputs.hole, options)
        except gr.Error as error:  # one model failing (missing weights, a size it cannot take) spoils only its row
            errors.append(error.message)
            rows.append([name, None, None, error.message])
            continue
        gallery.append((result_picture(result.image, inputs.alpha), f"{name} · {seconds:.2f} s"))
        rows.append([name, round(seconds, 3), round(loaded, 3), "ok"])
    if not gallery:
        raise user_error("No model could run: " + " | ".join(errors))
    return gallery, rows


def is_face_model(name: str) -> bool:
    """True for a catalog name or preset of a family whose networks take aligned faces (MDRN, ISFRNet)."""
    family = get_weights_entry(name).family if name in ic.list_models("weights") else name.split(".")[0]
    return family in families() and families()[family].model_cls.aligned_faces


def faces_ui(editor, mask_upload, model_name, assume_aligned, face_margin, min_face, feather_pixels, threshold,
             color_match, working_size, seed, progress=gr.Progress()):  # noqa: B008
    """The Faces tab: detect faces (or take the image as one aligned face) and inpaint the holes inside them."""
    face_options = option_values(FaceOptions, (assume_aligned, face_margin, min_face))
    options = option_values(InpaintOptions, ("resize", InpaintOptions.margin, feather_pixels, threshold, color_match,
                                             working_size, seed))
    inputs = editor_inputs(editor, mask_upload)
    batch, hole = inputs.image, inputs.hole
    binary = hole >= options.threshold
    if not binary.any():
        raise user_error("The mask is empty: paint over the part of the face to fill, or upload a mask.")
    progress(0, desc=f"loading {model_name}")
    model = load(model_name)
    check_budget(model, batch, binary, options)
    aligned = face_options.assume_aligned
    boxes = [] if aligned else [faces.aligned_box(box, face_options.margin)
                                for box in faces.detect_faces(batch[0], binary[0], face_options.min_face)]
    progress(0.5, desc=f"{model.name} on {len(boxes) or 1} face(s)")
    start = time.perf_counter()
    try:
        result = ic.inpaint_faces(model, batch, hole, face_options=face_options, options=options, extras=False)
    except ic.InpaintError as error:
        raise user_error(f"{model.name}: {error}") from error
    seconds = time.perf_counter() - start
    left_out = float((binary & ~result.hole.bool()).float().sum() / binary.float().sum())
    label = model_label(model_name, model)
    status = (f"**{label}** · {'aligned face' if aligned else f'{len(boxes)} face(s) found'} · {seconds:.2f} s"
              + (f" · {100 * left_out:.0f} % of the hole lies outside every face and was left as it is (use the "
                 "Inpaint tab for it)" if left_out > 0 else ""))
    if not model.aligned_faces:
        gr.Warning(f"{model.name} is not a face network; the face crop works with it, but a face model fits better.")
    return result_picture(result.image, inputs.alpha), overlay(batch, binary, boxes), status


def before_after(editor, result: Image.Image | None) -> tuple[Image.Image, Image.Image] | None:
    """The input next to the result, for the before/after slider (None before a result exists)."""
    if result is None or editor is None or editor.get("background") is None:
        return None
    before = Image.fromarray(np.ascontiguousarray(np.asarray(editor["background"])[..., :3]))
    return before.resize(result.size) if before.size != result.size else before, result


#: The pipeline options the Outpaint tab uses (it always runs ``crop`` on the new area).
OUTPAINT_OPTIONS = ("margin", "feather_pixels", "color_match", "seed")
#: The blend width of the API's outpainting, over its overlap with the picture.
OUTPAINT_FEATHER = 8


def outpaint(model: ic.InpaintModel, image: torch.Tensor, left: int, top: int, right: int, bottom: int,
             options: InpaintOptions, *, overlap: int = 8,
             progress: Callable[[int, int], None] | None = None) -> tuple[ic.InpaintResult, float]:
    """Extend the canvas (``inpaint_core.outpaint.extend_canvas``) and inpaint the new area with ``crop``."""
    try:
        extended, hole = extend_canvas(image, int(left), int(top), int(right), int(bottom), overlap=int(overlap))
    except ic.InputError as error:
        raise user_error(str(error)) from error
    return run_pipeline(model, extended, hole, InpaintOptions.resolve(options, strategy="crop"), progress=progress)


def outpaint_ui(editor, model_name, left, top, right, bottom, overlap, margin, feather_pixels, color_match, seed,
                progress=gr.Progress()):  # noqa: B008
    """The Outpaint tab: the picture with a wider canvas, the new area filled; returns the result and a status."""
    options = option_values(InpaintOptions, ("crop", margin, feather_pixels, InpaintOptions.threshold, color_match,
                                             InpaintOptions.working_size, seed))
    background = read_upload((editor or {}).get("background"), "Image")
    if background is None:
        raise user_error("Upload an image first (drop it on the editor).")
    image, alpha, note = photo(background, scale_down=True)
    progress(0, desc=f"loading {model_name}")
    model = load(model_name)
    result, seconds = outpaint(model, image, left, top, right, bottom, options, overlap=overlap,
                               progress=_progress_callback(progress, model.name))
    height, width = result.image.shape[-2:]
    status = (f"**{model_label(model_name, model)}** · {image.shape[-1]}x{image.shape[-2]} -> {width}x{height} · "
              f"{seconds:.2f} s" + (f" · {note}" if note else ""))
    return to_pil(result.image), status


def outpaint_api(image: dict | None, model: str, left: int, top: int, right: int, bottom: int) -> Image.Image:
    """Extend ``image`` by the given pixels on each side and fill the new area with ``model``; returns the result."""
    picture = read_upload(image, "Image")
    if picture is None:
        raise user_error("Give an image to extend.")
    result, _ = outpaint(load(model), photo(picture, scale_down=False)[0], left, top, right, bottom,
                         InpaintOptions(feather_pixels=OUTPAINT_FEATHER))
    return to_pil(result.image)


def inpaint_api(image: dict | None, mask: dict | None, model: str, strategy: str, margin: int,
                feather_pixels: float, threshold: float, color_match: bool, working_size: int,
                seed: int) -> Image.Image:
    """Inpaint ``image`` where ``mask`` is white (or, for a transparent PNG, painted); returns the result.

    ``model``: a name from ``inpaint_core.list_models()``, a Hub repo id or a weights path; the other parameters are
    ``inpaint_core.InpaintOptions`` (``docs/options.md``), each with its default when left out. An empty mask
    returns the image unchanged.
    """
    options = option_values(InpaintOptions, (strategy, margin, feather_pixels, threshold, color_match, working_size,
                                             seed))
    inputs = api_inputs(image, mask)
    loaded = load(model)
    result, _ = run_pipeline(loaded, inputs.image, inputs.hole, options)
    return result_picture(result.image, inputs.alpha)


# ---------------------------------------------------------------- examples


def render_scene(width: int = 512, height: int = 384) -> tuple[Image.Image, Image.Image]:
    """A procedural landscape and a mask over its tree (``inpaint_core.examples.landscape``): drawn, so the example
    can be redistributed with the app and works offline."""
    return landscape(width, height)


#: Pixels an example's mask reaches beyond the object it covers (a hole that leaves a rim of the object behind
#: makes the network continue the object).
EXAMPLE_MASK_GROWTH = 9


def _blob_mask(size: tuple[int, int], boxes: list[tuple[float, float, float, float]]) -> Image.Image:
    """A mask of ellipses given as fractions (left, top, right, bottom) of the image, grown by
    ``EXAMPLE_MASK_GROWTH`` pixels."""
    width, height = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for left, top, right, bottom in boxes:
        draw.ellipse((left * width, top * height, right * width, bottom * height), fill=255)
    return mask.filter(ImageFilter.MaxFilter(EXAMPLE_MASK_GROWTH))


def _dependency_photos() -> list[tuple[str, Image.Image, list[tuple[float, float, float, float]]]]:
    """Public-domain / CC0 photos shipped inside scikit-image, when it is installed (read as files, not imported)."""
    import importlib.util

    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    photos = [  # (file, what, licence, hole boxes: each visible part of the object, checked on an overlay)
        ("coffee.png", "remove the spoon", "CC0, Rachel Michetti",
         [(0.655, 0.15, 0.715, 0.28), (0.605, 0.5, 0.665, 0.63), (0.51, 0.57, 0.7, 0.84)]),
        ("chelsea.png", "fill a patch of fur", "CC0, Stefan van der Walt", [(0.05, 0.55, 0.3, 0.95)]),
        ("astronaut.png", "remove the shuttle model", "public domain, NASA",
         [(0.67, -0.05, 0.92, 0.5), (0.67, 0.33, 0.92, 0.6)]),
        ("astronaut.png", "the mouth, Faces tab", "public domain, NASA", [(0.39, 0.255, 0.49, 0.315)]),
    ]
    found = []
    for filename, what, licence, boxes in photos:
        if (folder / filename).is_file():
            photo = Image.open(folder / filename).convert("RGB")
            found.append((f"{filename.split('.')[0]}: {what} ({licence})", photo, boxes))
    return found


def example_files() -> list[tuple[str, str, str]]:
    """(label, image file, mask file) of each example; written into the temp folder once per process."""
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    scene, scene_mask = render_scene()
    entries = [("rendered scene: remove the tree", scene, scene_mask)]
    entries += [(label, photo, _blob_mask(photo.size, boxes)) for label, photo, boxes in _dependency_photos()]
    examples = []
    for index, (label, picture, mask) in enumerate(entries):
        paths = [EXAMPLES_DIR / f"example{index}_{kind}.png" for kind in ("image", "mask")]
        for path, content in zip(paths, (picture, mask)):
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            content.save(temporary, format="PNG")
            temporary.replace(path)
        examples.append((label, str(paths[0]), str(paths[1])))
    return examples


# ---------------------------------------------------------------- layout

FACES_HELP = """Faces are found with OpenCV's face detector, framed as the face networks were trained (aligned, face
filling the square), inpainted at the network's size and pasted back; holes outside every face are left as they
are. For a photo that already is an aligned face (CelebA-HQ / FFHQ style), tick the box to skip detection."""

INTRO = """# Inpaint GAN
Paint over what should disappear (brush; eraser and undo in the toolbar) or upload a mask (white = fill), choose a
model and press **Inpaint**. **Compare** runs several models on the same input. Models: `opencv.*` need no weights;
trained networks are named in the list, or type a Hub repo id (`owner/repo`) or a weights path."""


#: The pipeline options the Faces tab uses (it always runs ``resize`` on each face crop, so no strategy or margin).
FACE_PIPELINE_OPTIONS = ("feather_pixels", "threshold", "color_match", "working_size", "seed")


def option_controls(options_cls, api: bool = False) -> dict[str, gr.components.Component]:
    """A control for each field of ``options_cls``, with the field's label, help, default and range, and the element
    id ``option-<name>`` (``face-option-<name>`` for face options); ``api``: labelled by the field's name, which
    ``gradio_client`` shows as the parameter's name."""
    prefix = "face-option-" if options_cls is FaceOptions else "option-"
    controls = {}
    for name, (item, spec) in options_cls.specs().items():
        if name in getattr(options_cls, "MODEL_WIDE", ()):  # one cached model serves every visitor
            continue
        shown = {"label": name} if api else {"label": spec.label, "info": spec.help, "elem_id": prefix + name}
        kind = str(item.type)
        if spec.choices:
            controls[name] = gr.Radio(list(spec.choices), value=item.default, **shown)
        elif kind == "bool":
            controls[name] = gr.Checkbox(item.default, **shown)
        elif name == "seed":
            controls[name] = gr.Number(item.default, precision=0, minimum=spec.minimum, **shown)
        else:
            controls[name] = gr.Slider(spec.minimum, spec.maximum, value=item.default, step=spec.step, **shown)
    return controls


def build_demo() -> gr.Blocks:
    choices = model_choices()
    names = [value for _, value in choices]
    ready = ic.ready_models()
    # the callbacks decode the uploads themselves (read_upload), so that a file Gradio's decoding cannot read, a 16-bit
    # or a transparent picture gets inpaint_core's rules and a message instead of a bare "Error"
    run_options = dict(concurrency_limit=CONCURRENCY, concurrency_id="models", preprocess=False)
    with gr.Blocks(title="Inpaint GAN") as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=3):
                editor = gr.ImageEditor(
                    label="Image (paint the hole)", type="numpy", image_mode="RGBA", sources=("upload", "clipboard"),
                    transforms=(), layers=False, elem_id="editor", height=520,
                    brush=gr.Brush(default_size=24, colors=[f"rgb{HOLE_RGB}"], color_mode="fixed"),
                    eraser=gr.Eraser(default_size=24),
                )
                with gr.Accordion("Mask upload (white = fill; added to what you paint)", open=True):
                    mask_upload = gr.Image(label="Mask", type="pil", image_mode=None, sources=("upload", "clipboard"),
                                           elem_id="mask-upload", height=200)
                with gr.Accordion("Pipeline options", open=False):
                    pipeline_controls = option_controls(InpaintOptions)
            with gr.Column(scale=3), gr.Tabs():
                with gr.Tab("Inpaint", id="inpaint"):
                    model = gr.Dropdown(choices, value="auto", allow_custom_value=True, label="Model",
                                        info="a name, a Hub repo id (owner/repo) or a .safetensors path",
                                        elem_id="model")
                    run = gr.Button("Inpaint", variant="primary", elem_id="run")
                    result = gr.Image(label="Result", type="pil", format="png", interactive=False,
                                      buttons=["download", "fullscreen"], elem_id="result")
                    status = gr.Markdown(elem_id="status")
                    slider = gr.ImageSlider(label="Before / after (drag the handle)", type="pil", format="png",
                                            interactive=False, elem_id="before-after")
                    hole_view = gr.Image(label="Hole", type="pil", format="png", interactive=False, elem_id="hole")
                with gr.Tab("Compare", id="compare"):
                    compared = gr.Dropdown(choices, value=[n for n in ready if n in names], multiselect=True,
                                           allow_custom_value=True, label="Models", elem_id="compare-models")
                    run_compare = gr.Button("Compare", variant="primary", elem_id="run-compare")
                    gallery = gr.Gallery(label="Results", columns=2, format="png", object_fit="contain",
                                         elem_id="gallery")
                    times = gr.Dataframe(headers=["model", "inpaint s", "load s", "status"], interactive=False,
                                         label="Time per model (load is 0 when the model was cached)")
                with gr.Tab("Outpaint", id="outpaint"):
                    gr.Markdown("Extends the picture on the chosen sides and fills the new area (the pipeline's "
                                "`crop` strategy on the new strip; the seam is repainted over `overlap` pixels).")
                    out_model = gr.Dropdown(choices, value="auto", allow_custom_value=True, label="Model",
                                            elem_id="outpaint-model")
                    with gr.Row():
                        sides = [gr.Slider(0, 512, value=value, step=8, label=label, elem_id=f"outpaint-{label}")
                                 for label, value in (("left", 0), ("top", 0), ("right", 128), ("bottom", 0))]
                    overlap = gr.Slider(0, 64, value=8, step=1, label="Overlap, pixels")
                    run_outpaint = gr.Button("Outpaint", variant="primary", elem_id="run-outpaint")
                    out_result = gr.Image(label="Result", type="pil", format="png", interactive=False,
                                          buttons=["download", "fullscreen"], elem_id="outpaint-result")
                    out_status = gr.Markdown(elem_id="outpaint-status")
                with gr.Tab("Faces", id="faces"):
                    gr.Markdown(FACES_HELP)
                    face_choices = sorted(choices, key=lambda choice: not is_face_model(choice[1]))
                    face_model = gr.Dropdown(face_choices, value="auto-face", allow_custom_value=True,
                                             label="Model", elem_id="face-model",
                                             info="a face network (MDRN, ISFRNet): a name, Hub repo id or path")
                    face_controls = option_controls(FaceOptions)
                    run_faces = gr.Button("Inpaint faces", variant="primary", elem_id="run-faces")
                    face_result = gr.Image(label="Result", type="pil", format="png", interactive=False,
                                           buttons=["download", "fullscreen"], elem_id="face-result")
                    face_status = gr.Markdown(elem_id="face-status")
                    face_view = gr.Image(label="Hole and face boxes", type="pil", format="png", interactive=False,
                                         elem_id="face-boxes")
        options = list(pipeline_controls.values())
        face_pipeline = [pipeline_controls[name] for name in FACE_PIPELINE_OPTIONS]
        run.click(inpaint_ui, [editor, mask_upload, model, *options], [result, hole_view, status],
                  api_visibility="undocumented", api_name="inpaint_editor", **run_options).then(
            before_after, [editor, result], slider, api_visibility="private")
        run_outpaint.click(outpaint_ui, [editor, out_model, *sides, overlap,
                                         *(pipeline_controls[name] for name in OUTPAINT_OPTIONS)],
                           [out_result, out_status], api_visibility="undocumented", api_name="outpaint_editor",
                           **run_options)
        run_compare.click(compare_ui, [editor, mask_upload, compared, *options], [gallery, times],
                          api_visibility="undocumented", api_name="compare_editor", **run_options)
        run_faces.click(faces_ui, [editor, mask_upload, face_model, *face_controls.values(), *face_pipeline],
                        [face_result, face_view, face_status], api_visibility="undocumented", api_name="faces_editor",
                        **run_options)
        examples = example_files()
        gr.Examples([[image, mask] for _, image, mask in examples], inputs=[editor, mask_upload],
                    example_labels=[label for label, _, _ in examples], label="Examples (click one, then Inpaint)")
        with gr.Group(visible=False):  # the plain API: image, mask, model, strategy -> image
            api_inputs = [gr.Image(type="filepath", image_mode=None, label="image"),
                          gr.Image(type="filepath", image_mode=None, label="mask"),
                          gr.Dropdown(names, value=ic.DEFAULT_MODEL, allow_custom_value=True, label="model"),
                          *option_controls(InpaintOptions, api=True).values()]
            api_output = gr.Image(type="pil", format="png", label="result")
            gr.Button(visible=False).click(inpaint_api, api_inputs, api_output, api_name="inpaint", **run_options)
            outpaint_inputs = [api_inputs[0], api_inputs[2],
                               *(gr.Number(0, precision=0, label=side) for side in ("left", "top", "right", "bottom"))]
            gr.Button(visible=False).click(outpaint_api, outpaint_inputs, api_output, api_name="outpaint",
                                           **run_options)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def __getattr__(name: str) -> gr.Blocks:
    """``gradio_app.demo``, built on first use: importing the module only defines things (no UI, no example files)."""
    if name != "demo":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()["demo"] = built = build_demo()
    return built


if __name__ == "__main__":  # ``python gradio_app.py``, as the Space runs it
    build_demo().launch(**LAUNCH_OPTIONS)
