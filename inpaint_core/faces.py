"""Face crop for the face networks (MDRN, ISFRNet): detect, frame as an aligned face, inpaint, paste back.

The face networks were trained on aligned faces (CelebA-HQ / FFHQ framing: the face fills the frame, eyes in the upper
half). For a photo with one or more faces, :func:`inpaint_faces` detects each face with OpenCV's Haar cascade
(``haarcascade_frontalface_default.xml``, shipped inside the opencv-python 4.x wheel, so nothing is downloaded), turns
each detection into a square box with aligned-face framing, crops and scales it to the model's working size, runs the
pipeline there (``strategy="resize"``) and pastes back only the hole pixels, blended as the pipeline blends.

Framing (measured on the 108 aligned CelebA-HQ / FFHQ faces of the project's evaluation set, 107 detected): the
cascade's box is 0.66 of the aligned image's side (median 168 of 256 px, 10-90 % range 153-179), centred
horizontally and 0.08 box sides *below* the image's centre. So the aligned square is the box grown by
``margin = 0.26`` box sides on each side (side 1.52x the box) and moved up by ``CENTER_SHIFT = 0.08`` box sides.

Faces whose box holds no hole are skipped; holes outside every face box are left as they are (use
:func:`inpaint_core.inpaint` for those). Images that are already aligned faces skip detection with
``assume_aligned=True``: the whole image is padded to a square and scaled, as one face.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import torch

from . import boxes
from .boxes import Box
from .errors import InpaintError, InputError
from .image_ops import prepare_inputs
from .models.base import InpaintModel
from .models.prefill import PREFILL_RADIUS
from .options import ALIGNED_MARGIN, FaceOptions, InpaintOptions
from .pipeline import InpaintResult, inpaint_prepared

#: Upward shift of the aligned square's centre from the detection's centre, in box sides.
CENTER_SHIFT = 0.08
#: Images are scaled down to at most this side for detection (speed); boxes are scaled back.
DETECTION_SIDE = 1024
#: The cascade's search: the scale step between window sizes, the neighbouring detections a face needs (OpenCV's
#: usual values), and the smallest window side in pixels at the detection scale.
SCALE_STEP = 1.1
MIN_NEIGHBOURS = 5
MIN_DETECTION_SIDE = 8
#: A detection with at least this fraction of its area inside a larger kept one is dropped (a face inside a face).
NESTED_OVERLAP = 0.5

def inpaint_faces(
    model: InpaintModel,
    image,
    hole,
    *,
    face_options: FaceOptions | None = None,
    options: InpaintOptions | None = None,
    generator: torch.Generator | None = None,
    extras: bool = True,
    **overrides,
) -> InpaintResult:
    """Inpaint the holes inside each face of ``image`` (1 = fill in ``hole``) with a face network.

    ``face_options`` (:class:`~inpaint_core.options.FaceOptions`): ``assume_aligned`` (the image is one aligned face:
    no detection), ``margin`` (see the module doc), ``min_face`` (smallest face side in pixels the detector reports).
    ``options`` (:class:`~inpaint_core.options.InpaintOptions`: ``threshold``, ``feather_pixels``, ``color_match``,
    ``working_size``, ``seed``) go to :func:`inpaint_core.inpaint_detailed`, which runs on each face crop with the
    ``resize`` strategy. Keywords of either name set replace their fields. Returns the composited image and, in
    ``hole``, the hole pixels that were filled; with ``extras`` (the default) also the networks' extra outputs,
    each on an image-sized canvas.
    """
    face_names = FaceOptions.specs()
    face_options = FaceOptions.resolve(face_options, **{k: v for k, v in overrides.items() if k in face_names})
    pipeline_overrides = {k: v for k, v in overrides.items() if k not in face_names}
    options = InpaintOptions.resolve(options, **pipeline_overrides, strategy="resize")
    pipeline_options = {"options": options, "extras": extras,
                        "generator": options.generator(model.device) if generator is None else generator}
    image, soft = prepare_inputs(image, hole)
    binary = (soft >= options.threshold).to(image.dtype)
    result = InpaintResult(image.clone(), torch.zeros_like(binary), {})
    for index in range(image.shape[0]):
        if not binary[index].any():
            continue
        if face_options.assume_aligned:
            found = [boxes.square_around(*image.shape[-2:])]
        else:
            detections = detect_faces(image[index], binary[index], min_face=face_options.min_face)
            if not detections:
                raise InputError(
                    f"no face found in image {index}; if it is already an aligned face (face filling the frame), "
                    "pass assume_aligned=True, or use inpaint_core.inpaint() for a general image"
                )
            found = [aligned_box(detection, face_options.margin) for detection in detections]
        for box in found:
            _inpaint_box(model, result, index, soft[index : index + 1], binary[index : index + 1], box,
                         pipeline_options)
    return result


def detect_faces(image: torch.Tensor, hole: torch.Tensor | None = None, min_face: int = 32) -> list[Box]:
    """Face detections ``(top, left, bottom, right)`` in an image ``[3, H, W]`` in [0, 1], largest first.

    Holes (``[1, H, W]``, 1 = hole) are pre-filled with OpenCV's Telea inpainting first, so that a blank hole does not
    hide the face from the detector. Detections mostly inside a larger one are dropped.
    """
    gray = cv2.cvtColor((image.detach().float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy(),
                        cv2.COLOR_RGB2GRAY)
    if hole is not None and hole.any():
        gray = cv2.inpaint(gray, (hole[0] > 0).byte().cpu().numpy(), PREFILL_RADIUS, cv2.INPAINT_TELEA)
    scale = min(1.0, DETECTION_SIDE / max(gray.shape))
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    size = max(MIN_DETECTION_SIDE, round(min_face * scale))
    found = _cascade().detectMultiScale(gray, scaleFactor=SCALE_STEP, minNeighbors=MIN_NEIGHBOURS,
                                        minSize=(size, size))
    detections = sorted(((round(y / scale), round(x / scale), round((y + h) / scale), round((x + w) / scale))
                         for x, y, w, h in np.asarray(found).reshape(-1, 4)), key=_area, reverse=True)
    kept: list[Box] = []
    for box in detections:
        if all(_overlap(box, other) < NESTED_OVERLAP * _area(box) for other in kept):
            kept.append(box)
    return kept


def aligned_box(detection: Box, margin: float = ALIGNED_MARGIN) -> Box:
    """The square with aligned-face framing around a cascade detection (see the module doc)."""
    top, left, bottom, right = detection
    side = max(bottom - top, right - left)
    center_y = (top + bottom) / 2 - CENTER_SHIFT * side
    center_x = (left + right) / 2
    half = round(side * (1 + 2 * margin) / 2)
    return round(center_y) - half, round(center_x) - half, round(center_y) + half, round(center_x) + half


def _inpaint_box(model, result: InpaintResult, index: int, soft, binary, box: Box, options) -> None:
    """Inpaint one square box (padded by edge replication where it leaves the image) and paste back its hole."""
    height, width = result.image.shape[-2:]
    if boxes.is_empty(boxes.clip(box, height, width)):
        return
    todo = binary * (1 - result.hole[index : index + 1])  # filled earlier = known now
    if not boxes.window(todo, box).any():
        return
    crop = boxes.crop(result.image[index : index + 1], box)
    crop_hole = boxes.crop(soft * todo, box, "constant")
    filled = inpaint_prepared(model, crop, crop_hole, **options)
    boxes.window(result.image[index : index + 1], box).copy_(boxes.uncrop(filled.image, box, height, width))
    done = boxes.window(result.hole[index : index + 1], box)
    done.copy_(torch.maximum(done, boxes.uncrop(filled.hole, box, height, width)))
    for name, value in filled.extras.items():
        canvas = result.extras.setdefault(name, result.image.new_zeros((result.image.shape[0], value.shape[1],
                                                                         height, width)))
        boxes.window(canvas[index : index + 1], box).copy_(boxes.uncrop(value, box, height, width))


def detection_available() -> bool:
    """True when the installed OpenCV has the Haar cascades (opencv-python 4.x; OpenCV 5 removed them)."""
    return hasattr(cv2, "CascadeClassifier")


@lru_cache(maxsize=1)
def _cascade():
    """OpenCV's frontal-face Haar cascade, loaded once."""
    if not detection_available():
        raise InpaintError(
            f"face detection needs OpenCV's Haar cascades, which OpenCV 5 removed (installed: {cv2.__version__}); "
            "install opencv-python<5, or pass assume_aligned=True for an image that is already an aligned face"
        )
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise InpaintError(f"OpenCV's frontal-face Haar cascade is missing from {cv2.data.haarcascades}")
    return cascade


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _overlap(a: Box, b: Box) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
